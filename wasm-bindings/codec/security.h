#pragma once

// The security domain's codec: reads the JSON of requests, rows and tokens into the structs of
// core/security/ and writes the answers. No decision is made here.
#include <optional>
#include <string>
#include <string_view>

#include "core/common/result.h"
#include "core/common/time.h"
#include "core/security/access.h"
#include "core/security/audit-query.h"
#include "core/security/authenticate.h"
#include "core/security/credentials.h"
#include "core/security/jwt.h"
#include "core/security/policy.h"
#include "core/security/quota.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::codec {

// Verifies an HS256 JWT: the JSON inside it (header, claims) is read here, every check is the
// core's (core/security/jwt.h). A security::JwtVerifier.
Result<security::Principal> verify_jwt(std::string_view token, std::string_view secret,
                                       const security::JwtOptions& options, TimePoint now);
// Signs `claims` as an HS256 JWT (tests, fuzz seeds, `make token`).
std::string sign_jwt(const Json& claims, std::string_view secret);

// Requests, read into the core's request structs (every field's arrival noted; the core names
// every bad one).
security::NewUserRequest read_new_user(const Json& request);
security::TokenRequest read_token_request(const Json& request);
security::QuotaRequest read_quota_request(const Json& request);
security::SecurityVars read_security_vars(const Json& vars);
Result<security::QueryValues> read_query_values(const Json& query);

// Read and validated in one step (the codec's reading, then the core's checks).
Result<security::UserRecord> validate_new_user(const Json& request);
Result<security::IssuedToken> issue_api_token(const Json& request,
                                              const std::optional<security::UserRecord>& user,
                                              std::string_view random_hex, TimePoint now);
Result<security::Quota> validate_quota(const Json& request, std::string_view user);
Result<security::Settings> settings_from_vars(const Json& vars);
Result<security::LogQuery> parse_log_query(const Json& query, security::LogKind kind);

// Rows from D1: {"max_bytes", "max_objects"} (null: no quota) and {"bytes", "objects"} (null:
// nothing stored); a malformed one is an "invalid_field" Error naming `field`.
Result<std::optional<security::Quota>> quota_from_json(const Json& v, std::string_view field);
Result<security::StorageUsage> usage_from_json(const Json& v, std::string_view field);
// An api_tokens row joined with users.disabled as user_disabled.
Result<security::StoredToken> stored_token_from_json(const Json& row);
// A users row {"id", "role", "name"?, "disabled"?}.
Result<security::UserRecord> user_row_from_json(const Json& row);

Json principal_json(const security::Principal& p);
Json user_json(const security::UserRecord& u);
Json quota_json(const security::Quota& q);
Json issued_token_json(const security::IssuedToken& t);
Json auth_answer_json(const security::AuthAnswer& a);
Json rate_answer_json(const security::RateAnswer& a);
Json log_query_json(const security::LogQuery& q);
Json settings_json(const security::Settings& s);
// One user's figures against their quota (quota nullopt: no quota).
Json quota_status_json(std::string_view user_id, const std::optional<security::Quota>& quota,
                       const security::StorageUsage& usage);

}  // namespace r2w::codec
