#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/common/time.h"

namespace r2w::ops {

// The Worker's structured log: one JSON line per HTTP request and one per job run, written to
// the console (what `wrangler tail` and Workers Logs show). The fields, their names and the
// level of each line are decided here and nowhere else. A line never carries a credential: the
// caller is named by a keyed hash (user_hash), never by a token, a secret or its own id.
//
// Request line:
//   {"time":"2026-11-30T09:04:07.123Z","level":"info","kind":"request","method":"GET",
//    "route":"/api/storage/files/*","status":200,"duration_ms":12,"request_id":"8c1f...-AMS",
//    "user":"3f9a0c1d22e4b5a6"}
// Job line:
//   {"time":...,"level":"info","kind":"job","job":"daily","trigger":"cron","outcome":"ok",
//    "duration_ms":840,"error":null}

enum class LogLevel : uint8_t { kInfo, kWarn, kError };
std::string_view log_level_name(LogLevel l);

// 5xx: error (r2watch failed); 4xx: warn (the caller was refused); anything else: info.
LogLevel request_log_level(int32_t status);

struct RequestLog {
  TimePoint time;  // when the request arrived
  std::string method;
  // The route pattern that matched (never the concrete path, which can name a user's object);
  // nullopt when no route matched.
  std::optional<std::string> route;
  int32_t status = 0;
  Duration duration{0};
  std::optional<std::string> request_id;  // Cloudflare's cf-ray, when there is one
  std::optional<std::string> user;        // the authenticated user id (hashed before it is written)
};

struct JobLog {
  TimePoint time;  // when the run started
  std::string job;
  std::string trigger;  // cron | http
  bool ok = true;
  Duration duration{0};
  std::optional<std::string> error;  // the run's error, cut to kMaxLoggedErrorChars
};

// A failed run: error; else info.
inline LogLevel job_log_level(const JobLog& j) { return j.ok ? LogLevel::kInfo : LogLevel::kError; }

inline constexpr size_t kMaxLoggedErrorChars = 300;
inline constexpr size_t kMaxLoggedFieldChars = 200;  // method, route, request id, job, trigger

// The first 8 bytes (16 hex digits) of HMAC-SHA256(HMAC-SHA256(key, "r2watch log user"), user):
// the same user gives the same value under one key (lines of one caller can be followed), and
// without the key it neither reveals the id nor can be checked against a guessed one.
std::string user_hash(std::string_view key, std::string_view user);

// "2026-11-30T09:04:07.123Z".
std::string format_utc_ms(TimePoint t);

// What one line says, every field decided (cut to its limit, the user hashed): the codec
// (wasm-bindings/codec/ops.h) writes it as one JSON line in the order shown above.
// `user_key`: the key of user_hash; without one the user is unset (written null: an id is never
// written in the clear).
struct RequestLine {
  std::string time;
  LogLevel level = LogLevel::kInfo;
  std::string method;
  std::optional<std::string> route;
  int32_t status = 0;
  int64_t duration_ms = 0;
  std::optional<std::string> request_id;
  std::optional<std::string> user;
};
RequestLine request_line(const RequestLog& r, std::optional<std::string_view> user_key);

struct JobLine {
  std::string time;
  LogLevel level = LogLevel::kInfo;
  std::string job;
  std::string trigger;
  std::string_view outcome;  // ok | error
  int64_t duration_ms = 0;
  std::optional<std::string> error;
};
JobLine job_line(const JobLog& j);

}  // namespace r2w::ops
