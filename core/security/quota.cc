#include "core/security/quota.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace r2w::security {

using json = r2w::Json;

namespace {

constexpr uint64_t kMaxExact = 1ull << 53;  // JavaScript's largest exact integer

std::optional<uint64_t> count_of(const json& v, uint64_t min) {
  uint64_t n = 0;
  if (v.is_number_unsigned()) {
    n = v.get<uint64_t>();
  } else if (v.is_number_integer()) {
    if (v.get<int64_t>() < 0) return std::nullopt;
    n = static_cast<uint64_t>(v.get<int64_t>());
  } else if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || d < 0 || d > static_cast<double>(kMaxExact) || std::floor(d) != d) {
      return std::nullopt;
    }
    n = static_cast<uint64_t>(d);
  } else {
    return std::nullopt;
  }
  if (n < min || n > kMaxExact) return std::nullopt;
  return n;
}

double pct(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0 : std::round(static_cast<double>(part) * 10000.0 / whole) / 100.0;
}

}  // namespace

Result<Quota> validate_quota(const json& request, std::string_view user) {
  std::vector<FieldProblem> problems;
  Quota q;
  static constexpr std::string_view kAnswered[] = {"bytes", "objects", "bytes_pct", "objects_pct",
                                                   "over"};
  for (const auto& item : request.items()) {
    const std::string& key = item.key();
    if (key == "user_id") {
      if (!item.value().is_string() || item.value().get<std::string>() != user) {
        problems.push_back({key, "user_id must be the user's id (" + std::string(user) + ")"});
      }
    } else if (key != "max_bytes" && key != "max_objects" &&
               std::find(std::begin(kAnswered), std::end(kAnswered), key) == std::end(kAnswered)) {
      problems.push_back({key, key + " is not a known field"});
    }
  }
  auto bytes = request.find("max_bytes");
  if (bytes == request.end()) {
    problems.push_back({"max_bytes", "max_bytes is required"});
  } else if (auto n = count_of(*bytes, 1)) {
    q.max_bytes = *n;
  } else {
    problems.push_back({"max_bytes", "max_bytes must be a whole number of bytes from 1 to 2^53"});
  }
  if (auto objects = request.find("max_objects"); objects != request.end() && !objects->is_null()) {
    if (auto n = count_of(*objects, 1)) {
      q.max_objects = *n;
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
  return s;
}

Result<std::optional<Quota>> quota_from_json(const json& v, const char* field) {
  if (v.is_null()) return std::optional<Quota>{};
  if (!v.is_object()) return invalid_field(field, std::string(field) + " must be an object");
  auto q = validate_quota(v, "");
  if (!q.ok()) return invalid_field(field, std::string(field) + "." + q.error().message);
  return std::optional<Quota>(q.value());
}

Result<StorageUsage> usage_from_json(const json& v, const char* field) {
  StorageUsage u;
  if (v.is_null()) return u;
  if (!v.is_object()) return invalid_field(field, std::string(field) + " must be an object");
  for (const char* name : {"bytes", "objects"}) {
    auto it = v.find(name);
    if (it == v.end() || it->is_null()) continue;
    auto n = count_of(*it, 0);
    if (!n) {
      return invalid_field(std::string(field) + "." + name,
                           std::string(field) + "." + name + " must be a whole number");
    }
    (std::string_view(name) == "bytes" ? u.bytes : u.objects) = *n;
  }
  return u;
}

}  // namespace r2w::security
