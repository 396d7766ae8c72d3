#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/common/result.h"
#include "core/common/time.h"
#include "core/security/jwt.h"
#include "wasm-bindings/codec/json.h"

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

// Settings from the Worker's variables (strings, as wrangler passes them; numbers are accepted
// too). Every bad variable is named in Error::problems; unknown names are ignored (the Worker
// passes only the ones it knows).
Result<Settings> settings_from_vars(const r2w::Json& vars);

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

}  // namespace r2w::security
