#include "core/security/policy.h"

#include <cmath>

#include "core/security/sha256.h"

namespace r2w::security {

using json = r2w::Json;

namespace {

// A whole number in [min, max] given as a JSON number or a string of digits.
std::optional<uint64_t> whole(const json& v, uint64_t min, uint64_t max) {
  uint64_t n = 0;
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > 12) return std::nullopt;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
  } else if (v.is_number_unsigned()) {
    n = v.get<uint64_t>();
  } else if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    n = static_cast<uint64_t>(v.get<int64_t>());
  } else if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || d < 0 || d > 1e15 || std::floor(d) != d) return std::nullopt;
    n = static_cast<uint64_t>(d);
  } else {
    return std::nullopt;
  }
  if (n < min || n > max) return std::nullopt;
  return n;
}

}  // namespace

Result<Settings> settings_from_vars(const json& vars) {
  Settings s;
  std::vector<FieldProblem> problems;
  if (!vars.is_object()) return invalid_field("vars", "vars must be an object");
  auto number = [&](const char* name, uint64_t min, uint64_t max, auto&& apply) {
    auto it = vars.find(name);
    if (it == vars.end() || it->is_null()) return;
    auto n = whole(*it, min, max);
    if (!n) {
      problems.push_back({name, std::string(name) + " must be a whole number from " +
                                    std::to_string(min) + " to " + std::to_string(max)});
      return;
    }
    apply(*n);
  };
  if (auto it = vars.find("JWT_ISSUER"); it != vars.end() && !it->is_null()) {
    if (!it->is_string() || it->get<std::string>().empty() || it->get<std::string>().size() > 200) {
      problems.push_back({"JWT_ISSUER", "JWT_ISSUER must be a string of 1 to 200 bytes"});
    } else {
      s.jwt.issuer = it->get<std::string>();
    }
  }
  number("JWT_MAX_SKEW_SECONDS", 0, 300,
         [&](uint64_t n) { s.jwt.max_skew = std::chrono::seconds(n); });
  number("JWT_MAX_LIFETIME_SECONDS", 60, 30 * 86400,
         [&](uint64_t n) { s.jwt.max_lifetime = std::chrono::seconds(n); });
  number("RATE_LIMIT_PER_MINUTE", 1, 1'000'000,
         [&](uint64_t n) { s.token_requests_per_minute = static_cast<uint32_t>(n); });
  number("RATE_LIMIT_IP_PER_MINUTE", 1, 1'000'000,
         [&](uint64_t n) { s.ip_requests_per_minute = static_cast<uint32_t>(n); });
  number("AUTH_FAILURE_THRESHOLD", 1, 100'000,
         [&](uint64_t n) { s.auth_failure_threshold = static_cast<uint32_t>(n); });
  number("AUTH_FAILURE_WINDOW_SECONDS", 10, 86'400,
         [&](uint64_t n) { s.auth_failure_window = std::chrono::seconds(n); });
  number("MAX_UPLOAD_BYTES", 1, 5ull * 1024 * 1024 * 1024,
         [&](uint64_t n) { s.max_upload_bytes = n; });
  number("EXCESSIVE_REQUESTS_PER_HOUR", 1, 10'000'000,
         [&](uint64_t n) { s.excessive_requests_per_hour = static_cast<uint32_t>(n); });
  if (!problems.empty()) {
    return Error{.code = "invalid_field",
                 .message = problems.front().message,
                 .field = problems.front().field,
                 .problems = problems};
  }
  return s;
}

std::optional<Error> check_secret(const std::optional<std::string>& secret) {
  if (!secret || secret->empty()) {
    return Error{.code = "secret_missing",
                 .message =
                     "JWT_SECRET is not set: r2watch hands out no data without it. Set it "
                     "with `wrangler secret put JWT_SECRET` (at least 32 random bytes); "
                     "`make dev` makes one in .dev.vars",
                 .field = "JWT_SECRET"};
  }
  if (secret->size() < kMinSecretBytes) {
    return Error{.code = "secret_missing",
                 .message =
                     "JWT_SECRET is too short: it needs at least 32 bytes (for example "
                     "`openssl rand -hex 32`)",
                 .field = "JWT_SECRET"};
  }
  return std::nullopt;
}

std::string analytics_pseudonym(std::string_view key, std::string_view user) {
  if (key.empty() || user.empty()) return "";
  std::string message = "r2watch analytics user v1:";
  message.append(user);
  return to_hex(hmac_sha256(key, message)).substr(0, 32);
}

std::optional<Error> check_analytics_key(const std::optional<std::string>& key) {
  if (!key || key->empty()) {
    return Error{.code = "analytics_key_missing",
                 .message =
                     "ANALYTICS_HASH_KEY is not set: Analytics Engine events are written "
                     "without their user. Set it with `wrangler secret put "
                     "ANALYTICS_HASH_KEY` (at least 32 random bytes)",
                 .field = "ANALYTICS_HASH_KEY"};
  }
  if (key->size() < kMinSecretBytes) {
    return Error{.code = "analytics_key_too_short",
                 .message =
                     "ANALYTICS_HASH_KEY is too short: it needs at least 32 bytes (for "
                     "example `openssl rand -hex 32`); events are written without their user",
                 .field = "ANALYTICS_HASH_KEY"};
  }
  return std::nullopt;
}

std::optional<Error> check_sealing_key(const std::optional<std::string>& key, SealingKey which) {
  const std::string name = which == SealingKey::kCurrent ? "SECRETS_KEY" : "SECRETS_KEY_PREVIOUS";
  if (!key || key->empty()) {
    if (which == SealingKey::kPrevious) return std::nullopt;
    return Error{.code = "secrets_key_missing",
                 .message =
                     "SECRETS_KEY is not set: secrets kept in D1 (inline channel URLs) "
                     "can be neither stored nor read. Set it with `wrangler secret put "
                     "SECRETS_KEY` (at least 32 random bytes); `make dev` makes one in "
                     ".dev.vars",
                 .field = name};
  }
  if (key->size() < kMinSecretBytes) {
    return Error{.code = "secrets_key_too_short",
                 .message = name +
                            " is too short: it needs at least 32 bytes (for example "
                            "`openssl rand -hex 32`)",
                 .field = name};
  }
  return std::nullopt;
}

TimePoint window_start(TimePoint now, Duration window) {
  int64_t ms = to_epoch_ms(now);
  int64_t w = window.count() > 0 ? window.count() : 1;
  int64_t start = ms - ((ms % w) + w) % w;
  return from_epoch_ms(start);
}

RateDecision rate_decision(uint64_t count, uint32_t limit, TimePoint window_begin, Duration window,
                           TimePoint now) {
  if (count <= limit) return RateDecision{};
  Duration left = window_begin + window - now;
  if (left < std::chrono::seconds(1)) left = std::chrono::seconds(1);
  if (left > window) left = window;
  return RateDecision{.allowed = false, .retry_after = left};
}

}  // namespace r2w::security
