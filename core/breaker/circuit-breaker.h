#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/breaker/breaker-options.h"
#include "core/breaker/sliding-window.h"
#include "core/common/result.h"
#include "core/common/time.h"

namespace r2w::breaker {

// CLOSED lets calls through and watches them; OPEN refuses them until `wait_in_open` has
// passed; HALF_OPEN lets a few trial calls through and lets them decide. FORCED_OPEN (refuse
// everything) and DISABLED (let everything through, judge nothing) are set by an operator
// and left only by another operator command.
enum class State : uint8_t { kClosed, kOpen, kHalfOpen, kForcedOpen, kDisabled };

// Why a transition happened.
enum class Reason : uint8_t {
  kFailureRate,          // CLOSED -> OPEN: failure rate at or above the threshold
  kSlowCallRate,         // CLOSED -> OPEN: slow-call rate at or above the threshold
  kConsecutiveFailures,  // CLOSED -> OPEN: too many failures in a row
  kWaitElapsed,          // OPEN -> HALF_OPEN: `wait_in_open` has passed
  kTrialsSucceeded,      // HALF_OPEN -> CLOSED
  kTrialsFailed,         // HALF_OPEN -> OPEN
  kHalfOpenTimeout,      // HALF_OPEN -> OPEN: trials did not finish in `max_wait_in_half_open`
  kForcedOpen,           // operator
  kDisabled,             // operator
  kReset,                // operator: back to CLOSED with an empty window
  kSharedState,          // an isolate took the shared breaker's state (shared-breaker.h)
  kIsolateOpened,        // the shared breaker: an isolate's own breaker opened
};

std::string_view state_name(State state);
std::string_view reason_name(Reason reason);
std::optional<State> parse_state(std::string_view name);

// The figures a decision was made on. Rates are absent while the window holds fewer than
// `minimum_calls` calls (they are not judged then); the average is absent before any call.
struct WindowFigures {
  uint64_t calls = 0;
  uint64_t failures = 0;
  uint64_t slow_calls = 0;
  std::optional<double> failure_rate_pct;
  std::optional<double> slow_call_rate_pct;
  uint32_t consecutive_failures = 0;
  std::optional<double> ema_response_ms;
};

struct Transition {
  State from;
  State to;
  Reason reason;
  TimePoint at;
  WindowFigures figures;
};

// The answer to "may I call now?". A refused caller should wait `retry_after`.
struct Permission {
  bool permitted = false;
  Duration retry_after = Duration(0);
};

// The result of a permitted call.
struct CallOutcome {
  bool success = true;
  Duration latency = Duration(0);
};

// A permitted call that succeeded within the slow-call duration, for `record_quiet_successes`.
struct QuietSuccess {
  TimePoint at;
  Duration latency = Duration(0);
};

// The response-time average of a breaker's quiet successes, stepped by the caller in its own
// loop over them (the engine's fold: the serial multiply-add chain then overlaps the loop's
// other work instead of running alone), then handed to `record_quiet_successes`. The rule is
// the breaker's own (`record`'s average: alpha * latency + (1 - alpha) * average, the first
// latency as is), stepped only up to the first call slower than the slow-call duration.
class QuietAverage {
 public:
  // Steps the average by one latency (whole ms, not negative), in the calls' order.
  void step(double latency_ms) {
    const bool counts = quiet_ && latency_ms <= slow_ms_;
    const double next = has_average_ ? alpha_ * latency_ms + keep_ * average_ : latency_ms;
    average_ = counts ? next : average_;
    has_average_ = has_average_ || counts;
    quiet_ = counts;
    quiet_steps_ += counts ? 1 : 0;
    steps_++;
  }
  // The fold's run loop: while every step so far counted and an average is held, a latency
  // (whole ms, not negative) at most `quiet_limit_ms()` steps the average by `next` alone (no
  // flag to carry, no choice to make: the same result as `step`); the caller keeps the average
  // in a register from `average()` and hands back where it ended, and how many steps it took,
  // with `took_quiet_steps`. Otherwise the limit is -1 (no latency is at most it): use `step`.
  double quiet_limit_ms() const { return quiet_ && has_average_ ? slow_ms_ : -1; }
  double average() const { return average_; }
  double next(double average, double latency_ms) const {
    return alpha_ * latency_ms + keep_ * average;
  }
  void took_quiet_steps(double average, size_t n) {
    average_ = average;
    quiet_steps_ += n;
    steps_ += n;
  }

 private:
  friend class CircuitBreaker;
  double alpha_ = 0;
  double keep_ = 1;
  double slow_ms_ = 0;
  double average_ = 0;
  double start_ = 0;
  bool has_average_ = false;
  bool started_with_ = false;
  bool quiet_ = true;
  size_t quiet_steps_ = 0;
  size_t steps_ = 0;
};

// Lifetime counters since the breaker was created or last reset.
struct Totals {
  uint64_t calls = 0;
  uint64_t failures = 0;
  uint64_t slow_calls = 0;
  uint64_t not_permitted = 0;
};

struct Status {
  State state = State::kClosed;
  TimePoint since;
  // While OPEN: how long until trial calls are let through (zero once the wait is over).
  std::optional<Duration> retry_after;
  WindowFigures figures;
  Totals totals;
  uint32_t half_open_trials_in_flight = 0;
};

// Everything needed to continue after the wasm instance is gone (the codec stores it with a
// schema version, wasm-bindings/codec/breaker.h).
struct Snapshot {
  State state = State::kClosed;
  TimePoint since;
  uint32_t consecutive_failures = 0;
  std::optional<double> ema_response_ms;
  Totals totals;
  // HALF_OPEN bookkeeping: trial calls finished, and how many of them failed or were slow.
  uint32_t trials_done = 0;
  uint32_t trial_failures = 0;
  uint32_t trial_slow_calls = 0;
  // Absent (or not fitting the window's shape): the breaker starts with an empty window.
  std::optional<WindowSnapshot> window;
};

class CircuitBreaker {
 public:
  // Refuses invalid options with an Error naming the field. `now` starts the CLOSED state.
  static Result<CircuitBreaker> create(const Options& options, TimePoint now);
  // Rebuilds a breaker from `snapshot()` output. Window data that does not fit `options`
  // (the window was reshaped) is dropped; the state and its timing are kept.
  // Refuses (code "invalid_snapshot") half-open counts that contradict each other.
  static Result<CircuitBreaker> restore(const Options& options, const Snapshot& snapshot);

  // Asks to make one call. A permitted call must be followed by exactly one `record()` or
  // `release()`. May change state (OPEN -> HALF_OPEN after the wait, HALF_OPEN -> OPEN on
  // timeout), which queues a transition.
  Permission try_acquire(TimePoint now);
  // Makes the time-based transitions due by `now` (OPEN -> HALF_OPEN after the wait, HALF_OPEN
  // -> OPEN on timeout) without asking for a call: the shared breaker, which makes no calls
  // of its own, moves along in time with it.
  void advance(TimePoint now);
  // Reports the outcome of a permitted call. May change state.
  void record(TimePoint now, CallOutcome outcome);
  // Gives back a permission whose call never happened (it counts for nothing).
  void release();

  // Whether, from `now` on, a call may go ahead without asking and its success (within the
  // slow-call duration) may be recorded later without being judged: DISABLED, or CLOSED with
  // no failed and no slow call in the window and none in a row. No such success can then open
  // the breaker (the rates stay 0, below any threshold), no time moves CLOSED along, and a
  // window only loses calls as time passes, so the engine publishes this answer in memory (the
  // Worker's hot path reads it instead of calling `try_acquire`) until its next call.
  bool admits_quiet_successes(TimePoint now) const;
  // Records such successes in order: the same as `record` for each (average, totals, window),
  // without judging the window when `admits_quiet_successes` holds at the first one's time
  // (else each is recorded by `record`); a call slower than the slow-call duration, and every
  // call after it, is recorded by `record`.
  void record_quiet_successes(const QuietSuccess* calls, size_t count);
  // The same, the calls given as columns: their times (epoch ms) and latencies (whole ms, not
  // negative), in order.
  void record_quiet_successes(const int64_t* at_ms, const double* latencies_ms, size_t count);
  // The average of such successes, to be stepped by the caller (QuietAverage) over the same
  // latencies it then hands to `record_quiet_successes` with it, the breaker unchanged between.
  QuietAverage begin_quiet_average() const;
  // `record_quiet_successes` of columns taking the average `average` was stepped to (when it
  // was begun from this breaker's average and stepped over exactly these `count` calls; else the
  // average is stepped here): the same result. The times are doubles holding whole epoch ms
  // within JavaScript's Date range (exact), read as integers only where the window needs them.
  void record_quiet_successes(const double* at_ms, const double* latencies_ms, size_t count,
                              const QuietAverage& average);

  // Operator commands; each queues a transition (even to the same state, so it is audited).
  void force_open(TimePoint now);
  void disable(TimePoint now);
  void reset(TimePoint now);

  // Enters `to` as decided elsewhere (the shared breaker): queues a transition at `now` with
  // `reason`, and dates the new state from `since`.
  void take_state(State to, TimePoint since, TimePoint now, Reason reason);
  // Dates the current state from `since` (the shared breaker entered it then).
  void align_since(TimePoint since) { since_ = since; }

  // Applies new options at once. The window's data is kept when its shape is unchanged.
  Status reconfigure(const Options& options, TimePoint now);

  State state() const { return state_; }
  TimePoint since() const { return since_; }
  const Options& options() const { return options_; }
  Status status(TimePoint now) const;
  // Transitions since the last call, oldest first.
  std::vector<Transition> take_transitions();
  size_t pending_transitions() const { return transitions_.size(); }

  // Everything needed to continue after the wasm instance is gone.
  Snapshot snapshot() const;

 private:
  CircuitBreaker(const Options& options, TimePoint now);
  WindowFigures figures(TimePoint now) const;
  void transition(State to, Reason reason, TimePoint now);
  void judge_closed(TimePoint now);
  void judge_half_open(TimePoint now);

  Options options_;
  State state_ = State::kClosed;
  TimePoint since_;
  SlidingWindow window_;
  uint32_t consecutive_failures_ = 0;
  std::optional<double> ema_response_ms_;
  Totals totals_;
  // HALF_OPEN bookkeeping.
  uint32_t trials_issued_ = 0;
  uint32_t trials_done_ = 0;
  uint32_t trial_failures_ = 0;
  uint32_t trial_slow_ = 0;
  std::vector<Transition> transitions_;
};

}  // namespace r2w::breaker
