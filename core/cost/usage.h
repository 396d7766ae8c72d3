#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/civil-date.h"
#include "core/common/result.h"
#include "core/cost/bill.h"
#include "core/cost/price-list.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::cost {

// Objects deleted, moved or replaced on a day, and how old they were then. Under a minimum
// storage duration they still owe bytes * (min_storage_days - age_days) byte-days.
struct EarlyDelete {
  uint64_t bytes = 0;
  uint32_t age_days = 0;
};

// The usage of one slice of the account on one day: what the metrics pipeline's rollups and
// storage inventory give per (date, bucket, top-level prefix, storage class, user). Slices
// of a day are disjoint; the account's peak for a day is the sum of the slices' peaks.
struct UsageRow {
  CivilDate date;
  std::string bucket;
  std::string prefix;  // top-level prefix ("" = keys without one)
  std::string user;    // who made the requests or owns the data ("" = unattributed)
  StorageClass storage_class = StorageClass::kStandard;
  uint64_t storage_peak_bytes = 0;  // the day's peak of stored bytes
  uint64_t class_a_requests = 0;    // operations classified by operation_class_table()
  uint64_t class_b_requests = 0;
  uint64_t free_requests = 0;
  uint64_t retrieved_bytes = 0;  // bytes read or copied (GetObject bodies, CopyObject sources)
  std::vector<EarlyDelete> early_deletes;
};

// Largest integer accepted in a usage figure: 2^53, the largest JavaScript integer that is
// exact, so what the Worker sends is what the core counts.
inline constexpr uint64_t kMaxUsageFigure = UINT64_C(9'007'199'254'740'992);

// Parses [row, ...]; each row:
// {"date": "YYYY-MM-DD", "bucket": "photos", "prefix": "2026/", "user": "alice",
//  "storage_class": "standard" | "infrequent_access", "storage_peak_bytes": n,
//  "operations": {"put": n, "GetObject": n, ...}, "retrieved_bytes": n,
//  "early_deletes": [{"bytes": n, "age_days": d}]}
// date and bucket are required, the rest optional (storage_class defaults to standard).
// Operation names are looked up in operation_class_table(); an unknown one is refused.
// Errors name the field: "usage[3].operations.Frobnicate".
Result<std::vector<UsageRow>> usage_rows_from_json(const r2w::Json& j, std::string_view field);

// What a row uses when priced as `as_class` (its own class, or another for a what-if): the
// day's peak as one day of byte-days, plus the byte-days its early deletes still owe under
// that class's minimum duration.
ClassUsage row_usage(const UsageRow& row, const PriceList& prices, StorageClass as_class);

}  // namespace r2w::cost
