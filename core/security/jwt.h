#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/common/result.h"
#include "core/common/time.h"
#include "core/security/access.h"
#include "core/security/request.h"

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

// Verifying an HS256 JWT (RFC 7519) signed with a secret and turning its claims into a
// principal is done in steps, so that the JSON inside the token is read by the codec
// (wasm-bindings/codec/security.h, `verify_jwt`) and every check is made here:
//  1. split_jwt: at most kMaxTokenBytes, three base64url parts;
//  2. decode_jwt_part(header), then the codec reads it as a JwtHeader; check_jwt_header:
//     {"alg": "HS256"} (any other alg, "none" included, is refused; "typ", if present, is
//     "JWT"; "crit" is refused);
//  3. check_jwt_signature: HMAC-SHA256 of "header.payload", compared in constant time, before
//     the payload is read;
//  4. decode_jwt_part(payload), the codec reads it as JwtClaims; principal_from_claims: "iss"
//     equal to the issuer, "sub" a user id, "role" admin|user|readonly, "exp" (NumericDate
//     seconds) required, "nbf" and "iat" optional (each with the skew; exp at most
//     max_lifetime ahead), "scope" an optional space-separated list of known scopes
//     (absent: "*").
// Every refusal is an "unauthenticated" Error whose message says which check failed.
struct JwtParts {
  std::string_view header;
  std::string_view payload;
  std::string_view signature;
  std::string_view signing_input;  // "header.payload"
};
Result<JwtParts> split_jwt(std::string_view token);

enum class JwtPart { kHeader, kPayload };
// The bytes of a base64url part (refused when it is not base64url).
Result<std::string> decode_jwt_part(std::string_view part, JwtPart which);
// The refusal for a part whose bytes are not a JSON object (the codec finds that out).
Error jwt_part_not_object(JwtPart which);

struct JwtHeader {
  Input<std::string> alg;
  Input<std::string> typ;
  Arrived crit = Arrived::kAbsent;
};
std::optional<Error> check_jwt_header(const JwtHeader& header);
std::optional<Error> check_jwt_signature(const JwtParts& parts, std::string_view secret);

// The claims r2watch reads; NumericDates as the JSON number they are (seconds).
struct JwtClaims {
  Input<std::string> iss;
  Input<std::string> sub;
  Input<std::string> role;
  Input<std::string> scope;
  Input<double> exp;
  Input<double> nbf;
  Input<double> iat;
};
Result<Principal> principal_from_claims(const JwtClaims& claims, const JwtOptions& options,
                                        TimePoint now);

// Signs a payload (the claims as JSON text) as an HS256 JWT. For tests, fuzz seeds and `make
// token`; the Worker only verifies.
std::string sign_jwt_payload(std::string_view payload_json, std::string_view secret);

}  // namespace r2w::security
