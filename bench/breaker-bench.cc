// Google Benchmark for the breaker's hot path, natively: what one guarded call costs the core
// before any wasm or JavaScript overhead. `make bench` runs it.
#include <benchmark/benchmark.h>

#include "core/breaker/circuit-breaker.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/engine.h"

namespace {

using namespace r2w;

void BM_AcquireAndRecordTimeWindow(benchmark::State& state) {
  auto b = breaker::CircuitBreaker::create(breaker::Options{}, TimePoint{}).value();
  int64_t t = 0;
  for (auto _ : state) {
    TimePoint now = from_epoch_ms(t += 3);
    benchmark::DoNotOptimize(b.try_acquire(now));
    b.record(now, {.success = true, .latency = Duration(12)});
  }
}
BENCHMARK(BM_AcquireAndRecordTimeWindow);

void BM_AcquireAndRecordCountWindow(benchmark::State& state) {
  auto b = breaker::CircuitBreaker::create(
               breaker::Options{.window_type = breaker::WindowType::kCountBased}, TimePoint{})
               .value();
  int64_t t = 0;
  for (auto _ : state) {
    TimePoint now = from_epoch_ms(t += 3);
    benchmark::DoNotOptimize(b.try_acquire(now));
    b.record(now, {.success = true, .latency = Duration(12)});
  }
}
BENCHMARK(BM_AcquireAndRecordCountWindow);

void BM_EngineGuardedCall(benchmark::State& state) {
  bindings::Engine engine(TimePoint{});
  uint32_t series = engine.series({.bucket = "bench", .prefix = "p", .user = ""});
  int64_t t = 0;
  for (auto _ : state) {
    TimePoint now = from_epoch_ms(t += 3);
    benchmark::DoNotOptimize(engine.acquire(now));
    benchmark::DoNotOptimize(
        engine.record(series, Operation::kGet, true, Duration(12), 0, 1024, now));
  }
}
BENCHMARK(BM_EngineGuardedCall);

// The same through the hot region, as the Worker uses it: the state word read, the success
// written into the ring, folded in bulk when the ring is full.
void BM_EngineGuardedCallThroughRing(benchmark::State& state) {
  bindings::Engine engine(TimePoint{});
  uint32_t series = engine.series({.bucket = "bench", .prefix = "p", .user = ""});
  bindings::HotRegion& hot = engine.hot();
  int64_t t = 0;
  for (auto _ : state) {
    TimePoint now = from_epoch_ms(t += 3);
    if (hot.word != 1) benchmark::DoNotOptimize(engine.acquire(now));
    double* f = &hot.ring[static_cast<size_t>(hot.count) * bindings::kHotEventFields];
    f[0] = series;  // a get: operation 0
    f[1] = static_cast<double>(t % 200);
    f[2] = 0;
    f[3] = 1024;
    f[4] = static_cast<double>(t);
    if (++hot.count == hot.capacity) {
      engine.fold();
      engine.publish();
    }
  }
}
BENCHMARK(BM_EngineGuardedCallThroughRing);

void BM_StatusJson(benchmark::State& state) {
  bindings::Engine engine(TimePoint{});
  for (auto _ : state) {
    benchmark::DoNotOptimize(engine.call("breaker_status", "{}", TimePoint{}));
  }
}
BENCHMARK(BM_StatusJson);

}  // namespace

BENCHMARK_MAIN();
