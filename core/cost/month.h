#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/common/civil-date.h"
#include "core/common/result.h"
#include "core/cost/attribution.h"
#include "core/cost/bill.h"
#include "core/cost/price-list.h"
#include "core/cost/usage.h"

namespace r2w::cost {

// How the month-end forecast is made. Default window 7 days, range 1..31.
inline constexpr uint32_t kMaxForecastWindowDays = 31;
struct ForecastOptions {
  // The recent days whose rates are carried to the end of the month (fewer when fewer days
  // of the month have passed).
  uint32_t window_days = 7;
};

// The usage of one billing month so far. Every row must be dated from the first day of
// as_of's month to as_of; days without rows used nothing.
struct MonthInput {
  CivilDate as_of;  // the last day whose usage is included; its month is the billing month
  PriceList prices;
  std::vector<UsageRow> rows;
  // Price every row in this class instead of its own (what-if); nullopt = as stored.
  std::optional<StorageClass> price_as;
  ForecastOptions forecast;
};

enum class Scenario : uint8_t { kLow = 0, kExpected = 1, kHigh = 2 };
inline constexpr std::array<Scenario, 3> kAllScenarios = {Scenario::kLow, Scenario::kExpected,
                                                          Scenario::kHigh};
std::string_view scenario_name(Scenario s);  // "low", "expected", "high"

// One day of the month's trend.
struct DayPoint {
  CivilDate date;
  Money list_cost;     // the day's usage at list price (no free tier, no rounding)
  Money bill_to_date;  // the month's bill (free tier, rounding) counting usage up to this day
};

// Month-to-date bill, daily average, month-end forecast and trend.
//
// Forecast method: each bucket's usage in each storage class is projected on its own and the
// projections are summed. For the remaining days of the month, over the last `window_days`
// days of usage (W):
//   requests, retrieved bytes, byte-days owed by early deletes: expected = the window's daily
//     mean; low = its smallest day; high = its largest day, repeated every remaining day;
//   stored bytes: the last day's peak changing every day by the window's mean daily change
//     (expected), its smallest (low) or largest (high) daily change, never below zero.
// Each scenario's month of usage is then billed like the real month (free tier, rounding), so
// low <= expected <= high, and a month whose days are all alike is forecast exactly.
struct MonthReport {
  YearMonth month;
  uint32_t days_in_month = 30;
  uint32_t days_elapsed = 0;  // as_of's day of the month
  Bill to_date;
  Money daily_average;            // to_date.total / days_elapsed, half up
  std::array<Bill, 3> month_end;  // by Scenario
  std::vector<DayPoint> trend;    // days 1..days_elapsed
  // The expected scenario day by day (actual days, then projected), for budgets: the bill
  // counting usage up to each day, and each bucket's usage up to each day.
  std::vector<Bill> expected_bill_by_day;                               // [day - 1]
  std::vector<std::string> buckets;                                     // sorted
  std::vector<std::vector<UsageByClass>> expected_bucket_usage_by_day;  // [bucket][day - 1]

  // Each bucket's share of the bill counting usage up to `day` (expected scenario).
  std::vector<Share> bucket_shares(uint32_t day) const;
};

// Refuses a row dated outside the month to date, naming it ("usage[4].date").
Result<MonthReport> month_report(const MonthInput& in);

// The month-to-date bill split by a dimension (attribute(): the parts add up exactly to
// report.to_date.total). Keys sorted; "" stands for rows without a prefix or user.
enum class BreakdownBy : uint8_t { kBucket, kPrefix, kStorageClass, kUser };
std::optional<BreakdownBy> parse_breakdown_by(std::string_view name);  // bucket|prefix|class|user
// A breakdown asked without a dimension is by bucket.
inline constexpr BreakdownBy kDefaultBreakdown = BreakdownBy::kBucket;
std::string_view breakdown_by_name(BreakdownBy by);

// What pricing everything in another storage class saves (positive: the other class is
// cheaper), to date and for the whole month (the expected scenario), and the verdict.
// A what-if asked without a class is in Infrequent Access.
inline constexpr StorageClass kDefaultWhatIfClass = StorageClass::kInfrequentAccess;
enum class SavingVerdict : uint8_t { kCheaper, kMoreExpensive, kSame };
std::string_view saving_verdict_name(SavingVerdict v);  // "cheaper", "more_expensive", "same"
struct Saving {
  Money to_date;
  Money month;
  SavingVerdict verdict = SavingVerdict::kSame;
};
// `*_to_date` and `*_month` are the month-to-date and expected month-end totals as they are
// and priced in the other class.
Saving class_saving(Money current_to_date, Money current_month, Money other_to_date,
                    Money other_month);
Saving class_saving(const MonthReport& current, const MonthReport& other);
std::vector<Share> breakdown(const MonthReport& report, const MonthInput& in, BreakdownBy by);

}  // namespace r2w::cost
