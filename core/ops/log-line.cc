#include "core/ops/log-line.h"

#include "core/common/civil-date.h"
#include "core/common/format.h"
#include "core/security/sha256.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::ops {

using json = r2w::OrderedJson;

namespace {

constexpr std::string_view kUserHashLabel = "r2watch log user";
constexpr size_t kUserHashBytes = 8;

json capped(const std::optional<std::string>& s, size_t max) {
  if (!s) return nullptr;
  return s->size() > max ? s->substr(0, max) : *s;
}

std::string dump(const json& j) {
  // Invalid UTF-8 (a cut multi-byte character) is replaced, never an error.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string_view log_level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

LogLevel request_log_level(int32_t status) {
  if (status >= 500) return LogLevel::kError;
  if (status >= 400) return LogLevel::kWarn;
  return LogLevel::kInfo;
}

std::string user_hash(std::string_view key, std::string_view user) {
  security::Digest derived = security::hmac_sha256(key, kUserHashLabel);
  security::Digest mac = security::hmac_sha256(security::bytes_of(derived), user);
  return security::to_hex(security::bytes_of(mac).substr(0, kUserHashBytes));
}

std::string format_utc_ms(TimePoint t) {
  int64_t ms = to_epoch_ms(t);
  int64_t day_ms = 86'400'000;
  int64_t days = ms >= 0 ? ms / day_ms : -((-ms + day_ms - 1) / day_ms);
  int64_t in_day = ms - days * day_ms;
  CivilDate d = date_from_days(days);
  std::string out;
  append_padded(out, d.year, 4);
  out.push_back('-');
  append_padded(out, d.month, 2);
  out.push_back('-');
  append_padded(out, d.day, 2);
  out.push_back('T');
  append_padded(out, in_day / 3'600'000, 2);
  out.push_back(':');
  append_padded(out, in_day / 60'000 % 60, 2);
  out.push_back(':');
  append_padded(out, in_day / 1000 % 60, 2);
  out.push_back('.');
  append_padded(out, in_day % 1000, 3);
  out.push_back('Z');
  return out;
}

std::string request_log_line(const RequestLog& r, std::optional<std::string_view> user_key) {
  json user = nullptr;
  if (r.user && user_key && !user_key->empty()) user = user_hash(*user_key, *r.user);
  json line = json::object();
  line["time"] = format_utc_ms(r.time);
  line["level"] = log_level_name(request_log_level(r.status));
  line["kind"] = "request";
  line["method"] = capped(r.method, kMaxLoggedFieldChars);
  line["route"] = capped(r.route, kMaxLoggedFieldChars);
  line["status"] = r.status;
  line["duration_ms"] = r.duration.count();
  line["request_id"] = capped(r.request_id, kMaxLoggedFieldChars);
  line["user"] = user;
  return dump(line);
}

std::string job_log_line(const JobLog& j) {
  json line = json::object();
  line["time"] = format_utc_ms(j.time);
  line["level"] = log_level_name(job_log_level(j.ok));
  line["kind"] = "job";
  line["job"] = capped(j.job, kMaxLoggedFieldChars);
  line["trigger"] = capped(j.trigger, kMaxLoggedFieldChars);
  line["outcome"] = j.ok ? "ok" : "error";
  line["duration_ms"] = j.duration.count();
  line["error"] = capped(j.error, kMaxLoggedErrorChars);
  return dump(line);
}

}  // namespace r2w::ops
