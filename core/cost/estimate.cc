#include "core/cost/estimate.h"

#include <cmath>

#include "core/cost/usage.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::cost {

using json = r2w::Json;

namespace {

constexpr double kMaxGb = 1e9;

// GB as a JSON number -> bytes, to the nearest byte.
void read_gb(FieldReader& r, const json& obj, std::string_view name, std::optional<Wide>& out) {
  if (!r.has(name)) return;
  const json& v = obj[std::string(name)];
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0 ||
      v.get<double>() > kMaxGb) {
    r.fail(name, "must be a number from 0 to 1000000000");
    return;
  }
  out = static_cast<Wide>(std::llround(v.get<double>() * static_cast<double>(kBytesPerGb)));
}

void read_count(FieldReader& r, const json& obj, std::string_view name, Wide& out) {
  if (!r.has(name)) return;
  const json& v = obj[std::string(name)];
  bool whole = v.is_number_unsigned() ||
               (v.is_number_float() && std::isfinite(v.get<double>()) && v.get<double>() >= 0 &&
                std::floor(v.get<double>()) == v.get<double>());
  if (!whole || v.get<double>() > static_cast<double>(kMaxUsageFigure)) {
    r.fail(name, "must be a whole number of operations from 0 to 2^53");
    return;
  }
  out = v.is_number_unsigned() ? static_cast<Wide>(v.get<uint64_t>())
                               : static_cast<Wide>(v.get<double>());
}

}  // namespace

Result<EstimateInput> estimate_from_json(const json& body, const PriceList& prices) {
  EstimateInput in;
  FieldReader top(body);
  bool has[kStorageClassCount] = {top.has("standard"), top.has("infrequent_access")};
  if (auto err = top.finish()) return *err;
  for (StorageClass c : kAllStorageClasses) {
    if (!has[index_of(c)]) continue;
    std::string name(storage_class_name(c));
    const json& j = body[name];
    FieldReader r(j, name);
    std::optional<Wide> gb_months, stored, retrieval;
    ClassUsage u;
    uint32_t days = kEstimatePeriodDays;
    read_gb(r, j, "storage_gb_months", gb_months);
    read_gb(r, j, "stored_gb", stored);
    bool has_days = r.has("days_stored");
    if (has_days) r.read_uint("days_stored", days, 0, kEstimatePeriodDays);
    read_count(r, j, "class_a", u.class_a_requests);
    read_count(r, j, "class_b", u.class_b_requests);
    read_gb(r, j, "retrieval_gb", retrieval);
    if (auto err = r.finish()) return *err;
    if (gb_months && stored) {
      return invalid_field(name + ".stored_gb",
                           name +
                               ".stored_gb: give either storage_gb_months or stored_gb "
                               "(with days_stored), not both");
    }
    if (has_days && !stored) {
      return invalid_field(name + ".days_stored",
                           name + ".days_stored needs stored_gb (the GB kept that many days)");
    }
    if (gb_months) u.storage_byte_days = *gb_months * kEstimatePeriodDays;
    if (stored) {
      uint32_t billed_days = std::max(days, prices.of(c).min_storage_days);
      u.storage_byte_days = *stored * billed_days;
    }
    if (retrieval) u.retrieved_bytes = *retrieval;
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
