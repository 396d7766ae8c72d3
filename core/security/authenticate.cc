#include "core/security/authenticate.h"

#include "core/security/sha256.h"

namespace r2w::security {

AuthWindows auth_windows(const Settings& s, TimePoint now) {
  return AuthWindows{.rate_window_start = window_start(now, kRateWindow),
                     .rate_window = kRateWindow,
                     .ip_limit = s.ip_requests_per_minute,
                     .token_limit = s.token_requests_per_minute,
                     .failures_window_start = window_start(now, s.auth_failure_window),
                     .failures_window = s.auth_failure_window,
                     .failure_threshold = s.auth_failure_threshold};
}

std::optional<std::string> bearer_token(std::string_view header) {
  size_t space = header.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string scheme(header.substr(0, space));
  for (char& c : scheme) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  if (scheme != "bearer") return std::nullopt;
  size_t start = header.find_first_not_of(' ', space);
  if (start == std::string_view::npos) return std::nullopt;
  std::string_view token = header.substr(start);
  if (token.find_first_of(" \t") != std::string_view::npos) return std::nullopt;
  return std::string(token);
}

std::string credential_subject(std::string_view token) {
  if (auto id = api_token_id(token)) return "token:" + *id;
  return "credential:" + to_hex(sha256(token)).substr(0, 16);
}

AuthAnswer authenticate(const AuthRequest& request, const Settings& settings,
                        const std::optional<std::string>& secret, JwtVerifier verify_jwt,
                        TimePoint now) {
  AuthAnswer answer;
  answer.windows = auth_windows(settings, now);
  if (auto err = check_secret(secret)) {
    answer.refusal = *err;
    return answer;
  }
  std::optional<std::string> token =
      request.authorization ? bearer_token(*request.authorization) : std::nullopt;
  if (token) answer.credential = credential_subject(*token);
  auto refuse = [&](std::string message) {
    answer.decision = AuthDecision::kDeny;
    answer.refusal = Error{.code = std::string(kUnauthenticated),
                           .message = std::move(message),
                           .field = "authorization"};
    answer.count_failure = true;
    return answer;
  };
  if (!request.authorization) {
    return refuse("this needs a bearer token: Authorization: Bearer <token>");
  }
  if (!token) return refuse("the Authorization header must be: Bearer <token>");
  if (token->size() > kMaxTokenBytes) return refuse("the bearer token is too long");

  Result<Principal> principal = Error{};
  bool touch = false;
  if (looks_like_api_token(*token)) {
    auto id = api_token_id(*token);
    if (!id) return refuse("API token is malformed");
    const bool stale = request.token_row == TokenRowState::kRead && request.token_fetched_at &&
                       !token_row_fresh(*request.token_fetched_at, now);
    if (request.token_row == TokenRowState::kNotRead || stale) {
      answer.decision = AuthDecision::kLookup;
      answer.token_id = *id;
      return answer;
    }
    if (request.token_row == TokenRowState::kNoSuchRow) return refuse("API token is not valid");
    principal = check_api_token(*token, request.token, now);
    touch = last_used_due(request.token.last_used_at, now);
  } else {
    principal = verify_jwt(*token, *secret, settings.jwt, now);
  }
  if (!principal.ok()) return refuse(principal.error().message);
  const Principal& p = principal.value();
  answer.principal = p;

  auto refused = [&](Error err) {
    answer.decision = AuthDecision::kDeny;
    answer.refusal = std::move(err);
    answer.count_failure = false;
    return answer;
  };
  if (auto err = authorize(p, request.access)) return refused(*err);
  if (request.user.arrived == Arrived::kWrongType) {
    return refused(
        Error{.code = "invalid_query", .message = "user must be a string", .field = "user"});
  }
  auto scope =
      scope_of(p, request.user.has_value() ? std::optional<std::string_view>(request.user.value)
                                           : std::nullopt);
  if (!scope.ok()) return refused(scope.error());

  answer.decision = AuthDecision::kAllow;
  answer.scope = scope.value();
  answer.touch_token = touch;
  answer.rate_subject = p.token_id.empty() ? "user:" + p.user : "token:" + p.token_id;
  return answer;
}

}  // namespace r2w::security
