#include "core/breaker/shared-breaker.h"

#include <algorithm>
#include <utility>

namespace r2w::breaker {

namespace {

// States an operator sets: only another operator command leaves them.
bool operator_state(State s) { return s == State::kForcedOpen || s == State::kDisabled; }

}  // namespace

std::optional<Error> SyncPolicy::validate() const {
  if (refresh_interval < Duration(1) || refresh_interval > kMaxRefreshInterval) {
    return invalid_field("refresh_interval_ms", "refresh_interval_ms must be from 1 to 1000");
  }
  if (retry_after_failure < refresh_interval || retry_after_failure > Duration(60'000)) {
    return invalid_field("retry_after_failure_ms",
                         "retry_after_failure_ms must be from refresh_interval_ms to 60000");
  }
  if (call_timeout < Duration(10) || call_timeout > Duration(10'000)) {
    return invalid_field("call_timeout_ms", "call_timeout_ms must be from 10 to 10000");
  }
  if (run_span < Duration(1) || run_span > Duration(5'000)) {
    return invalid_field("run_span_ms", "run_span_ms must be from 1 to 5000");
  }
  if (max_pending_runs < 1 || max_pending_runs > 10'000) {
    return invalid_field("max_pending_runs", "max_pending_runs must be from 1 to 10000");
  }
  return std::nullopt;
}

// ---- the authoritative breaker ----

Result<SharedBreaker> SharedBreaker::create(const Options& options, TimePoint now) {
  auto b = CircuitBreaker::create(options, now);
  if (!b.ok()) return b.error();
  return SharedBreaker(std::move(b).value(),
                       static_cast<uint64_t>(std::max<int64_t>(0, to_epoch_ms(now))));
}

SharedBreaker::SharedBreaker(CircuitBreaker breaker, uint64_t generation)
    : breaker_(std::move(breaker)), generation_(generation) {}

template <typename F>
void SharedBreaker::counted(F&& change) {
  size_t before = breaker_.pending_transitions();
  change();
  size_t after = breaker_.pending_transitions();
  if (after > before) generation_ += after - before;
}

SharedState SharedBreaker::apply(const Report& report, TimePoint now) {
  counted([&] {
    for (const ReportedCall& c : report.calls) {
      TimePoint at = std::max(c.at, last_applied_);
      last_applied_ = at;
      breaker_.advance(at);
      for (uint32_t i = 0; i < std::min(c.count, kMaxRunCalls); ++i) breaker_.record(at, c.outcome);
    }
    last_applied_ = std::max(last_applied_, now);
    breaker_.advance(now);
    TimePoint local_since = std::min(report.local_since, now);
    State s = breaker_.state();
    if (report.local_state == State::kOpen && local_since > breaker_.since() &&
        (s == State::kClosed || s == State::kHalfOpen)) {
      breaker_.take_state(State::kOpen, local_since, now, Reason::kIsolateOpened);
    }
  });
  return SharedState{
      .state = breaker_.state(), .since = breaker_.since(), .generation = generation_};
}

SharedState SharedBreaker::state(TimePoint now) {
  counted([&] { breaker_.advance(now); });
  return SharedState{
      .state = breaker_.state(), .since = breaker_.since(), .generation = generation_};
}

void SharedBreaker::force_open(TimePoint now) {
  counted([&] { breaker_.force_open(now); });
}

void SharedBreaker::disable(TimePoint now) {
  counted([&] { breaker_.disable(now); });
}

void SharedBreaker::reset(TimePoint now) {
  counted([&] { breaker_.reset(now); });
}

Status SharedBreaker::reconfigure(const Options& options, TimePoint now) {
  counted([&] { breaker_.reconfigure(options, now); });
  return breaker_.status(now);
}

// ---- adopting ----

std::string_view adoption_name(Adoption a) {
  switch (a) {
    case Adoption::kAdopted:
      return "adopted";
    case Adoption::kAligned:
      return "aligned";
    case Adoption::kUnchanged:
      return "unchanged";
    case Adoption::kStale:
      return "stale";
    case Adoption::kKeptLocal:
      return "kept_local";
  }
  return "unknown";
}

Adoption adopt(CircuitBreaker& local, const SharedState& shared, uint64_t& known_generation,
               TimePoint now) {
  if (shared.generation < known_generation) return Adoption::kStale;
  if (shared.generation == known_generation) return Adoption::kUnchanged;
  known_generation = shared.generation;
  TimePoint since = std::min(shared.since, now);
  if (local.state() == shared.state) {
    if (local.since() == since) return Adoption::kUnchanged;
    local.align_since(since);
    return Adoption::kAligned;
  }
  if (!operator_state(shared.state) && local.since() > since) return Adoption::kKeptLocal;
  local.take_state(shared.state, since, now, Reason::kSharedState);
  return Adoption::kAdopted;
}

// ---- the isolate's side ----

std::string_view sync_standing_name(SyncStanding s) {
  switch (s) {
    case SyncStanding::kNotYetSynced:
      return "not_yet_synced";
    case SyncStanding::kSynced:
      return "synced";
    case SyncStanding::kUnreachable:
      return "unreachable";
  }
  return "unknown";
}

void IsolateSync::note_call(TimePoint at, CallOutcome outcome, Duration slow_call_duration) {
  bool slow = outcome.latency > slow_call_duration;
  double latency_ms = static_cast<double>(std::max(outcome.latency, Duration(0)).count());
  if (!calls_.empty()) {
    ReportedCall& run = calls_.back();
    if (run.outcome.success == outcome.success && run_slow_ == slow && at >= run.at &&
        at - run_start_ < policy_.run_span && run.count < kMaxRunCalls) {
      run.count++;
      run.at = at;
      run_latency_sum_ += latency_ms;
      run.outcome.latency = Duration(static_cast<int64_t>(run_latency_sum_ / run.count + 0.5));
      return;
    }
  }
  if (calls_.size() >= policy_.max_pending_runs) {
    dropped_ += calls_.front().count;
    dropped_total_ += calls_.front().count;
    calls_.pop_front();
  }
  calls_.push_back(ReportedCall{.at = at, .outcome = outcome, .count = 1});
  run_start_ = at;
  run_slow_ = slow;
  run_latency_sum_ = latency_ms;
}

Report IsolateSync::take_report(const CircuitBreaker& local, TimePoint now) {
  last_attempt_ = now;
  Report r{.calls = std::vector<ReportedCall>(calls_.begin(), calls_.end()),
           .dropped_calls = std::exchange(dropped_, 0),
           .local_state = local.state(),
           .local_since = local.since()};
  calls_.clear();
  return r;
}

Adoption IsolateSync::on_answer(CircuitBreaker& local, const SharedState& shared, TimePoint now) {
  last_ok_ = now;
  last_shared_ = shared;
  return adopt(local, shared, known_generation_, now);
}

void IsolateSync::on_failure(std::string error, TimePoint now) {
  last_failure_ = now;
  last_attempt_ = now;
  last_error_ = std::move(error);
}

TimePoint IsolateSync::next_sync_at() const {
  if (!last_attempt_) return TimePoint{};
  bool failed = standing() == SyncStanding::kUnreachable;
  return *last_attempt_ + (failed ? policy_.retry_after_failure : policy_.refresh_interval);
}

SyncStanding IsolateSync::standing() const {
  if (last_failure_ && (!last_ok_ || *last_failure_ >= *last_ok_))
    return SyncStanding::kUnreachable;
  if (last_ok_) return SyncStanding::kSynced;
  return SyncStanding::kNotYetSynced;
}

std::string IsolateSync::standing_reason() const {
  if (standing() != SyncStanding::kUnreachable) return "";
  return "the shared circuit breaker (Durable Object) could not be reached (" + last_error_ +
         "): this isolate's own breaker alone guards R2, other isolates may decide differently";
}

}  // namespace r2w::breaker
