#include "core/cost/estimate.h"

#include <algorithm>
#include <string>

namespace r2w::cost {

Result<EstimateInput> estimate_input(const EstimateRequest& request, const PriceList& prices) {
  EstimateInput in;
  for (StorageClass c : kAllStorageClasses) {
    const std::optional<ClassRequest>& asked = request.classes[index_of(c)];
    if (!asked) continue;
    std::string name(storage_class_name(c));
    if (asked->storage_gb_month_bytes && asked->stored_bytes) {
      return invalid_field(name + ".stored_gb",
                           name +
                               ".stored_gb: give either storage_gb_months or stored_gb "
                               "(with days_stored), not both");
    }
    if (asked->days_stored && !asked->stored_bytes) {
      return invalid_field(name + ".days_stored",
                           name + ".days_stored needs stored_gb (the GB kept that many days)");
    }
    ClassUsage u;
    u.class_a_requests = asked->class_a_requests;
    u.class_b_requests = asked->class_b_requests;
    if (asked->storage_gb_month_bytes) {
      u.storage_byte_days = *asked->storage_gb_month_bytes * kEstimatePeriodDays;
    }
    if (asked->stored_bytes) {
      uint32_t days = asked->days_stored.value_or(kEstimatePeriodDays);
      uint32_t billed_days = std::max(days, prices.of(c).min_storage_days);
      u.storage_byte_days = *asked->stored_bytes * billed_days;
    }
    if (asked->retrieved_bytes) u.retrieved_bytes = *asked->retrieved_bytes;
    in.classes[index_of(c)] = u;
  }
  return in;
}

Result<Bill> estimate(const PriceList& prices, const EstimateInput& in) {
  UsageByClass usage{};
  for (StorageClass c : kAllStorageClasses) {
    if (in.classes[index_of(c)]) usage[index_of(c)] = *in.classes[index_of(c)];
  }
  return price_period(prices, usage, kEstimatePeriodDays);
}

}  // namespace r2w::cost
