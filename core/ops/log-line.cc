#include "core/ops/log-line.h"

#include "core/common/civil-date.h"
#include "core/common/format.h"
#include "core/security/sha256.h"

namespace r2w::ops {

namespace {

constexpr std::string_view kUserHashLabel = "r2watch log user";
constexpr size_t kUserHashBytes = 8;

std::optional<std::string> capped(const std::optional<std::string>& s, size_t max) {
  if (!s) return std::nullopt;
  return s->size() > max ? s->substr(0, max) : *s;
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
  std::string out = format_date(d);
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

RequestLine request_line(const RequestLog& r, std::optional<std::string_view> user_key) {
  RequestLine line{.time = format_utc_ms(r.time),
                   .level = request_log_level(r.status),
                   .method = *capped(r.method, kMaxLoggedFieldChars),
                   .route = capped(r.route, kMaxLoggedFieldChars),
                   .status = r.status,
                   .duration_ms = r.duration.count(),
                   .request_id = capped(r.request_id, kMaxLoggedFieldChars)};
  if (r.user && user_key && !user_key->empty()) line.user = user_hash(*user_key, *r.user);
  return line;
}

JobLine job_line(const JobLog& j) {
  return JobLine{.time = format_utc_ms(j.time),
                 .level = job_log_level(j),
                 .job = *capped(j.job, kMaxLoggedFieldChars),
                 .trigger = *capped(j.trigger, kMaxLoggedFieldChars),
                 .outcome = j.ok ? "ok" : "error",
                 .duration_ms = j.duration.count(),
                 .error = capped(j.error, kMaxLoggedErrorChars)};
}

}  // namespace r2w::ops
