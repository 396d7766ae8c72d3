#include "core/cost/price-list.h"

#include <algorithm>

#include "wasm-bindings/codec/json.h"

namespace r2w::cost {

using json = r2w::Json;

namespace {

constexpr Money kMaxUnitPrice = Money::micro_usd(INT64_C(1'000'000) * kMicroPerUsd);
constexpr uint64_t kMaxFreeUnits = UINT64_C(1'000'000'000'000'000);

void read_price(FieldReader& r, const json& obj, std::string_view name, Money& out) {
  if (!r.has(name)) return;
  auto v = usd_from_json(obj[std::string(name)], kMaxUnitPrice);
  if (!v) {
    r.fail(name,
           "must be a dollar amount from 0 to 1000000 (a number or a decimal string "
           "with at most 6 decimals)");
    return;
  }
  out = *v;
}

void read_count(FieldReader& r, const json& obj, std::string_view name, uint64_t& out,
                uint64_t max) {
  if (!r.has(name)) return;
  const json& v = obj[std::string(name)];
  if (!v.is_number_unsigned() || v.get<uint64_t>() > max) {
    r.fail(name, "must be a whole number from 0 to " + std::to_string(max));
    return;
  }
  out = v.get<uint64_t>();
}

std::optional<Error> read_class(const json& j, const std::string& prefix, ClassPrices& c) {
  FieldReader r(j, prefix);
  read_price(r, j, "storage_usd_per_gb_month", c.storage_per_gb_month);
  read_price(r, j, "class_a_usd_per_million", c.class_a_per_million);
  read_price(r, j, "class_b_usd_per_million", c.class_b_per_million);
  read_price(r, j, "retrieval_usd_per_gb", c.retrieval_per_gb);
  r.read_uint("min_storage_days", c.min_storage_days, 0, 365);
  return r.finish();
}

std::optional<Error> read_free_tier(const json& j, FreeTier& f) {
  FieldReader r(j, "free_tier");
  read_count(r, j, "storage_gb_months", f.storage_gb_months, kMaxFreeUnits);
  read_count(r, j, "class_a_requests", f.class_a_requests, kMaxFreeUnits);
  read_count(r, j, "class_b_requests", f.class_b_requests, kMaxFreeUnits);
  if (r.has("applies_to")) {
    const json& list = j["applies_to"];
    std::array<bool, kStorageClassCount> applies{};
    bool ok = list.is_array();
    for (size_t i = 0; ok && i < list.size(); ++i) {
      auto c = list[i].is_string() ? parse_storage_class(list[i].get<std::string>()) : std::nullopt;
      if (!c || applies[index_of(*c)]) ok = false;
      if (c) applies[index_of(*c)] = true;
    }
    if (!ok) {
      r.fail("applies_to",
             "must be a list of distinct storage classes (standard, infrequent_access)");
    } else {
      f.applies_to = applies;
    }
  }
  return r.finish();
}

}  // namespace

std::string_view storage_class_name(StorageClass c) {
  return c == StorageClass::kStandard ? "standard" : "infrequent_access";
}

std::optional<StorageClass> parse_storage_class(std::string_view name) {
  for (StorageClass c : kAllStorageClasses) {
    if (storage_class_name(c) == name) return c;
  }
  return std::nullopt;
}

StorageClass other_class(StorageClass c) {
  return c == StorageClass::kStandard ? StorageClass::kInfrequentAccess : StorageClass::kStandard;
}

PriceList default_price_list() {
  PriceList p;
  p.effective_from = CivilDate{1970, 1, 1};
  p.source = "Cloudflare R2 published prices (developers.cloudflare.com/r2/pricing)";
  p.classes[index_of(StorageClass::kStandard)] = ClassPrices{
      .storage_per_gb_month = Money::micro_usd(15'000),
      .class_a_per_million = Money::micro_usd(4'500'000),
      .class_b_per_million = Money::micro_usd(360'000),
      .retrieval_per_gb = Money::micro_usd(0),
      .min_storage_days = 0,
  };
  p.classes[index_of(StorageClass::kInfrequentAccess)] = ClassPrices{
      .storage_per_gb_month = Money::micro_usd(10'000),
      .class_a_per_million = Money::micro_usd(9'000'000),
      .class_b_per_million = Money::micro_usd(900'000),
      .retrieval_per_gb = Money::micro_usd(10'000),
      .min_storage_days = 30,
  };
  p.free_tier = FreeTier{};
  return p;
}

Result<PriceList> price_list_from_json(const json& j, const PriceList& base) {
  PriceList p = base;
  FieldReader r(j);
  std::string effective = format_date(p.effective_from);
  r.read_string("effective_from", effective);
  r.read_string("source", p.source);
  bool has_classes[kStorageClassCount] = {r.has("standard"), r.has("infrequent_access")};
  bool has_free = r.has("free_tier");
  if (auto err = r.finish()) return *err;
  auto date = parse_date(effective);
  if (!date || date->day != 1) {
    return invalid_field("effective_from",
                         "effective_from must be the first day of a month as YYYY-MM-DD (R2 "
                         "bills by calendar month)");
  }
  p.effective_from = *date;
  if (p.source.size() > 200)
    return invalid_field("source", "source must be at most 200 characters");
  for (StorageClass c : kAllStorageClasses) {
    if (!has_classes[index_of(c)]) continue;
    std::string name(storage_class_name(c));
    if (auto err = read_class(j[name], name, p.classes[index_of(c)])) return *err;
  }
  if (has_free) {
    if (auto err = read_free_tier(j["free_tier"], p.free_tier)) return *err;
  }
  return p;
}

json price_list_to_json(const PriceList& p) {
  json out = {{"effective_from", format_date(p.effective_from)}, {"source", p.source}};
  for (StorageClass c : kAllStorageClasses) {
    const ClassPrices& cp = p.of(c);
    out[std::string(storage_class_name(c))] = {
        {"storage_usd_per_gb_month", format_usd_exact(cp.storage_per_gb_month)},
        {"class_a_usd_per_million", format_usd_exact(cp.class_a_per_million)},
        {"class_b_usd_per_million", format_usd_exact(cp.class_b_per_million)},
        {"retrieval_usd_per_gb", format_usd_exact(cp.retrieval_per_gb)},
        {"min_storage_days", cp.min_storage_days},
    };
  }
  json applies = json::array();
  for (StorageClass c : kAllStorageClasses) {
    if (p.free_tier.applies_to[index_of(c)]) applies.push_back(storage_class_name(c));
  }
  out["free_tier"] = {{"storage_gb_months", p.free_tier.storage_gb_months},
                      {"class_a_requests", p.free_tier.class_a_requests},
                      {"class_b_requests", p.free_tier.class_b_requests},
                      {"applies_to", applies}};
  return out;
}

PriceList price_list_for(std::span<const PriceList> versions, YearMonth month) {
  const PriceList* best = nullptr;
  CivilDate start = first_day(month);
  for (const PriceList& v : versions) {
    if (v.effective_from <= start && (!best || v.effective_from >= best->effective_from)) {
      best = &v;
    }
  }
  return best ? *best : default_price_list();
}

Result<std::vector<PriceList>> price_versions_from_json(const json& j, std::string_view field) {
  std::vector<PriceList> out;
  if (!j.is_array()) {
    return invalid_field(std::string(field), std::string(field) + " must be a list of price lists");
  }
  for (size_t i = 0; i < j.size(); ++i) {
    std::string name = std::string(field) + "[" + std::to_string(i) + "]";
    auto p = price_list_from_json(j[i], default_price_list());
    if (!p.ok()) {
      Error e = p.error();
      e.field = e.field.empty() ? name : name + "." + e.field;
      e.message = name + ": " + e.message;
      return e;
    }
    out.push_back(std::move(p).value());
  }
  return out;
}

}  // namespace r2w::cost
