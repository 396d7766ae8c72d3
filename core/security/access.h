#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.h"

namespace r2w::security {

// Roles, from least to most: readonly (read one's own data), user (also change one's own
// data), admin (everything, every user's data, configuration, users, tokens, faults).
enum class Role { kReadonly = 0, kUser = 1, kAdmin = 2 };

std::optional<Role> role_from_name(std::string_view name);
std::string_view role_name(Role role);

// Scopes narrow what a credential may reach, per area of the API. "*" grants every area
// except the restricted ones, which must be granted by name (or held by an admin with "*"):
// `metrics` (GET /metrics, the whole account's figures for a Prometheus scraper).
inline constexpr std::string_view kAllScopes = "*";
inline constexpr std::string_view kKnownScopes[] = {"storage", "usage", "costs",  "health",
                                                    "alerts",  "admin", "metrics"};
bool is_known_scope(std::string_view scope);
bool is_restricted_scope(std::string_view scope);

// User ids: 1..64 characters of [A-Za-z0-9._-], not "." or "..", so that an id is safe as an R2
// key segment and in logs. The error names `field`.
inline constexpr size_t kMaxUserIdLength = 64;
std::optional<Error> validate_user_id(std::string_view id, std::string_view field);

// Who is calling: established by a verified JWT or API token.
struct Principal {
  std::string user;
  Role role = Role::kReadonly;
  std::vector<std::string> scopes;  // {"*"} when the credential names none
  std::string via;                  // "jwt" or "api_token"
  std::string token_id;             // the API token's id; empty for a JWT
};

// What a route requires: the least role and the area (scope) it belongs to; an empty scope
// needs none (GET /api/auth/whoami).
struct Access {
  Role role = Role::kAdmin;
  std::string scope = "admin";
};

// Refusal codes: "unauthenticated" (401: no or bad credential), "forbidden" (403: a good
// credential without the role or scope).
inline constexpr std::string_view kUnauthenticated = "unauthenticated";
inline constexpr std::string_view kForbidden = "forbidden";

// Whether `p` may use a route that requires `need`. A "forbidden" Error saying what is missing
// when not.
std::optional<Error> authorize(const Principal& p, const Access& need);

// Whose data a request works on. `requested` is the `user` query parameter when the route takes
// one. `subject` is always one user (the storage namespace: an admin's own unless it names
// another); `filter` is the user that queries are narrowed to, or nullopt for an admin who asked
// for no one in particular (every user's figures). A non-admin naming anyone but themselves is
// refused ("forbidden", field "user"); a malformed id is "invalid_query" on "user".
struct Scope {
  std::string subject;
  std::optional<std::string> filter;
};
Result<Scope> scope_of(const Principal& p, std::optional<std::string_view> requested);

}  // namespace r2w::security
