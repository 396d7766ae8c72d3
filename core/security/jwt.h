#pragma once

#include <string>
#include <string_view>

#include "core/common/result.h"
#include "core/common/time.h"
#include "core/security/access.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::security {

// How JWTs are checked. Defaults in brackets.
struct JwtOptions {
  // `iss` must equal this ["r2watch"; the JWT_ISSUER variable].
  std::string issuer = "r2watch";
  // Leeway for clocks that disagree, applied to exp, nbf and iat [60 s; 0..300 s].
  Duration max_skew = std::chrono::seconds(60);
  // `exp` may be at most this far ahead of now (plus the skew) [24 h; 1 min..30 days]: a
  // stolen JWT is useful for a bounded time, and a user is cut off within it.
  Duration max_lifetime = std::chrono::hours(24);
};

// The longest token looked at; anything longer is refused before any work.
inline constexpr size_t kMaxTokenBytes = 8192;

// Verifies an HS256 JWT (RFC 7519) signed with `secret` and turns its claims into a principal:
//  - header: {"alg": "HS256"} (any other alg, "none" included, is refused; "typ", if present,
//    is "JWT"; "crit" is refused);
//  - signature: HMAC-SHA256 of "header.payload", compared in constant time, before the payload
//    is parsed;
//  - payload: "iss" equal to the issuer, "sub" a user id, "role" admin|user|readonly, "exp"
//    (NumericDate seconds) required, "nbf" and "iat" optional, "scope" an optional
//    space-separated list of known scopes (absent: "*").
// Every refusal is an "unauthenticated" Error whose message says which check failed.
Result<Principal> verify_jwt(std::string_view token, std::string_view secret,
                             const JwtOptions& options, TimePoint now);

// Signs `claims` as an HS256 JWT. For tests, fuzz seeds and `make token`; the Worker only
// verifies.
std::string sign_jwt(const r2w::Json& claims, std::string_view secret);

}  // namespace r2w::security
