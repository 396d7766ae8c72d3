#include "core/security/quota.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace r2w::security {

namespace {

double pct(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0 : std::round(static_cast<double>(part) * 10000.0 / whole) / 100.0;
}

}  // namespace

Result<Quota> validate_quota(const QuotaRequest& request, std::string_view user) {
  std::vector<FieldProblem> problems;
  Quota q;
  static constexpr std::string_view kAnswered[] = {
      "bytes", "objects", "bytes_pct", "objects_pct", "over", "warning_pct", "warning"};
  for (const std::string& key : request.fields) {
    if (key == "user_id") {
      if (!request.user_id.has_value() || request.user_id.value != user) {
        problems.push_back({key, "user_id must be the user's id (" + std::string(user) + ")"});
      }
    } else if (key != "max_bytes" && key != "max_objects" &&
               std::find(std::begin(kAnswered), std::end(kAnswered), key) == std::end(kAnswered)) {
      problems.push_back({key, key + " is not a known field"});
    }
  }
  if (request.max_bytes.arrived == Arrived::kAbsent) {
    problems.push_back({"max_bytes", "max_bytes is required"});
  } else if (request.max_bytes.has_value() && request.max_bytes.value >= 1 &&
             request.max_bytes.value <= kMaxQuotaCount) {
    q.max_bytes = request.max_bytes.value;
  } else {
    problems.push_back({"max_bytes", "max_bytes must be a whole number of bytes from 1 to 2^53"});
  }
  if (!request.max_objects.missing()) {
    if (request.max_objects.has_value() && request.max_objects.value >= 1 &&
        request.max_objects.value <= kMaxQuotaCount) {
      q.max_objects = request.max_objects.value;
    } else {
      problems.push_back({"max_objects", "max_objects must be a whole number from 1 to 2^53"});
    }
  }
  if (!problems.empty()) {
    return Error{.code = "invalid_field",
                 .message = problems.front().message,
                 .field = problems.front().field,
                 .problems = problems};
  }
  return q;
}

std::optional<Error> check_upload_size(uint64_t new_size, uint64_t max_upload_bytes) {
  if (new_size <= max_upload_bytes) return std::nullopt;
  return Error{.code = "payload_too_large",
               .message = "an upload may be at most " + std::to_string(max_upload_bytes) + " bytes",
               .field = "body"};
}

std::optional<Error> check_upload(const std::optional<Quota>& quota, const StorageUsage& usage,
                                  std::optional<uint64_t> replaced_size, uint64_t new_size,
                                  const StorageUsage& reserved) {
  if (!quota) return std::nullopt;
  uint64_t freed = replaced_size.value_or(0);
  uint64_t base = usage.bytes > freed ? usage.bytes - freed : 0;
  uint64_t after = base + reserved.bytes + new_size;
  if (after > quota->max_bytes) {
    std::string in_flight =
        reserved.bytes ? ", " + std::to_string(reserved.bytes) + " more in uploads under way" : "";
    return Error{.code = "quota_exceeded",
                 .message = "this upload of " + std::to_string(new_size) +
                            " bytes would bring storage to " + std::to_string(after) +
                            " bytes, over the quota of " + std::to_string(quota->max_bytes) +
                            " bytes (" + std::to_string(usage.bytes) + " in use" + in_flight + ")",
                 .field = "max_bytes"};
  }
  uint64_t objects_after = usage.objects + reserved.objects + (replaced_size ? 0 : 1);
  if (quota->max_objects && objects_after > *quota->max_objects) {
    return Error{.code = "quota_exceeded",
                 .message = "this upload would make " + std::to_string(objects_after) +
                            " objects, over the quota of " + std::to_string(*quota->max_objects) +
                            " objects",
                 .field = "max_objects"};
  }
  return std::nullopt;
}

QuotaStatus quota_status(const Quota& quota, const StorageUsage& usage) {
  QuotaStatus s;
  s.bytes_pct = pct(usage.bytes, quota.max_bytes);
  s.over = usage.bytes > quota.max_bytes;
  if (quota.max_objects) {
    s.objects_pct = pct(usage.objects, *quota.max_objects);
    s.over = s.over || usage.objects > *quota.max_objects;
  }
  s.warning = s.bytes_pct >= s.warning_pct;
  return s;
}

}  // namespace r2w::security
