#include "wasm-bindings/engine.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

namespace r2w::bindings {

namespace {
constexpr double kMaxDateMs = 8.64e15;
constexpr double kMaxExact = 9007199254740992.0;  // 2^53

uint64_t bits_of(double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  return bits;
}
// The bits of 2^40: byte counts below it join a run (two of them sum below kRunBytesLimit).
constexpr uint64_t kBytesBound = uint64_t{1023 + 40} << 52;

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
  hot_.ring_limit_ms = go_ahead ? hot_.slow_call_ms : std::numeric_limits<double>::quiet_NaN();
  hot_.faults_active = faults_.active() ? 1 : 0;
  hot_.ok_sample_below = metrics_settings_.success_sampling_rate;
  hot_.ok_sample_weight = metrics::sample_weight(metrics_settings_, true, 0);
  hot_.error_sample_below = metrics_settings_.error_sampling_rate;
  hot_.error_sample_weight = metrics::sample_weight(metrics_settings_, false, 0);
  hot_.capacity = static_cast<int32_t>(kHotRingCapacity);
  hot_.fields = static_cast<int32_t>(kHotEventFields);
}

void Engine::fold() {
  // The count is the Worker's double: NaN, negative or fractional is read as what it holds
  // whole, at most the ring.
  const double written = hot_.count;
  hot_.count = 0;
  if (!(written >= 1)) return;
  constexpr double kRing = static_cast<double>(kHotRingCapacity);
  size_t n = written < kRing ? static_cast<size_t>(written) : kHotRingCapacity;
  if (fold_latencies_.size() < kHotRingCapacity) {
    fold_latencies_.resize(kHotRingCapacity);
    fold_times_.resize(kHotRingCapacity);
  }
  // One pass over the ring: events of one series, operation and minute that follow each other
  // make a run (most do: a run is checked once, each further event by a few compares), whose
  // bytes are summed and latencies added to its rollup's sketch as they are read, and whose
  // latencies and times go into columns for the breaker. An event of an unknown series or
  // operation is dropped; one whose figures leave the plain ranges (a negative, out-of-range or
  // NaN value the conversions clamp) starts a run of its own, and so does one whose sketch bin
  // is not held yet (the sketch grows to it).
  constexpr double kMinuteMs = 60'000;
  // Bytes up and down together below this per event keep a run's sums (at most
  // kHotRingCapacity events) below 2^53.
  constexpr double kRunBytesLimit = 9007199254740992.0 / kHotRingCapacity;  // 2^53 / ring
  constexpr double kMaxLatencyMs = 9007199254740992.0;                      // 2^53
  double* latencies = fold_latencies_.data();
  // The times as doubles (whole epoch ms within the Date range, so exact): converted to integers
  // only where a consumer needs them (not per event in the loop below).
  double* times = fold_times_.data();
  const double known_series = static_cast<double>(aggregator_.series_count());
  size_t k = 0, run_begin = 0;
  double run_key = -1, run_lo = 0, run_hi = 0;  // run_hi <= run_lo: no run
  metrics::Figures* figures = nullptr;          // the run's rollup figures
  // The run's sketch, added to in the loop (a placeholder's until the first run).
  metrics::LatencySketch no_sketch;
  metrics::LatencySketch::Appender sketch(no_sketch);
  double up = 0, down = 0, latency_sum = 0;
  double latest_ms = static_cast<double>(to_epoch_ms(latest_));
  OperationCounters* counter = nullptr;
  // The breaker's average of these successes, stepped in this loop (its multiply-add chain
  // overlaps the loop's other work) and handed to the breaker after it.
  breaker::QuietAverage average = breaker_.begin_quiet_average();
  auto close_run = [&] {
    if (k == run_begin) return;
    size_t count = k - run_begin;
    uint64_t bytes_up = static_cast<uint64_t>(up), bytes_down = static_cast<uint64_t>(down);
    sketch.finish();
    figures->calls += count;
    figures->bytes_up += bytes_up;
    figures->bytes_down += bytes_down;
    counter->calls += count;
    counter->bytes += bytes_up + bytes_down;
    counter->latency_sum_ms = latency_sum;
    run_begin = k;
  };
  size_t i = 0;
  while (i < n) {
    {
      // Events that join the run: compares only, and no call in this loop (its figures stay
      // in registers). While the breaker's average takes quiet steps (QuietAverage), a joining
      // latency is at most the slow-call duration, so the average's step is one multiply-add
      // on the chain (no flag, no choice); else the limit is -1 and each event steps alone.
      const double key = run_key, lo = run_lo;
      // Bits below these: a latency at most the quiet limit (none when it is -1), a time within
      // the run's minute (none when the run takes no more events).
      const double quiet_limit = average.quiet_limit_ms();
      const uint64_t latency_bound = quiet_limit >= 0 ? bits_of(quiet_limit) + 1 : 0;
      const uint64_t minute_bound = run_hi > run_lo ? bits_of(run_hi - run_lo) : 0;
      double up_sum = up, down_sum = down, sum = latency_sum;
      double latest_seen = latest_ms;
      double avg = average.average();
      metrics::LatencySketch::Appender bins = sketch;
      size_t next = k;
      for (; i < n; ++i) {
        const double* f = &hot_.ring[i * kHotEventFields];
        const double latency = f[1], u = f[2], d = f[3], t = f[4];
        // The checks as unsigned compares of the doubles' bits (for doubles not negative, the
        // bits' order is the values' order; a negative one's sign bit, and NaN's exponent, make
        // its bits larger than any bound below): the latency at most the quiet limit, both
        // byte counts below 2^40 (so their sum below the run's limit; the two bit patterns
        // or-ed are at least either), and the time in the run's minute. One branch.
        const uint64_t latency_bits = bits_of(latency);
        const uint64_t bytes_bits = bits_of(u) | bits_of(d);
        const uint64_t into_minute_bits = bits_of(t - lo);
        if (!((f[0] == key) & (latency_bits < latency_bound) & (bytes_bits < kBytesBound) &
              (into_minute_bits < minute_bound))) {
          break;
        }
        double whole = std::trunc(latency);
        if (!bins.add(whole)) break;  // (nothing added: the event starts a run below)
        double when = std::trunc(t);
        latencies[next] = whole;
        times[next] = when;
        latest_seen = when > latest_seen ? when : latest_seen;
        up_sum += std::trunc(u);
        down_sum += std::trunc(d);
        sum += whole;
        avg = average.next(avg, whole);
        next++;
      }
      if (next > k) average.took_quiet_steps(avg, next - k);
      sketch = bins;
      up = up_sum;
      down = down_sum;
      latency_sum = sum;
      latest_ms = latest_seen;
      k = next;
    }
    if (i == n) break;
    const double* f = &hot_.ring[i * kHotEventFields];
    const double latency = f[1], u = f[2], d = f[3], t = f[4];
    ++i;
    close_run();
    // The key read back (engine.h): NaN, negative or beyond the operations is no operation.
    const double op_index = std::floor(f[0] * (1 / kHotOperationStride));
    const double series = f[0] - op_index * kHotOperationStride;
    std::optional<Operation> op = op_index >= 0 && op_index < 16
                                      ? operation_from_index(static_cast<int32_t>(op_index))
                                      : std::nullopt;
    if (!op || !(series >= 0 && series < known_series)) {
      run_hi = run_lo;
      continue;
    }
    TimePoint at = time_from_js(t);
    int64_t minute = to_epoch_ms(metrics::period_start(metrics::Level::kMinute, at));
    const uint32_t series_id = static_cast<uint32_t>(series);
    figures = aggregator_.run_figures(series_id, *op, at);  // a known series: never null
    // Later events join on the same key, so a fractional series id (read as its whole part
    // here) joins only with itself.
    run_key = f[0];
    run_lo = static_cast<double>(minute);
    // Later events join on compares only where this one's figures were plain (no clamping).
    bool plain = minute >= 0 && static_cast<double>(minute) + kMinuteMs <= kMaxDateMs && t == t &&
                 latency >= 0 && latency <= kMaxLatencyMs && u >= 0 && d >= 0 &&
                 u + d < kRunBytesLimit;
    run_hi = plain ? run_lo + kMinuteMs : run_lo;
    counter = &counters_[static_cast<size_t>(*op)];
    latency_sum = counter->latency_sum_ms;
    double whole = static_cast<double>(duration_from_js(latency).count());
    sketch = metrics::LatencySketch::Appender(figures->latency);
    if (!sketch.add(whole)) {
      figures->latency.add_checked(whole);
      sketch = metrics::LatencySketch::Appender(figures->latency);
    }
    latencies[k] = whole;
    times[k] = static_cast<double>(to_epoch_ms(at));
    latest_ms = std::max(latest_ms, times[k]);
    up = static_cast<double>(count_from_js(u));
    down = static_cast<double>(count_from_js(d));
    latency_sum += whole;
    average.step(whole);
    k++;
  }
  close_run();
  aggregator_.end_runs();
  saw(from_epoch_ms(static_cast<int64_t>(latest_ms)));
  if (sync_) {
    for (size_t j = 0; j < k; ++j) {
      sync_->note_call(
          from_epoch_ms(static_cast<int64_t>(times[j])),
          breaker::CallOutcome{.success = true,
                               .latency = Duration(static_cast<int64_t>(latencies[j]))},
          breaker_.options().slow_call_duration);
    }
  }
  breaker_.record_quiet_successes(times, latencies, k, average);
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
