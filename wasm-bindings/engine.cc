#include "wasm-bindings/engine.h"

#include <algorithm>

namespace r2w::bindings {

namespace {
breaker::CircuitBreaker default_breaker(TimePoint now) {
  // Default options are valid by construction (a unit test holds them to that).
  return std::move(breaker::CircuitBreaker::create(breaker::Options{}, now)).value();
}
}  // namespace

Engine::Engine(TimePoint now) : breaker_(default_breaker(now)) {}

bool Engine::acquire(TimePoint now) {
  breaker::Permission p = breaker_.try_acquire(now);
  retry_after_ = std::max(p.retry_after, Duration(0));
  return p.permitted;
}

uint32_t Engine::record(uint32_t series_id, Operation op, bool ok, Duration latency,
                        uint64_t bytes_up, uint64_t bytes_down, TimePoint now) {
  OperationCounters& c = counters_[static_cast<size_t>(op)];
  c.calls++;
  if (!ok) c.errors++;
  c.bytes += bytes_up + bytes_down;
  aggregator_.record(series_id, op, ok, latency, bytes_up, bytes_down, now);
  c.latency_sum_ms += static_cast<double>(std::max(latency, Duration(0)).count());
  breaker::CallOutcome outcome{.success = ok, .latency = latency};
  breaker_.record(now, outcome);
  if (sync_) sync_->note_call(now, outcome, breaker_.options().slow_call_duration);
  return static_cast<uint32_t>(breaker_.pending_transitions());
}

}  // namespace r2w::bindings
