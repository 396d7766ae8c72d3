#include "core/cost/price-list.h"

#include <algorithm>

namespace r2w::cost {

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

std::string effective_from_message() {
  return "effective_from must be the first day of a month as YYYY-MM-DD (R2 bills by calendar "
         "month)";
}

std::optional<Error> validate_price_list(const PriceList& p) {
  if (p.effective_from.day != 1) return invalid_field("effective_from", effective_from_message());
  if (p.source.size() > kMaxSourceChars) {
    return invalid_field("source", "source must be at most 200 characters");
  }
  return std::nullopt;
}

Result<PriceUpdate> decide_price_update(const PriceList& sent, const PriceList& base,
                                        CivilDate today) {
  CivilDate this_month = first_day(month_of(today));
  if (sent.effective_from >= this_month) return PriceUpdate::kStore;
  if (base.effective_from == sent.effective_from && sent == base) return PriceUpdate::kUnchanged;
  return invalid_field("effective_from", "effective_from must not be before " +
                                             format_date(this_month) +
                                             ": past months keep the prices they were billed at");
}

std::vector<PriceList> all_price_versions(std::span<const PriceList> stored) {
  std::vector<PriceList> all(stored.begin(), stored.end());
  all.insert(all.begin(), default_price_list());
  std::stable_sort(all.begin(), all.end(), [](const PriceList& a, const PriceList& b) {
    return a.effective_from < b.effective_from;
  });
  return all;
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

}  // namespace r2w::cost
