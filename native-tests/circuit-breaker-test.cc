#include "core/breaker/circuit-breaker.h"

#include <gtest/gtest.h>

#include "native-tests/test-clock.h"

namespace r2w::breaker {
namespace {

using testing::FakeClock;

// A count-based breaker with round numbers, so each threshold is easy to reach exactly.
Options counting(Options o = {}) {
  o.window_type = WindowType::kCountBased;
  return o;
}

class BreakerTest : public ::testing::Test {
 protected:
  CircuitBreaker make(const Options& o) {
    auto r = CircuitBreaker::create(o, clock.now());
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return std::move(r).value();
  }
  // One permitted call with the given outcome; fails the test if it is refused.
  void call(CircuitBreaker& b, bool success, int64_t latency_ms = 10) {
    ASSERT_TRUE(b.try_acquire(clock.now()).permitted) << state_name(b.state());
    b.record(clock.now(), CallOutcome{.success = success, .latency = Duration(latency_ms)});
  }
  void calls(CircuitBreaker& b, int n, bool success, int64_t latency_ms = 10) {
    for (int i = 0; i < n; ++i) call(b, success, latency_ms);
  }
  CircuitBreaker open_breaker(const Options& o) {
    CircuitBreaker b = make(o);
    calls(b, static_cast<int>(o.consecutive_failure_threshold), false);
    EXPECT_EQ(b.state(), State::kOpen);
    b.take_transitions();
    return b;
  }

  FakeClock clock;
};

TEST_F(BreakerTest, StartsClosedAndLetsCallsThrough) {
  CircuitBreaker b = make(Options{});
  EXPECT_EQ(b.state(), State::kClosed);
  calls(b, 50, true);
  EXPECT_EQ(b.state(), State::kClosed);
  EXPECT_TRUE(b.take_transitions().empty());
}

TEST_F(BreakerTest, RefusesInvalidOptionsAtCreation) {
  auto r = CircuitBreaker::create(Options{.permitted_calls_in_half_open = 0}, clock.now());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "permitted_calls_in_half_open");
}

TEST_F(BreakerTest, FailureRateJustBelowThresholdStaysClosed) {
  CircuitBreaker b = make(counting({.window_size_calls = 10,
                                    .minimum_calls = 10,
                                    .failure_rate_threshold_pct = 50,
                                    .consecutive_failure_threshold = 0}));
  // 4 failures in 10 calls: 40% < 50%.
  for (int i = 0; i < 10; ++i) call(b, i % 5 == 0 || i % 5 == 2 ? false : true);
  EXPECT_EQ(b.state(), State::kClosed);
  EXPECT_DOUBLE_EQ(*b.status(clock.now()).figures.failure_rate_pct, 40.0);
}

TEST_F(BreakerTest, FailureRateAtThresholdOpens) {
  CircuitBreaker b = make(counting({.window_size_calls = 10,
                                    .minimum_calls = 10,
                                    .failure_rate_threshold_pct = 50,
                                    .consecutive_failure_threshold = 0}));
  for (int i = 0; i < 9; ++i) call(b, i % 2 == 0);  // 4 failures in 9 calls
  EXPECT_EQ(b.state(), State::kClosed);
  call(b, false);  // 5 of 10 = 50%
  EXPECT_EQ(b.state(), State::kOpen);
  auto t = b.take_transitions();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].from, State::kClosed);
  EXPECT_EQ(t[0].to, State::kOpen);
  EXPECT_EQ(t[0].reason, Reason::kFailureRate);
  EXPECT_EQ(t[0].at, clock.now());
  EXPECT_EQ(t[0].figures.calls, 10u);
  EXPECT_EQ(t[0].figures.failures, 5u);
  EXPECT_DOUBLE_EQ(*t[0].figures.failure_rate_pct, 50.0);
}

TEST_F(BreakerTest, RatesAreNotJudgedBelowMinimumCalls) {
  CircuitBreaker b = make(
      counting({.window_size_calls = 10, .minimum_calls = 5, .consecutive_failure_threshold = 0}));
  calls(b, 4, false);  // 100% failures, but only 4 calls
  EXPECT_EQ(b.state(), State::kClosed);
  EXPECT_FALSE(b.status(clock.now()).figures.failure_rate_pct.has_value());
  call(b, false);
  EXPECT_EQ(b.state(), State::kOpen);
}

TEST_F(BreakerTest, SlowCallDurationIsExclusive) {
  CircuitBreaker b = make(counting({.window_size_calls = 2,
                                    .minimum_calls = 2,
                                    .slow_call_duration = Duration(2'000),
                                    .slow_call_rate_threshold_pct = 100}));
  call(b, true, 2'000);  // exactly the threshold: not slow
  call(b, true, 2'001);
  EXPECT_EQ(b.state(), State::kClosed);
  EXPECT_EQ(b.status(clock.now()).figures.slow_calls, 1u);
  call(b, true, 2'001);  // window now holds two slow calls: 100%
  EXPECT_EQ(b.state(), State::kOpen);
  EXPECT_EQ(b.take_transitions().back().reason, Reason::kSlowCallRate);
}

TEST_F(BreakerTest, SlowCallRateBothSidesOfThreshold) {
  CircuitBreaker b = make(
      counting({.window_size_calls = 4, .minimum_calls = 4, .slow_call_rate_threshold_pct = 75}));
  call(b, true, 10);
  call(b, true, 10);
  call(b, true, 5'000);
  call(b, true, 5'000);  // 2 of 4 slow: 50%
  EXPECT_EQ(b.state(), State::kClosed);
  call(b, true, 5'000);  // the oldest fast call leaves: 3 of 4 slow, 75%
  EXPECT_EQ(b.state(), State::kOpen);
}

TEST_F(BreakerTest, ConsecutiveFailuresOpenBeforeMinimumCalls) {
  CircuitBreaker b = make(Options{});  // default: 3 in a row, minimum 10 calls
  calls(b, 2, false);
  EXPECT_EQ(b.state(), State::kClosed);
  call(b, true);  // a success breaks the run
  calls(b, 2, false);
  EXPECT_EQ(b.state(), State::kClosed);
  EXPECT_EQ(b.status(clock.now()).figures.consecutive_failures, 2u);
  call(b, false);
  EXPECT_EQ(b.state(), State::kOpen);
  EXPECT_EQ(b.take_transitions().back().reason, Reason::kConsecutiveFailures);
}

TEST_F(BreakerTest, ZeroConsecutiveThresholdTurnsTheRuleOff) {
  CircuitBreaker b = make(Options{.minimum_calls = 100, .consecutive_failure_threshold = 0});
  calls(b, 50, false);
  EXPECT_EQ(b.state(), State::kClosed);
}

TEST_F(BreakerTest, OpenRefusesUntilTheWaitHasPassed) {
  CircuitBreaker b = open_breaker(Options{.wait_in_open = Duration(10'000)});
  Permission p = b.try_acquire(clock.now());
  EXPECT_FALSE(p.permitted);
  EXPECT_EQ(p.retry_after, Duration(10'000));
  clock.advance(9'999);
  p = b.try_acquire(clock.now());
  EXPECT_FALSE(p.permitted);
  EXPECT_EQ(p.retry_after, Duration(1));
  EXPECT_EQ(b.state(), State::kOpen);
  clock.advance(1);
  EXPECT_TRUE(b.try_acquire(clock.now()).permitted);
  EXPECT_EQ(b.state(), State::kHalfOpen);
  auto t = b.take_transitions();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].reason, Reason::kWaitElapsed);
  EXPECT_EQ(b.status(clock.now()).totals.not_permitted, 2u);
}

TEST_F(BreakerTest, StatusCountsDownTheWaitInOpen) {
  CircuitBreaker b = open_breaker(Options{.wait_in_open = Duration(10'000)});
  clock.advance(4'000);
  EXPECT_EQ(b.status(clock.now()).retry_after, Duration(6'000));
  clock.advance(60'000);
  EXPECT_EQ(b.status(clock.now()).retry_after, Duration(0));
}

TEST_F(BreakerTest, HalfOpenPermitsOnlyTheTrialCalls) {
  CircuitBreaker b = open_breaker(Options{.permitted_calls_in_half_open = 2});
  clock.advance(60'000);
  EXPECT_TRUE(b.try_acquire(clock.now()).permitted);
  EXPECT_TRUE(b.try_acquire(clock.now()).permitted);
  Permission third = b.try_acquire(clock.now());
  EXPECT_FALSE(third.permitted);
  EXPECT_EQ(third.retry_after, Duration(30'000));  // HALF_OPEN decides by its time limit
  EXPECT_EQ(b.status(clock.now()).half_open_trials_in_flight, 2u);
}

TEST_F(BreakerTest, SuccessfulTrialsClose) {
  CircuitBreaker b = open_breaker(Options{.permitted_calls_in_half_open = 2});
  clock.advance(60'000);
  call(b, true);
  EXPECT_EQ(b.state(), State::kHalfOpen);
  call(b, true);
  EXPECT_EQ(b.state(), State::kClosed);
  auto t = b.take_transitions();
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[1].from, State::kHalfOpen);
  EXPECT_EQ(t[1].reason, Reason::kTrialsSucceeded);
  // The window starts afresh: the failures that opened the breaker are gone.
  EXPECT_EQ(b.status(clock.now()).figures.calls, 0u);
}

TEST_F(BreakerTest, TrialFailureRateAtThresholdReopens) {
  CircuitBreaker b =
      open_breaker(Options{.failure_rate_threshold_pct = 50, .permitted_calls_in_half_open = 2});
  clock.advance(60'000);
  call(b, true);
  call(b, false);  // 1 of 2 = 50%
  EXPECT_EQ(b.state(), State::kOpen);
  EXPECT_EQ(b.take_transitions().back().reason, Reason::kTrialsFailed);
  EXPECT_FALSE(b.try_acquire(clock.now()).permitted);  // a fresh wait began
}

TEST_F(BreakerTest, TrialFailureRateBelowThresholdCloses) {
  CircuitBreaker b =
      open_breaker(Options{.failure_rate_threshold_pct = 50, .permitted_calls_in_half_open = 3});
  clock.advance(60'000);
  call(b, true);
  call(b, false);
  call(b, true);  // 1 of 3 = 33%
  EXPECT_EQ(b.state(), State::kClosed);
}

TEST_F(BreakerTest, SlowTrialReopens) {
  CircuitBreaker b = open_breaker(Options{});
  clock.advance(60'000);
  call(b, true, 2'001);  // one trial, slow: 100% slow
  EXPECT_EQ(b.state(), State::kOpen);
}

TEST_F(BreakerTest, HalfOpenTimesOutBackToOpen) {
  CircuitBreaker b = open_breaker(Options{.max_wait_in_half_open = Duration(5'000)});
  clock.advance(60'000);
  ASSERT_TRUE(b.try_acquire(clock.now()).permitted);  // a trial that never reports back
  b.take_transitions();
  clock.advance(4'999);
  EXPECT_FALSE(b.try_acquire(clock.now()).permitted);
  EXPECT_EQ(b.state(), State::kHalfOpen);
  clock.advance(1);
  EXPECT_FALSE(b.try_acquire(clock.now()).permitted);
  EXPECT_EQ(b.state(), State::kOpen);
  EXPECT_EQ(b.take_transitions().back().reason, Reason::kHalfOpenTimeout);
}

TEST_F(BreakerTest, ReleasedTrialPermitCanBeReissued) {
  CircuitBreaker b = open_breaker(Options{});
  clock.advance(60'000);
  ASSERT_TRUE(b.try_acquire(clock.now()).permitted);
  EXPECT_FALSE(b.try_acquire(clock.now()).permitted);
  b.release();
  EXPECT_TRUE(b.try_acquire(clock.now()).permitted);
}

TEST_F(BreakerTest, LateResultWhileOpenDoesNotChangeState) {
  CircuitBreaker b = open_breaker(Options{});
  b.record(clock.now(), CallOutcome{.success = true, .latency = Duration(5)});
  EXPECT_EQ(b.state(), State::kOpen);
  EXPECT_TRUE(b.take_transitions().empty());
}

TEST_F(BreakerTest, ForcedOpenRefusesEvenAfterTheWait) {
  CircuitBreaker b = make(Options{});
  b.force_open(clock.now());
  clock.advance(10 * 60'000);
  Permission p = b.try_acquire(clock.now());
  EXPECT_FALSE(p.permitted);
  EXPECT_EQ(p.retry_after, Duration(60'000));
  EXPECT_EQ(b.state(), State::kForcedOpen);
  auto t = b.take_transitions();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].reason, Reason::kForcedOpen);
}

TEST_F(BreakerTest, DisabledLetsEverythingThroughAndNeverOpens) {
  CircuitBreaker b = make(Options{});
  b.disable(clock.now());
  calls(b, 20, false);
  EXPECT_EQ(b.state(), State::kDisabled);
  EXPECT_EQ(b.status(clock.now()).totals.failures, 20u);
}

TEST_F(BreakerTest, ResetClosesAndForgets) {
  CircuitBreaker b = open_breaker(Options{});
  b.reset(clock.now());
  EXPECT_EQ(b.state(), State::kClosed);
  Status s = b.status(clock.now());
  EXPECT_EQ(s.figures.calls, 0u);
  EXPECT_EQ(s.totals.calls, 0u);
  EXPECT_EQ(b.take_transitions().back().reason, Reason::kReset);
  call(b, true);
}

TEST_F(BreakerTest, TimeWindowForgetsOldFailures) {
  CircuitBreaker b = make(Options{.monitoring_window = Duration(60'000),
                                  .window_bucket = Duration(1'000),
                                  .minimum_calls = 4,
                                  .consecutive_failure_threshold = 0});
  calls(b, 3, false);     // 3 failures, not judged yet (minimum 4)
  clock.advance(60'000);  // they leave the window
  call(b, false);
  EXPECT_EQ(b.state(), State::kClosed);
  EXPECT_EQ(b.status(clock.now()).figures.calls, 1u);
}

TEST_F(BreakerTest, EmaOfResponseTime) {
  CircuitBreaker b = make(Options{.ema_alpha = 0.5});
  EXPECT_FALSE(b.status(clock.now()).figures.ema_response_ms.has_value());
  call(b, true, 100);
  EXPECT_DOUBLE_EQ(*b.status(clock.now()).figures.ema_response_ms, 100.0);
  call(b, true, 200);
  EXPECT_DOUBLE_EQ(*b.status(clock.now()).figures.ema_response_ms, 150.0);
  call(b, true, 50);
  EXPECT_DOUBLE_EQ(*b.status(clock.now()).figures.ema_response_ms, 100.0);
}

TEST_F(BreakerTest, ReconfigureAppliesAtOnceAndKeepsASameShapedWindow) {
  CircuitBreaker b = make(
      counting({.window_size_calls = 10, .minimum_calls = 10, .consecutive_failure_threshold = 0}));
  for (int i = 0; i < 10; ++i) call(b, i < 3 ? false : true);  // 30%
  EXPECT_EQ(b.state(), State::kClosed);
  Options stricter = b.options();
  stricter.failure_rate_threshold_pct = 30;
  b.reconfigure(stricter, clock.now());
  EXPECT_EQ(b.state(), State::kOpen);
  Options reshaped = stricter;
  reshaped.window_size_calls = 20;
  b.reconfigure(reshaped, clock.now());
  EXPECT_EQ(b.status(clock.now()).figures.calls, 0u);
}

TEST_F(BreakerTest, SnapshotRoundTripKeepsStateTimingAndWindow) {
  Options o{.wait_in_open = Duration(10'000)};
  CircuitBreaker b = make(o);
  calls(b, 4, true, 120);
  calls(b, 3, false);
  ASSERT_EQ(b.state(), State::kOpen);
  clock.advance(4'000);
  auto restored = CircuitBreaker::restore(o, b.snapshot());
  ASSERT_TRUE(restored.ok()) << restored.error().message;
  CircuitBreaker r = std::move(restored).value();
  EXPECT_EQ(r.snapshot(), b.snapshot());
  EXPECT_EQ(status_to_json(r.status(clock.now())), status_to_json(b.status(clock.now())));
  EXPECT_EQ(r.status(clock.now()).retry_after, Duration(6'000));
  clock.advance(6'000);
  EXPECT_TRUE(r.try_acquire(clock.now()).permitted);
  EXPECT_EQ(r.state(), State::kHalfOpen);
}

TEST_F(BreakerTest, RestoreDropsTrialsThatWereInFlight) {
  CircuitBreaker b = open_breaker(Options{});
  clock.advance(60'000);
  ASSERT_TRUE(b.try_acquire(clock.now()).permitted);
  auto r = CircuitBreaker::restore(Options{}, b.snapshot());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().state(), State::kHalfOpen);
  EXPECT_TRUE(r.value().try_acquire(clock.now()).permitted);
}

TEST_F(BreakerTest, RestoreWithAReshapedWindowKeepsTheState) {
  CircuitBreaker b = open_breaker(Options{});
  auto r = CircuitBreaker::restore(counting({.window_size_calls = 50}), b.snapshot());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().state(), State::kOpen);
  EXPECT_EQ(r.value().status(clock.now()).figures.calls, 0u);
}

TEST_F(BreakerTest, RestoreRefusesABadSnapshotNamingTheField) {
  CircuitBreaker b = make(Options{});
  r2w::Json snap = b.snapshot();
  snap["schema_version"] = 2;
  EXPECT_EQ(CircuitBreaker::restore(Options{}, snap).error().field, "schema_version");
  snap = b.snapshot();
  snap["state"] = "ajar";
  EXPECT_EQ(CircuitBreaker::restore(Options{}, snap).error().field, "state");
  snap = b.snapshot();
  snap["totals"]["calls"] = -3;
  EXPECT_EQ(CircuitBreaker::restore(Options{}, snap).error().field, "totals.calls");
  snap = b.snapshot();
  snap.erase("since_ms");
  EXPECT_EQ(CircuitBreaker::restore(Options{}, snap).error().field, "since_ms");
  EXPECT_EQ(CircuitBreaker::restore(Options{}, r2w::Json::array()).error().code,
            "invalid_snapshot");
}

TEST(BreakerNames, StatesAndReasonsHaveStableNames) {
  EXPECT_EQ(state_name(State::kHalfOpen), "half_open");
  EXPECT_EQ(state_name(State::kForcedOpen), "forced_open");
  EXPECT_EQ(parse_state("disabled"), State::kDisabled);
  EXPECT_FALSE(parse_state("ajar").has_value());
  EXPECT_EQ(reason_name(Reason::kConsecutiveFailures), "consecutive_failures");
}

}  // namespace
}  // namespace r2w::breaker
