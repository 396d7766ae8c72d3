#pragma once

#include <array>
#include <optional>

#include "core/common/result.h"
#include "core/cost/bill.h"
#include "core/cost/price-list.h"

namespace r2w::cost {

// The pricing calculator's request: for each storage class named in it, what it would use
// in one 30-day billing period.
struct EstimateInput {
  std::array<std::optional<ClassUsage>, kStorageClassCount> classes;
};

// What the body of POST /api/costs/estimate asks of one storage class, as read (the codec,
// wasm-bindings/codec/cost.h, reads it; the rules below are the core's):
//   storage_gb_months  average storage over the month (as bytes: GB-months * 10^9), or instead
//   stored_gb          GB written and kept `days_stored` days of the month and
//   days_stored        whole days 0..30 (default 30), billed for at least the class's
//                      minimum storage duration;
//   class_a, class_b   operation counts (whole numbers up to 2^53);
//   retrieval_gb       GB read or copied (as bytes).
struct ClassRequest {
  std::optional<Wide> storage_gb_month_bytes;
  std::optional<Wide> stored_bytes;
  std::optional<uint32_t> days_stored;
  Wide class_a_requests = 0;
  Wide class_b_requests = 0;
  std::optional<Wide> retrieved_bytes;
};
struct EstimateRequest {
  std::array<std::optional<ClassRequest>, kStorageClassCount> classes;
};

// The limits the codec reads the body with: GB figures up to 10^9 (taken to the nearest byte),
// counts up to 2^53.
inline constexpr double kMaxEstimateGb = 1e9;

// The request's usage per class: giving both storage_gb_months and stored_gb is refused, and
// days_stored without stored_gb; errors name the field ("standard.stored_gb").
Result<EstimateInput> estimate_input(const EstimateRequest& request, const PriceList& prices);

// The bill of the request, priced over kEstimatePeriodDays (30) like any month.
Result<Bill> estimate(const PriceList& prices, const EstimateInput& in);

}  // namespace r2w::cost
