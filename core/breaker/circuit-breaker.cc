#include "core/breaker/circuit-breaker.h"

#include <algorithm>
#include <array>
#include <utility>

#include "wasm-bindings/codec/json.h"

namespace r2w::breaker {

namespace {

constexpr int kSnapshotSchemaVersion = 1;

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

r2w::Json CircuitBreaker::snapshot() const {
  return {
      {"schema_version", kSnapshotSchemaVersion},
      {"state", state_name(state_)},
      {"since_ms", to_epoch_ms(since_)},
      {"consecutive_failures", consecutive_failures_},
      {"ema_response_ms", ema_response_ms_ ? r2w::Json(*ema_response_ms_) : nullptr},
      {"totals",
       {{"calls", totals_.calls},
        {"failures", totals_.failures},
        {"slow_calls", totals_.slow_calls},
        {"not_permitted", totals_.not_permitted}}},
      {"half_open",
       {{"trials_done", trials_done_},
        {"trial_failures", trial_failures_},
        {"trial_slow_calls", trial_slow_}}},
      {"window", window_.to_json()},
  };
}

Result<CircuitBreaker> CircuitBreaker::restore(const Options& options, const r2w::Json& snap) {
  if (auto e = options.validate()) return *e;
  if (!snap.is_object()) return bad_snapshot("snapshot");
  if (!snap.contains("schema_version") || snap["schema_version"] != kSnapshotSchemaVersion) {
    return Error{.code = "invalid_snapshot",
                 .message = "breaker snapshot schema_version must be 1",
                 .field = "schema_version"};
  }
  auto get_u = [&](const r2w::Json& obj, const char* key, uint64_t& out) {
    if (!obj.is_object() || !obj.contains(key) || !obj[key].is_number_unsigned()) return false;
    out = obj[key].get<uint64_t>();
    return true;
  };
  if (!snap.contains("state") || !snap["state"].is_string()) return bad_snapshot("state");
  auto state = parse_state(snap["state"].get<std::string>());
  if (!state) return bad_snapshot("state");
  if (!snap.contains("since_ms") || !snap["since_ms"].is_number_integer()) {
    return bad_snapshot("since_ms");
  }
  CircuitBreaker b(options, from_epoch_ms(snap["since_ms"].get<int64_t>()));
  b.state_ = *state;
  uint64_t v = 0;
  if (!get_u(snap, "consecutive_failures", v)) return bad_snapshot("consecutive_failures");
  b.consecutive_failures_ = static_cast<uint32_t>(v);
  if (!snap.contains("ema_response_ms")) return bad_snapshot("ema_response_ms");
  if (snap["ema_response_ms"].is_number()) {
    b.ema_response_ms_ = snap["ema_response_ms"].get<double>();
  } else if (!snap["ema_response_ms"].is_null()) {
    return bad_snapshot("ema_response_ms");
  }
  const r2w::Json& totals = snap.value("totals", r2w::Json());
  if (!get_u(totals, "calls", b.totals_.calls)) return bad_snapshot("totals.calls");
  if (!get_u(totals, "failures", b.totals_.failures)) return bad_snapshot("totals.failures");
  if (!get_u(totals, "slow_calls", b.totals_.slow_calls)) return bad_snapshot("totals.slow_calls");
  if (!get_u(totals, "not_permitted", b.totals_.not_permitted)) {
    return bad_snapshot("totals.not_permitted");
  }
  const r2w::Json& half = snap.value("half_open", r2w::Json());
  uint64_t done = 0, failures = 0, slow = 0;
  if (!get_u(half, "trials_done", done) || !get_u(half, "trial_failures", failures) ||
      !get_u(half, "trial_slow_calls", slow) || failures > done || slow > done) {
    return bad_snapshot("half_open");
  }
  // Trials that were in flight died with the old instance: only finished ones count, and
  // new permissions may be issued for the rest.
  b.trials_done_ = b.trials_issued_ = static_cast<uint32_t>(done);
  b.trial_failures_ = static_cast<uint32_t>(failures);
  b.trial_slow_ = static_cast<uint32_t>(slow);
  if (snap.contains("window")) b.window_.restore(snap["window"]);
  return b;
}

r2w::Json figures_to_json(const WindowFigures& f) {
  auto opt = [](const std::optional<double>& v) { return v ? r2w::Json(*v) : nullptr; };
  return {
      {"calls", f.calls},
      {"failures", f.failures},
      {"slow_calls", f.slow_calls},
      {"failure_rate_pct", opt(f.failure_rate_pct)},
      {"slow_call_rate_pct", opt(f.slow_call_rate_pct)},
      {"consecutive_failures", f.consecutive_failures},
      {"ema_response_ms", opt(f.ema_response_ms)},
  };
}

r2w::Json transition_to_json(const Transition& t) {
  return {
      {"from", state_name(t.from)},
      {"to", state_name(t.to)},
      {"reason", reason_name(t.reason)},
      {"at_ms", to_epoch_ms(t.at)},
      {"figures", figures_to_json(t.figures)},
  };
}

r2w::Json status_to_json(const Status& s) {
  return {
      {"state", state_name(s.state)},
      {"since_ms", to_epoch_ms(s.since)},
      {"retry_after_ms", s.retry_after ? r2w::Json(s.retry_after->count()) : nullptr},
      {"window", figures_to_json(s.figures)},
      {"totals",
       {{"calls", s.totals.calls},
        {"failures", s.totals.failures},
        {"slow_calls", s.totals.slow_calls},
        {"not_permitted", s.totals.not_permitted}}},
      {"half_open_trials_in_flight", s.half_open_trials_in_flight},
  };
}

}  // namespace r2w::breaker
