// Commands of authentication, authorization, tokens, users, quotas, rate limits and the audit
// and security-event queries (core/security/). The Worker reads D1 and R2; every decision is
// made here.
#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include "core/security/access.h"
#include "core/security/audit-query.h"
#include "core/security/credentials.h"
#include "core/security/jwt.h"
#include "core/security/policy.h"
#include "core/security/quota.h"
#include "core/security/sha256.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/commands.h"
#include "wasm-bindings/engine.h"

namespace r2w::bindings {

using json = r2w::Json;
namespace sec = r2w::security;

namespace {

const json* member(const json& in, const char* name) {
  auto it = in.find(name);
  return it == in.end() || it->is_null() ? nullptr : &*it;
}

std::optional<std::string> string_member(const json& in, const char* name) {
  const json* v = member(in, name);
  if (!v || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

// A stored ms timestamp (D1 integer) or nullopt.
std::optional<TimePoint> time_member(const json& in, const char* name) {
  const json* v = member(in, name);
  if (!v || !v->is_number_integer()) return std::nullopt;
  return from_epoch_ms(v->get<int64_t>());
}

json principal_json(const sec::Principal& p) {
  return json{{"user", p.user},
              {"role", sec::role_name(p.role)},
              {"scopes", p.scopes},
              {"via", p.via},
              {"token_id", p.token_id.empty() ? json(nullptr) : json(p.token_id)}};
}

json plans_json(const sec::Settings& s, TimePoint now) {
  TimePoint rate_start = sec::window_start(now, sec::kRateWindow);
  TimePoint fail_start = sec::window_start(now, s.auth_failure_window);
  return json{{"rate",
               {{"window_start_ms", to_epoch_ms(rate_start)},
                {"window_ms", sec::kRateWindow.count()},
                {"ip_limit", s.ip_requests_per_minute},
                {"token_limit", s.token_requests_per_minute}}},
              {"failures",
               {{"window_start_ms", to_epoch_ms(fail_start)},
                {"window_ms", s.auth_failure_window.count()},
                {"threshold", s.auth_failure_threshold}}}};
}

Result<sec::Access> access_from_json(const json* v) {
  if (!v || !v->is_object()) return invalid_field("access", "access must be an object");
  sec::Access a;
  auto role = string_member(*v, "role");
  auto r = role ? sec::role_from_name(*role) : std::nullopt;
  if (!r) return invalid_field("access.role", "access.role must be admin, user or readonly");
  a.role = *r;
  auto scope = string_member(*v, "scope");
  if (member(*v, "scope") &&
      (!scope || *scope == sec::kAllScopes || !sec::is_known_scope(*scope))) {
    return invalid_field("access.scope", "access.scope must be a known scope or null");
  }
  a.scope = scope.value_or("");
  return a;
}

// The bearer token of an Authorization header value, or nullopt.
std::optional<std::string> bearer(const std::string& header) {
  size_t space = header.find(' ');
  if (space == std::string::npos) return std::nullopt;
  std::string scheme = header.substr(0, space);
  for (char& c : scheme) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  if (scheme != "bearer") return std::nullopt;
  size_t start = header.find_first_not_of(' ', space);
  if (start == std::string::npos) return std::nullopt;
  std::string token = header.substr(start);
  if (token.find_first_of(" \t") != std::string::npos) return std::nullopt;
  return token;
}

// What failed authentications are counted against, besides the client IP: an API token's id,
// or a short hash of anything else (so a flood of one bad JWT is one subject).
json credential_subject(const std::optional<std::string>& token) {
  if (!token) return nullptr;
  if (auto id = sec::api_token_id(*token)) return "token:" + *id;
  return "credential:" + sec::to_hex(sec::sha256(*token)).substr(0, 16);
}

json deny(const Error& e, const json& credential, bool count_failure, const json& plans) {
  json out = {{"decision", "deny"},
              {"code", e.code},
              {"message", e.message},
              {"credential", credential},
              {"count_failure", count_failure}};
  if (!e.field.empty()) out["field"] = e.field;
  out.update(plans);
  return out;
}

Result<sec::StoredToken> stored_token(const json& row) {
  sec::StoredToken t;
  auto id = string_member(row, "id");
  auto user = string_member(row, "user_id");
  auto hash = string_member(row, "token_hash");
  auto role = string_member(row, "role");
  auto scopes = string_member(row, "scopes_json");
  auto r = role ? sec::role_from_name(*role) : std::nullopt;
  if (!id || !user || !hash || !r || !scopes) {
    return invalid_field("token", "token row lacks id, user_id, token_hash, role or scopes_json");
  }
  auto parsed = parse_json(*scopes);
  if (!parsed.ok() || !parsed.value().is_array()) {
    return invalid_field("token.scopes_json", "token.scopes_json must be a JSON array");
  }
  for (const json& s : parsed.value()) {
    if (s.is_string()) t.scopes.push_back(s.get<std::string>());
  }
  t.id = *id;
  t.user_id = *user;
  t.hash = *hash;
  t.role = *r;
  t.expires_at = time_member(row, "expires_at_ms");
  t.revoked_at = time_member(row, "revoked_at_ms");
  t.last_used_at = time_member(row, "last_used_at_ms");
  const json* disabled = member(row, "user_disabled");
  t.user_disabled = disabled && ((disabled->is_number_integer() && disabled->get<int64_t>() != 0) ||
                                 (disabled->is_boolean() && disabled->get<bool>()));
  return t;
}

// {"vars": {...}, "jwt_secret": "..."|null, "secrets_key"?, "secrets_key_previous"?,
// "analytics_key"?} -> the settings in force, the secret's state and every refused other key
// ("key_errors": [{code, field, message}]).
// Bad variables are refused (every one named) and change nothing.
Result<json> security_configure(Engine& e, const json& in, TimePoint) {
  const json* vars = member(in, "vars");
  auto settings = sec::settings_from_vars(vars ? *vars : json::object());
  if (!settings.ok()) return settings.error();
  std::optional<std::string> secret;
  if (const json* s = member(in, "jwt_secret")) {
    if (!s->is_string()) return invalid_field("jwt_secret", "jwt_secret must be a string");
    secret = s->get<std::string>();
  }
  e.set_security(settings.value(), secret);
  const sec::Settings& s = settings.value();
  auto secret_error = sec::check_secret(secret);
  // The other keys: SECRETS_KEY(_PREVIOUS) seal stored secrets (the Worker does the sealing,
  // only after this check); ANALYTICS_HASH_KEY pseudonymizes users in analytics events.
  json key_errors = json::array();
  std::optional<std::string> keys[3];
  const char* const names[3] = {"secrets_key", "secrets_key_previous", "analytics_key"};
  for (size_t i = 0; i < 3; ++i) {
    if (const json* k = member(in, names[i])) {
      if (!k->is_null() && !k->is_string()) {
        return invalid_field(names[i], std::string(names[i]) + " must be a string");
      }
      if (k->is_string()) keys[i] = k->get<std::string>();
    }
  }
  auto note = [&](const std::optional<Error>& err) {
    if (err) {
      key_errors.push_back({{"code", err->code}, {"field", err->field}, {"message", err->message}});
    }
  };
  note(sec::check_sealing_key(keys[0], sec::SealingKey::kCurrent));
  note(sec::check_sealing_key(keys[1], sec::SealingKey::kPrevious));
  auto analytics_error = sec::check_analytics_key(keys[2]);
  note(analytics_error);
  e.set_analytics_key(analytics_error ? std::string() : *keys[2]);
  return json{{"secret_ok", !secret_error},
              {"secret_error", secret_error ? json(secret_error->message) : json(nullptr)},
              {"key_errors", key_errors},
              {"jwt_issuer", s.jwt.issuer},
              {"jwt_max_skew_ms", s.jwt.max_skew.count()},
              {"jwt_max_lifetime_ms", s.jwt.max_lifetime.count()},
              {"token_requests_per_minute", s.token_requests_per_minute},
              {"ip_requests_per_minute", s.ip_requests_per_minute},
              {"auth_failure_threshold", s.auth_failure_threshold},
              {"auth_failure_window_ms", s.auth_failure_window.count()},
              {"max_upload_bytes", s.max_upload_bytes},
              {"excessive_requests_per_hour", s.excessive_requests_per_hour},
              {"upload_reservation_ms", sec::kUploadReservationLifetime.count()},
              {"token_cache_ttl_ms", sec::kTokenCacheTtl.count()},
              {"token_cache_max_entries", sec::kTokenCacheMaxEntries},
              {"write_behind_max_statements", sec::kWriteBehindMaxStatements},
              {"write_behind_id_retention_ms", sec::kWriteBehindIdRetention.count()}};
}

// Authenticates and authorizes one request:
//   {"authorization": header|null, "access": {"role", "scope"}, "user": ?user=|null,
//    "token": api_tokens row joined with users.disabled as user_disabled | absent,
//    "token_fetched_at_ms"?: when the isolate read that row (a cached row: one older than
//    security::kTokenCacheTtl is not used, the answer is "lookup" again)}
// -> {"decision": "allow", "principal", "scope": {"subject", "filter"}, "touch_token",
//     "rate_subject"} | {"decision": "lookup", "token_id"} (read that row, call again) |
//    {"decision": "deny", "code", "message", "field"?, "credential", "count_failure"};
// every answer also carries "rate" and "failures" (the windows and limits to count in).
Result<json> auth_authenticate(Engine& e, const json& in, TimePoint now) {
  auto access = access_from_json(member(in, "access"));
  if (!access.ok()) return access.error();
  const json plans = plans_json(e.security_settings(), now);
  if (auto err = sec::check_secret(e.jwt_secret())) return deny(*err, nullptr, false, plans);

  auto header = string_member(in, "authorization");
  std::optional<std::string> token = header ? bearer(*header) : std::nullopt;
  const json credential = credential_subject(token);
  auto refuse = [&](std::string message) {
    return deny(Error{.code = std::string(sec::kUnauthenticated),
                      .message = std::move(message),
                      .field = "authorization"},
                credential, true, plans);
  };
  if (!header) return refuse("this needs a bearer token: Authorization: Bearer <token>");
  if (!token) return refuse("the Authorization header must be: Bearer <token>");
  if (token->size() > sec::kMaxTokenBytes) return refuse("the bearer token is too long");

  Result<sec::Principal> principal = Error{};
  bool touch = false;
  if (sec::looks_like_api_token(*token)) {
    auto id = sec::api_token_id(*token);
    if (!id) return refuse("API token is malformed");
    const json* row = member(in, "token");
    if (!row) {
      if (in.contains("token")) return refuse("API token is not valid");  // no such row
      json out = {{"decision", "lookup"}, {"token_id", *id}};
      out.update(plans);
      return out;
    }
    if (!row->is_object()) return invalid_field("token", "token must be a row object or null");
    if (const json* fetched = member(in, "token_fetched_at_ms")) {
      if (!fetched->is_number_integer()) {
        return invalid_field("token_fetched_at_ms", "token_fetched_at_ms must be an integer");
      }
      if (!sec::token_row_fresh(from_epoch_ms(fetched->get<int64_t>()), now)) {
        json out = {{"decision", "lookup"}, {"token_id", *id}};
        out.update(plans);
        return out;
      }
    }
    auto stored = stored_token(*row);
    if (!stored.ok()) return stored.error();
    principal = sec::check_api_token(*token, stored.value(), now);
    touch = sec::last_used_due(stored.value().last_used_at, now);
  } else {
    principal = sec::verify_jwt(*token, *e.jwt_secret(), e.security_settings().jwt, now);
  }
  if (!principal.ok()) return refuse(principal.error().message);
  const sec::Principal& p = principal.value();

  auto refused = [&](const Error& err) {
    json out = deny(err, credential, false, plans);
    out["actor"] = p.user;
    out["actor_role"] = sec::role_name(p.role);
    out["actor_via"] = p.via;
    return out;
  };
  if (auto err = sec::authorize(p, access.value())) return refused(*err);
  std::optional<std::string> requested = string_member(in, "user");
  if (member(in, "user") && !requested) {
    return refused(
        Error{.code = "invalid_query", .message = "user must be a string", .field = "user"});
  }
  auto scope =
      sec::scope_of(p, requested ? std::optional<std::string_view>(*requested) : std::nullopt);
  if (!scope.ok()) return refused(scope.error());

  json out = {{"decision", "allow"},
              {"principal", principal_json(p)},
              {"scope",
               {{"subject", scope.value().subject},
                {"filter", scope.value().filter ? json(*scope.value().filter) : json(nullptr)}}},
              {"touch_token", touch},
              {"rate_subject", p.token_id.empty() ? "user:" + p.user : "token:" + p.token_id}};
  out.update(plans);
  return out;
}

uint64_t count_member(const json& in, const char* name) {
  const json* v = member(in, name);
  if (!v || !v->is_number()) return 0;
  if (v->is_number_unsigned()) return v->get<uint64_t>();
  if (v->is_number_integer()) return v->get<int64_t>() > 0 ? v->get<uint64_t>() : 0;
  double d = v->get<double>();
  return std::isfinite(d) && d > 0 && d < 1e18 ? static_cast<uint64_t>(d) : 0;
}

// {"ip_count": n, "token_count": n|null, "window_start_ms", "estimated"?: bool} (counters
// after this request) -> {"allowed", "retry_after_ms", "limited_by": "ip"|"token"|null,
// "limit", "confirm"}. With "estimated" (counts the isolate holds, not D1's), "confirm": true
// says a count is near its limit (security::rate_needs_confirm): count in D1 first and decide
// again on the exact counts.
Result<json> rate_limit_decide(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  r.has("ip_count");
  r.has("token_count");
  r.has("window_start_ms");
  bool estimated = false;
  r.read_bool("estimated", estimated);
  if (auto err = r.finish()) return *err;
  if (estimated) {
    const sec::Settings& s = e.security_settings();
    bool confirm =
        sec::rate_needs_confirm(count_member(in, "ip_count"), s.ip_requests_per_minute) ||
        sec::rate_needs_confirm(count_member(in, "token_count"), s.token_requests_per_minute);
    if (confirm) {
      return json{{"allowed", true},
                  {"retry_after_ms", 0},
                  {"limited_by", nullptr},
                  {"limit", 0},
                  {"confirm", true}};
    }
  }
  const json* start_v = member(in, "window_start_ms");
  if (!start_v || !start_v->is_number_integer()) {
    return invalid_field("window_start_ms", "window_start_ms must be an integer");
  }
  TimePoint start = from_epoch_ms(start_v->get<int64_t>());
  const sec::Settings& s = e.security_settings();
  struct Check {
    const char* name;
    uint64_t count;
    uint32_t limit;
  };
  for (const Check& c :
       {Check{"ip", count_member(in, "ip_count"), s.ip_requests_per_minute},
        Check{"token", count_member(in, "token_count"), s.token_requests_per_minute}}) {
    auto d = sec::rate_decision(c.count, c.limit, start, sec::kRateWindow, now);
    if (!d.allowed) {
      return json{{"allowed", false},
                  {"retry_after_ms", d.retry_after.count()},
                  {"limited_by", c.name},
                  {"limit", c.limit},
                  {"confirm", false}};
    }
  }
  return json{{"allowed", true},
              {"retry_after_ms", 0},
              {"limited_by", nullptr},
              {"limit", 0},
              {"confirm", false}};
}

// {"counts": [{"subject", "count"}]} (failures in the current window, after this one) ->
// {"alarming": [{"subject", "count"}], "threshold"}: the subjects that are security events.
Result<json> security_failures_judge(Engine& e, const json& in, TimePoint) {
  const json* counts = member(in, "counts");
  if (!counts || !counts->is_array()) return invalid_field("counts", "counts must be a list");
  json alarming = json::array();
  uint32_t threshold = e.security_settings().auth_failure_threshold;
  for (const json& c : *counts) {
    if (!c.is_object()) return invalid_field("counts", "counts must hold objects");
    auto subject = string_member(c, "subject");
    if (!subject) return invalid_field("counts.subject", "counts.subject must be a string");
    uint64_t n = count_member(c, "count");
    if (sec::failures_alarming(n, threshold)) {
      alarming.push_back({{"subject", *subject}, {"count", n}});
    }
  }
  return json{{"alarming", alarming}, {"threshold", threshold}};
}

json user_json(const sec::UserRecord& u) {
  return json{{"id", u.id},
              {"name", u.name},
              {"email", u.email.empty() ? json(nullptr) : json(u.email)},
              {"role", sec::role_name(u.role)}};
}

// {"request": POST /api/admin/users body} -> {"user"} normalized, or 422 naming every field.
Result<json> user_validate(Engine&, const json& in, TimePoint) {
  const json* request = member(in, "request");
  if (!request || !request->is_object()) return invalid_field("request", "body must be an object");
  auto u = sec::validate_new_user(*request);
  if (!u.ok()) return u.error();
  return json{{"user", user_json(u.value())}};
}

// {"request": POST /api/admin/tokens body, "user": users row | null, "random": hex} ->
// {"token": text shown once, "record": row to store}.
Result<json> token_issue(Engine&, const json& in, TimePoint now) {
  const json* request = member(in, "request");
  if (!request || !request->is_object()) return invalid_field("request", "body must be an object");
  std::optional<sec::UserRecord> user;
  if (const json* row = member(in, "user")) {
    if (!row->is_object()) return invalid_field("user", "user must be a row object or null");
    auto id = string_member(*row, "id");
    auto role = string_member(*row, "role");
    auto r = role ? sec::role_from_name(*role) : std::nullopt;
    if (!id || !r) return invalid_field("user", "user row lacks id or role");
    const json* disabled = member(*row, "disabled");
    user = sec::UserRecord{
        .id = *id,
        .name = string_member(*row, "name").value_or(*id),
        .email = "",
        .role = *r,
        .disabled = disabled && disabled->is_number_integer() && disabled->get<int64_t>() != 0};
  }
  auto random = string_member(in, "random").value_or("");
  auto t = sec::issue_api_token(*request, user, random, now);
  if (!t.ok()) return t.error();
  const sec::IssuedToken& k = t.value();
  return json{
      {"token", k.token},
      {"record",
       {{"id", k.id},
        {"user_id", k.user_id},
        {"name", k.name},
        {"role", sec::role_name(k.role)},
        {"scopes", k.scopes},
        {"token_hash", k.hash},
        {"created_at_ms", to_epoch_ms(k.created_at)},
        {"expires_at_ms", k.expires_at ? json(to_epoch_ms(*k.expires_at)) : json(nullptr)}}}};
}

json quota_json(const sec::Quota& q) {
  return json{{"max_bytes", q.max_bytes},
              {"max_objects", q.max_objects ? json(*q.max_objects) : json(nullptr)}};
}

// {"request": PUT quota body, "user": the path's user id} -> {"quota"} normalized, or 422
// naming every bad field.
Result<json> quota_validate(Engine&, const json& in, TimePoint) {
  const json* request = member(in, "request");
  if (!request || !request->is_object()) return invalid_field("request", "body must be an object");
  const json* user = member(in, "user");
  auto q = sec::validate_quota(*request, user && user->is_string() ? user->get<std::string>() : "");
  if (!q.ok()) return q.error();
  return json{{"quota", quota_json(q.value())}};
}

// {"quota": row|null, "usage": {"bytes","objects"}|null, "reserved": {"bytes","objects"}|null
//  (uploads admitted before this one and still under way), "replaced_size": n|null,
//  "new_size": n} -> {"allowed": true} or 413 (quota_exceeded or
// payload_too_large, over MAX_UPLOAD_BYTES).
Result<json> quota_check(Engine& e, const json& in, TimePoint) {
  auto quota = sec::quota_from_json(in.value("quota", json(nullptr)), "quota");
  if (!quota.ok()) return quota.error();
  auto usage = sec::usage_from_json(in.value("usage", json(nullptr)), "usage");
  if (!usage.ok()) return usage.error();
  const json* size = member(in, "new_size");
  if (!size || !size->is_number_integer() || size->get<int64_t>() < 0) {
    return invalid_field("new_size", "new_size must be a non-negative integer");
  }
  uint64_t new_size = size->get<uint64_t>();
  if (new_size > e.security_settings().max_upload_bytes) {
    return Error{.code = "payload_too_large",
                 .message = "an upload may be at most " +
                            std::to_string(e.security_settings().max_upload_bytes) + " bytes",
                 .field = "body"};
  }
  std::optional<uint64_t> replaced;
  if (const json* r = member(in, "replaced_size")) {
    if (!r->is_number_integer() || r->get<int64_t>() < 0) {
      return invalid_field("replaced_size", "replaced_size must be a non-negative integer");
    }
    replaced = r->get<uint64_t>();
  }
  sec::StorageUsage reserved;
  if (const json* r = member(in, "reserved"); r && !r->is_null()) {
    auto parsed = sec::usage_from_json(*r, "reserved");
    if (!parsed.ok()) return parsed.error();
    reserved = parsed.value();
  }
  if (auto err = sec::check_upload(quota.value(), usage.value(), replaced, new_size, reserved)) {
    return *err;
  }
  return json{{"allowed", true}};
}

// {"users": [{"user_id", "quota": row|null, "usage": row|null}]} -> per user: figures and
// percent of quota (null without a quota). What the alert engine reads for quota alerts.
Result<json> quota_status(Engine&, const json& in, TimePoint) {
  const json* users = member(in, "users");
  if (!users || !users->is_array()) return invalid_field("users", "users must be a list");
  json out = json::array();
  for (const json& u : *users) {
    if (!u.is_object()) return invalid_field("users", "users must hold objects");
    auto id = string_member(u, "user_id");
    if (!id) return invalid_field("users.user_id", "users.user_id must be a string");
    auto quota = sec::quota_from_json(u.value("quota", json(nullptr)), "quota");
    if (!quota.ok()) return quota.error();
    auto usage = sec::usage_from_json(u.value("usage", json(nullptr)), "usage");
    if (!usage.ok()) return usage.error();
    json row = {{"user_id", *id},
                {"bytes", usage.value().bytes},
                {"objects", usage.value().objects},
                {"max_bytes", nullptr},
                {"max_objects", nullptr},
                {"bytes_pct", nullptr},
                {"objects_pct", nullptr},
                {"over", false}};
    if (quota.value()) {
      auto s = sec::quota_status(*quota.value(), usage.value());
      row.update(quota_json(*quota.value()));
      row["bytes_pct"] = s.bytes_pct;
      row["objects_pct"] = s.objects_pct ? json(*s.objects_pct) : json(nullptr);
      row["over"] = s.over;
    }
    out.push_back(row);
  }
  return json{{"users", out}};
}

// {"kind": "audit"|"security_events", "query": {query-string values}} -> the checked query.
Result<json> log_query(Engine&, const json& in, TimePoint) {
  auto kind = string_member(in, "kind");
  if (!kind || (*kind != "audit" && *kind != "security_events")) {
    return invalid_field("kind", "kind must be audit or security_events");
  }
  const json* query = member(in, "query");
  auto q =
      sec::parse_log_query(query ? *query : json::object(),
                           *kind == "audit" ? sec::LogKind::kAudit : sec::LogKind::kSecurityEvents);
  if (!q.ok()) return q.error();
  const sec::LogQuery& v = q.value();
  auto opt = [](const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); };
  return json{{"since_ms", v.since ? json(to_epoch_ms(*v.since)) : json(nullptr)},
              {"actor", opt(v.actor)},
              {"action", opt(v.action)},
              {"result", opt(v.result)},
              {"kind", opt(v.kind)},
              {"limit", v.limit},
              {"before_id", v.before_id ? json(*v.before_id) : json(nullptr)}};
}

// {"count"?: n} (requests of one user in this hour, after this one) -> {"window_start_ms",
// "window_ms", "limit", "excessive"}: the hour's counter key, and whether it is excessive use
// (security::requests_excessive; false without a count).
Result<json> usage_hour_judge(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  r.has("count");
  if (auto err = r.finish()) return *err;
  const json* count = member(in, "count");
  if (count && !count->is_null() && !count->is_number_unsigned() && !count->is_number_integer()) {
    return invalid_field("count", "count must be a whole number");
  }
  const uint32_t limit = e.security_settings().excessive_requests_per_hour;
  const bool excessive = count && !count->is_null() && count->get<int64_t>() >= 0 &&
                         sec::requests_excessive(count->get<uint64_t>(), limit);
  return json{{"window_start_ms", to_epoch_ms(sec::window_start(now, sec::kUsageWindow))},
              {"window_ms", sec::kUsageWindow.count()},
              {"limit", limit},
              {"excessive", excessive}};
}

// {"user": "..."} -> {"user_hash"}: the user as Analytics Engine events carry it (see
// security::analytics_pseudonym; "" without ANALYTICS_HASH_KEY).
Result<json> analytics_user(Engine& e, const json& in, TimePoint) {
  const json* user = member(in, "user");
  if (!user || !user->is_string()) return invalid_field("user", "user must be a string");
  return json{{"user_hash", sec::analytics_pseudonym(e.analytics_key(), user->get<std::string>())}};
}

}  // namespace

std::span<const CommandEntry> security_commands() {
  static constexpr CommandEntry kCommands[] = {
      {"security_configure", &security_configure},
      {"auth_authenticate", &auth_authenticate},
      {"rate_limit_decide", &rate_limit_decide},
      {"security_failures_judge", &security_failures_judge},
      {"user_validate", &user_validate},
      {"token_issue", &token_issue},
      {"quota_validate", &quota_validate},
      {"quota_check", &quota_check},
      {"quota_status", &quota_status},
      {"log_query", &log_query},
      {"analytics_user", &analytics_user},
      {"usage_hour_judge", &usage_hour_judge},
  };
  return kCommands;
}

}  // namespace r2w::bindings
