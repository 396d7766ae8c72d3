#include "core/security/jwt.h"

#include <cmath>

#include "core/security/base64url.h"
#include "core/security/sha256.h"

namespace r2w::security {

namespace {

Error refuse(std::string message) {
  return Error{.code = std::string(kUnauthenticated), .message = std::move(message), .field = ""};
}

const char* part_name(JwtPart which) { return which == JwtPart::kHeader ? "header" : "payload"; }

// A NumericDate claim in ms, or nullopt when it is not a finite number in 0..year 9999.
std::optional<int64_t> numeric_date_ms(const Input<double>& v) {
  if (!v.has_value()) return std::nullopt;
  double s = v.value;
  if (!std::isfinite(s) || s < 0 || s > 253402300799.0) return std::nullopt;
  return static_cast<int64_t>(std::floor(s * 1000.0));
}

}  // namespace

Result<JwtParts> split_jwt(std::string_view token) {
  if (token.size() > kMaxTokenBytes) return refuse("token is too long");
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return refuse("token is not a JWT (header.payload.signature)");
  }
  return JwtParts{.header = token.substr(0, dot1),
                  .payload = token.substr(dot1 + 1, dot2 - dot1 - 1),
                  .signature = token.substr(dot2 + 1),
                  .signing_input = token.substr(0, dot2)};
}

Result<std::string> decode_jwt_part(std::string_view part, JwtPart which) {
  auto bytes = base64url_decode(part);
  if (!bytes) return refuse(std::string("token ") + part_name(which) + " is not base64url");
  return *bytes;
}

Error jwt_part_not_object(JwtPart which) {
  return refuse(std::string("token ") + part_name(which) + " is not a JSON object");
}

std::optional<Error> check_jwt_header(const JwtHeader& header) {
  if (!header.alg.has_value() || header.alg.value != "HS256") {
    return refuse("token alg must be HS256");
  }
  if (header.typ.arrived != Arrived::kAbsent &&
      (!header.typ.has_value() || header.typ.value != "JWT")) {
    return refuse("token typ must be JWT");
  }
  if (header.crit != Arrived::kAbsent) return refuse("token has critical header extensions");
  return std::nullopt;
}

std::optional<Error> check_jwt_signature(const JwtParts& parts, std::string_view secret) {
  auto signature = base64url_decode(parts.signature);
  if (!signature) return refuse("token signature is not base64url");
  Digest expected = hmac_sha256(secret, parts.signing_input);
  if (!constant_time_equal(*signature, bytes_of(expected))) {
    return refuse("token signature does not match");
  }
  return std::nullopt;
}

Result<Principal> principal_from_claims(const JwtClaims& claims, const JwtOptions& options,
                                        TimePoint now) {
  if (!claims.iss.has_value() || claims.iss.value != options.issuer) {
    return refuse("token issuer must be " + options.issuer);
  }
  const int64_t now_ms = to_epoch_ms(now);
  const int64_t skew = options.max_skew.count();
  if (claims.exp.arrived == Arrived::kAbsent) return refuse("token has no exp");
  auto exp_ms = numeric_date_ms(claims.exp);
  if (!exp_ms) return refuse("token exp is not a NumericDate");
  if (now_ms >= *exp_ms + skew) return refuse("token expired");
  if (*exp_ms - now_ms > options.max_lifetime.count() + skew) {
    return refuse("token exp is further ahead than the longest lifetime allowed (" +
                  std::to_string(options.max_lifetime.count() / 1000) + " s)");
  }
  if (claims.nbf.arrived != Arrived::kAbsent) {
    auto nbf_ms = numeric_date_ms(claims.nbf);
    if (!nbf_ms) return refuse("token nbf is not a NumericDate");
    if (now_ms + skew < *nbf_ms) return refuse("token is not valid yet (nbf)");
  }
  if (claims.iat.arrived != Arrived::kAbsent) {
    auto iat_ms = numeric_date_ms(claims.iat);
    if (!iat_ms) return refuse("token iat is not a NumericDate");
    if (now_ms + skew < *iat_ms) return refuse("token was issued in the future (iat)");
  }

  Principal p;
  p.via = "jwt";
  if (!claims.sub.has_value()) return refuse("token has no sub");
  p.user = claims.sub.value;
  if (auto e = validate_user_id(p.user, "sub")) return refuse("token " + e->message);
  std::optional<Role> r =
      claims.role.has_value() ? role_from_name(claims.role.value) : std::nullopt;
  if (!r) return refuse("token role must be admin, user or readonly");
  p.role = *r;
  if (claims.scope.arrived != Arrived::kAbsent) {
    if (!claims.scope.has_value()) return refuse("token scope must be a space-separated string");
    const std::string& text = claims.scope.value;
    for (size_t start = 0; start < text.size();) {
      size_t end = text.find(' ', start);
      if (end == std::string::npos) end = text.size();
      std::string word = text.substr(start, end - start);
      start = end + 1;
      if (word.empty()) continue;
      if (!is_known_scope(word)) return refuse("token scope " + word + " is not known");
      p.scopes.push_back(word);
    }
    if (p.scopes.empty()) return refuse("token scope is empty");
  } else {
    p.scopes = {std::string(kAllScopes)};
  }
  return p;
}

std::string sign_jwt_payload(std::string_view payload_json, std::string_view secret) {
  std::string header = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
  std::string payload = base64url_encode(payload_json);
  std::string signing_input = header + "." + payload;
  return signing_input + "." + base64url_encode(bytes_of(hmac_sha256(secret, signing_input)));
}

}  // namespace r2w::security
