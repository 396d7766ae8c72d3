#include "core/security/policy.h"

#include <cmath>

namespace r2w::security {

using nlohmann::json;

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
