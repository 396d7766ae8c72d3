#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.h"
#include "core/common/time.h"
#include "core/security/jwt.h"
#include "core/security/request.h"

namespace r2w::security {

// The Worker's security settings, from its variables (all optional; defaults in brackets).
struct Settings {
  JwtOptions jwt;
  // Requests per minute per credential (API token or JWT subject)
  // [600; RATE_LIMIT_PER_MINUTE, 1..1,000,000].
  uint32_t token_requests_per_minute = 600;
  // Requests per minute per client IP, authenticated or not
  // [1,200; RATE_LIMIT_IP_PER_MINUTE, 1..1,000,000].
  uint32_t ip_requests_per_minute = 1200;
  // More failed authentications than this within the window, per client IP or per presented
  // credential, is a security event [10; AUTH_FAILURE_THRESHOLD, 1..100,000].
  uint32_t auth_failure_threshold = 10;
  // [300 s; AUTH_FAILURE_WINDOW_SECONDS, 10..86,400].
  Duration auth_failure_window = std::chrono::seconds(300);
  // Largest object an upload may carry [100 MiB; MAX_UPLOAD_BYTES, 1..5 GiB].
  uint64_t max_upload_bytes = 100ull * 1024 * 1024;
  // More requests than this from one user within an hour (kUsageWindow) is a security event,
  // excessive_requests [1,000; EXCESSIVE_REQUESTS_PER_HOUR, 1..10,000,000].
  uint32_t excessive_requests_per_hour = 1000;
};

// The rate-limit window (fixed, one minute).
inline constexpr Duration kRateWindow = std::chrono::seconds(60);
// The window of the excessive-use check (fixed, one hour).
inline constexpr Duration kUsageWindow = std::chrono::hours(1);

// True when `requests` of one user within kUsageWindow (after this one) is excessive use: more
// than `limit` (Settings::excessive_requests_per_hour).
inline bool requests_excessive(uint64_t requests, uint32_t limit) { return requests > limit; }
// The shortest JWT_SECRET accepted: 32 bytes, the HMAC-SHA256 output size (RFC 7518 3.2).
inline constexpr size_t kMinSecretBytes = 32;

// A Worker variable as it arrived: text (as wrangler passes variables), a number (JSON), or
// something else (kWrongType).
struct VarValue {
  std::string text;
  std::optional<double> number;  // set when the variable is a number rather than text
};

// The Worker's security variables, as the codec read them (absent or null: missing).
struct SecurityVars {
  Input<VarValue> jwt_issuer;                   // JWT_ISSUER
  Input<VarValue> jwt_max_skew_seconds;         // JWT_MAX_SKEW_SECONDS
  Input<VarValue> jwt_max_lifetime_seconds;     // JWT_MAX_LIFETIME_SECONDS
  Input<VarValue> rate_limit_per_minute;        // RATE_LIMIT_PER_MINUTE
  Input<VarValue> rate_limit_ip_per_minute;     // RATE_LIMIT_IP_PER_MINUTE
  Input<VarValue> auth_failure_threshold;       // AUTH_FAILURE_THRESHOLD
  Input<VarValue> auth_failure_window_seconds;  // AUTH_FAILURE_WINDOW_SECONDS
  Input<VarValue> max_upload_bytes;             // MAX_UPLOAD_BYTES
  Input<VarValue> excessive_requests_per_hour;  // EXCESSIVE_REQUESTS_PER_HOUR
};

// Settings from the Worker's variables (whole numbers as text or as numbers). Every bad
// variable is named in Error::problems; unknown names are ignored (the Worker passes only the
// ones it knows).
Result<Settings> settings_from_vars(const SecurityVars& vars);

// "secret_missing" when JWT_SECRET is absent or empty, "secret_too_short" when it has fewer
// than kMinSecretBytes bytes; both name JWT_SECRET and say how to set it.
std::optional<Error> check_secret(const std::optional<std::string>& secret);

// The user as Analytics Engine sees it: the first 16 bytes of HMAC-SHA256(key, "r2watch
// analytics user v1:" + user) in lower-case hex (32 characters), so events of one user can be
// counted together without the dataset holding who they are. "" for an empty user, and for an
// empty key (no ANALYTICS_HASH_KEY: events carry no user at all).
std::string analytics_pseudonym(std::string_view key, std::string_view user);

// "analytics_key_missing" when ANALYTICS_HASH_KEY is absent or empty (events are then written
// without their user), "analytics_key_too_short" below kMinSecretBytes bytes.
std::optional<Error> check_analytics_key(const std::optional<std::string>& key);

// Which key the sealing of stored secrets reads (SECRETS_KEY: the current key, which seals;
// SECRETS_KEY_PREVIOUS: the key before a rotation, which only opens).
enum class SealingKey { kCurrent, kPrevious };

// The check of a key that seals secrets stored in D1 (webhook URLs, see worker-shim/src/sealed.js):
// "secrets_key_missing" when the current key is absent or empty (the previous one is optional:
// std::nullopt when absent), "secrets_key_too_short" when either has fewer than
// kMinSecretBytes bytes; each names its variable and says how to set it.
std::optional<Error> check_sealing_key(const std::optional<std::string>& key, SealingKey which);

// Fixed-window rate limiting: the counter for (kind, subject) is keyed by the window's start.
TimePoint window_start(TimePoint now, Duration window);

struct RateDecision {
  bool allowed = true;
  Duration retry_after{0};  // when refused: until the window ends (at least 1 s)
};
// `count` is the counter after this request was added.
RateDecision rate_decision(uint64_t count, uint32_t limit, TimePoint window_begin, Duration window,
                           TimePoint now);

// Counting off the request path: an isolate counts requests itself and writes its counts to D1
// behind the answers, in batches; a rate decision is then made on an estimate (the count D1
// last answered plus the isolate's own not yet written). Once an estimate reaches
// kRateConfirmPct percent of its limit, requests are counted in D1 before they are answered
// (the exact count, with every isolate's), so a limit is never overshot by more than the
// requests other isolates have not written yet while far below it.
inline constexpr uint32_t kRateConfirmPct = 80;
inline bool rate_needs_confirm(uint64_t estimate, uint32_t limit) {
  return estimate * 100 >= static_cast<uint64_t>(limit) * kRateConfirmPct;
}
// Where Workers Rate Limiting bindings count instead (production), a refused request is told to
// come back after the bindings' period (`simple.period` in wrangler.toml: 60 s).
inline constexpr Duration kRateBindingRetryAfter = std::chrono::seconds(60);
// Writes behind the answers (counters, audit rows, stored-object records, token last use): at
// most this many statements go to D1 in one batch (one transaction); a batch that fails is kept
// whole and sent again, first, with the next flush.
inline constexpr uint32_t kWriteBehindMaxStatements = 200;
// How long the ids of applied batches are kept (a batch is sent again within seconds): the
// daily job deletes older ones.
inline constexpr Duration kWriteBehindIdRetention = std::chrono::hours(24);

// True when `failures` (after this one) within a window is a security event: more than the
// threshold.
inline bool failures_alarming(uint64_t failures, uint32_t threshold) {
  return failures > threshold;
}

// How long the counters of rate limits and failed authentications are kept (the daily job
// deletes older windows; the longest window is a day).
inline constexpr Duration kSecurityCounterRetention = std::chrono::hours(24);

// One rate-limit check: the counters after this request, in the window that starts at
// `window_start` (nullopt: not given). `estimated`: the counts are the isolate's estimate, not
// D1's.
enum class CountSource { kExact, kEstimated };
struct RateCounts {
  uint64_t ip_count = 0;
  uint64_t token_count = 0;
  std::optional<TimePoint> window_start;
  CountSource source = CountSource::kExact;
};
enum class RateLimitedBy { kNone, kIp, kToken };
struct RateAnswer {
  bool allowed = true;
  Duration retry_after{0};
  RateLimitedBy limited_by = RateLimitedBy::kNone;
  uint32_t limit = 0;
  // An estimate near its limit (rate_needs_confirm): count in D1 first and ask again.
  bool confirm = false;
};
// "invalid_field" on window_start_ms when exact counts come without their window.
Result<RateAnswer> rate_limit(const RateCounts& counts, const Settings& settings, TimePoint now);

// Failed authentications per subject in the current window (after this one).
struct FailureCount {
  std::string subject;
  uint64_t count = 0;
};
// The subjects whose failures are a security event, in the order given.
std::vector<FailureCount> alarming_failures(const std::vector<FailureCount>& counts,
                                            uint32_t threshold);

// The excessive-use check of one user's requests in this hour (kUsageWindow).
struct UsageHour {
  TimePoint window_start;
  Duration window{0};
  uint32_t limit = 0;
  bool excessive = false;
};
// `count`: the user's requests in this hour after this one (nullopt: just the window).
UsageHour usage_hour(std::optional<uint64_t> count, const Settings& settings, TimePoint now);

}  // namespace r2w::security
