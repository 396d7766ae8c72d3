#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/common/civil-date.h"
#include "core/common/result.h"
#include "core/cost/money.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::cost {

enum class StorageClass : uint8_t { kStandard = 0, kInfrequentAccess = 1 };
inline constexpr size_t kStorageClassCount = 2;
inline constexpr std::array<StorageClass, kStorageClassCount> kAllStorageClasses = {
    StorageClass::kStandard, StorageClass::kInfrequentAccess};

// "standard", "infrequent_access" (the names used in every JSON body).
std::string_view storage_class_name(StorageClass c);
std::optional<StorageClass> parse_storage_class(std::string_view name);
StorageClass other_class(StorageClass c);
inline size_t index_of(StorageClass c) { return static_cast<size_t>(c); }

// Billing units, as R2 defines them: usage is rounded UP to whole units of these.
inline constexpr uint64_t kBytesPerGb = 1'000'000'000;   // a decimal gigabyte
inline constexpr uint64_t kRequestsPerUnit = 1'000'000;  // operations are priced per million
// The estimator's billing period: R2 averages daily peaks over a 30-day period, and a 30-day
// minimum duration bills exactly one GB-month per GB.
inline constexpr uint32_t kEstimatePeriodDays = 30;

// The prices of one storage class.
struct ClassPrices {
  Money storage_per_gb_month;     // per GB-month (average of daily peaks)
  Money class_a_per_million;      // per million Class A requests
  Money class_b_per_million;      // per million Class B requests
  Money retrieval_per_gb;         // per GB read or copied (processing); 0 = none
  uint32_t min_storage_days = 0;  // an object deleted, moved or replaced sooner is billed
                                  // as if kept this long; 0 = no minimum
};

// The monthly free allowance, in billing units, for the classes it applies to (each such
// class gets the whole allowance on its own usage). R2: Standard only.
struct FreeTier {
  uint64_t storage_gb_months = 10;
  uint64_t class_a_requests = 1'000'000;
  uint64_t class_b_requests = 10'000'000;
  std::array<bool, kStorageClassCount> applies_to = {true, false};
};

// One version of the price list. A version prices every month from the month of
// `effective_from` (always the first day of a month) until the next version's month: an
// update never changes the price of a month before it.
struct PriceList {
  CivilDate effective_from{1970, 1, 1};
  std::string source;
  std::array<ClassPrices, kStorageClassCount> classes;
  FreeTier free_tier;

  const ClassPrices& of(StorageClass c) const { return classes[index_of(c)]; }
};

// Cloudflare's published R2 prices (developers.cloudflare.com/r2/pricing):
//   Standard: $0.015 / GB-month, Class A $4.50 / million, Class B $0.36 / million, no
//   retrieval fee, no minimum duration. Infrequent Access: $0.01 / GB-month, Class A $9.00 /
//   million, Class B $0.90 / million, retrieval $0.01 / GB, 30-day minimum duration.
//   Free tier each month (Standard only): 10 GB-month, 1 million Class A, 10 million Class B.
//   Egress is free in every class, so there is no egress price.
// Effective from 1970-01-01: it prices every month before the first stored version.
PriceList default_price_list();

// JSON shape (every price a dollar string or number; written back as exact strings):
// {"effective_from": "2026-01-01", "source": "...",
//  "standard": {"storage_usd_per_gb_month": "0.015", "class_a_usd_per_million": "4.5",
//               "class_b_usd_per_million": "0.36", "retrieval_usd_per_gb": "0",
//               "min_storage_days": 0},
//  "infrequent_access": {...},
//  "free_tier": {"storage_gb_months": 10, "class_a_requests": 1000000,
//                "class_b_requests": 10000000, "applies_to": ["standard"]}}
// Fields absent from `j` keep their value in `base` (a partial update). Refuses unknown
// fields, wrong types, prices above $1,000,000 per unit, minimum durations above 365 days,
// and an effective_from that is not the first day of a month, naming the field.
Result<PriceList> price_list_from_json(const r2w::Json& j, const PriceList& base);
r2w::Json price_list_to_json(const PriceList& p);

// The version that prices `month`: the one with the latest effective_from on or before the
// month's first day; the default list when none is. `versions` may be in any order.
PriceList price_list_for(std::span<const PriceList> versions, YearMonth month);

// Parses stored versions ([price list, ...]) over the default, naming the field
// ("pricing[2].standard.class_a_usd_per_million") when one is invalid.
Result<std::vector<PriceList>> price_versions_from_json(const r2w::Json& j, std::string_view field);

}  // namespace r2w::cost
