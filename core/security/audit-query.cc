#include "core/security/audit-query.h"

#include "core/common/civil-date.h"
#include "core/security/access.h"

namespace r2w::security {

using json = r2w::Json;

namespace {

Error bad(const std::string& field, const std::string& message) {
  return Error{.code = "invalid_query", .message = field + " " + message, .field = field};
}

std::optional<int64_t> digits(std::string_view s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return std::nullopt;
  int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

bool printable(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return false;
  }
  return true;
}

}  // namespace

std::optional<TimePoint> parse_instant(std::string_view text) {
  if (auto ms = digits(text, 15)) return from_epoch_ms(*ms);
  if (text.size() < 10) return std::nullopt;
  auto date = parse_date(text.substr(0, 10));
  if (!date) return std::nullopt;
  int64_t ms = days_since_epoch(*date) * 86'400'000;
  if (text.size() == 10) return from_epoch_ms(ms);
  std::string_view t = text.substr(10);
  // "THH:MM:SSZ" or "THH:MM:SS.sssZ"
  if (!(t.size() == 10 || t.size() == 14) || t[0] != 'T' || t[3] != ':' || t[6] != ':' ||
      t.back() != 'Z') {
    return std::nullopt;
  }
  auto h = digits(t.substr(1, 2), 2), m = digits(t.substr(4, 2), 2), s = digits(t.substr(7, 2), 2);
  if (!h || !m || !s || *h > 23 || *m > 59 || *s > 59) return std::nullopt;
  int64_t frac = 0;
  if (t.size() == 14) {
    if (t[9] != '.') return std::nullopt;
    auto f = digits(t.substr(10, 3), 3);
    if (!f) return std::nullopt;
    frac = *f;
  }
  return from_epoch_ms(ms + ((*h * 60 + *m) * 60 + *s) * 1000 + frac);
}

Result<LogQuery> parse_log_query(const json& query, LogKind kind) {
  LogQuery q;
  if (!query.is_object()) return bad("query", "must be an object");
  for (const auto& item : query.items()) {
    const std::string& name = item.key();
    if (!item.value().is_string()) return bad(name, "must be a string");
    const std::string& v = item.value().get_ref<const std::string&>();
    if (name == "since") {
      q.since = parse_instant(v);
      if (!q.since) return bad(name, "must be ms since the epoch or an ISO-8601 UTC time");
    } else if (name == "limit") {
      auto n = digits(v, 4);
      if (!n || *n < 1 || *n > 1000) return bad(name, "must be a whole number from 1 to 1000");
      q.limit = static_cast<uint32_t>(*n);
    } else if (name == "before_id") {
      auto n = digits(v, 15);
      if (!n || *n < 1) return bad(name, "must be a positive whole number");
      q.before_id = *n;
    } else if (kind == LogKind::kAudit && name == "actor") {
      if (auto e = validate_user_id(v, "actor")) return bad(name, "is not a user id");
      q.actor = v;
    } else if (kind == LogKind::kAudit && name == "action") {
      if (v.empty() || v.size() > 200 || !printable(v)) {
        return bad(name, "must be 1 to 200 printable characters");
      }
      q.action = v;
    } else if (kind == LogKind::kAudit && name == "result") {
      if (v != "ok" && v != "refused" && v != "error") {
        return bad(name, "must be ok, refused or error");
      }
      q.result = v;
    } else if (kind == LogKind::kSecurityEvents && name == "kind") {
      if (v != "auth_failures" && v != "excessive_requests" && v != "rate_limited") {
        return bad(name, "must be auth_failures, excessive_requests or rate_limited");
      }
      q.kind = v;
    } else {
      return Error{
          .code = "invalid_query", .message = "unknown query parameter " + name, .field = name};
    }
  }
  return q;
}

}  // namespace r2w::security
