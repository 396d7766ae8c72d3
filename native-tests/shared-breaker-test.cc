#include "core/breaker/shared-breaker.h"

#include <gtest/gtest.h>

#include "native-tests/test-clock.h"

namespace r2w::breaker {
namespace {

using testing::FakeClock;

class SharedBreakerTest : public ::testing::Test {
 protected:
  CircuitBreaker local(const Options& o = {}) {
    auto r = CircuitBreaker::create(o, clock.now());
    EXPECT_TRUE(r.ok());
    return std::move(r).value();
  }
  SharedBreaker shared(const Options& o = {}) {
    auto r = SharedBreaker::create(o, clock.now());
    EXPECT_TRUE(r.ok());
    return std::move(r).value();
  }
  // Three failed calls: the default consecutive-failure rule opens a local breaker.
  void fail_three(CircuitBreaker& b, IsolateSync* sync = nullptr) {
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(b.try_acquire(clock.now()).permitted);
      CallOutcome o{.success = false, .latency = Duration(5)};
      b.record(clock.now(), o);
      if (sync) sync->note_call(clock.now(), o, b.options().slow_call_duration);
    }
  }
  FakeClock clock;
};

TEST_F(SharedBreakerTest, PolicyRefreshIntervalIsAtMostOneSecond) {
  EXPECT_FALSE(SyncPolicy{}.validate());
  EXPECT_LE(SyncPolicy{}.refresh_interval, kMaxRefreshInterval);
  auto e = SyncPolicy{.refresh_interval = Duration(1'001)}.validate();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "refresh_interval_ms");
  e = SyncPolicy{.refresh_interval = Duration(500), .retry_after_failure = Duration(100)}
          .validate();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "retry_after_failure_ms");
  e = SyncPolicy{.max_pending_runs = 0}.validate();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "max_pending_runs");
}

TEST_F(SharedBreakerTest, NewSharedBreakerStartsItsGenerationAtItsCreationTime) {
  SharedBreaker s = shared();
  EXPECT_EQ(s.generation(), static_cast<uint64_t>(to_epoch_ms(clock.now())));
  SharedState st = s.state(clock.now());
  EXPECT_EQ(st.state, State::kClosed);
}

TEST_F(SharedBreakerTest, AnIsolateWhoseBreakerOpenedOpensTheSharedOneFromTheSameMoment) {
  SharedBreaker s = shared();
  uint64_t g0 = s.generation();
  CircuitBreaker a = local();
  IsolateSync sync_a;
  clock.advance(1'000);
  fail_three(a, &sync_a);
  ASSERT_EQ(a.state(), State::kOpen);
  TimePoint opened = a.since();
  clock.advance(40);  // the report arrives a little later
  SharedState st = s.apply(sync_a.take_report(a, clock.now()), clock.now());
  EXPECT_EQ(st.state, State::kOpen);
  EXPECT_EQ(st.since, opened);
  EXPECT_GT(st.generation, g0);
  auto transitions = s.breaker().take_transitions();
  ASSERT_FALSE(transitions.empty());
  EXPECT_EQ(transitions.back().to, State::kOpen);
}

TEST_F(SharedBreakerTest, LocalOpenOlderThanTheSharedStateChangesNothing) {
  CircuitBreaker a = local();
  fail_three(a);
  clock.advance(10);
  SharedBreaker s = shared();  // created (e.g. reset) after the isolate opened
  uint64_t g = s.generation();
  Report r{.local_state = State::kOpen, .local_since = a.since()};
  SharedState st = s.apply(r, clock.now());
  EXPECT_EQ(st.state, State::kClosed);
  EXPECT_EQ(st.generation, g);
}

TEST_F(SharedBreakerTest, SharedBreakerJudgesTheCallsOfAllIsolatesTogether) {
  Options o{.minimum_calls = 4, .consecutive_failure_threshold = 0};
  SharedBreaker s = shared(o);
  // Two isolates, each with two calls, one of them failed: neither alone reaches minimum_calls.
  for (int isolate = 0; isolate < 2; ++isolate) {
    Report r{.calls = {{.at = clock.now(), .outcome = {.success = false}},
                       {.at = clock.now(), .outcome = {.success = true}}}};
    s.apply(r, clock.now());
  }
  EXPECT_EQ(s.state(clock.now()).state, State::kOpen);
}

TEST_F(SharedBreakerTest, CallsReportedOutOfOrderAreAppliedNoEarlierThanTheLastOne) {
  Options o{.minimum_calls = 2, .consecutive_failure_threshold = 0};
  SharedBreaker s = shared(o);
  TimePoint t = clock.advance(10'000);
  s.apply(Report{.calls = {{.at = t, .outcome = {.success = false}}}}, t);
  // A report from a lagging isolate, dated five minutes back (a whole window): still counted.
  s.apply(Report{.calls = {{.at = t - Duration(300'000), .outcome = {.success = false}}}}, t);
  EXPECT_EQ(s.breaker().status(t).figures.calls, 2u);
  EXPECT_EQ(s.state(t).state, State::kOpen);
}

TEST_F(SharedBreakerTest, SharedBreakerMovesToHalfOpenInTimeAndTrialsReportedCloseIt) {
  Options o{.wait_in_open = Duration(1'000)};
  SharedBreaker s = shared(o);
  CircuitBreaker a = local(o);
  IsolateSync sync_a;
  fail_three(a, &sync_a);
  s.apply(sync_a.take_report(a, clock.now()), clock.now());
  clock.advance(1'000);
  EXPECT_EQ(s.state(clock.now()).state, State::kHalfOpen);
  // The isolate went half-open at the same moment and its trial succeeded.
  ASSERT_TRUE(a.try_acquire(clock.now()).permitted);
  a.record(clock.now(), {.success = true});
  sync_a.note_call(clock.now(), {.success = true}, Duration(2'000));
  SharedState st = s.apply(sync_a.take_report(a, clock.now()), clock.now());
  EXPECT_EQ(st.state, State::kClosed);
}

TEST_F(SharedBreakerTest, OperatorStatesAreNotChangedByReports) {
  SharedBreaker s = shared();
  s.force_open(clock.now());
  clock.advance(10);
  CircuitBreaker a = local();
  fail_three(a);
  SharedState st =
      s.apply(Report{.local_state = State::kOpen, .local_since = a.since()}, clock.now());
  EXPECT_EQ(st.state, State::kForcedOpen);
  uint64_t g = st.generation;
  s.reset(clock.now());
  EXPECT_EQ(s.generation(), g + 1);
}

// ---- adopt ----

TEST_F(SharedBreakerTest, AdoptTakesANewerSharedOpenWithItsOpenedAt) {
  CircuitBreaker b = local(Options{.wait_in_open = Duration(60'000)});
  uint64_t known = 5;
  TimePoint opened = clock.now();
  clock.advance(300);
  EXPECT_EQ(adopt(b, {.state = State::kOpen, .since = opened, .generation = 6}, known, clock.now()),
            Adoption::kAdopted);
  EXPECT_EQ(b.state(), State::kOpen);
  EXPECT_EQ(b.since(), opened);
  EXPECT_EQ(known, 6u);
  // It refuses, and the wait counts from when the shared breaker opened.
  Permission p = b.try_acquire(clock.now());
  EXPECT_FALSE(p.permitted);
  EXPECT_EQ(p.retry_after, Duration(60'000 - 300));
  auto t = b.take_transitions();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].reason, Reason::kSharedState);
  EXPECT_EQ(reason_name(t[0].reason), "shared_state");
}

TEST_F(SharedBreakerTest, AdoptIgnoresOldAndRepeatedGenerations) {
  CircuitBreaker b = local();
  uint64_t known = 7;
  EXPECT_EQ(
      adopt(b, {.state = State::kOpen, .since = clock.now(), .generation = 6}, known, clock.now()),
      Adoption::kStale);
  EXPECT_EQ(
      adopt(b, {.state = State::kOpen, .since = clock.now(), .generation = 7}, known, clock.now()),
      Adoption::kUnchanged);
  EXPECT_EQ(b.state(), State::kClosed);
  EXPECT_EQ(b.pending_transitions(), 0u);
}

TEST_F(SharedBreakerTest, AdoptKeepsALocalOpenNewerThanTheSharedClosed) {
  TimePoint shared_closed = clock.now();
  clock.advance(1'000);
  CircuitBreaker b = local();
  fail_three(b);
  b.take_transitions();
  uint64_t known = 1;
  EXPECT_EQ(adopt(b, {.state = State::kClosed, .since = shared_closed, .generation = 2}, known,
                  clock.now()),
            Adoption::kKeptLocal);
  EXPECT_EQ(b.state(), State::kOpen);
  EXPECT_EQ(known, 2u);
  // A shared reset after the local breaker opened is taken.
  clock.advance(500);
  EXPECT_EQ(adopt(b, {.state = State::kClosed, .since = clock.now(), .generation = 3}, known,
                  clock.now()),
            Adoption::kAdopted);
  EXPECT_EQ(b.state(), State::kClosed);
}

TEST_F(SharedBreakerTest, AdoptAlwaysTakesAnOperatorsForcedOpen) {
  TimePoint forced = clock.now();
  clock.advance(1'000);
  CircuitBreaker b = local();
  fail_three(b);  // local OPEN, newer than the operator's command
  uint64_t known = 0;
  EXPECT_EQ(
      adopt(b, {.state = State::kForcedOpen, .since = forced, .generation = 1}, known, clock.now()),
      Adoption::kAdopted);
  EXPECT_EQ(b.state(), State::kForcedOpen);
}

TEST_F(SharedBreakerTest, AdoptAlignsTheStartOfTheSameStateAndClampsAFutureStart) {
  CircuitBreaker b = local();
  fail_three(b);
  TimePoint shared_opened = clock.now() - Duration(200);
  uint64_t known = 0;
  EXPECT_EQ(adopt(b, {.state = State::kOpen, .since = shared_opened, .generation = 1}, known,
                  clock.now()),
            Adoption::kAligned);
  EXPECT_EQ(b.since(), shared_opened);
  // A shared half-open dated in the future (another machine's clock) starts now here.
  EXPECT_EQ(
      adopt(b, {.state = State::kHalfOpen, .since = clock.now() + Duration(5'000), .generation = 2},
            known, clock.now()),
      Adoption::kAdopted);
  EXPECT_EQ(b.state(), State::kHalfOpen);
  EXPECT_EQ(b.since(), clock.now());
}

// ---- the isolate's side ----

TEST_F(SharedBreakerTest, IsolateSyncIsDueEveryRefreshIntervalAndLaterAfterAFailure) {
  IsolateSync s(
      SyncPolicy{.refresh_interval = Duration(500), .retry_after_failure = Duration(2'000)});
  CircuitBreaker b = local();
  EXPECT_EQ(s.standing(), SyncStanding::kNotYetSynced);
  EXPECT_LE(s.next_sync_at(), clock.now());
  s.take_report(b, clock.now());
  EXPECT_EQ(s.next_sync_at(), clock.now() + Duration(500));
  s.on_failure("object unreachable", clock.now());
  EXPECT_EQ(s.standing(), SyncStanding::kUnreachable);
  EXPECT_NE(s.standing_reason().find("own breaker alone guards R2"), std::string::npos);
  EXPECT_EQ(s.next_sync_at(), clock.now() + Duration(2'000));
  clock.advance(2'000);
  s.take_report(b, clock.now());
  s.on_answer(b, {.state = State::kClosed, .since = clock.now(), .generation = 1}, clock.now());
  EXPECT_EQ(s.standing(), SyncStanding::kSynced);
  EXPECT_EQ(s.standing_reason(), "");
}

TEST_F(SharedBreakerTest, IsolateSyncHoldsAtMostMaxPendingRunsAndCountsTheDropped) {
  IsolateSync s(SyncPolicy{.max_pending_runs = 3});
  for (int i = 0; i < 5; ++i) {
    s.note_call(clock.advance(1), {.success = i % 2 == 0}, Duration(2'000));
  }
  CircuitBreaker b = local();
  Report r = s.take_report(b, clock.now());
  ASSERT_EQ(r.calls.size(), 3u);
  EXPECT_EQ(r.dropped_calls, 2u);
  EXPECT_EQ(r.calls.front().at, clock.now() - Duration(2));  // the newest three are kept
  EXPECT_EQ(s.pending_runs(), 0u);
  EXPECT_EQ(s.take_report(b, clock.now()).dropped_calls, 0u);
  EXPECT_EQ(s.dropped_calls(), 2u);
}

TEST_F(SharedBreakerTest, CallsInARowOfTheSameKindAreHeldAsOneRunWithinTheSpan) {
  IsolateSync s(SyncPolicy{.run_span = Duration(1'000)});
  const Duration slow_after(100);
  s.note_call(clock.now(), {.success = true, .latency = Duration(10)}, slow_after);
  s.note_call(clock.advance(10), {.success = true, .latency = Duration(20)}, slow_after);
  s.note_call(clock.advance(10), {.success = true, .latency = Duration(40)}, slow_after);
  s.note_call(clock.advance(10), {.success = true, .latency = Duration(500)}, slow_after);
  s.note_call(clock.advance(10), {.success = false, .latency = Duration(5)}, slow_after);
  s.note_call(clock.advance(10), {.success = false, .latency = Duration(5)}, slow_after);
  s.note_call(clock.advance(1'000), {.success = false, .latency = Duration(5)}, slow_after);
  CircuitBreaker b = local();
  Report r = s.take_report(b, clock.now());
  ASSERT_EQ(r.calls.size(), 4u);
  EXPECT_EQ(r.calls[0].count, 3u);
  EXPECT_EQ(r.calls[0].outcome.latency, Duration(23));  // (10 + 20 + 40) / 3, rounded
  EXPECT_EQ(r.calls[1].count, 1u);                      // slow: a run of its own
  EXPECT_EQ(r.calls[2].count, 2u);
  EXPECT_FALSE(r.calls[2].outcome.success);
  EXPECT_EQ(r.calls[3].count, 1u);  // a span later: a new run
  // The shared breaker counts every call of every run.
  SharedBreaker shared_breaker = shared(Options{.consecutive_failure_threshold = 0});
  shared_breaker.apply(r, clock.now());
  EXPECT_EQ(shared_breaker.breaker().status(clock.now()).totals.calls, 7u);
}

// Two isolates and one shared breaker, step by step: the second refuses once it has synced
// after the first opened, within one refresh interval.
TEST_F(SharedBreakerTest, SecondIsolateRefusesWithinOneRefreshIntervalOfTheFirstOpening) {
  SharedBreaker s = shared();
  CircuitBreaker a = local(), b = local();
  IsolateSync sa, sb;
  sa.on_answer(a, s.state(clock.now()), clock.now());
  sb.take_report(b, clock.now());
  sb.on_answer(b, s.state(clock.now()), clock.now());
  clock.advance(100);
  fail_three(a, &sa);
  TimePoint opened = clock.now();
  sa.on_answer(a, s.apply(sa.take_report(a, clock.now()), clock.now()), clock.now());
  // The second isolate serves calls; it syncs when due.
  TimePoint refused_at{};
  for (int i = 0; i < 20 && refused_at == TimePoint{}; ++i) {
    clock.advance(100);
    if (clock.now() >= sb.next_sync_at()) {
      sb.on_answer(b, s.apply(sb.take_report(b, clock.now()), clock.now()), clock.now());
    }
    if (!b.try_acquire(clock.now()).permitted)
      refused_at = clock.now();
    else
      b.record(clock.now(), {.success = true});
  }
  ASSERT_NE(refused_at, TimePoint{});
  EXPECT_LE(refused_at - opened, kMaxRefreshInterval);
}

}  // namespace
}  // namespace r2w::breaker
