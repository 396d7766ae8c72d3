// Commands of authentication, authorization, tokens, users, quotas, rate limits and the audit
// and security-event queries. Each is thin: the codec (wasm-bindings/codec/security.h) reads the
// input, the core (core/security/) decides, the codec writes the answer.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/security/access.h"
#include "core/security/audit-query.h"
#include "core/security/authenticate.h"
#include "core/security/credentials.h"
#include "core/security/policy.h"
#include "core/security/quota.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/codec/security.h"
#include "wasm-bindings/commands.h"
#include "wasm-bindings/engine.h"

namespace r2w::bindings {

namespace sec = r2w::security;

namespace {

// A member that is there and not null.
const Json* member(const Json& in, const char* name) {
  auto it = in.find(name);
  return it == in.end() || it->is_null() ? nullptr : &*it;
}

// A field of a command's input, marked known to its FieldReader (whose finish() refuses the
// fields no one read); nullptr when absent or null (null is as absent).
const Json* field(FieldReader& r, const Json& in, const char* name) {
  r.has(name);
  return member(in, name);
}

// An optional whole-number count of an input object (null: not given).
std::optional<uint64_t> read_count(FieldReader& r, const Json& in, const char* name) {
  if (!member(in, name)) {
    r.has(name);
    return std::nullopt;
  }
  uint32_t n = 0;
  r.read_uint(name, n, 0, UINT32_MAX);
  return n;
}

Result<sec::Access> read_access(const Json* v) {
  if (!v || !v->is_object()) return invalid_field("access", "access must be an object");
  sec::Access a;
  const Json* role = member(*v, "role");
  auto r = role && role->is_string() ? sec::role_from_name(role->get<std::string>()) : std::nullopt;
  if (!r) return invalid_field("access.role", "access.role must be admin, user or readonly");
  a.role = *r;
  if (const Json* scope = member(*v, "scope")) {
    if (!scope->is_string() || scope->get<std::string>() == sec::kAllScopes ||
        !sec::is_known_scope(scope->get<std::string>())) {
      return invalid_field("access.scope", "access.scope must be a known scope or null");
    }
    a.scope = scope->get<std::string>();
  } else {
    a.scope = "";
  }
  return a;
}

// {"vars": {...}, "jwt_secret": "..."|null, "secrets_key"?, "secrets_key_previous"?,
// "analytics_key"?} -> the settings in force, the secret's state and every refused other key
// ("key_errors": [{code, field, message}]).
// Bad variables are refused (every one named) and change nothing.
Result<Json> security_configure(Engine& e, const Json& in, TimePoint) {
  FieldReader r(in);
  const Json* vars = field(r, in, "vars");
  const char* const names[4] = {"jwt_secret", "secrets_key", "secrets_key_previous",
                                "analytics_key"};
  const Json* given[4];
  for (size_t i = 0; i < 4; ++i) given[i] = field(r, in, names[i]);
  if (auto err = r.finish()) return *err;
  auto settings = codec::settings_from_vars(vars ? *vars : Json::object());
  if (!settings.ok()) return settings.error();
  std::optional<std::string> keys[4];
  for (size_t i = 0; i < 4; ++i) {
    if (const Json* k = given[i]) {
      if (!k->is_string()) {
        return invalid_field(names[i], std::string(names[i]) + " must be a string");
      }
      keys[i] = k->get<std::string>();
    }
  }
  const std::optional<std::string>& secret = keys[0];
  e.set_security(settings.value(), secret);
  auto secret_error = sec::check_secret(secret);
  // The other keys: SECRETS_KEY(_PREVIOUS) seal stored secrets (the Worker does the sealing,
  // only after this check); ANALYTICS_HASH_KEY pseudonymizes users in analytics events.
  Json key_errors = Json::array();
  auto note = [&](const std::optional<Error>& err) {
    if (err) {
      key_errors.push_back({{"code", err->code}, {"field", err->field}, {"message", err->message}});
    }
  };
  note(sec::check_sealing_key(keys[1], sec::SealingKey::kCurrent));
  note(sec::check_sealing_key(keys[2], sec::SealingKey::kPrevious));
  auto analytics_error = sec::check_analytics_key(keys[3]);
  note(analytics_error);
  e.set_analytics_key(analytics_error ? std::string() : *keys[3]);
  Json out = {{"secret_ok", !secret_error},
              {"secret_error", secret_error ? Json(secret_error->message) : Json(nullptr)},
              {"key_errors", key_errors}};
  const Json in_force = codec::settings_json(settings.value());
  for (const auto& item : in_force.items()) {
    out[item.key()] = item.value();
  }
  return out;
}

// Authenticates and authorizes one request (security::authenticate):
//   {"authorization": header|null, "access": {"role", "scope"}, "user": ?user=|null,
//    "token": api_tokens row joined with users.disabled as user_disabled | null (no such row)
//    | absent (not read), "token_fetched_at_ms"?: when the isolate read that row (a cached row:
//    one older than security::kTokenCacheTtl is not used, the answer is "lookup" again)}
// -> {"decision": "allow", "principal", "scope": {"subject", "filter"}, "touch_token",
//     "rate_subject"} | {"decision": "lookup", "token_id"} (read that row, call again) |
//    {"decision": "deny", "code", "message", "field"?, "credential", "count_failure"};
// every answer also carries "rate" and "failures" (the windows and limits to count in).
Result<Json> auth_authenticate(Engine& e, const Json& in, TimePoint now) {
  FieldReader r(in);
  const Json* access_v = field(r, in, "access");
  const Json* authorization = field(r, in, "authorization");
  const Json* user = field(r, in, "user");
  const Json* row = field(r, in, "token");
  const Json* fetched = field(r, in, "token_fetched_at_ms");
  if (auto err = r.finish()) return *err;
  auto access = read_access(access_v);
  if (!access.ok()) return access.error();
  sec::AuthRequest request;
  request.access = access.value();
  if (authorization && authorization->is_string()) {
    request.authorization = authorization->get<std::string>();
  }
  if (user) {
    request.user.arrived = user->is_string() ? sec::Arrived::kValue : sec::Arrived::kWrongType;
    if (user->is_string()) request.user.value = user->get<std::string>();
  }
  if (row) {
    if (!row->is_object()) return invalid_field("token", "token must be a row object or null");
    auto stored = codec::stored_token_from_json(*row);
    if (!stored.ok()) return stored.error();
    request.token_row = sec::TokenRowState::kRead;
    request.token = std::move(stored).value();
  } else if (in.contains("token")) {
    request.token_row = sec::TokenRowState::kNoSuchRow;
  }
  if (fetched) {
    if (!fetched->is_number_integer()) {
      return invalid_field("token_fetched_at_ms", "token_fetched_at_ms must be an integer");
    }
    request.token_fetched_at = from_epoch_ms(fetched->get<int64_t>());
  }
  return codec::auth_answer_json(
      sec::authenticate(request, e.security_settings(), e.jwt_secret(), &codec::verify_jwt, now));
}

// {"ip_count": n, "token_count": n|null, "window_start_ms", "estimated"?: bool} (counters
// after this request) -> {"allowed", "retry_after_ms", "limited_by": "ip"|"token"|null,
// "limit", "confirm"}. With "estimated" (counts the isolate holds, not D1's), "confirm": true
// says a count is near its limit (security::rate_needs_confirm): count in D1 first and decide
// again on the exact counts.
Result<Json> rate_limit_decide(Engine& e, const Json& in, TimePoint now) {
  FieldReader r(in);
  sec::RateCounts counts;
  counts.ip_count = read_count(r, in, "ip_count").value_or(0);
  counts.token_count = read_count(r, in, "token_count").value_or(0);
  if (const Json* start = field(r, in, "window_start_ms")) {
    if (!start->is_number_integer()) {
      return invalid_field("window_start_ms", "window_start_ms must be an integer");
    }
    counts.window_start = from_epoch_ms(start->get<int64_t>());
  }
  bool estimated = false;
  r.read_bool("estimated", estimated);
  if (auto err = r.finish()) return *err;
  counts.source = estimated ? sec::CountSource::kEstimated : sec::CountSource::kExact;
  auto answer = sec::rate_limit(counts, e.security_settings(), now);
  if (!answer.ok()) return answer.error();
  return codec::rate_answer_json(answer.value());
}

// {"counts": [{"subject", "count"}]} (failures in the current window, after this one) ->
// {"alarming": [{"subject", "count"}], "threshold"}: the subjects that are security events.
Result<Json> security_failures_judge(Engine& e, const Json& in, TimePoint) {
  FieldReader reader(in);
  const Json* counts = field(reader, in, "counts");
  if (auto err = reader.finish()) return *err;
  if (!counts || !counts->is_array()) return invalid_field("counts", "counts must be a list");
  std::vector<sec::FailureCount> list;
  for (const Json& c : *counts) {
    if (!c.is_object()) return invalid_field("counts", "counts must hold objects");
    FieldReader r(c, "counts");
    sec::FailureCount f;
    r.read_string("subject", f.subject);
    if (!member(c, "subject") || !r.ok()) {
      return invalid_field("counts.subject", "counts.subject must be a string");
    }
    f.count = read_count(r, c, "count").value_or(0);
    if (auto err = r.finish()) return *err;
    list.push_back(std::move(f));
  }
  const uint32_t threshold = e.security_settings().auth_failure_threshold;
  Json alarming = Json::array();
  for (const sec::FailureCount& f : sec::alarming_failures(list, threshold)) {
    alarming.push_back({{"subject", f.subject}, {"count", f.count}});
  }
  return Json{{"alarming", alarming}, {"threshold", threshold}};
}

// {"request": POST /api/admin/users body} -> {"user"} normalized, or 422 naming every field.
Result<Json> user_validate(Engine&, const Json& in, TimePoint) {
  FieldReader r(in);
  const Json* request = field(r, in, "request");
  if (auto err = r.finish()) return *err;
  if (!request || !request->is_object()) return invalid_field("request", "body must be an object");
  auto u = codec::validate_new_user(*request);
  if (!u.ok()) return u.error();
  return Json{{"user", codec::user_json(u.value())}};
}

// {"request": POST /api/admin/tokens body, "user": users row | null, "random": hex} ->
// {"token": text shown once, "record": row to store}.
Result<Json> token_issue(Engine&, const Json& in, TimePoint now) {
  FieldReader r(in);
  const Json* request = field(r, in, "request");
  const Json* row = field(r, in, "user");
  const Json* random = field(r, in, "random");
  if (auto err = r.finish()) return *err;
  if (!request || !request->is_object()) return invalid_field("request", "body must be an object");
  std::optional<sec::UserRecord> user;
  if (row) {
    auto u = codec::user_row_from_json(*row);
    if (!u.ok()) return u.error();
    user = u.value();
  }
  auto t = codec::issue_api_token(
      *request, user, random && random->is_string() ? random->get<std::string>() : "", now);
  if (!t.ok()) return t.error();
  return codec::issued_token_json(t.value());
}

// {"request": PUT quota body, "user": the path's user id} -> {"quota"} normalized, or 422
// naming every bad field.
Result<Json> quota_validate(Engine&, const Json& in, TimePoint) {
  FieldReader r(in);
  const Json* request = field(r, in, "request");
  const Json* user = field(r, in, "user");
  if (auto err = r.finish()) return *err;
  if (!request || !request->is_object()) return invalid_field("request", "body must be an object");
  auto q =
      codec::validate_quota(*request, user && user->is_string() ? user->get<std::string>() : "");
  if (!q.ok()) return q.error();
  return Json{{"quota", codec::quota_json(q.value())}};
}

// {"quota": row|null, "usage": {"bytes","objects"}|null, "reserved": {"bytes","objects"}|null
//  (uploads admitted before this one and still under way), "replaced_size": n|null,
//  "new_size": n} -> {"allowed": true} or 413 (quota_exceeded, or payload_too_large over
// MAX_UPLOAD_BYTES: security::check_upload_size).
Result<Json> quota_check(Engine& e, const Json& in, TimePoint) {
  FieldReader reader(in);
  const Json* quota_v = field(reader, in, "quota");
  const Json* usage_v = field(reader, in, "usage");
  const Json* size = field(reader, in, "new_size");
  const Json* replaced_v = field(reader, in, "replaced_size");
  const Json* reserved_v = field(reader, in, "reserved");
  if (auto err = reader.finish()) return *err;
  auto quota = codec::quota_from_json(quota_v ? *quota_v : Json(nullptr), "quota");
  if (!quota.ok()) return quota.error();
  auto usage = codec::usage_from_json(usage_v ? *usage_v : Json(nullptr), "usage");
  if (!usage.ok()) return usage.error();
  if (!size || !size->is_number_integer() || size->get<int64_t>() < 0) {
    return invalid_field("new_size", "new_size must be a non-negative integer");
  }
  const uint64_t new_size = size->get<uint64_t>();
  if (auto err = sec::check_upload_size(new_size, e.security_settings().max_upload_bytes)) {
    return *err;
  }
  std::optional<uint64_t> replaced;
  if (const Json* r = replaced_v) {
    if (!r->is_number_integer() || r->get<int64_t>() < 0) {
      return invalid_field("replaced_size", "replaced_size must be a non-negative integer");
    }
    replaced = r->get<uint64_t>();
  }
  sec::StorageUsage reserved;
  if (const Json* r = reserved_v) {
    auto parsed = codec::usage_from_json(*r, "reserved");
    if (!parsed.ok()) return parsed.error();
    reserved = parsed.value();
  }
  if (auto err = sec::check_upload(quota.value(), usage.value(), replaced, new_size, reserved)) {
    return *err;
  }
  return Json{{"allowed", true}};
}

// {"users": [{"user_id", "quota": row|null, "usage": row|null}]} -> per user: figures, percent
// of quota (null without a quota), whether over it, and the warning level (warning_pct) and
// whether it is reached (warning). What the alert engine and the dashboard read.
Result<Json> quota_status(Engine&, const Json& in, TimePoint) {
  FieldReader reader(in);
  const Json* users = field(reader, in, "users");
  if (auto err = reader.finish()) return *err;
  if (!users || !users->is_array()) return invalid_field("users", "users must be a list");
  Json out = Json::array();
  for (const Json& u : *users) {
    if (!u.is_object()) return invalid_field("users", "users must hold objects");
    FieldReader r(u, "users");
    const Json* id = field(r, u, "user_id");
    const Json* quota_v = field(r, u, "quota");
    const Json* usage_v = field(r, u, "usage");
    if (!id || !id->is_string()) {
      return invalid_field("users.user_id", "users.user_id must be a string");
    }
    if (auto err = r.finish()) return *err;
    auto quota = codec::quota_from_json(quota_v ? *quota_v : Json(nullptr), "quota");
    if (!quota.ok()) return quota.error();
    auto usage = codec::usage_from_json(usage_v ? *usage_v : Json(nullptr), "usage");
    if (!usage.ok()) return usage.error();
    out.push_back(codec::quota_status_json(id->get<std::string>(), quota.value(), usage.value()));
  }
  return Json{{"users", out}};
}

// {"kind": "audit"|"security_events", "query": {query-string values}} -> the checked query.
Result<Json> log_query(Engine&, const Json& in, TimePoint) {
  FieldReader r(in);
  const Json* kind = field(r, in, "kind");
  const Json* query = field(r, in, "query");
  if (auto err = r.finish()) return *err;
  const std::string k = kind && kind->is_string() ? kind->get<std::string>() : "";
  if (k != "audit" && k != "security_events") {
    return invalid_field("kind", "kind must be audit or security_events");
  }
  auto q =
      codec::parse_log_query(query ? *query : Json::object(),
                             k == "audit" ? sec::LogKind::kAudit : sec::LogKind::kSecurityEvents);
  if (!q.ok()) return q.error();
  return codec::log_query_json(q.value());
}

// {"count"?: n} (requests of one user in this hour, after this one) -> {"window_start_ms",
// "window_ms", "limit", "excessive"}: the hour's counter key, and whether it is excessive use
// (security::usage_hour; false without a count).
Result<Json> usage_hour_judge(Engine& e, const Json& in, TimePoint now) {
  FieldReader r(in);
  std::optional<uint64_t> count = read_count(r, in, "count");
  if (auto err = r.finish()) return *err;
  const sec::UsageHour h = sec::usage_hour(count, e.security_settings(), now);
  return Json{{"window_start_ms", to_epoch_ms(h.window_start)},
              {"window_ms", h.window.count()},
              {"limit", h.limit},
              {"excessive", h.excessive}};
}

// {"user": "..."} -> {"user_hash"}: the user as Analytics Engine events carry it (see
// security::analytics_pseudonym; "" without ANALYTICS_HASH_KEY).
Result<Json> analytics_user(Engine& e, const Json& in, TimePoint) {
  FieldReader r(in);
  std::string user;
  r.read_string("user", user);
  if (!member(in, "user") || !r.ok()) return invalid_field("user", "user must be a string");
  if (auto err = r.finish()) return *err;
  return Json{{"user_hash", sec::analytics_pseudonym(e.analytics_key(), user)}};
}

}  // namespace

// The request path's (r2watch.wasm): settings, authentication, rate limits, the quota check.
std::span<const CommandEntry> security_commands() {
  static constexpr CommandEntry kCommands[] = {
      {"security_configure", &security_configure},
      {"auth_authenticate", &auth_authenticate},
      {"rate_limit_decide", &rate_limit_decide},
      {"security_failures_judge", &security_failures_judge},
      {"quota_check", &quota_check},
      {"analytics_user", &analytics_user},
      {"usage_hour_judge", &usage_hour_judge},
  };
  return kCommands;
}

// The admin API's (r2watch-console.wasm, wasm-bindings/modules.cc): users, tokens, quotas, logs.
std::span<const CommandEntry> security_admin_commands() {
  static constexpr CommandEntry kCommands[] = {
      {"user_validate", &user_validate},   {"token_issue", &token_issue},
      {"quota_validate", &quota_validate}, {"quota_status", &quota_status},
      {"log_query", &log_query},
  };
  return kCommands;
}

}  // namespace r2w::bindings
