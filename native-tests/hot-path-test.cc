// The guarded call and ingest near the wasm floor (issue #16): the latency sketch's index from
// the double's bits, the rollups' bulk ingest, the breaker's quiet successes, and the engine's
// hot region (the state word and the ring the Worker writes into), each against the plain path
// it must equal.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "core/breaker/circuit-breaker.h"
#include "core/breaker/sliding-window.h"
#include "core/metrics/latency-sketch.h"
#include "core/metrics/rollup.h"
#include "native-tests/test-clock.h"
#include "wasm-bindings/codec/breaker.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/codec/metrics.h"
#include "wasm-bindings/engine.h"

namespace r2w {
namespace {

// The index as it was computed before (frexp and floating-point steps), for comparison.
int32_t frexp_index(double v) {
  int exp = 0;
  double frac = std::frexp(v, &exp);
  double approx = static_cast<double>(exp - 1) + (2 * frac - 1);
  return static_cast<int32_t>(std::floor(approx * metrics::LatencySketch::kMultiplier));
}

TEST(HotPathSketch, IndexOfWholeMillisecondsIsUnchanged) {
  for (int ms = 1; ms <= 2'000'000; ++ms) {
    ASSERT_EQ(metrics::LatencySketch::index_of(ms), frexp_index(ms)) << ms;
  }
}

TEST(HotPathSketch, EveryValueLandsInItsBinWithinOnePercent) {
  std::mt19937_64 gen(16);
  std::uniform_real_distribution<double> exponent(
      std::log2(metrics::LatencySketch::kMinTrackableMs),
      std::log2(metrics::LatencySketch::kMaxTrackableMs));
  for (int i = 0; i < 1'000'000; ++i) {
    double v = std::exp2(exponent(gen));
    int32_t index = metrics::LatencySketch::index_of(v);
    // Bounds are computed in floating point: allow them a rounding either way.
    ASSERT_GE(v, metrics::LatencySketch::lower_bound(index) * (1 - 1e-12)) << v;
    ASSERT_LT(v, metrics::LatencySketch::lower_bound(index + 1) * (1 + 1e-12)) << v;
    double rep = metrics::LatencySketch::representative(index);
    ASSERT_LE(std::abs(rep - v) / v, metrics::LatencySketch::kRelativeAccuracy) << v;
  }
}

TEST(HotPathSketch, QuantilesOfALognormalStayWithinOnePercent) {
  std::mt19937_64 gen(7);
  std::lognormal_distribution<double> draw(3.4, 0.9);
  std::vector<double> values;
  metrics::LatencySketch s;
  for (int i = 0; i < 200'000; ++i) {
    double v = std::max(1.0, std::round(draw(gen)));
    values.push_back(v);
    ASSERT_TRUE(s.add(v).ok());
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.0, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0}) {
    double exact =
        values[static_cast<size_t>(std::floor(q * static_cast<double>(values.size() - 1)))];
    EXPECT_LE(std::abs(*s.quantile(q) - exact) / exact, 0.01) << q;
  }
}

TEST(HotPathSketch, ClearEmptiesAndKeepsWorking) {
  metrics::LatencySketch s;
  ASSERT_TRUE(s.add(12).ok());
  s.clear();
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s, metrics::LatencySketch{});
  ASSERT_TRUE(s.add(30).ok());
  EXPECT_EQ(s.count(), 1u);
  EXPECT_EQ(*s.min(), 30);
}

std::vector<metrics::OperationEvent> mixed_events(size_t n, uint32_t series, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<metrics::OperationEvent> out;
  int64_t t = 1'700'000'000'000;
  for (size_t i = 0; i < n; ++i) {
    t += static_cast<int64_t>(gen() % 900);  // crosses minutes and an hour or so
    out.push_back(metrics::OperationEvent{
        .series_id = static_cast<uint32_t>(gen() % (series + 1)),  // one id in series+1 unknown
        .operation = kAllOperations[gen() % kAllOperations.size()],
        .result = gen() % 7 == 0 ? metrics::CallResult::kError : metrics::CallResult::kOk,
        .latency = Duration(static_cast<int64_t>(gen() % 3000)),
        .bytes_up = gen() % 5000,
        .bytes_down = gen() % 70000,
        // now and then a late event, a little in the past
        .at = from_epoch_ms(gen() % 11 == 0 ? t - 70'000 : t)});
  }
  return out;
}

metrics::Aggregator aggregator_with_series(uint32_t n) {
  metrics::Aggregator a(metrics::AggregatorOptions{.batch_size = 1000});
  for (uint32_t i = 0; i < n; ++i) {
    a.intern({.bucket = i % 2 ? "b1" : "b2",
              .prefix = i == 0 ? ".r2watch" : "p",
              .user = std::to_string(i)});
  }
  return a;
}

Json rows_json(metrics::Aggregator& a) {
  auto batch = a.take_batch(from_epoch_ms(0));
  Json out = Json::object();
  out["rows"] = Json::array();
  for (const auto& r : batch.rows) out["rows"].push_back(codec::row_to_json(r));
  out["account_rows"] = Json::array();
  for (const auto& r : batch.account_rows) out["account_rows"].push_back(codec::row_to_json(r));
  return out;
}

TEST(HotPathRollup, RecordAllEqualsRecordingOneByOne) {
  for (uint32_t series : {1u, 3u, 80u}) {  // 80: more sums than are kept at once
    auto events = mixed_events(20'000, series, series);
    metrics::Aggregator one = aggregator_with_series(series);
    metrics::Aggregator bulk = aggregator_with_series(series);
    size_t known = 0;
    for (const auto& e : events) {
      known += one.record(e.series_id, e.operation, e.result == metrics::CallResult::kOk, e.latency,
                          e.bytes_up, e.bytes_down, e.at)
                   ? 1
                   : 0;
    }
    // In slices of the ring's size, as the engine folds them.
    size_t recorded = 0;
    for (size_t i = 0; i < events.size(); i += bindings::kHotRingCapacity) {
      size_t n = std::min<size_t>(bindings::kHotRingCapacity, events.size() - i);
      recorded += bulk.record_all(events.data() + i, n);
    }
    EXPECT_EQ(recorded, known);
    EXPECT_EQ(one.dirty_rows(), bulk.dirty_rows());
    EXPECT_EQ(rows_json(one), rows_json(bulk)) << series;
  }
}

breaker::CircuitBreaker closed_breaker(breaker::Options o = {}) {
  return std::move(breaker::CircuitBreaker::create(o, from_epoch_ms(0))).value();
}

TEST(HotPathBreaker, QuietSuccessesEqualRecordedOnes) {
  for (auto type : {breaker::WindowType::kTimeBased, breaker::WindowType::kCountBased}) {
    breaker::Options o{.window_type = type};
    auto one = closed_breaker(o), bulk = closed_breaker(o);
    std::vector<breaker::QuietSuccess> calls;
    int64_t t = 0;
    for (int i = 0; i < 5000; ++i) {
      t += i % 97;
      calls.push_back({.at = from_epoch_ms(t), .latency = Duration(i % 1900)});
    }
    ASSERT_TRUE(bulk.admits_quiet_successes(from_epoch_ms(10)));
    for (const auto& c : calls) one.record(c.at, {.success = true, .latency = c.latency});
    bulk.record_quiet_successes(calls.data(), calls.size());
    EXPECT_EQ(codec::snapshot_to_json(one.snapshot()), codec::snapshot_to_json(bulk.snapshot()));
    EXPECT_EQ(codec::status_to_json(one.status(from_epoch_ms(t))),
              codec::status_to_json(bulk.status(from_epoch_ms(t))));
  }
}

TEST(HotPathBreaker, AFailureOrASlowCallEndsTheQuiet) {
  auto b = closed_breaker();
  EXPECT_TRUE(b.admits_quiet_successes(from_epoch_ms(10)));
  b.record(from_epoch_ms(10), {.success = false, .latency = Duration(5)});
  EXPECT_FALSE(b.admits_quiet_successes(from_epoch_ms(10)));
  auto slow = closed_breaker();
  slow.record(from_epoch_ms(10), {.success = true, .latency = Duration(2001)});
  EXPECT_FALSE(slow.admits_quiet_successes(from_epoch_ms(10)));
  auto open = closed_breaker();
  open.force_open(from_epoch_ms(1));
  EXPECT_FALSE(open.admits_quiet_successes(from_epoch_ms(10)));
  auto off = closed_breaker();
  off.disable(from_epoch_ms(1));
  EXPECT_TRUE(off.admits_quiet_successes(from_epoch_ms(10)));
}

TEST(HotPathBreaker, AFailureThatLeftTheWindowNoLongerCounts) {
  breaker::Options o{.consecutive_failure_threshold = 0};
  auto b = closed_breaker(o);
  b.record(from_epoch_ms(1'000), {.success = false, .latency = Duration(5)});
  b.record(from_epoch_ms(2'000), {.success = true, .latency = Duration(5)});
  EXPECT_FALSE(b.admits_quiet_successes(from_epoch_ms(2'000)));
  // The default window is 300 s of 5 s buckets: the failure's bucket is gone at 305 s.
  EXPECT_FALSE(b.admits_quiet_successes(from_epoch_ms(299'999)));
  EXPECT_TRUE(b.admits_quiet_successes(from_epoch_ms(305'000)));
}

TEST(HotPathBreaker, ASlowCallAmongQuietOnesIsJudged) {
  // Minimum 2 calls, slow-call threshold 50 %: the slow one opens the breaker, as record would.
  breaker::Options o{.minimum_calls = 2, .slow_call_rate_threshold_pct = 50};
  auto one = closed_breaker(o), bulk = closed_breaker(o);
  std::vector<breaker::QuietSuccess> calls = {{.at = from_epoch_ms(1), .latency = Duration(5)},
                                              {.at = from_epoch_ms(2), .latency = Duration(2500)},
                                              {.at = from_epoch_ms(3), .latency = Duration(5)}};
  for (const auto& c : calls) one.record(c.at, {.success = true, .latency = c.latency});
  bulk.record_quiet_successes(calls.data(), calls.size());
  EXPECT_EQ(bulk.state(), breaker::State::kOpen);
  EXPECT_EQ(codec::snapshot_to_json(one.snapshot()), codec::snapshot_to_json(bulk.snapshot()));
}

// The average stepped by the caller (the engine's fold) gives what recording each call does:
// from no average and from one, with slow calls (which end the quiet) and NaN among them.
TEST(HotPathBreaker, AnAverageSteppedByTheCallerEqualsRecordedCalls) {
  for (auto type : {breaker::WindowType::kTimeBased, breaker::WindowType::kCountBased}) {
    for (int start : {0, 1}) {
      for (int slow_at : {-1, 0, 1, 2500}) {
        breaker::Options o{.window_type = type};
        auto one = closed_breaker(o), bulk = closed_breaker(o);
        if (start == 1) {
          for (auto* b : {&one, &bulk}) b->record(from_epoch_ms(5), {.latency = Duration(40)});
        }
        std::vector<double> at, latency;
        for (int i = 0; i < 5000; ++i) {
          at.push_back(static_cast<double>(10 + i * 3));
          latency.push_back(i == slow_at ? 2001 : static_cast<double>((i * 37) % 1999));
        }
        for (size_t i = 0; i < at.size(); ++i) {
          one.record(from_epoch_ms(static_cast<int64_t>(at[i])),
                     {.latency = Duration(static_cast<int64_t>(latency[i]))});
        }
        breaker::QuietAverage average = bulk.begin_quiet_average();
        for (double l : latency) average.step(l);
        bulk.record_quiet_successes(at.data(), latency.data(), at.size(), average);
        EXPECT_EQ(codec::snapshot_to_json(one.snapshot()), codec::snapshot_to_json(bulk.snapshot()))
            << start << " " << slow_at;
        EXPECT_EQ(codec::status_to_json(one.status(from_epoch_ms(20'000))),
                  codec::status_to_json(bulk.status(from_epoch_ms(20'000))));
      }
    }
  }
}

// The fold's quiet steps (QuietAverage::next while quiet_limit_ms() allows, handed back with
// took_quiet_steps) give the average `step` gives, bit for bit, and the breaker takes it: from
// no average (the first call steps alone), with a slow call (the limit is then -1: every later
// call steps alone) and with latencies at the limit.
TEST(HotPathBreaker, QuietStepsInTheCallersLoopEqualStepping) {
  for (int start : {0, 1}) {
    for (int slow_at : {-1, 3, 4000}) {
      auto one = closed_breaker(), bulk = closed_breaker();
      if (start == 1) {
        for (auto* b : {&one, &bulk}) b->record(from_epoch_ms(5), {.latency = Duration(40)});
      }
      std::vector<double> at, latency;
      for (int i = 0; i < 5000; ++i) {
        at.push_back(static_cast<double>(10 + i * 7));
        latency.push_back(i == slow_at ? 2001 : i % 500 == 0 ? 2000 : (i * 37) % 1999);
      }
      breaker::QuietAverage stepped = bulk.begin_quiet_average();
      breaker::QuietAverage fast = bulk.begin_quiet_average();
      size_t quiet = 0;
      for (double l : latency) {
        stepped.step(l);
        if (l <= fast.quiet_limit_ms()) {
          fast.took_quiet_steps(fast.next(fast.average(), l), 1);
          quiet++;
        } else {
          fast.step(l);
        }
      }
      EXPECT_EQ(stepped.average(), fast.average()) << start << " " << slow_at;
      EXPECT_EQ(quiet, slow_at < 0 ? latency.size() - (start == 0 ? 1 : 0)
                                   : static_cast<size_t>(slow_at) - (start == 0 ? 1 : 0))
          << start << " " << slow_at;
      for (size_t i = 0; i < at.size(); ++i) {
        one.record(from_epoch_ms(static_cast<int64_t>(at[i])),
                   {.latency = Duration(static_cast<int64_t>(latency[i]))});
      }
      bulk.record_quiet_successes(at.data(), latency.data(), at.size(), fast);
      EXPECT_EQ(codec::snapshot_to_json(one.snapshot()), codec::snapshot_to_json(bulk.snapshot()))
          << start << " " << slow_at;
    }
  }
}

// The window's bulk record of quiet successes (counted in a register while they land in the
// last call's bucket) equals recording each: buckets crossed, gaps longer than the window, a
// call late for a bucket already reused, the first call of all, and a count-based window.
TEST(HotPathBreaker, TheWindowsBulkRecordEqualsRecordingEach) {
  std::mt19937_64 gen(29);
  for (auto type : {breaker::WindowType::kTimeBased, breaker::WindowType::kCountBased}) {
    breaker::Options o{.window_type = type,
                       .window_size_calls = 50,
                       .monitoring_window = Duration(10'000),
                       .window_bucket = Duration(1'000)};
    breaker::SlidingWindow one(o), bulk(o);
    double t = 1.7e12;
    for (int round = 0; round < 200; ++round) {
      std::vector<double> at(1 + gen() % 300);
      for (double& a : at) {
        switch (gen() % 100) {
          case 0:
            t += 25'000;  // past the whole window
            break;
          case 1:
            a = t - 11'000;  // late: its bucket was reused since
            continue;
          default:
            t += static_cast<double>(gen() % 40);
        }
        a = t;
      }
      for (double a : at) one.record_success(from_epoch_ms(static_cast<int64_t>(a)));
      bulk.record_successes(at.data(), at.size());
      TimePoint now = from_epoch_ms(static_cast<int64_t>(t));
      ASSERT_EQ(one.totals(now).calls, bulk.totals(now).calls) << round;
    }
    auto a = one.snapshot(), b = bulk.snapshot();
    EXPECT_EQ(a.calls, b.calls);
    ASSERT_EQ(a.buckets.size(), b.buckets.size());
    for (size_t i = 0; i < a.buckets.size(); ++i) {
      EXPECT_EQ(a.buckets[i].index, b.buckets[i].index) << i;
      EXPECT_EQ(a.buckets[i].calls, b.buckets[i].calls) << i;
    }
  }
}

// An average not begun from the breaker as it is, or stepped over other calls, is not taken:
// the breaker steps its own.
TEST(HotPathBreaker, AStaleOrMismatchedAverageIsNotTaken) {
  auto one = closed_breaker(), stale = closed_breaker(), short_one = closed_breaker();
  std::vector<double> at = {10, 11, 12}, latency = {100, 200, 300};
  breaker::QuietAverage early = stale.begin_quiet_average();
  for (double l : latency) early.step(l);
  stale.record(from_epoch_ms(9), {.latency = Duration(900)});  // the average moved since
  one.record(from_epoch_ms(9), {.latency = Duration(900)});
  for (size_t i = 0; i < at.size(); ++i) {
    one.record(from_epoch_ms(static_cast<int64_t>(at[i])),
               {.latency = Duration(static_cast<int64_t>(latency[i]))});
  }
  stale.record_quiet_successes(at.data(), latency.data(), at.size(), early);
  EXPECT_EQ(codec::snapshot_to_json(one.snapshot()), codec::snapshot_to_json(stale.snapshot()));
  short_one.record(from_epoch_ms(9), {.latency = Duration(900)});
  breaker::QuietAverage two = short_one.begin_quiet_average();
  two.step(latency[0]);
  two.step(latency[1]);  // one call short
  short_one.record_quiet_successes(at.data(), latency.data(), at.size(), two);
  EXPECT_EQ(codec::snapshot_to_json(one.snapshot()), codec::snapshot_to_json(short_one.snapshot()));
}

// The sketch's bulk add (one pass, growing its bins where a value falls outside them), merge
// (one loop over the used bins) and clear (bins kept, zeroed) give what adding each value does.
TEST(HotPathSketch, BulkAddMergeAndClearEqualAddingEachValue) {
  std::mt19937_64 gen(23);
  metrics::LatencySketch bulk, merged;
  for (int round = 0; round < 40; ++round) {
    std::vector<double> values;
    size_t n = 1 + gen() % 3000;
    for (size_t i = 0; i < n; ++i) {
      switch (gen() % 6) {
        case 0:
          values.push_back(0);  // counts as zero
          break;
        case 1:
          values.push_back(2e9);  // clamped
          break;
        case 2:
          values.push_back(std::trunc(static_cast<double>(gen() % 100'000) / (1 + round)));
          break;
        default:
          values.push_back(std::trunc(std::lognormal_distribution<>(3.4, 0.9 + round * 0.05)(gen)));
      }
    }
    metrics::LatencySketch one;
    for (double v : values) one.add_checked(v);
    bulk.clear();
    bulk.add_all_checked(values.data(), values.size());
    ASSERT_TRUE(bulk == one) << round;
    ASSERT_EQ(bulk.count(), one.count());
    ASSERT_EQ(bulk.sum(), one.sum());
    ASSERT_EQ(bulk.min(), one.min());
    ASSERT_EQ(bulk.max(), one.max());
    for (double q : {0.0, 0.5, 0.99, 1.0}) ASSERT_EQ(bulk.quantile(q), one.quantile(q)) << round;
    metrics::LatencySketch all = merged;
    for (double v : values) all.add_checked(v);
    merged.merge(bulk);
    ASSERT_TRUE(merged == all) << round;
    ASSERT_EQ(merged.count(), all.count());
  }
}

// The engine's hot region, used as the Worker uses it (worker-shim/src/engine.js).
struct WorkerSide {
  bindings::Engine& e;
  bool acquire(TimePoint now) { return e.hot().word == 1 || e.acquire(now); }
  uint32_t record(uint32_t series, Operation op, bool ok, int64_t latency_ms, TimePoint now) {
    bindings::HotRegion& h = e.hot();
    if (ok && static_cast<double>(latency_ms) <= h.ring_limit_ms) {
      double* f = &h.ring[static_cast<size_t>(h.count) * bindings::kHotEventFields];
      f[0] = series + static_cast<double>(static_cast<int>(op)) * bindings::kHotOperationStride;
      f[1] = static_cast<double>(latency_ms);
      f[2] = 0;
      f[3] = 1024;
      f[4] = static_cast<double>(to_epoch_ms(now));
      if (++h.count < h.capacity) return 0;
      e.fold();
      e.publish();
      return static_cast<uint32_t>(e.breaker().pending_transitions());
    }
    return e.record(series, op, ok, Duration(latency_ms), 0, 1024, now);
  }
};

std::string call(bindings::Engine& e, std::string_view command, TimePoint now) {
  EXPECT_TRUE(e.call(command, "{}", now)) << e.output();
  return e.output();
}

TEST(HotPathEngine, BufferedCallsEqualRecordedOnesAndFailuresTripAtOnce) {
  testing::FakeClock clock;
  bindings::Engine plain(clock.now()), hot(clock.now());
  // Several series and every operation, in stretches (the ring's key holds both).
  std::vector<uint32_t> ids;
  for (const char* prefix : {"p", "q", "r"}) {
    ids.push_back(plain.series({.bucket = "b", .prefix = prefix, .user = "u"}));
    ASSERT_EQ(hot.series({.bucket = "b", .prefix = prefix, .user = "u"}), ids.back());
  }
  WorkerSide worker{hot};
  std::mt19937_64 gen(3);
  int buffered = 0;
  for (int i = 0; i < 6000; ++i) {
    clock.advance(static_cast<int64_t>(gen() % 400));
    TimePoint now = clock.now();
    bool word = hot.hot().word == 1;
    bool a = plain.acquire(now);
    ASSERT_EQ(worker.acquire(now), a) << i;
    if (!a) continue;
    // Mostly quick successes; now and then a failure or a slow call (the window is not quiet
    // for the next 5 minutes), and a burst of failures at 3000 opens the breaker.
    bool ok = !(i >= 3000 && i < 3004) && gen() % 2000 != 0;
    int64_t latency = static_cast<int64_t>(gen() % (i % 1500 == 1499 ? 3000 : 200));
    if (word && ok && latency <= 2000) buffered++;
    uint32_t s1 = ids[static_cast<size_t>(i / 41) % ids.size()];
    Operation op = *operation_from_index((i / 97) % 5);
    uint32_t p = plain.record(s1, op, ok, Duration(latency), 0, 1024, now);
    uint32_t h = worker.record(s1, op, ok, latency, now);
    // The breaker reacts on the same call either way (a buffered success never trips it).
    ASSERT_EQ(h > 0, p > 0) << i;
    if (p > 0) {
      call(plain, "breaker_take_transitions", now);
      call(hot, "breaker_take_transitions", now);
    }
  }
  EXPECT_GT(buffered, 2000);
  TimePoint now = clock.now();
  EXPECT_EQ(call(plain, "breaker_snapshot", now), call(hot, "breaker_snapshot", now));
  EXPECT_EQ(call(plain, "breaker_status", now), call(hot, "breaker_status", now));
  EXPECT_EQ(call(plain, "metrics_flush_take", now), call(hot, "metrics_flush_take", now));
}

TEST(HotPathEngine, TheWordSaysGoAheadOnlyWhenTheBreakerIsQuiet) {
  testing::FakeClock clock;
  bindings::Engine e(clock.now());
  uint32_t s = e.series({.bucket = "b", .prefix = "p", .user = ""});
  EXPECT_EQ(e.hot().word, 1);
  EXPECT_EQ(e.hot().slow_call_ms, 2000);
  e.record(s, Operation::kGet, false, Duration(3), 0, 0, clock.now());
  EXPECT_EQ(e.hot().word, 0);
  ASSERT_TRUE(e.call("breaker_command", R"({"action": "disable"})", clock.now())) << e.output();
  call(e, "breaker_take_transitions", clock.now());
  EXPECT_EQ(e.hot().word, 1);
  ASSERT_TRUE(e.call("breaker_command", R"({"action": "force_open"})", clock.now()));
  EXPECT_EQ(e.hot().word, 0);  // open, and a transition waits to be taken
  ASSERT_TRUE(e.call("breaker_command", R"({"action": "reset"})", clock.now()));
  EXPECT_EQ(e.hot().word, 0);  // closed, but the transitions wait
  call(e, "breaker_take_transitions", clock.now());
  EXPECT_EQ(e.hot().word, 1);
  ASSERT_TRUE(e.call("breaker_configure", R"({"slow_call_duration_ms": 750})", clock.now()))
      << e.output();
  EXPECT_EQ(e.hot().slow_call_ms, 750);
  EXPECT_EQ(e.hot().ring_limit_ms, 750);  // word 1: the slow-call duration
}

// The ring's limit says what the word and slow_call_ms say together, in one double: no latency
// is at most it (NaN) while the word says "ask me".
TEST(HotPathEngine, TheRingLimitIsTheWordAndTheSlowCallDurationInOne) {
  testing::FakeClock clock;
  bindings::Engine e(clock.now());
  uint32_t s = e.series({.bucket = "b", .prefix = "p", .user = ""});
  for (int round = 0; round < 3; ++round) {
    if (round == 1) e.record(s, Operation::kGet, false, Duration(3), 0, 0, clock.now());
    if (round == 2) {
      ASSERT_TRUE(e.call("breaker_command", R"({"action": "force_open"})", clock.now()));
    }
    const bindings::HotRegion& h = e.hot();
    if (h.word == 1) {
      EXPECT_EQ(h.ring_limit_ms, h.slow_call_ms) << round;
    } else {
      EXPECT_TRUE(std::isnan(h.ring_limit_ms)) << round;
      EXPECT_FALSE(0.0 <= h.ring_limit_ms);
    }
  }
  EXPECT_EQ(e.hot().word, 0);
}

TEST(HotPathEngine, FaultsAndSamplingArePublishedAsTheCoreDecides) {
  testing::FakeClock clock;
  bindings::Engine e(clock.now());
  EXPECT_EQ(e.hot().faults_active, 0);
  ASSERT_TRUE(e.call("faults_set", R"({"operation": "get", "error_rate": 0.5})", clock.now()))
      << e.output();
  EXPECT_EQ(e.hot().faults_active, 1);
  ASSERT_TRUE(e.call("faults_clear", "{}", clock.now())) << e.output();
  EXPECT_EQ(e.hot().faults_active, 0);
  // The Worker's reading of the region gives sample_weight's answer for every draw.
  for (double u : {0.0, 0.05, 0.0999, 0.1, 0.5, 0.99999}) {
    for (bool ok : {true, false}) {
      double below = ok ? e.hot().ok_sample_below : e.hot().error_sample_below;
      double weight = ok ? e.hot().ok_sample_weight : e.hot().error_sample_weight;
      EXPECT_EQ(u < below ? weight : 0.0, metrics::sample_weight(e.metrics_settings(), ok, u)) << u;
    }
  }
}

TEST(HotPathEngine, GarbageInTheRingIsDroppedNotTrusted) {
  testing::FakeClock clock;
  bindings::Engine e(clock.now());
  uint32_t s = e.series({.bucket = "b", .prefix = "p", .user = ""});
  bindings::HotRegion& h = e.hot();
  double rows[][6] = {{static_cast<double>(s), 0, 5, 0, 10, 1e12},
                      {-1, 0, 5, 0, 10, 1e12},
                      {static_cast<double>(s) + 1, 0, 5, 0, 10, 1e12},
                      {std::nan(""), 0, 5, 0, 10, 1e12},
                      {static_cast<double>(s), 9, 5, 0, 10, 1e12},
                      {static_cast<double>(s), std::nan(""), 5, 0, 10, 1e12},
                      {static_cast<double>(s), 1, std::nan(""), -4, 1e300, -1e300}};
  // Written as the Worker writes them: the series and the operation as one key (engine.h).
  for (size_t i = 0; i < 7; ++i) {
    h.ring[i * 5] = rows[i][0] + rows[i][1] * bindings::kHotOperationStride;
    for (size_t f = 2; f < 6; ++f) h.ring[i * 5 + f - 1] = rows[i][f];
  }
  h.count = 7;
  e.fold();
  EXPECT_EQ(h.count, 0);
  EXPECT_EQ(e.aggregator().dirty_rows(), 2u);  // the first (get) and the last (put)
  h.count = 1'000'000;                         // more than the ring holds: only the ring is read
  e.fold();
  h.count = -5;
  e.fold();
  EXPECT_EQ(h.count, 0);
  h.count = std::nan("");  // the count is the Worker's double: NaN reads as nothing written
  e.fold();
  EXPECT_EQ(h.count, 0);
  h.count = 0.5;  // less than one event
  e.fold();
  EXPECT_EQ(h.count, 0);
  // The first fold's get, then the whole ring replayed: its first slot and the others never
  // written (zeros: a get of series 0 at time 0, as good as any).
  EXPECT_EQ(e.counters()[0].calls, 2u + (bindings::kHotRingCapacity - 7));
}

// The fold's runs (events of one series, operation and minute that follow each other, joined
// on compares) give what recording each event does: many series and operations, minutes
// crossed, fractional, huge, negative and NaN figures, garbage between.
// The breaker's mode in a fold test: disabled (the ingest bench's), or closed as in the Worker
// (the window records each quiet success; a slow call among them is judged).
enum class FoldBreaker : uint8_t { kDisabled, kClosed };

void expect_folded_runs_equal_recording(FoldBreaker mode) {
  testing::FakeClock clock;
  bindings::Engine plain(clock.now()), hot(clock.now());
  std::vector<uint32_t> ids;
  for (const char* prefix : {"a", "b", "c"}) {
    ids.push_back(plain.series({.bucket = "b", .prefix = prefix, .user = "u"}));
    ASSERT_EQ(hot.series({.bucket = "b", .prefix = prefix, .user = "u"}), ids.back());
  }
  if (mode == FoldBreaker::kDisabled) {
    for (auto* e : {&plain, &hot}) {
      ASSERT_TRUE(e->call("breaker_command", R"({"action": "disable"})", clock.now()));
      call(*e, "breaker_take_transitions", clock.now());
    }
  }
  std::mt19937_64 gen(11);
  bindings::HotRegion& h = hot.hot();
  double t = 1.7e12 + 59'000;
  for (int round = 0; round < 20; ++round) {
    size_t n = round == 19 ? bindings::kHotRingCapacity : 1 + gen() % bindings::kHotRingCapacity;
    for (size_t i = 0; i < n; ++i) {
      // Mostly runs of one series and operation; time moves on (now and then past a minute).
      if (gen() % 50 == 0) t += static_cast<double>(gen() % 70'000);
      t += static_cast<double>(gen() % 5) + (gen() % 3 == 0 ? 0.25 : 0);
      double series = static_cast<double>(ids[(i / 37 + round) % ids.size()]);
      double op = static_cast<double>((i / 101) % 5);
      double latency = static_cast<double>(gen() % 300) + (gen() % 4 == 0 ? 0.7 : 0);
      double up = static_cast<double>(gen() % 5000), down = static_cast<double>(gen() % 100'000);
      switch (gen() % 200) {
        case 0:
          latency = -3;
          break;
        case 1:
          latency = std::nan("");
          break;
        case 2:
          up = 1e15;
          break;  // beyond what a run sums exactly in a double
        case 3:
          down = 1e300;
          break;
        case 4:
          series = -1;
          break;  // dropped
        case 5:
          op = 7;
          break;  // dropped
        case 6:
          latency = 1e17;
          break;
        case 7:
          up = down = 2e12;  // each below the run's limit, together above it: a run of its own
          break;
        case 8:
        case 9:
          down = 2.1e12 + static_cast<double>(gen() % 1000);  // large, and joins: sums stay exact
          break;
        case 10:
          series += 0.5;  // a fractional id: its whole part, as r2w_record's argument
          break;
        case 11:
          series += 4 * bindings::kHotOperationStride;  // beyond the ids: the next operation's
          break;
        default:
          break;
      }
      double* f = &h.ring[i * bindings::kHotEventFields];
      f[0] = series + op * bindings::kHotOperationStride;
      f[1] = latency, f[2] = up, f[3] = down, f[4] = t;
      // The key a series id beyond 2^32 makes reads as the next operation's (engine.h).
      if (series >= bindings::kHotOperationStride) {
        series -= bindings::kHotOperationStride * 4;
        op += 4;
      }
      auto operation = operation_from_index(static_cast<int32_t>(op));
      if (series >= 0 && operation) {
        plain.record(static_cast<uint32_t>(series), *operation, true,
                     bindings::duration_from_js(latency), bindings::count_from_js(up),
                     bindings::count_from_js(down), bindings::time_from_js(t));
      }
    }
    h.count = static_cast<double>(n);
    hot.fold();
  }
  TimePoint now = bindings::time_from_js(t);
  for (size_t op = 0; op < plain.counters().size(); ++op) {
    EXPECT_EQ(plain.counters()[op].calls, hot.counters()[op].calls) << op;
    EXPECT_EQ(plain.counters()[op].bytes, hot.counters()[op].bytes) << op;
    EXPECT_EQ(plain.counters()[op].latency_sum_ms, hot.counters()[op].latency_sum_ms) << op;
  }
  EXPECT_EQ(call(plain, "breaker_snapshot", now), call(hot, "breaker_snapshot", now));
  EXPECT_EQ(call(plain, "breaker_status", now), call(hot, "breaker_status", now));
  for (int batch = 0; batch < 100 && plain.aggregator().dirty_rows() > 0; ++batch) {
    std::string a = call(plain, "metrics_flush_take", now);
    ASSERT_EQ(a, call(hot, "metrics_flush_take", now)) << batch;
    auto token = Json::parse(a)["token"];
    std::string confirm = R"({"token": )" + token.dump() + "}";
    ASSERT_TRUE(plain.call("metrics_flush_confirm", confirm, now)) << plain.output();
    ASSERT_TRUE(hot.call("metrics_flush_confirm", confirm, now)) << hot.output();
  }
  EXPECT_EQ(plain.aggregator().dirty_rows(), 0u);
  EXPECT_EQ(hot.aggregator().dirty_rows(), 0u);
}

TEST(HotPathEngine, FoldedRunsEqualRecordingEachEvent) {
  expect_folded_runs_equal_recording(FoldBreaker::kDisabled);
}

TEST(HotPathEngine, FoldedRunsEqualRecordingEachEventWithTheBreakerClosed) {
  expect_folded_runs_equal_recording(FoldBreaker::kClosed);
}

// Goal 2 of issue #16: ingest through the ring (the Worker's path: whole milliseconds, folded
// in runs) keeps every quantile within 1% of the exact one, for random and adversarial
// latencies alike.
TEST(HotPathEngine, QuantilesThroughTheRingStayWithinOnePercent) {
  using Draw = std::function<double(std::mt19937_64&, size_t)>;
  std::vector<std::pair<const char*, Draw>> cases = {
      {"lognormal", [](auto& g, size_t) { return std::lognormal_distribution<>(3.4, 0.9)(g); }},
      {"pareto tail",
       [](auto& g, size_t) {
         return 2.0 / std::pow(std::uniform_real_distribution<>(1e-9, 1)(g), 1 / 1.2);
       }},
      {"bimodal 3 ms and 40 s",
       [](auto& g, size_t) { return g() % 10 == 0 ? 40'000.0 + g() % 5000 : 3.0 + g() % 3; }},
      {"on powers of two (bin edges)",
       [](auto& g, size_t) { return std::ldexp(1.0, static_cast<int>(g() % 30)); }},
      {"falling, then one huge", [](auto&, size_t i) { return i == 77 ? 5e12 : 1e6 / (1 + i); }},
      {"mostly zero (sub-ms)", [](auto& g, size_t) { return g() % 4 ? 0.4 : 1.0 + g() % 900; }},
      {"all equal", [](auto&, size_t) { return 250.0; }},
  };
  for (const auto& [name, draw] : cases) {
    testing::FakeClock clock;
    bindings::Engine e(clock.now());
    uint32_t s = e.series({.bucket = "b", .prefix = "p", .user = ""});
    bindings::HotRegion& h = e.hot();
    std::mt19937_64 gen(17);
    std::vector<double> exact;
    const double at = 1.7e12 + 1000;  // one minute
    for (size_t i = 0; i < 20'000; ++i) {
      double v = draw(gen, i);
      double* f = &h.ring[static_cast<size_t>(h.count) * bindings::kHotEventFields];
      f[0] = s, f[1] = v, f[2] = 0, f[3] = 0, f[4] = at;
      exact.push_back(std::min(std::trunc(v), metrics::LatencySketch::kMaxTrackableMs));
      if (++h.count == h.capacity) e.fold();
    }
    e.fold();
    auto batch = e.aggregator().take_batch(bindings::time_from_js(at));
    ASSERT_EQ(batch.rows.size(), 1u) << name;
    const metrics::LatencySketch& sketch = batch.rows[0].figures.latency;
    ASSERT_EQ(sketch.count(), exact.size()) << name;
    std::sort(exact.begin(), exact.end());
    for (double q : {0.5, 0.9, 0.95, 0.99, 0.999}) {
      double want =
          exact[static_cast<size_t>(std::floor(q * static_cast<double>(exact.size() - 1)))];
      double got = *sketch.quantile(q);
      if (want < metrics::LatencySketch::kMinTrackableMs) {
        EXPECT_EQ(got, 0) << name << " q=" << q;
      } else {
        EXPECT_LE(std::abs(got - want), 0.01 * want) << name << " q=" << q << " exact " << want;
      }
    }
  }
}

}  // namespace
}  // namespace r2w
