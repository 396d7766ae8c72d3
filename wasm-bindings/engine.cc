#include "wasm-bindings/engine.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace r2w::bindings {

namespace {
constexpr double kMaxDateMs = 8.64e15;
constexpr double kMaxExact = 9007199254740992.0;  // 2^53

double clamp(double v, double lo, double hi) {
  if (!std::isfinite(v)) return 0;
  return v < lo ? lo : v > hi ? hi : v;
}

breaker::CircuitBreaker default_breaker(TimePoint now) {
  // Default options are valid by construction (a unit test holds them to that).
  return std::move(breaker::CircuitBreaker::create(breaker::Options{}, now)).value();
}
}  // namespace

TimePoint time_from_js(double ms) {
  return from_epoch_ms(static_cast<int64_t>(clamp(ms, -kMaxDateMs, kMaxDateMs)));
}

Duration duration_from_js(double ms) {
  return Duration(static_cast<int64_t>(clamp(ms, 0, kMaxExact)));
}

uint64_t count_from_js(double n) { return static_cast<uint64_t>(clamp(n, 0, kMaxExact)); }

Engine::Engine(TimePoint now) : breaker_(default_breaker(now)), latest_(now) { publish(); }

bool Engine::acquire(TimePoint now) {
  fold();
  saw(now);
  breaker::Permission p = breaker_.try_acquire(now);
  retry_after_ = std::max(p.retry_after, Duration(0));
  publish();
  return p.permitted;
}

void Engine::publish() {
  bool go_ahead = breaker_.pending_transitions() == 0 && breaker_.admits_quiet_successes(latest_);
  hot_.word = go_ahead ? 1 : 0;
  hot_.slow_call_ms = static_cast<double>(breaker_.options().slow_call_duration.count());
  hot_.faults_active = faults_.active() ? 1 : 0;
  hot_.ok_sample_below = metrics_settings_.success_sampling_rate;
  hot_.ok_sample_weight = metrics::sample_weight(metrics_settings_, true, 0);
  hot_.error_sample_below = metrics_settings_.error_sampling_rate;
  hot_.error_sample_weight = metrics::sample_weight(metrics_settings_, false, 0);
  hot_.capacity = static_cast<int32_t>(kHotRingCapacity);
  hot_.fields = static_cast<int32_t>(kHotEventFields);
}

void Engine::fold() {
  int32_t written = hot_.count;
  hot_.count = 0;
  if (written <= 0) return;
  size_t n = std::min(static_cast<size_t>(written), static_cast<size_t>(kHotRingCapacity));
  fold_events_.clear();
  fold_successes_.clear();
  size_t known_series = aggregator_.series_count();
  for (size_t i = 0; i < n; ++i) {
    const double* f = &hot_.ring[i * kHotEventFields];
    double series = f[0];
    std::optional<Operation> op =
        f[1] >= 0 && f[1] < 16 ? operation_from_index(static_cast<int32_t>(f[1])) : std::nullopt;
    if (!op || !(series >= 0 && series < static_cast<double>(known_series))) continue;
    metrics::OperationEvent e{.series_id = static_cast<uint32_t>(series),
                              .operation = *op,
                              .latency = duration_from_js(f[2]),
                              .bytes_up = count_from_js(f[3]),
                              .bytes_down = count_from_js(f[4]),
                              .at = time_from_js(f[5])};
    OperationCounters& c = counters_[static_cast<size_t>(*op)];
    c.calls++;
    c.bytes += e.bytes_up + e.bytes_down;
    c.latency_sum_ms += static_cast<double>(e.latency.count());
    saw(e.at);
    fold_events_.push_back(e);
    fold_successes_.push_back(breaker::QuietSuccess{.at = e.at, .latency = e.latency});
    if (sync_) {
      sync_->note_call(e.at, breaker::CallOutcome{.success = true, .latency = e.latency},
                       breaker_.options().slow_call_duration);
    }
  }
  aggregator_.record_all(fold_events_.data(), fold_events_.size());
  breaker_.record_quiet_successes(fold_successes_.data(), fold_successes_.size());
}

uint32_t Engine::record(uint32_t series_id, Operation op, bool ok, Duration latency,
                        uint64_t bytes_up, uint64_t bytes_down, TimePoint now) {
  fold();
  saw(now);
  OperationCounters& c = counters_[static_cast<size_t>(op)];
  c.calls++;
  if (!ok) c.errors++;
  c.bytes += bytes_up + bytes_down;
  aggregator_.record(series_id, op, ok, latency, bytes_up, bytes_down, now);
  c.latency_sum_ms += static_cast<double>(std::max(latency, Duration(0)).count());
  breaker::CallOutcome outcome{.success = ok, .latency = latency};
  breaker_.record(now, outcome);
  if (sync_) sync_->note_call(now, outcome, breaker_.options().slow_call_duration);
  publish();
  return static_cast<uint32_t>(breaker_.pending_transitions());
}

}  // namespace r2w::bindings
