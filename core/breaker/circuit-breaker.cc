#include "core/breaker/circuit-breaker.h"

#include <algorithm>
#include <array>
#include <utility>

namespace r2w::breaker {

namespace {

constexpr std::array<std::pair<State, std::string_view>, 5> kStateNames = {{
    {State::kClosed, "closed"},
    {State::kOpen, "open"},
    {State::kHalfOpen, "half_open"},
    {State::kForcedOpen, "forced_open"},
    {State::kDisabled, "disabled"},
}};

constexpr std::array<std::pair<Reason, std::string_view>, 12> kReasonNames = {{
    {Reason::kFailureRate, "failure_rate_threshold"},
    {Reason::kSlowCallRate, "slow_call_rate_threshold"},
    {Reason::kConsecutiveFailures, "consecutive_failures"},
    {Reason::kWaitElapsed, "wait_in_open_elapsed"},
    {Reason::kTrialsSucceeded, "trial_calls_succeeded"},
    {Reason::kTrialsFailed, "trial_calls_failed"},
    {Reason::kHalfOpenTimeout, "half_open_timeout"},
    {Reason::kForcedOpen, "operator_forced_open"},
    {Reason::kDisabled, "operator_disabled"},
    {Reason::kReset, "operator_reset"},
    {Reason::kSharedState, "shared_state"},
    {Reason::kIsolateOpened, "isolate_opened"},
}};

// rate >= threshold, compared without dividing: count / calls * 100 >= threshold.
bool at_or_above(uint64_t count, uint64_t calls, double threshold_pct) {
  return static_cast<double>(count) * 100.0 >= threshold_pct * static_cast<double>(calls);
}

double percent(uint64_t count, uint64_t calls) {
  return static_cast<double>(count) * 100.0 / static_cast<double>(calls);
}

Error bad_snapshot(std::string field) {
  return Error{.code = "invalid_snapshot",
               .message = "breaker snapshot field " + field + " is missing or malformed",
               .field = std::move(field)};
}

}  // namespace

std::string_view state_name(State state) {
  for (const auto& [s, name] : kStateNames) {
    if (s == state) return name;
  }
  return "unknown";
}

std::string_view reason_name(Reason reason) {
  for (const auto& [r, name] : kReasonNames) {
    if (r == reason) return name;
  }
  return "unknown";
}

std::optional<State> parse_state(std::string_view name) {
  for (const auto& [s, n] : kStateNames) {
    if (n == name) return s;
  }
  return std::nullopt;
}

CircuitBreaker::CircuitBreaker(const Options& options, TimePoint now)
    : options_(options), since_(now), window_(options) {}

Result<CircuitBreaker> CircuitBreaker::create(const Options& options, TimePoint now) {
  if (auto e = options.validate()) return *e;
  return CircuitBreaker(options, now);
}

void CircuitBreaker::advance(TimePoint now) {
  if (state_ == State::kOpen && now - since_ >= options_.wait_in_open) {
    transition(State::kHalfOpen, Reason::kWaitElapsed, now);
  }
  if (state_ == State::kHalfOpen && options_.max_wait_in_half_open > Duration(0) &&
      now - since_ >= options_.max_wait_in_half_open) {
    transition(State::kOpen, Reason::kHalfOpenTimeout, now);
  }
}

void CircuitBreaker::take_state(State to, TimePoint since, TimePoint now, Reason reason) {
  transition(to, reason, now);
  since_ = since;
}

Permission CircuitBreaker::try_acquire(TimePoint now) {
  advance(now);
  switch (state_) {
    case State::kClosed:
    case State::kDisabled:
      return Permission{.permitted = true};
    case State::kHalfOpen:
      if (trials_issued_ < options_.permitted_calls_in_half_open) {
        trials_issued_++;
        return Permission{.permitted = true};
      }
      totals_.not_permitted++;
      // The trials decide at the latest when HALF_OPEN times out.
      return Permission{.permitted = false,
                        .retry_after = options_.max_wait_in_half_open > Duration(0)
                                           ? options_.max_wait_in_half_open - (now - since_)
                                           : options_.wait_in_open};
    case State::kOpen:
      totals_.not_permitted++;
      return Permission{.permitted = false, .retry_after = options_.wait_in_open - (now - since_)};
    case State::kForcedOpen:
      totals_.not_permitted++;
      return Permission{.permitted = false, .retry_after = options_.wait_in_open};
  }
  return Permission{};
}

void CircuitBreaker::record(TimePoint now, CallOutcome outcome) {
  double latency_ms = static_cast<double>(std::max(outcome.latency, Duration(0)).count());
  ema_response_ms_ = ema_response_ms_ ? options_.ema_alpha * latency_ms +
                                            (1 - options_.ema_alpha) * *ema_response_ms_
                                      : latency_ms;
  bool failed = !outcome.success;
  bool slow = outcome.latency > options_.slow_call_duration;
  totals_.calls++;
  if (failed) totals_.failures++;
  if (slow) totals_.slow_calls++;

  switch (state_) {
    case State::kClosed:
      window_.record(now, failed, slow);
      consecutive_failures_ = failed ? consecutive_failures_ + 1 : 0;
      judge_closed(now);
      return;
    case State::kHalfOpen:
      trials_done_++;
      if (failed) trial_failures_++;
      if (slow) trial_slow_++;
      judge_half_open(now);
      return;
    case State::kOpen:
    case State::kForcedOpen:
    case State::kDisabled:
      // A late result of a call let through earlier, or a call nobody judges: it shows in the
      // average and the totals only.
      return;
  }
}

bool CircuitBreaker::admits_quiet_successes(TimePoint now) const {
  if (state_ == State::kDisabled) return true;
  return state_ == State::kClosed && consecutive_failures_ == 0 &&
         !window_.holds_failed_or_slow(now);
}

void CircuitBreaker::record_quiet_successes(const QuietSuccess* calls, size_t count) {
  if (count == 0) return;
  size_t i = 0;
  if (admits_quiet_successes(calls[0].at)) {
    // Up to the first slow call: the average, the totals and the window, nothing judged.
    const double alpha = options_.ema_alpha;
    const Duration slow = options_.slow_call_duration;
    const bool closed = state_ == State::kClosed;
    bool has_ema = ema_response_ms_.has_value();
    double ema = has_ema ? *ema_response_ms_ : 0;
    for (; i < count; ++i) {
      const QuietSuccess& c = calls[i];
      if (c.latency > slow) break;
      double latency_ms = static_cast<double>(std::max(c.latency, Duration(0)).count());
      ema = has_ema ? alpha * latency_ms + (1 - alpha) * ema : latency_ms;
      has_ema = true;
      if (closed) window_.record_success(c.at);
    }
    if (has_ema) ema_response_ms_ = ema;
    totals_.calls += i;
  }
  for (; i < count; ++i) {
    record(calls[i].at, CallOutcome{.success = true, .latency = calls[i].latency});
  }
}

void CircuitBreaker::record_quiet_successes(const int64_t* at_ms, const double* latencies_ms,
                                            size_t count) {
  if (count == 0) return;
  size_t i = 0;
  if (admits_quiet_successes(from_epoch_ms(at_ms[0]))) {
    const double alpha = options_.ema_alpha;
    const double slow = static_cast<double>(options_.slow_call_duration.count());
    const bool closed = state_ == State::kClosed;
    bool has_ema = ema_response_ms_.has_value();
    double ema = has_ema ? *ema_response_ms_ : 0;
    // The average first (a chain of multiply-adds, kept in registers: no call in this loop),
    // then the window.
    const double keep = 1 - alpha;
    if (!has_ema && latencies_ms[0] <= slow) {
      ema = latencies_ms[0];
      has_ema = true;
      i = 1;
    }
    if (has_ema) {
      for (; i < count && latencies_ms[i] <= slow; ++i) ema = alpha * latencies_ms[i] + keep * ema;
      ema_response_ms_ = ema;
    }
    if (closed) {
      for (size_t j = 0; j < i; ++j) window_.record_success(from_epoch_ms(at_ms[j]));
    }
    totals_.calls += i;
  }
  for (; i < count; ++i) {
    record(
        from_epoch_ms(at_ms[i]),
        CallOutcome{.success = true, .latency = Duration(static_cast<int64_t>(latencies_ms[i]))});
  }
}

QuietAverage CircuitBreaker::begin_quiet_average() const {
  QuietAverage a;
  a.alpha_ = options_.ema_alpha;
  a.keep_ = 1 - options_.ema_alpha;
  a.slow_ms_ = static_cast<double>(options_.slow_call_duration.count());
  a.has_average_ = a.started_with_ = ema_response_ms_.has_value();
  a.average_ = a.start_ = ema_response_ms_.value_or(0);
  return a;
}

void CircuitBreaker::record_quiet_successes(const double* at_ms, const double* latencies_ms,
                                            size_t count, const QuietAverage& stepped) {
  if (count == 0) return;
  auto at = [&](size_t j) { return from_epoch_ms(static_cast<int64_t>(at_ms[j])); };
  size_t i = 0;
  if (admits_quiet_successes(at(0))) {
    // As the columns' version: the average, the totals and the window up to the first slow
    // call, then `record` for that one and every call after it. The caller's average is taken
    // when it was begun here (this average, these options) over these calls; else stepped here.
    QuietAverage average = stepped;
    const bool begun_here =
        stepped.started_with_ == ema_response_ms_.has_value() &&
        stepped.start_ == ema_response_ms_.value_or(0) && stepped.alpha_ == options_.ema_alpha &&
        stepped.slow_ms_ == static_cast<double>(options_.slow_call_duration.count()) &&
        stepped.steps_ == count;
    if (!begun_here) {
      average = begin_quiet_average();
      for (size_t j = 0; j < count; ++j) average.step(latencies_ms[j]);
    }
    i = average.quiet_steps_;
    if (average.has_average_) ema_response_ms_ = average.average_;
    if (state_ == State::kClosed) window_.record_successes(at_ms, i);
    totals_.calls += i;
  }
  for (; i < count; ++i) {
    record(at(i), CallOutcome{.success = true,
                              .latency = Duration(static_cast<int64_t>(latencies_ms[i]))});
  }
}

void CircuitBreaker::release() {
  if (state_ == State::kHalfOpen && trials_issued_ > trials_done_) trials_issued_--;
}

void CircuitBreaker::judge_closed(TimePoint now) {
  WindowTotals t = window_.totals(now);
  if (t.calls >= options_.minimum_calls) {
    if (at_or_above(t.failures, t.calls, options_.failure_rate_threshold_pct)) {
      transition(State::kOpen, Reason::kFailureRate, now);
      return;
    }
    if (at_or_above(t.slow_calls, t.calls, options_.slow_call_rate_threshold_pct)) {
      transition(State::kOpen, Reason::kSlowCallRate, now);
      return;
    }
  }
  if (options_.consecutive_failure_threshold > 0 &&
      consecutive_failures_ >= options_.consecutive_failure_threshold) {
    transition(State::kOpen, Reason::kConsecutiveFailures, now);
  }
}

void CircuitBreaker::judge_half_open(TimePoint now) {
  if (trials_done_ < options_.permitted_calls_in_half_open) return;
  bool failed = at_or_above(trial_failures_, trials_done_, options_.failure_rate_threshold_pct) ||
                at_or_above(trial_slow_, trials_done_, options_.slow_call_rate_threshold_pct);
  transition(failed ? State::kOpen : State::kClosed,
             failed ? Reason::kTrialsFailed : Reason::kTrialsSucceeded, now);
}

void CircuitBreaker::force_open(TimePoint now) {
  transition(State::kForcedOpen, Reason::kForcedOpen, now);
}

void CircuitBreaker::disable(TimePoint now) {
  transition(State::kDisabled, Reason::kDisabled, now);
}

void CircuitBreaker::reset(TimePoint now) {
  transition(State::kClosed, Reason::kReset, now);
  totals_ = {};
  ema_response_ms_.reset();
}

Status CircuitBreaker::reconfigure(const Options& options, TimePoint now) {
  bool keep_window = options.same_window_as(options_);
  options_ = options;
  if (!keep_window) window_ = SlidingWindow(options_);
  if (state_ == State::kClosed) judge_closed(now);
  return status(now);
}

void CircuitBreaker::transition(State to, Reason reason, TimePoint now) {
  transitions_.push_back(
      Transition{.from = state_, .to = to, .reason = reason, .at = now, .figures = figures(now)});
  state_ = to;
  since_ = now;
  trials_issued_ = trials_done_ = trial_failures_ = trial_slow_ = 0;
  if (to == State::kClosed || to == State::kHalfOpen) consecutive_failures_ = 0;
  // A closed breaker starts judging afresh; the calls that opened it are history.
  if (to == State::kClosed) window_.clear();
}

WindowFigures CircuitBreaker::figures(TimePoint now) const {
  WindowTotals t = window_.totals(now);
  WindowFigures f{.calls = t.calls,
                  .failures = t.failures,
                  .slow_calls = t.slow_calls,
                  .consecutive_failures = consecutive_failures_,
                  .ema_response_ms = ema_response_ms_};
  if (t.calls > 0 && t.calls >= options_.minimum_calls) {
    f.failure_rate_pct = percent(t.failures, t.calls);
    f.slow_call_rate_pct = percent(t.slow_calls, t.calls);
  }
  return f;
}

Status CircuitBreaker::status(TimePoint now) const {
  Status s{.state = state_,
           .since = since_,
           .figures = figures(now),
           .totals = totals_,
           .half_open_trials_in_flight = trials_issued_ - trials_done_};
  if (state_ == State::kOpen) {
    s.retry_after = std::max(Duration(0), options_.wait_in_open - (now - since_));
  }
  return s;
}

std::vector<Transition> CircuitBreaker::take_transitions() {
  return std::exchange(transitions_, {});
}

Snapshot CircuitBreaker::snapshot() const {
  return Snapshot{.state = state_,
                  .since = since_,
                  .consecutive_failures = consecutive_failures_,
                  .ema_response_ms = ema_response_ms_,
                  .totals = totals_,
                  .trials_done = trials_done_,
                  .trial_failures = trial_failures_,
                  .trial_slow_calls = trial_slow_,
                  .window = window_.snapshot()};
}

Result<CircuitBreaker> CircuitBreaker::restore(const Options& options, const Snapshot& snap) {
  if (auto e = options.validate()) return *e;
  if (snap.trial_failures > snap.trials_done || snap.trial_slow_calls > snap.trials_done) {
    return bad_snapshot("half_open");
  }
  CircuitBreaker b(options, snap.since);
  b.state_ = snap.state;
  b.consecutive_failures_ = snap.consecutive_failures;
  b.ema_response_ms_ = snap.ema_response_ms;
  b.totals_ = snap.totals;
  // Trials that were in flight died with the old instance: only finished ones count, and
  // new permissions may be issued for the rest.
  b.trials_done_ = b.trials_issued_ = snap.trials_done;
  b.trial_failures_ = snap.trial_failures;
  b.trial_slow_ = snap.trial_slow_calls;
  if (snap.window) b.window_.restore(*snap.window);
  return b;
}

}  // namespace r2w::breaker
