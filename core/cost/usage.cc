#include "core/cost/usage.h"

#include "core/cost/operation-class.h"

namespace r2w::cost {

std::optional<Error> check_usage_row(const UsageRow& row, const std::string& prefix) {
  if (row.bucket.empty()) {
    return invalid_field(prefix + ".bucket", prefix + ".bucket must be a bucket name");
  }
  return std::nullopt;
}

std::optional<Error> add_operation(UsageRow& row, std::string_view operation, uint64_t count,
                                   const std::string& field) {
  auto cls = classify_operation(operation);
  if (!cls)
    return invalid_field(field, field + " is not an R2 operation r2watch knows how to bill");
  if (count > kMaxUsageFigure) {
    return invalid_field(field, field + " must be a whole number from 0 to 2^53");
  }
  uint64_t& target = *cls == OperationClass::kClassA   ? row.class_a_requests
                     : *cls == OperationClass::kClassB ? row.class_b_requests
                                                       : row.free_requests;
  if (target > kMaxUsageFigure - count) {
    return invalid_field(field, field + " makes the row's count larger than 2^53");
  }
  target += count;
  return std::nullopt;
}

ClassUsage row_usage(const UsageRow& row, const PriceList& prices, StorageClass as_class) {
  ClassUsage u;
  u.storage_byte_days = row.storage_peak_bytes;
  uint32_t min_days = prices.of(as_class).min_storage_days;
  for (const EarlyDelete& d : row.early_deletes) {
    if (d.age_days < min_days)
      u.storage_byte_days += static_cast<Wide>(d.bytes) * (min_days - d.age_days);
  }
  u.class_a_requests = row.class_a_requests;
  u.class_b_requests = row.class_b_requests;
  u.retrieved_bytes = row.retrieved_bytes;
  return u;
}

}  // namespace r2w::cost
