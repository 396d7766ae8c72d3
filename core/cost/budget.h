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
#include "wasm-bindings/codec/json.h"

namespace r2w::cost {

// A monthly budget for one bucket or for the whole account.
struct Budget {
  std::string bucket;  // "" = the whole account
  Money monthly;       // > 0, at most $1,000,000,000
  // Status turns "warning" once this share of the budget is spent. Default 80, range 1..100.
  uint32_t warn_at_pct = 80;
};

// {"budgets": [{"bucket": "photos" (absent or null: the account), "monthly_usd": "25.00" or
//  25, "warn_at_pct": 80}, ...]}: at most 1,000 budgets, one per scope. Errors name the field
// ("budgets[1].monthly_usd").
Result<std::vector<Budget>> budgets_from_json(const r2w::Json& j);
// {"budgets": [{"bucket": null | "photos", "monthly_usd": "25.00", "monthly_micro_usd": n,
//  "warn_at_pct": 80}]}, the shape budgets_from_json reads back.
r2w::Json budgets_to_json(std::span<const Budget> budgets);

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
