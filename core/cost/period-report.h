#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/common/civil-date.h"
#include "core/common/result.h"
#include "core/cost/attribution.h"
#include "core/cost/month.h"

namespace r2w::cost {

// The cost section of a report of a closed period (cost_report): what the period used, the
// month's bill to its last day, the top buckets and prefixes, and the change from the period
// before.
enum class PeriodKind : uint8_t { kDaily, kWeekly, kMonthly };
std::string_view period_kind_name(PeriodKind k);  // "daily", "weekly", "monthly"
std::optional<PeriodKind> parse_period_kind(std::string_view name);

// How many buckets and prefixes a report names.
inline constexpr size_t kReportTopCount = 5;
// A week's days.
inline constexpr uint32_t kWeekDays = 7;

// The usage a report counts: monthly the month to date; daily the day as_of; weekly the days of
// the week ending on as_of that fall in its month. The storage peak is as_of's.
struct PeriodUsage {
  uint64_t class_a_requests = 0;
  uint64_t class_b_requests = 0;
  uint64_t free_requests = 0;
  uint64_t retrieved_bytes = 0;
  uint64_t storage_peak_bytes_last_day = 0;
};

// The period's cost against the one before.
struct PeriodChange {
  Money previous;
  Money delta;                      // current - previous
  std::optional<double> delta_pct;  // delta * 100 / previous; nullopt when previous is 0
};

struct PeriodCostReport {
  PeriodKind kind = PeriodKind::kMonthly;
  PeriodUsage usage;
  // The `kReportTopCount` keys that cost most this month to date, the largest first (ties
  // keep the breakdown's order).
  std::vector<Share> top_buckets;
  std::vector<Share> top_prefixes;
  // daily: the day at list price; weekly: the week's days in the month at list price.
  std::optional<Money> period_cost;
  // The change from the period before: daily, the day before (in the month); weekly, the 7
  // days before when the month holds them all (else `previous_total` when given); monthly,
  // `previous_total` (the previous month's bill) when given. nullopt when unknown.
  std::optional<PeriodChange> change;
};

// `report` is month_report(in); `previous_total` the previous period's total when the caller
// knows it (the previous month's bill).
PeriodCostReport period_cost_report(const MonthReport& report, const MonthInput& in,
                                    PeriodKind kind, std::optional<Money> previous_total);

// The `n` shares that cost most, the largest first (stable).
std::vector<Share> top_shares(std::vector<Share> shares, size_t n);

}  // namespace r2w::cost
