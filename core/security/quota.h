#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.h"
#include "core/common/time.h"
#include "core/security/request.h"

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

// The largest count a quota holds: JavaScript's largest exact integer.
inline constexpr uint64_t kMaxQuotaCount = 1ull << 53;

// PUT /api/admin/users/{id}/quota: {"max_bytes": 1..2^53, "max_objects"?: 1..2^53 or null}, as
// the codec read it: `fields` every field name in the order it arrived; counts are kValue when
// a whole number in 0..kMaxQuotaCount, kWrongType otherwise.
struct QuotaRequest {
  std::vector<std::string> fields;
  Input<std::string> user_id;
  Input<uint64_t> max_bytes;
  Input<uint64_t> max_objects;
};
// Validates it. Every bad field named; nothing stored on refusal. The usage fields the quota is
// answered with (bytes, objects, bytes_pct, objects_pct, over, warning_pct, warning) are taken
// and ignored, and its user_id when it is `user`'s: a quota sent back as it was read is accepted.
Result<Quota> validate_quota(const QuotaRequest& request, std::string_view user);

// The largest upload: "payload_too_large" (413, field "body") above `max_upload_bytes`
// (Settings::max_upload_bytes, MAX_UPLOAD_BYTES).
std::optional<Error> check_upload_size(uint64_t new_size, uint64_t max_upload_bytes);

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

// A user is near their quota from this share of max_bytes on (the dashboard's warning).
inline constexpr double kQuotaWarningPct = 80;

// Usage against quota for the alert engine, the quota routes and the dashboard.
struct QuotaStatus {
  double bytes_pct = 0;               // of max_bytes, 0..(over 100 when over)
  std::optional<double> objects_pct;  // when max_objects is set
  bool over = false;                  // usage above a limit (set lower after the fact)
  double warning_pct = kQuotaWarningPct;
  bool warning = false;  // bytes_pct at warning_pct or more
};
QuotaStatus quota_status(const Quota& quota, const StorageUsage& usage);

}  // namespace r2w::security
