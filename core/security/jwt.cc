#include "core/security/jwt.h"

#include <cmath>

#include "core/security/base64url.h"
#include "core/security/sha256.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::security {

using json = r2w::Json;

namespace {

Error refuse(std::string message) {
  return Error{.code = std::string(kUnauthenticated), .message = std::move(message), .field = ""};
}

// A NumericDate claim in ms, or nullopt when it is not a finite number in 0..year 9999.
std::optional<int64_t> numeric_date_ms(const json& v) {
  if (!v.is_number()) return std::nullopt;
  double s = v.get<double>();
  if (!std::isfinite(s) || s < 0 || s > 253402300799.0) return std::nullopt;
  return static_cast<int64_t>(std::floor(s * 1000.0));
}

Result<json> decode_part(std::string_view part, const char* what) {
  auto bytes = base64url_decode(part);
  if (!bytes) return refuse(std::string("token ") + what + " is not base64url");
  auto parsed = parse_json_object(*bytes);
  if (!parsed.ok()) return refuse(std::string("token ") + what + " is not a JSON object");
  return parsed.value();
}

const json* member(const json& object, const char* name) {
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

}  // namespace

Result<Principal> verify_jwt(std::string_view token, std::string_view secret,
                             const JwtOptions& options, TimePoint now) {
  if (token.size() > kMaxTokenBytes) return refuse("token is too long");
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return refuse("token is not a JWT (header.payload.signature)");
  }
  std::string_view header_part = token.substr(0, dot1);
  std::string_view payload_part = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view signature_part = token.substr(dot2 + 1);

  auto header = decode_part(header_part, "header");
  if (!header.ok()) return header.error();
  const json* alg = member(header.value(), "alg");
  if (!alg || !alg->is_string() || alg->get<std::string>() != "HS256") {
    return refuse("token alg must be HS256");
  }
  if (const json* typ = member(header.value(), "typ");
      typ && (!typ->is_string() || typ->get<std::string>() != "JWT")) {
    return refuse("token typ must be JWT");
  }
  if (member(header.value(), "crit")) return refuse("token has critical header extensions");

  auto signature = base64url_decode(signature_part);
  if (!signature) return refuse("token signature is not base64url");
  Digest expected = hmac_sha256(secret, token.substr(0, dot2));
  if (!constant_time_equal(*signature, bytes_of(expected))) {
    return refuse("token signature does not match");
  }

  auto payload = decode_part(payload_part, "payload");
  if (!payload.ok()) return payload.error();
  const json& claims = payload.value();

  const json* iss = member(claims, "iss");
  if (!iss || !iss->is_string() || iss->get<std::string>() != options.issuer) {
    return refuse("token issuer must be " + options.issuer);
  }
  const int64_t now_ms = to_epoch_ms(now);
  const int64_t skew = options.max_skew.count();
  const json* exp = member(claims, "exp");
  if (!exp) return refuse("token has no exp");
  auto exp_ms = numeric_date_ms(*exp);
  if (!exp_ms) return refuse("token exp is not a NumericDate");
  if (now_ms >= *exp_ms + skew) return refuse("token expired");
  if (*exp_ms - now_ms > options.max_lifetime.count() + skew) {
    return refuse("token exp is further ahead than the longest lifetime allowed (" +
                  std::to_string(options.max_lifetime.count() / 1000) + " s)");
  }
  if (const json* nbf = member(claims, "nbf")) {
    auto nbf_ms = numeric_date_ms(*nbf);
    if (!nbf_ms) return refuse("token nbf is not a NumericDate");
    if (now_ms + skew < *nbf_ms) return refuse("token is not valid yet (nbf)");
  }
  if (const json* iat = member(claims, "iat")) {
    auto iat_ms = numeric_date_ms(*iat);
    if (!iat_ms) return refuse("token iat is not a NumericDate");
    if (now_ms + skew < *iat_ms) return refuse("token was issued in the future (iat)");
  }

  Principal p;
  p.via = "jwt";
  const json* sub = member(claims, "sub");
  if (!sub || !sub->is_string()) return refuse("token has no sub");
  p.user = sub->get<std::string>();
  if (auto e = validate_user_id(p.user, "sub")) return refuse("token " + e->message);
  const json* role = member(claims, "role");
  std::optional<Role> r =
      role && role->is_string() ? role_from_name(role->get<std::string>()) : std::nullopt;
  if (!r) return refuse("token role must be admin, user or readonly");
  p.role = *r;
  if (const json* scope = member(claims, "scope")) {
    if (!scope->is_string()) return refuse("token scope must be a space-separated string");
    const std::string text = scope->get<std::string>();
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

std::string sign_jwt(const json& claims, std::string_view secret) {
  std::string header = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
  std::string payload = base64url_encode(claims.dump());
  std::string signing_input = header + "." + payload;
  return signing_input + "." + base64url_encode(bytes_of(hmac_sha256(secret, signing_input)));
}

}  // namespace r2w::security
