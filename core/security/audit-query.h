#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/common/result.h"
#include "core/common/time.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::security {

// GET /api/admin/audit?since=&actor=&action=&result=&limit=&before_id= and
// GET /api/admin/security-events?since=&kind=&limit=&before_id=, checked. Query values arrive as
// strings; a bad one is "invalid_query" (400) naming it, an unknown parameter too.
struct LogQuery {
  std::optional<TimePoint> since;     // ms since the epoch, or an ISO-8601 UTC date/time
  std::optional<std::string> actor;   // a user id
  std::optional<std::string> action;  // 1..200 bytes, printable
  std::optional<std::string> result;  // ok | refused | error
  std::optional<std::string> kind;    // security events: auth_failures
  uint32_t limit = 100;               // 1..1000
  std::optional<int64_t> before_id;   // page backwards: rows with id < before_id
};

enum class LogKind { kAudit, kSecurityEvents };
Result<LogQuery> parse_log_query(const r2w::Json& query, LogKind kind);

// "1767225600000", "2026-01-01", "2026-01-01T12:30:00Z" or "2026-01-01T12:30:00.250Z".
std::optional<TimePoint> parse_instant(std::string_view text);

}  // namespace r2w::security
