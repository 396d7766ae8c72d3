#include "wasm-bindings/codec/security.h"

#include <cmath>
#include <utility>

namespace r2w::codec {

namespace sec = r2w::security;
using sec::Arrived;
using sec::Input;

namespace {

// The member `name` of an object: nullptr when absent (or when `object` is no object).
const Json* find_member(const Json& object, std::string_view name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(std::string(name));
  return it == object.end() ? nullptr : &*it;
}

// A present, non-null member.
const Json* value_member(const Json& object, std::string_view name) {
  const Json* v = find_member(object, name);
  return v && !v->is_null() ? v : nullptr;
}

template <class T>
Input<T> arrived(Arrived how) {
  Input<T> in;
  in.arrived = how;
  return in;
}

Input<std::string> text_input(const Json& object, std::string_view name) {
  const Json* v = find_member(object, name);
  if (!v) return {};
  if (v->is_null()) return arrived<std::string>(Arrived::kNull);
  if (!v->is_string()) return arrived<std::string>(Arrived::kWrongType);
  return sec::input_of(v->get<std::string>());
}

Input<double> number_input(const Json& object, std::string_view name) {
  const Json* v = find_member(object, name);
  if (!v) return {};
  if (v->is_null()) return arrived<double>(Arrived::kNull);
  if (!v->is_number()) return arrived<double>(Arrived::kWrongType);
  return sec::input_of(v->get<double>());
}

// A whole number in 0..2^53 (JavaScript's exact integers), else kWrongType.
Input<uint64_t> count_input(const Json& object, std::string_view name) {
  const Json* v = find_member(object, name);
  if (!v) return {};
  if (v->is_null()) return arrived<uint64_t>(Arrived::kNull);
  uint64_t n = 0;
  if (v->is_number_unsigned()) {
    n = v->get<uint64_t>();
  } else if (v->is_number_integer() && v->get<int64_t>() >= 0) {
    n = static_cast<uint64_t>(v->get<int64_t>());
  } else if (v->is_number_float()) {
    double d = v->get<double>();
    if (!std::isfinite(d) || d < 0 || d > static_cast<double>(sec::kMaxQuotaCount) ||
        std::floor(d) != d) {
      return arrived<uint64_t>(Arrived::kWrongType);
    }
    n = static_cast<uint64_t>(d);
  } else {
    return arrived<uint64_t>(Arrived::kWrongType);
  }
  if (n > sec::kMaxQuotaCount) return arrived<uint64_t>(Arrived::kWrongType);
  return sec::input_of(n);
}

Input<sec::VarValue> var_input(const Json& vars, std::string_view name) {
  const Json* v = find_member(vars, name);
  if (!v) return {};
  if (v->is_null()) return arrived<sec::VarValue>(Arrived::kNull);
  if (v->is_string()) return sec::input_of(sec::VarValue{.text = v->get<std::string>()});
  if (v->is_number()) return sec::input_of(sec::VarValue{.number = v->get<double>()});
  return arrived<sec::VarValue>(Arrived::kWrongType);
}

Arrived presence(const Json& object, std::string_view name) {
  const Json* v = find_member(object, name);
  if (!v) return Arrived::kAbsent;
  return v->is_null() ? Arrived::kNull : Arrived::kValue;
}

sec::UnknownFields unknown_fields(const Json& object,
                                  std::initializer_list<std::string_view> known) {
  sec::UnknownFields out;
  for (const auto& item : object.items()) {
    bool found = false;
    for (std::string_view k : known) found = found || item.key() == k;
    if (!found) out.push_back(item.key());
  }
  return out;
}

std::optional<std::string> string_member(const Json& in, std::string_view name) {
  const Json* v = value_member(in, name);
  if (!v || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

// A stored ms timestamp (D1 integer) or nullopt.
std::optional<TimePoint> time_member(const Json& in, std::string_view name) {
  const Json* v = value_member(in, name);
  if (!v || !v->is_number_integer()) return std::nullopt;
  return from_epoch_ms(v->get<int64_t>());
}

Json optional_text(const std::optional<std::string>& s) { return s ? Json(*s) : Json(nullptr); }

Result<Json> decode_object(std::string_view part, sec::JwtPart which) {
  auto bytes = sec::decode_jwt_part(part, which);
  if (!bytes.ok()) return bytes.error();
  auto parsed = parse_json_object(bytes.value());
  if (!parsed.ok()) return sec::jwt_part_not_object(which);
  return std::move(parsed).value();
}

}  // namespace

Result<sec::Principal> verify_jwt(std::string_view token, std::string_view secret,
                                  const sec::JwtOptions& options, TimePoint now) {
  auto parts = sec::split_jwt(token);
  if (!parts.ok()) return parts.error();
  auto header_json = decode_object(parts.value().header, sec::JwtPart::kHeader);
  if (!header_json.ok()) return header_json.error();
  const Json& h = header_json.value();
  sec::JwtHeader header{
      .alg = text_input(h, "alg"), .typ = text_input(h, "typ"), .crit = presence(h, "crit")};
  if (auto err = sec::check_jwt_header(header)) return *err;
  if (auto err = sec::check_jwt_signature(parts.value(), secret)) return *err;
  auto claims_json = decode_object(parts.value().payload, sec::JwtPart::kPayload);
  if (!claims_json.ok()) return claims_json.error();
  const Json& c = claims_json.value();
  sec::JwtClaims claims{.iss = text_input(c, "iss"),
                        .sub = text_input(c, "sub"),
                        .role = text_input(c, "role"),
                        .scope = text_input(c, "scope"),
                        .exp = number_input(c, "exp"),
                        .nbf = number_input(c, "nbf"),
                        .iat = number_input(c, "iat")};
  return sec::principal_from_claims(claims, options, now);
}

std::string sign_jwt(const Json& claims, std::string_view secret) {
  return sec::sign_jwt_payload(claims.dump(), secret);
}

sec::NewUserRequest read_new_user(const Json& request) {
  return sec::NewUserRequest{.unknown = unknown_fields(request, {"id", "name", "email", "role"}),
                             .id = text_input(request, "id"),
                             .name = text_input(request, "name"),
                             .email = text_input(request, "email"),
                             .role = text_input(request, "role")};
}

sec::TokenRequest read_token_request(const Json& request) {
  sec::TokenRequest t{
      .unknown = unknown_fields(request, {"user_id", "name", "role", "scopes", "expires_in_days"}),
      .user_id = text_input(request, "user_id"),
      .name = text_input(request, "name"),
      .role = text_input(request, "role"),
      .scopes = {},
      .expires_in_days = number_input(request, "expires_in_days")};
  if (const Json* scopes = find_member(request, "scopes")) {
    if (scopes->is_null()) {
      t.scopes.arrived = Arrived::kNull;
    } else if (!scopes->is_array()) {
      t.scopes.arrived = Arrived::kWrongType;
    } else {
      t.scopes.arrived = Arrived::kValue;
      for (const Json& s : *scopes) {
        t.scopes.value.push_back(s.is_string() ? sec::input_of(s.get<std::string>())
                                               : arrived<std::string>(Arrived::kWrongType));
      }
    }
  }
  return t;
}

sec::QuotaRequest read_quota_request(const Json& request) {
  sec::QuotaRequest q{.fields = {},
                      .user_id = text_input(request, "user_id"),
                      .max_bytes = count_input(request, "max_bytes"),
                      .max_objects = count_input(request, "max_objects")};
  for (const auto& item : request.items()) q.fields.push_back(item.key());
  return q;
}

sec::SecurityVars read_security_vars(const Json& vars) {
  return sec::SecurityVars{
      .jwt_issuer = var_input(vars, "JWT_ISSUER"),
      .jwt_max_skew_seconds = var_input(vars, "JWT_MAX_SKEW_SECONDS"),
      .jwt_max_lifetime_seconds = var_input(vars, "JWT_MAX_LIFETIME_SECONDS"),
      .rate_limit_per_minute = var_input(vars, "RATE_LIMIT_PER_MINUTE"),
      .rate_limit_ip_per_minute = var_input(vars, "RATE_LIMIT_IP_PER_MINUTE"),
      .auth_failure_threshold = var_input(vars, "AUTH_FAILURE_THRESHOLD"),
      .auth_failure_window_seconds = var_input(vars, "AUTH_FAILURE_WINDOW_SECONDS"),
      .max_upload_bytes = var_input(vars, "MAX_UPLOAD_BYTES"),
      .excessive_requests_per_hour = var_input(vars, "EXCESSIVE_REQUESTS_PER_HOUR")};
}

Result<sec::QueryValues> read_query_values(const Json& query) {
  if (!query.is_object()) return sec::log_query_not_object();
  sec::QueryValues out;
  for (const auto& item : query.items()) {
    out.emplace_back(item.key(), item.value().is_string()
                                     ? sec::input_of(item.value().get<std::string>())
                                     : arrived<std::string>(Arrived::kWrongType));
  }
  return out;
}

Result<sec::UserRecord> validate_new_user(const Json& request) {
  return sec::validate_new_user(read_new_user(request));
}

Result<sec::IssuedToken> issue_api_token(const Json& request,
                                         const std::optional<sec::UserRecord>& user,
                                         std::string_view random_hex, TimePoint now) {
  return sec::issue_api_token(read_token_request(request), user, random_hex, now);
}

Result<sec::Quota> validate_quota(const Json& request, std::string_view user) {
  return sec::validate_quota(read_quota_request(request), user);
}

Result<sec::Settings> settings_from_vars(const Json& vars) {
  if (!vars.is_object()) return invalid_field("vars", "vars must be an object");
  return sec::settings_from_vars(read_security_vars(vars));
}

Result<sec::LogQuery> parse_log_query(const Json& query, sec::LogKind kind) {
  auto values = read_query_values(query);
  if (!values.ok()) return values.error();
  return sec::parse_log_query(values.value(), kind);
}

Result<std::optional<sec::Quota>> quota_from_json(const Json& v, std::string_view field) {
  const std::string f(field);
  if (v.is_null()) return std::optional<sec::Quota>{};
  if (!v.is_object()) return invalid_field(f, f + " must be an object");
  auto q = validate_quota(v, "");
  if (!q.ok()) return invalid_field(f, f + "." + q.error().message);
  return std::optional<sec::Quota>(q.value());
}

Result<sec::StorageUsage> usage_from_json(const Json& v, std::string_view field) {
  const std::string f(field);
  sec::StorageUsage u;
  if (v.is_null()) return u;
  if (!v.is_object()) return invalid_field(f, f + " must be an object");
  for (const char* name : {"bytes", "objects"}) {
    Input<uint64_t> n = count_input(v, name);
    if (n.missing()) continue;
    if (!n.has_value()) {
      return invalid_field(f + "." + name, f + "." + name + " must be a whole number");
    }
    (std::string_view(name) == "bytes" ? u.bytes : u.objects) = n.value;
  }
  return u;
}

Result<sec::StoredToken> stored_token_from_json(const Json& row) {
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
  for (const Json& s : parsed.value()) {
    if (s.is_string()) t.scopes.push_back(s.get<std::string>());
  }
  t.id = *id;
  t.user_id = *user;
  t.hash = *hash;
  t.role = *r;
  t.expires_at = time_member(row, "expires_at_ms");
  t.revoked_at = time_member(row, "revoked_at_ms");
  t.last_used_at = time_member(row, "last_used_at_ms");
  const Json* disabled = value_member(row, "user_disabled");
  t.user_disabled = disabled && ((disabled->is_number_integer() && disabled->get<int64_t>() != 0) ||
                                 (disabled->is_boolean() && disabled->get<bool>()));
  return t;
}

Result<sec::UserRecord> user_row_from_json(const Json& row) {
  if (!row.is_object()) return invalid_field("user", "user must be a row object or null");
  auto id = string_member(row, "id");
  auto role = string_member(row, "role");
  auto r = role ? sec::role_from_name(*role) : std::nullopt;
  if (!id || !r) return invalid_field("user", "user row lacks id or role");
  const Json* disabled = value_member(row, "disabled");
  return sec::UserRecord{
      .id = *id,
      .name = string_member(row, "name").value_or(*id),
      .email = "",
      .role = *r,
      .disabled = disabled && disabled->is_number_integer() && disabled->get<int64_t>() != 0};
}

Json principal_json(const sec::Principal& p) {
  return Json{{"user", p.user},
              {"role", sec::role_name(p.role)},
              {"scopes", p.scopes},
              {"via", p.via},
              {"token_id", p.token_id.empty() ? Json(nullptr) : Json(p.token_id)}};
}

Json user_json(const sec::UserRecord& u) {
  return Json{{"id", u.id},
              {"name", u.name},
              {"email", u.email.empty() ? Json(nullptr) : Json(u.email)},
              {"role", sec::role_name(u.role)}};
}

Json quota_json(const sec::Quota& q) {
  return Json{{"max_bytes", q.max_bytes},
              {"max_objects", q.max_objects ? Json(*q.max_objects) : Json(nullptr)}};
}

Json issued_token_json(const sec::IssuedToken& k) {
  return Json{
      {"token", k.token},
      {"record",
       {{"id", k.id},
        {"user_id", k.user_id},
        {"name", k.name},
        {"role", sec::role_name(k.role)},
        {"scopes", k.scopes},
        {"token_hash", k.hash},
        {"created_at_ms", to_epoch_ms(k.created_at)},
        {"expires_at_ms", k.expires_at ? Json(to_epoch_ms(*k.expires_at)) : Json(nullptr)}}}};
}

Json auth_answer_json(const sec::AuthAnswer& a) {
  Json out = Json::object();
  switch (a.decision) {
    case sec::AuthDecision::kLookup:
      out = Json{{"decision", "lookup"}, {"token_id", a.token_id}};
      break;
    case sec::AuthDecision::kDeny:
      out = Json{{"decision", "deny"},
                 {"code", a.refusal.code},
                 {"message", a.refusal.message},
                 {"credential", optional_text(a.credential)},
                 {"count_failure", a.count_failure}};
      if (!a.refusal.field.empty()) out["field"] = a.refusal.field;
      if (a.principal) {
        out["actor"] = a.principal->user;
        out["actor_role"] = sec::role_name(a.principal->role);
        out["actor_via"] = a.principal->via;
      }
      break;
    case sec::AuthDecision::kAllow:
      out =
          Json{{"decision", "allow"},
               {"principal", principal_json(*a.principal)},
               {"scope", {{"subject", a.scope.subject}, {"filter", optional_text(a.scope.filter)}}},
               {"touch_token", a.touch_token},
               {"rate_subject", a.rate_subject}};
      break;
  }
  const sec::AuthWindows& w = a.windows;
  out["rate"] = Json{{"window_start_ms", to_epoch_ms(w.rate_window_start)},
                     {"window_ms", w.rate_window.count()},
                     {"ip_limit", w.ip_limit},
                     {"token_limit", w.token_limit}};
  out["failures"] = Json{{"window_start_ms", to_epoch_ms(w.failures_window_start)},
                         {"window_ms", w.failures_window.count()},
                         {"threshold", w.failure_threshold}};
  return out;
}

Json rate_answer_json(const sec::RateAnswer& a) {
  Json limited_by = nullptr;
  if (a.limited_by == sec::RateLimitedBy::kIp) limited_by = "ip";
  if (a.limited_by == sec::RateLimitedBy::kToken) limited_by = "token";
  return Json{{"allowed", a.allowed},
              {"retry_after_ms", a.retry_after.count()},
              {"limited_by", limited_by},
              {"limit", a.limit},
              {"confirm", a.confirm}};
}

Json log_query_json(const sec::LogQuery& v) {
  return Json{{"since_ms", v.since ? Json(to_epoch_ms(*v.since)) : Json(nullptr)},
              {"actor", optional_text(v.actor)},
              {"action", optional_text(v.action)},
              {"result", optional_text(v.result)},
              {"kind", optional_text(v.kind)},
              {"limit", v.limit},
              {"before_id", v.before_id ? Json(*v.before_id) : Json(nullptr)}};
}

Json settings_json(const sec::Settings& s) {
  return Json{{"jwt_issuer", s.jwt.issuer},
              {"jwt_max_skew_ms", s.jwt.max_skew.count()},
              {"jwt_max_lifetime_ms", s.jwt.max_lifetime.count()},
              {"token_requests_per_minute", s.token_requests_per_minute},
              {"ip_requests_per_minute", s.ip_requests_per_minute},
              {"auth_failure_threshold", s.auth_failure_threshold},
              {"auth_failure_window_ms", s.auth_failure_window.count()},
              {"max_upload_bytes", s.max_upload_bytes},
              {"excessive_requests_per_hour", s.excessive_requests_per_hour},
              {"upload_reservation_ms", sec::kUploadReservationLifetime.count()},
              {"rate_binding_retry_after_ms", sec::kRateBindingRetryAfter.count()},
              {"token_cache_ttl_ms", sec::kTokenCacheTtl.count()},
              {"token_cache_max_entries", sec::kTokenCacheMaxEntries},
              {"analytics_user_cache_max_entries", sec::kAnalyticsUserCacheMaxEntries},
              {"write_behind_max_statements", sec::kWriteBehindMaxStatements},
              {"write_behind_id_retention_ms", sec::kWriteBehindIdRetention.count()},
              {"security_counter_retention_ms", sec::kSecurityCounterRetention.count()}};
}

Json quota_status_json(std::string_view user_id, const std::optional<sec::Quota>& quota,
                       const sec::StorageUsage& usage) {
  Json row = {
      {"user_id", user_id},     {"bytes", usage.bytes},   {"objects", usage.objects},
      {"max_bytes", nullptr},   {"max_objects", nullptr}, {"bytes_pct", nullptr},
      {"objects_pct", nullptr}, {"over", false},          {"warning_pct", sec::kQuotaWarningPct},
      {"warning", false}};
  if (quota) {
    auto s = sec::quota_status(*quota, usage);
    row["max_bytes"] = quota->max_bytes;
    row["max_objects"] = quota->max_objects ? Json(*quota->max_objects) : Json(nullptr);
    row["bytes_pct"] = s.bytes_pct;
    row["objects_pct"] = s.objects_pct ? Json(*s.objects_pct) : Json(nullptr);
    row["over"] = s.over;
    row["warning_pct"] = s.warning_pct;
    row["warning"] = s.warning;
  }
  return row;
}

}  // namespace r2w::codec
