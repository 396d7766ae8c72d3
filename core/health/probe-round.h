#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/breaker/circuit-breaker.h"
#include "core/common/operation.h"
#include "core/common/result.h"
#include "core/common/time.h"
#include "core/health/monitor-config.h"

namespace r2w::health {

// Probe objects live under this prefix (inside the reserved `.r2watch/`, which the storage API
// refuses to users and which storage figures and costs leave out).
inline constexpr std::string_view kProbePrefix = ".r2watch/health/";
// The LIST probe asks for at most this many keys.
inline constexpr uint32_t kProbeListLimit = 5;

// One step of a probe round, in the order the Worker runs them: GET of a key that does not
// exist, PUT of a small object, HEAD of it, LIST of the probe prefix, DELETE of the object.
struct ProbeStep {
  Operation operation;
  std::string key;     // empty for LIST
  std::string prefix;  // LIST only
  uint32_t limit = 0;  // LIST only
  std::string body;    // PUT only
};

struct ProbePlan {
  std::string round_id;
  std::string object_key;   // what PUT writes and DELETE removes
  std::string missing_key;  // what GET (and HEAD when PUT is not probed) expects to be absent
  Duration timeout;
  std::vector<ProbeStep> steps;
  // Deleted after the round whatever happened, outside the breaker, so nothing stays behind.
  std::vector<std::string> cleanup_keys;
  // Probe objects older than this (left by a round that died half way) are swept, at most
  // kCleanupListLimit listed per round.
  Duration stale_after;
};
inline constexpr uint32_t kCleanupListLimit = 100;

// `nonce` makes keys unique between rounds that start in the same millisecond (1..64 letters,
// digits, '-' or '_'). The round id is "<now_ms>-<nonce>".
Result<ProbePlan> plan_round(const MonitorConfig& config, std::string_view nonce, TimePoint now);

// Whether a scheduled (cron) round runs now: not when monitoring is stopped, nor sooner than
// `check_interval_ms` after the last scheduled round (exactly that much later runs).
struct RunDecision {
  bool run = true;
  std::string reason;  // why not, when it does not run
  // When the next scheduled round is due (the probe scheduler's next alarm): check_interval_ms
  // after this one, or after the last one when it is too soon; none while monitoring is
  // stopped (starting it again sets the alarm).
  std::optional<TimePoint> next_at;
};
RunDecision should_run_scheduled(const MonitorConfig& config,
                                 std::optional<TimePoint> last_scheduled_round, TimePoint now);

// What the Worker saw of one probe.
enum class ProbeOutcome : uint8_t {
  kOk,       // R2 answered
  kError,    // R2 (or an injected fault) failed
  kTimeout,  // no answer within the timeout
  kRefused,  // the breaker refused the call: R2 was not asked
};
std::optional<ProbeOutcome> parse_probe_outcome(std::string_view name);

struct ProbeObservation {
  Operation operation;
  ProbeOutcome outcome = ProbeOutcome::kOk;
  // GET and HEAD: whether the object was there.
  bool found = false;
  Duration latency = Duration(0);
  std::string error;
  TimePoint at;
};

// The judgement of one probe. `ok` for "ok" and "slow"; not ok for "unexpected" (R2 answered
// but not as it should: the missing key was found, or the object just written was not),
// "error", "timeout" and "circuit_open".
enum class ProbeStatus : uint8_t { kOk, kSlow, kUnexpected, kError, kTimeout, kCircuitOpen };
std::string_view probe_status_name(ProbeStatus status);
std::optional<ProbeStatus> parse_probe_status(std::string_view name);

struct ProbeResult {
  Operation operation;
  ProbeStatus status = ProbeStatus::kOk;
  Duration response_time = Duration(0);
  std::string error;
  TimePoint at;
  bool ok() const { return status == ProbeStatus::kOk || status == ProbeStatus::kSlow; }
  // Whether R2 was asked at all (a refused probe says nothing about R2).
  bool attempted() const { return status != ProbeStatus::kCircuitOpen; }
};

// Judges a round's observations in order. What HEAD should find depends on the round: the
// object if PUT succeeded in the same round, nothing if PUT failed or is not probed.
std::vector<ProbeResult> classify_round(const std::vector<ProbeObservation>& observations,
                                        const MonitorConfig& config);

// The figures of one round that events and the health verdict are judged on.
struct RoundSummary {
  TimePoint at;
  uint32_t probes = 0;     // every probe of the round
  uint32_t attempted = 0;  // probes R2 was asked (not refused)
  uint32_t failed = 0;     // attempted and not ok
  uint32_t slow = 0;
  uint32_t refused = 0;
  std::vector<Operation> failing;  // attempted and failed, in canonical order
  std::vector<Operation> slow_operations;
  breaker::State breaker_state = breaker::State::kClosed;
  // failed / attempted * 100; absent when nothing was attempted.
  std::optional<double> error_rate_pct;
  Duration max_response_time = Duration(0);
};
RoundSummary summarize(const std::vector<ProbeResult>& results, breaker::State breaker_state,
                       TimePoint at);

// The hours and days whose aggregates (the hourly figures per operation, the status page's
// hour and day tallies) are recomputed from the stored checks after a round: those its checks
// fall in. Hours are [hours_from, hours_until), grouped by `hour`; days likewise over the hour
// rows. Absent when the round has no checks.
struct TallyPeriods {
  Duration hour = Duration(3'600'000);
  Duration day = Duration(86'400'000);
  TimePoint hours_from;
  TimePoint hours_until;
  TimePoint days_from;
  TimePoint days_until;
};
std::optional<TallyPeriods> tally_periods(const std::vector<ProbeResult>& results);

// The most keys one cleanup judges (an R2 listing page is at most 1,000).
inline constexpr size_t kMaxCleanupKeys = 10'000;

// Keys under the probe prefix that a round left behind and that are older than `older_than`
// (their creation time is in the key); other keys are never chosen.
std::vector<std::string> stale_probe_keys(const std::vector<std::string>& keys, TimePoint now,
                                          Duration older_than);

// Per-operation figures over a time range of stored probe results.
struct OperationStats {
  Operation operation;
  uint64_t checks = 0;
  uint64_t successes = 0;
  std::optional<double> success_rate_pct;  // absent without checks
  std::optional<double> error_rate_pct;
  std::optional<double> avg_response_ms;
  // Nearest-rank 95th percentile of response time (the smallest value with at least 95% of
  // checks at or below it).
  std::optional<int64_t> p95_response_ms;
};
struct StoredCheck {
  Operation operation;
  bool ok = false;
  Duration response_time = Duration(0);
};
std::vector<OperationStats> operation_stats(const std::vector<StoredCheck>& checks);
// The nearest-rank percentile `pct` (0 < pct <= 100) of `values`; absent when it is empty.
std::optional<int64_t> nearest_rank_percentile(std::vector<int64_t> values, double pct);

}  // namespace r2w::health
