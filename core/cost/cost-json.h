#pragma once

#include <array>
#include <span>
#include <string_view>

#include "core/cost/anomaly.h"
#include "core/cost/attribution.h"
#include "core/cost/bill.h"
#include "core/cost/budget.h"
#include "core/cost/month.h"
#include "core/cost/price-list.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::cost {

// The JSON answers of the cost commands. Money is given twice: exact integer micro-dollars
// (`*_micro_usd`) and a dollar string rounded half up to the cent (`*_usd`).

// {"storage_micro_usd", "class_a_micro_usd", "class_b_micro_usd", "retrieval_micro_usd",
//  "total_micro_usd", "total_usd"}: the bill's lines summed over storage classes.
r2w::Json totals_json(const Bill& bill);

// totals_json plus, for each class in `classes`, {"lines": [line...], "total_micro_usd",
// "total_usd"}; a line is {"line", "usage", "usage_unit", "free_tier", "billable",
// "billing_unit", "unit_price_usd", "cost_micro_usd", "cost_usd", "rounding"}.
r2w::Json bill_json(const Bill& bill, std::array<bool, kStorageClassCount> classes);

// The classes a bill has usage in.
std::array<bool, kStorageClassCount> classes_used(const Bill& bill);

// {"effective_from", "source"}: which price list priced an answer.
r2w::Json pricing_ref_json(const PriceList& p);

// [{key_name: key, "storage_micro_usd", ..., "total_micro_usd", "total_usd", "share_pct"}]
r2w::Json shares_json(std::span<const Share> shares, Money total, std::string_view key_name);

// The whole month report: month_to_date (bill_json), daily average, forecast (with its method),
// trend, by_bucket.
r2w::Json month_report_json(const MonthReport& r, const PriceList& prices,
                            const ForecastOptions& forecast);

r2w::Json budget_status_json(std::span<const BudgetStatus> statuses);
r2w::Json anomaly_json(const AnomalyReport& r, const AnomalyOptions& options);

// The forecast method, in words (also in the README).
std::string_view forecast_method();

}  // namespace r2w::cost
