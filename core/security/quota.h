#pragma once

#include <cstdint>
#include <optional>

#include "core/common/result.h"
#include "core/common/time.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::security {

// A user's storage quota (user_storage_quotas): bytes, and optionally objects.
struct Quota {
  uint64_t max_bytes = 0;
  std::optional<uint64_t> max_objects;
};

// What a user stores now (the sum of user_prefix_usage, kept by every upload and delete).
struct StorageUsage {
  uint64_t bytes = 0;
  uint64_t objects = 0;
};

// Validates PUT /api/admin/users/{id}/quota: {"max_bytes": 1..2^53, "max_objects"?: 1..2^53 or
// null}. Every bad field named; nothing stored on refusal. The usage fields the quota is answered
// with (bytes, objects, bytes_pct, objects_pct, over) are taken and ignored, and its user_id when
// it is `user`'s: a quota sent back as it was read is accepted.
Result<Quota> validate_quota(const r2w::Json& request, std::string_view user);

// How long an upload's reservation of quota holds (quota_reservations): longer than any upload
// takes, so a reservation is only ever outlived by a Worker that died mid-upload, and then it
// stops counting after this.
inline constexpr Duration kUploadReservationLifetime = std::chrono::hours(1);

// Whether an upload of `new_size` bytes may go ahead for a user holding `usage` under `quota`
// (no quota: always). `reserved` is what uploads admitted before this one and still in flight
// have reserved (counted as if stored, so parallel uploads never overshoot the quota together).
// `replaced_size` is the size of the object it overwrites, if any (its bytes are freed and the
// object count does not grow). Refusal: "quota_exceeded" (413) with a message that gives the
// figures.
std::optional<Error> check_upload(const std::optional<Quota>& quota, const StorageUsage& usage,
                                  std::optional<uint64_t> replaced_size, uint64_t new_size,
                                  const StorageUsage& reserved = {});

// Usage against quota for the alert engine and the quota routes.
struct QuotaStatus {
  double bytes_pct = 0;               // of max_bytes, 0..(over 100 when over)
  std::optional<double> objects_pct;  // when max_objects is set
  bool over = false;                  // usage above a limit (set lower after the fact)
};
QuotaStatus quota_status(const Quota& quota, const StorageUsage& usage);

// Reads {"max_bytes", "max_objects"} (a stored row) and {"bytes", "objects"}; used by the
// commands. Rows come from D1, so a malformed one is an "invalid_field" Error.
Result<std::optional<Quota>> quota_from_json(const r2w::Json& v, const char* field);
Result<StorageUsage> usage_from_json(const r2w::Json& v, const char* field);

}  // namespace r2w::security
