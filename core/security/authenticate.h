#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/common/result.h"
#include "core/common/time.h"
#include "core/security/access.h"
#include "core/security/credentials.h"
#include "core/security/policy.h"
#include "core/security/request.h"

namespace r2w::security {

// The whole authentication flow of one request, as one decision over plain values: which
// credential was presented, what the route needs, whose data it asks for, and (for an API
// token) the stored row once the Worker has read it. The answer says what to read next
// (lookup) or the verdict (allow or deny); the Worker does only the I/O.

// What the Worker knows of the API token's row.
enum class TokenRowState {
  kNotRead,    // not read yet (or not applicable: a JWT)
  kNoSuchRow,  // read: there is no such token
  kRead,       // read: `token` holds it
};

struct AuthRequest {
  // The Authorization header, nullopt when there is none.
  std::optional<std::string> authorization;
  Access access;
  // The `user` query parameter when the route takes one.
  Input<std::string> user;
  TokenRowState token_row = TokenRowState::kNotRead;
  StoredToken token;
  // When the isolate read that row (a cached row); nullopt for a row read for this request.
  std::optional<TimePoint> token_fetched_at;
};

// The windows and limits a request is counted in (rate limits and failed authentications).
struct AuthWindows {
  TimePoint rate_window_start;
  Duration rate_window{0};
  uint32_t ip_limit = 0;
  uint32_t token_limit = 0;
  TimePoint failures_window_start;
  Duration failures_window{0};
  uint32_t failure_threshold = 0;
};
AuthWindows auth_windows(const Settings& settings, TimePoint now);

enum class AuthDecision { kAllow, kLookup, kDeny };

struct AuthAnswer {
  AuthDecision decision = AuthDecision::kDeny;
  AuthWindows windows;
  // kLookup: the API token's id whose row to read (then ask again with it).
  std::string token_id;
  // kDeny: why; what failed authentications are counted against besides the client IP
  // (nullopt when no credential was presented or none was looked at); whether to count it.
  Error refusal;
  std::optional<std::string> credential;
  bool count_failure = false;
  // kAllow, and kDeny after a good credential (refused for its role, scope or `user`): who.
  std::optional<Principal> principal;
  // kAllow: whose data, whether to write the token's last use, and the rate-limit subject.
  Scope scope;
  bool touch_token = false;
  std::string rate_subject;
};

// The verifier of JWTs: the codec reads the JSON inside a token and asks the core's checks
// (core/security/jwt.h); passed in so that this flow stays free of JSON.
using JwtVerifier = Result<Principal> (*)(std::string_view token, std::string_view secret,
                                          const JwtOptions& options, TimePoint now);

// `secret` is JWT_SECRET (nothing is handed out without it).
AuthAnswer authenticate(const AuthRequest& request, const Settings& settings,
                        const std::optional<std::string>& secret, JwtVerifier verify_jwt,
                        TimePoint now);

// The bearer token of an Authorization header value ("Bearer <token>", the scheme in any
// case), or nullopt.
std::optional<std::string> bearer_token(std::string_view header);

// What failed authentications are counted against, besides the client IP: an API token's id
// ("token:<id>"), or a short hash of anything else ("credential:<16 hex>", so a flood of one
// bad JWT is one subject).
std::string credential_subject(std::string_view token);

}  // namespace r2w::security
