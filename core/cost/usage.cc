#include "core/cost/usage.h"

#include "core/cost/operation-class.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::cost {

using json = r2w::Json;

namespace {

bool read_figure(FieldReader& r, const json& obj, std::string_view name, uint64_t& out) {
  if (!r.has(name)) return true;
  const json& v = obj[std::string(name)];
  if (!v.is_number_unsigned() || v.get<uint64_t>() > kMaxUsageFigure) {
    r.fail(name, "must be a whole number from 0 to 2^53");
    return false;
  }
  out = v.get<uint64_t>();
  return true;
}

std::optional<Error> read_operations(const json& ops, const std::string& prefix, UsageRow& row) {
  if (!ops.is_object()) return invalid_field(prefix, prefix + " must be an object of counts");
  for (const auto& item : ops.items()) {
    std::string name = prefix + "." + item.key();
    auto cls = classify_operation(item.key());
    if (!cls) {
      return invalid_field(name, name + " is not an R2 operation r2watch knows how to bill");
    }
    const json& v = item.value();
    if (!v.is_number_unsigned() || v.get<uint64_t>() > kMaxUsageFigure) {
      return invalid_field(name, name + " must be a whole number from 0 to 2^53");
    }
    uint64_t n = v.get<uint64_t>();
    uint64_t& target = *cls == OperationClass::kClassA   ? row.class_a_requests
                       : *cls == OperationClass::kClassB ? row.class_b_requests
                                                         : row.free_requests;
    if (target > kMaxUsageFigure - n) {
      return invalid_field(name, name + " makes the row's count larger than 2^53");
    }
    target += n;
  }
  return std::nullopt;
}

std::optional<Error> read_early_deletes(const json& list, const std::string& prefix,
                                        UsageRow& row) {
  if (!list.is_array()) return invalid_field(prefix, prefix + " must be a list");
  for (size_t i = 0; i < list.size(); ++i) {
    FieldReader r(list[i], prefix + "[" + std::to_string(i) + "]");
    EarlyDelete d;
    read_figure(r, list[i], "bytes", d.bytes);
    r.read_uint("age_days", d.age_days, 0, 3650);
    if (auto err = r.finish()) return err;
    row.early_deletes.push_back(d);
  }
  return std::nullopt;
}

}  // namespace

Result<std::vector<UsageRow>> usage_rows_from_json(const json& j, std::string_view field) {
  std::string base(field);
  if (!j.is_array()) return invalid_field(base, base + " must be a list of usage rows");
  std::vector<UsageRow> rows;
  rows.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    std::string prefix = base + "[" + std::to_string(i) + "]";
    const json& in = j[i];
    FieldReader r(in, prefix);
    UsageRow row;
    std::string date, cls = "standard";
    r.read_string("date", date);
    r.read_string("bucket", row.bucket);
    r.read_string("prefix", row.prefix);
    r.read_string("user", row.user);
    r.read_string("storage_class", cls);
    read_figure(r, in, "storage_peak_bytes", row.storage_peak_bytes);
    read_figure(r, in, "retrieved_bytes", row.retrieved_bytes);
    bool has_ops = r.has("operations");
    bool has_deletes = r.has("early_deletes");
    if (auto err = r.finish()) return *err;
    auto d = parse_date(date);
    if (!d) return invalid_field(prefix + ".date", prefix + ".date must be a date as YYYY-MM-DD");
    row.date = *d;
    if (row.bucket.empty()) {
      return invalid_field(prefix + ".bucket", prefix + ".bucket must be a bucket name");
    }
    auto c = parse_storage_class(cls);
    if (!c) {
      return invalid_field(prefix + ".storage_class",
                           prefix + ".storage_class must be standard or infrequent_access");
    }
    row.storage_class = *c;
    if (has_ops) {
      if (auto err = read_operations(in["operations"], prefix + ".operations", row)) return *err;
    }
    if (has_deletes) {
      if (auto err = read_early_deletes(in["early_deletes"], prefix + ".early_deletes", row)) {
        return *err;
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
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
