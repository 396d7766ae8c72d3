#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/civil-date.h"
#include "core/common/result.h"
#include "core/cost/money.h"
#include "core/cost/month.h"

namespace r2w::cost {

// A monthly budget for one bucket or for the whole account.
struct Budget {
  // The bucket it covers; nullopt: the whole account (every bucket together). On the wire
  // (wasm-bindings/codec/cost.h) the whole account is "bucket": null or no "bucket".
  std::optional<std::string> bucket;
  Money monthly;  // > 0, at most $1,000,000,000
  // Status turns "warning" once this share of the budget is spent. Default 80, range 1..100.
  uint32_t warn_at_pct = 80;
};

// The limits of the budgets: at most 1,000, each above $0 and at most $1,000,000,000, a bucket
// name of 1 to 63 characters.
inline constexpr size_t kMaxBudgets = 1000;
inline constexpr Money kMaxBudget = Money::micro_usd(INT64_C(1'000'000'000) * kMicroPerUsd);
inline constexpr size_t kMaxBucketChars = 63;

// The errors a budget's reading and checking give, naming `prefix`'s field ("budgets[1]").
Error bad_budget_bucket(const std::string& prefix);
Error bad_budget_amount(const std::string& prefix);
Error too_many_budgets();
// The rules of budget `b` (at `prefix`) after the budgets `earlier` were accepted: an amount
// above 0, a bucket name of 1 to 63 characters, one budget per scope (the whole account, or
// one bucket).
std::optional<Error> check_budget(const Budget& b, std::span<const Budget> earlier,
                                  const std::string& prefix);

// Where a budget stands in the month (figures of the bucket's attributed share, or of the
// account's total).
struct BudgetStatus {
  Budget budget;
  Money spent;              // the month-to-date bill
  Money burn_rate_per_day;  // spent / days elapsed, half up
  Money forecast;           // the expected month-end bill
  // The first day whose bill-to-date went over the budget, if it has.
  std::optional<CivilDate> exceeded_on;
  // Otherwise the first later day of the month the expected projection goes over it (usage
  // going on at the recent rate, as the forecast assumes); nullopt = not this month.
  std::optional<CivilDate> projected_exceed_on;
  // "exceeded" (spent > budget), "warning" (spent >= warn_at_pct%), "forecast_over"
  // (expected month end > budget) or "ok", the first that holds.
  std::string_view status;
};

std::vector<BudgetStatus> budget_status(const MonthReport& report, std::span<const Budget> budgets);

}  // namespace r2w::cost
