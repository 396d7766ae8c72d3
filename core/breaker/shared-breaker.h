#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/breaker/circuit-breaker.h"
#include "core/common/result.h"
#include "core/common/time.h"

namespace r2w::breaker {

// One breaker state for every isolate. The authoritative breaker of a bucket (a SharedBreaker,
// held by one Durable Object) is fed with the calls of every isolate; each isolate keeps its
// own CircuitBreaker, judges its own calls with it at once (so it still protects R2 when the
// shared one cannot be reached), reports its calls off the request path (IsolateSync), and
// adopts the shared breaker's transitions (`adopt`).

// The longest an isolate that serves calls may go without asking the shared breaker.
inline constexpr Duration kMaxRefreshInterval = Duration(1'000);

// How an isolate keeps in step with the shared breaker.
struct SyncPolicy {
  // An isolate whose last sync is this old syncs again (off the request path) when it next
  // serves a call. 1 .. kMaxRefreshInterval ms.
  Duration refresh_interval = Duration(500);
  // After a failed sync, the next attempt waits this long (an object in trouble is not
  // hammered by every call). At least `refresh_interval`, at most 60 s.
  Duration retry_after_failure = Duration(2'000);
  // A sync or a command that the shared breaker has not answered within this long counts as
  // failed (the isolate goes on alone). 10 ms .. 10 s.
  Duration call_timeout = Duration(1'000);
  // Calls in a row with the same outcome (failed or not, slow or not) within this span are held
  // as one run (their count and mean latency): steady traffic costs one entry per span, not one
  // per call. At most the window's bucket length matters to the shared breaker. 1 ms .. 5 s.
  Duration run_span = Duration(1'000);
  // Runs held for the next report, at most; beyond this the oldest are dropped (their calls
  // counted): the isolate's own breaker has judged them anyway. 1 .. 10,000.
  uint32_t max_pending_runs = 1'000;

  std::optional<Error> validate() const;
};

// What the shared breaker answers every report and query with.
struct SharedState {
  State state = State::kClosed;
  // When it entered `state` (for OPEN: opened_at, so every isolate's wait ends together).
  TimePoint since;
  // +1 with each of its transitions. A new shared breaker (its object's storage lost) starts
  // at its creation time in ms, so it is newer than any generation an isolate has seen.
  uint64_t generation = 0;
};

// Calls an isolate made in a row with the same outcome: `count` of them, the last at `at`, with
// their mean latency.
struct ReportedCall {
  TimePoint at;
  CallOutcome outcome;
  uint32_t count = 1;
};

// The most calls one run holds.
inline constexpr uint32_t kMaxRunCalls = 1'000'000;

// What an isolate sends: its calls since the last report and its own breaker's state.
struct Report {
  std::vector<ReportedCall> calls;
  uint64_t dropped_calls = 0;
  State local_state = State::kClosed;
  TimePoint local_since;
};

// The authoritative breaker: the same CircuitBreaker, fed with every isolate's calls.
class SharedBreaker {
 public:
  static Result<SharedBreaker> create(const Options& options, TimePoint now);
  // Continues from a saved breaker and generation (a Durable Object that restarted).
  SharedBreaker(CircuitBreaker breaker, uint64_t generation);

  // Applies a report: every call in order, each at its own time but never before the last one
  // applied (isolates' clocks and reports interleave), after the time-based transitions due
  // by then. Then an isolate whose own breaker opened by its own judgement after this
  // breaker's last transition (its OPEN is newer than anything this breaker decided) opens
  // this breaker too, from the same moment, if it is CLOSED or HALF_OPEN: the first isolate
  // to see R2 fail stops the others. An operator's FORCED_OPEN or DISABLED is never changed.
  SharedState apply(const Report& report, TimePoint now);
  // The state now, after the time-based transitions due by `now`.
  SharedState state(TimePoint now);
  void force_open(TimePoint now);
  void disable(TimePoint now);
  void reset(TimePoint now);
  Status reconfigure(const Options& options, TimePoint now);

  CircuitBreaker& breaker() { return breaker_; }
  const CircuitBreaker& breaker() const { return breaker_; }
  uint64_t generation() const { return generation_; }

 private:
  template <typename F>
  void counted(F&& change);

  CircuitBreaker breaker_;
  uint64_t generation_;
  TimePoint last_applied_{};
};

// What `adopt` did with a state from the shared breaker.
enum class Adoption : uint8_t {
  kAdopted,    // the local breaker took the shared state (a transition, reason shared_state)
  kAligned,    // same state already; its start moved to the shared one's
  kUnchanged,  // nothing new (this generation was seen before, or same state and start)
  kStale,      // an answer older than one already adopted (it arrived late)
  kKeptLocal,  // the local breaker's own later judgement stands (the shared one has not yet
               // heard of the calls behind it)
};

std::string_view adoption_name(Adoption a);

// The rules of taking a shared transition into an isolate's breaker. Each generation is
// considered once (`known_generation` is updated). A shared FORCED_OPEN or DISABLED (an
// operator) is always taken. Otherwise a local state that began after the shared one (the
// isolate judged its own calls since) is kept. A shared start in the future (clock skew) is
// taken as `now`.
Adoption adopt(CircuitBreaker& local, const SharedState& shared, uint64_t& known_generation,
               TimePoint now);

// How an isolate's link to the shared breaker stands, for /api/health.
enum class SyncStanding : uint8_t {
  kNotYetSynced,  // no sync tried yet (no call served since the isolate started)
  kSynced,        // the last sync succeeded
  kUnreachable,   // the last sync failed: this isolate's own breaker alone guards R2
};

std::string_view sync_standing_name(SyncStanding s);

// An isolate's side of the shared breaker: the calls to report, the generation adopted, and
// when to sync next.
class IsolateSync {
 public:
  explicit IsolateSync(const SyncPolicy& policy = {}) : policy_(policy) {}

  // Hot path: one call the local breaker judged; `slow_call_duration` of its options says
  // whether it was slow (a run holds only calls of the same kind).
  void note_call(TimePoint at, CallOutcome outcome, Duration slow_call_duration);
  // The report to send now; the calls in it leave the queue (a failed send loses them: the
  // local breaker judged them, and the shared one judges those that arrive).
  Report take_report(const CircuitBreaker& local, TimePoint now);
  // The shared breaker answered: adopt its state (see `adopt`).
  Adoption on_answer(CircuitBreaker& local, const SharedState& shared, TimePoint now);
  // The shared breaker could not be reached.
  void on_failure(std::string error, TimePoint now);
  // A sync attempt is starting (so the next one is not due before the policy says).
  void on_attempt(TimePoint now) { last_attempt_ = now; }

  // When the next sync is due: `refresh_interval` after the last attempt, or
  // `retry_after_failure` after a failed one; at once before the first.
  TimePoint next_sync_at() const;
  SyncStanding standing() const;
  // A sentence for /api/health: empty when synced.
  std::string standing_reason() const;

  const SyncPolicy& policy() const { return policy_; }
  uint64_t known_generation() const { return known_generation_; }
  std::optional<SharedState> last_shared() const { return last_shared_; }
  std::optional<TimePoint> last_ok() const { return last_ok_; }
  std::optional<TimePoint> last_failure() const { return last_failure_; }
  const std::string& last_error() const { return last_error_; }
  size_t pending_runs() const { return calls_.size(); }
  uint64_t dropped_calls() const { return dropped_total_; }

 private:
  SyncPolicy policy_;
  std::deque<ReportedCall> calls_;
  // The last run: when it started, whether its calls were slow, their latency sum.
  TimePoint run_start_{};
  bool run_slow_ = false;
  double run_latency_sum_ = 0;
  uint64_t dropped_ = 0;        // since the last report
  uint64_t dropped_total_ = 0;  // since the isolate started
  uint64_t known_generation_ = 0;
  std::optional<SharedState> last_shared_;
  std::optional<TimePoint> last_attempt_;
  std::optional<TimePoint> last_ok_;
  std::optional<TimePoint> last_failure_;
  std::string last_error_;
};

}  // namespace r2w::breaker
