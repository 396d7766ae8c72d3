#pragma once

#include <array>
#include <optional>

#include "core/common/result.h"
#include "core/cost/bill.h"
#include "core/cost/price-list.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::cost {

// The pricing calculator's request: for each storage class named in it, what it would use
// in one 30-day billing period.
struct EstimateInput {
  std::array<std::optional<ClassUsage>, kStorageClassCount> classes;
};

// The body of POST /api/costs/estimate, every field optional, numbers non-negative:
// {"standard": {...}, "infrequent_access": {...}}, each class with
//   storage_gb_months  average storage over the month (GB-months, up to 10^9), or instead
//   stored_gb          GB written and kept `days_stored` days of the month (up to 10^9) and
//   days_stored        whole days 0..30 (default 30), billed for at least the class's
//                      minimum storage duration;
//   class_a, class_b   operation counts (whole numbers up to 2^53);
//   retrieval_gb       GB read or copied (up to 10^9).
// GB figures are taken to the nearest byte (1 GB = 10^9 bytes). Errors name the field
// ("standard.class_a"); giving both storage_gb_months and stored_gb is refused.
Result<EstimateInput> estimate_from_json(const r2w::Json& body, const PriceList& prices);

// The bill of the request, priced over kEstimatePeriodDays (30) like any month.
Result<Bill> estimate(const PriceList& prices, const EstimateInput& in);

}  // namespace r2w::cost
