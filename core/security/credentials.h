#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.h"
#include "core/common/time.h"
#include "core/security/access.h"
#include "core/security/request.h"

namespace r2w::security {

// Long-lived API tokens for machines: "r2w_" + 16 hex digits (the id, stored in clear to find
// the row) + "_" + 64 hex digits (256 random bits). Only the SHA-256 of the whole token is
// stored; the token itself is shown once, when it is created.
inline constexpr std::string_view kApiTokenPrefix = "r2w_";
inline constexpr size_t kApiTokenIdHex = 16;
inline constexpr size_t kApiTokenSecretHex = 64;
// Random input for a new token: id and secret, as hex from the caller's CSPRNG.
inline constexpr size_t kTokenRandomHex = kApiTokenIdHex + kApiTokenSecretHex;

// True when `token` starts like an API token (anything else is taken for a JWT).
bool looks_like_api_token(std::string_view token);
// The id of a well-formed API token, or nullopt.
std::optional<std::string> api_token_id(std::string_view token);
// Lower-case hex SHA-256 of the token: what api_tokens.token_hash holds.
std::string api_token_hash(std::string_view token);

// A row of api_tokens with what is needed of its user.
struct StoredToken {
  std::string id;
  std::string user_id;
  std::string hash;
  Role role = Role::kReadonly;
  std::vector<std::string> scopes;
  std::optional<TimePoint> expires_at;
  std::optional<TimePoint> revoked_at;
  std::optional<TimePoint> last_used_at;
  bool user_disabled = false;
};

// Checks a presented token against its stored row: the hash compared in constant time, then
// not revoked, not expired, the user not disabled. "unauthenticated" Error otherwise.
Result<Principal> check_api_token(std::string_view token, const StoredToken& row, TimePoint now);

// Whether last_used_at should be written now (at most once a minute per token, so a busy
// token does not cost a D1 write per request).
inline constexpr Duration kLastUsedGranularity = std::chrono::seconds(60);
bool last_used_due(std::optional<TimePoint> last_used, TimePoint now);

// A token row read from D1 may be kept by an isolate and used again for at most this long, so
// that a warm request waits on no D1 round trip. The price: a revoked token, a disabled user or
// a changed role takes effect everywhere within this time (in the isolate that made the change,
// at once). Isolates keep at most kTokenCacheMaxEntries rows (the oldest read goes first).
inline constexpr Duration kTokenCacheTtl = std::chrono::seconds(60);
inline constexpr size_t kTokenCacheMaxEntries = 10'000;
// Isolates remember the keyed hash (analytics_user) of at most this many users, then forget
// them all at once.
inline constexpr size_t kAnalyticsUserCacheMaxEntries = 1'000;
// Whether a row read at `fetched_at` may still be used at `now`: younger than kTokenCacheTtl,
// and not read in the future (a clock that went back must not stretch the time).
bool token_row_fresh(TimePoint fetched_at, TimePoint now);

// A user as stored in `users`.
struct UserRecord {
  std::string id;
  std::string name;
  std::string email;
  Role role = Role::kReadonly;
  bool disabled = false;
};

// POST /api/admin/users: {"id", "role", "name"?, "email"?}, as the codec read it.
struct NewUserRequest {
  UnknownFields unknown;
  Input<std::string> id;
  Input<std::string> name;
  Input<std::string> email;
  Input<std::string> role;
};
// Validates it. Every bad field is named (Error::problems), nothing is stored on refusal.
Result<UserRecord> validate_new_user(const NewUserRequest& request);

// A token ready to store, and the token text to show once.
struct IssuedToken {
  std::string token;
  std::string id;
  std::string hash;
  std::string user_id;
  std::string name;
  Role role = Role::kReadonly;
  std::vector<std::string> scopes;
  TimePoint created_at;
  std::optional<TimePoint> expires_at;
};

// POST /api/admin/tokens: {"user_id", "name", "role"? (default the user's; never above it),
// "scopes"? (known scopes or "*"; default ["*"]), "expires_in_days"? (1..3650)}, as the codec
// read it (expires_in_days: any JSON number).
struct TokenRequest {
  UnknownFields unknown;
  Input<std::string> user_id;
  Input<std::string> name;
  Input<std::string> role;
  Input<std::vector<Input<std::string>>> scopes;
  Input<double> expires_in_days;
};
inline constexpr size_t kMaxTokenScopes = 16;
inline constexpr uint32_t kMaxTokenLifetimeDays = 3650;

// Validates it and makes the token from `random_hex` (kTokenRandomHex hex digits from a
// CSPRNG). `user` is the stored user named by user_id, or nullopt when there is none (then 422
// on user_id). Every bad field is named (Error::problems).
Result<IssuedToken> issue_api_token(const TokenRequest& request,
                                    const std::optional<UserRecord>& user,
                                    std::string_view random_hex, TimePoint now);

// A short display name: 1..100 characters, valid UTF-8 without control characters.
std::optional<Error> validate_label(std::string_view text, std::string_view field);

}  // namespace r2w::security
