#include "core/health/health-events.h"

#include <gtest/gtest.h>

#include <set>

#include "native-tests/test-clock.h"

namespace r2w::health {
namespace {

using breaker::State;

// Builds a five-probe round at `at`: the named operations fail, the slow ones take
// `slow_ms`, every probe is refused when `refused` (an open breaker), the rest take 10 ms.
struct RoundSpec {
  std::set<Operation> failing;
  std::set<Operation> slow;
  int64_t slow_ms = 2'001;
  bool refused = false;
  State breaker = State::kClosed;
};

RoundSummary round_at(TimePoint at, const RoundSpec& spec) {
  std::vector<ProbeObservation> obs;
  for (Operation op :
       {Operation::kGet, Operation::kPut, Operation::kHead, Operation::kList, Operation::kDelete}) {
    ProbeObservation o{.operation = op, .latency = Duration(10), .at = at};
    if (spec.refused) {
      o.outcome = ProbeOutcome::kRefused;
    } else if (spec.failing.contains(op)) {
      o.outcome = ProbeOutcome::kError;
    }
    if (spec.slow.contains(op)) o.latency = Duration(spec.slow_ms);
    // HEAD finds the object when PUT worked.
    o.found = op == Operation::kHead && !spec.failing.contains(Operation::kPut);
    obs.push_back(o);
  }
  return summarize(classify_round(obs, MonitorConfig{}), spec.breaker, at);
}

class HealthEvents : public ::testing::Test {
 protected:
  // Runs one round `step_ms` after the previous one and returns its events as "type:action".
  std::vector<std::string> next(const RoundSpec& spec, int64_t step_ms = 300'000) {
    clock.advance(step_ms);
    DerivedEvents d = derive_events(state, round_at(clock.now(), spec), clock.now(),
                                    /*scheduled=*/true, options);
    state = d.next;
    last = d.events;
    std::vector<std::string> out;
    for (const auto& e : d.events) {
      out.push_back(std::string(event_type_name(e.type)) + ":" +
                    std::string(alert_action_name(e.action)));
    }
    return out;
  }
  bool active(EventType t) const { return state.conditions[static_cast<size_t>(t)].active; }

  testing::FakeClock clock;
  EventOptions options;
  MonitorState state;
  std::vector<HealthEvent> last;
};

using Events = std::vector<std::string>;

TEST_F(HealthEvents, AllGoodRoundsRaiseNothing) {
  for (int i = 0; i < 3; ++i) EXPECT_EQ(next({}), Events{});
  EXPECT_EQ(state.rounds, 3u);
}

TEST_F(HealthEvents, ErrorRateMustBeAboveTwentyPercent) {
  // 1 of 5 probes failing is 20%: not above.
  EXPECT_EQ(next({.failing = {Operation::kPut}}), Events{});
  EXPECT_FALSE(active(EventType::kHighErrorRate));
  // 2 of 5 is 40%; two operations failing also degrade the service.
  EXPECT_EQ(next({.failing = {Operation::kPut, Operation::kList}}),
            (Events{"high_error_rate:open", "service_degraded:open"}));
  EXPECT_EQ(last[0].severity, Severity::kMedium);
  EXPECT_NE(last[0].message.find("40.0%"), std::string::npos) << last[0].message;
  EXPECT_EQ(last[1].severity, Severity::kHigh);
}

TEST_F(HealthEvents, ErrorRateThresholdIsAnOption) {
  options.high_error_rate_pct = 40;
  EXPECT_EQ(next({.failing = {Operation::kPut, Operation::kList}}),
            (Events{"service_degraded:open"}));
  options.high_error_rate_pct = 39.9;
  EXPECT_EQ(next({.failing = {Operation::kPut, Operation::kList}}),
            (Events{"high_error_rate:open"}));
}

TEST_F(HealthEvents, DegradedNeedsSeveralFailingOperations) {
  options.high_error_rate_pct = 100;  // isolate service_degraded
  options.degraded_failing_operations = 3;
  EXPECT_EQ(next({.failing = {Operation::kPut, Operation::kHead}}), Events{});
  EXPECT_EQ(next({.failing = {Operation::kPut, Operation::kHead, Operation::kGet}}),
            (Events{"service_degraded:open"}));
}

TEST_F(HealthEvents, SlowResponseOnBothSidesOfTheSlowThreshold) {
  EXPECT_EQ(next({.slow = {Operation::kHead}, .slow_ms = 2'000}), Events{});
  EXPECT_EQ(next({.slow = {Operation::kHead}, .slow_ms = 2'001}), (Events{"slow_response:open"}));
  EXPECT_EQ(last[0].severity, Severity::kLow);
  EXPECT_NE(last[0].message.find("head"), std::string::npos);
}

TEST_F(HealthEvents, OpenOrForcedOpenBreakerIsCriticalHalfOpenIsNot) {
  EXPECT_EQ(next({.breaker = State::kHalfOpen}), Events{});
  EXPECT_EQ(next({.refused = true, .breaker = State::kOpen}),
            (Events{"circuit_breaker_open:open"}));
  EXPECT_EQ(last[0].severity, Severity::kCritical);
  EXPECT_NE(last[0].message.find("5 of 5 probes refused"), std::string::npos);
  MonitorState fresh;
  DerivedEvents forced = derive_events(
      fresh, round_at(clock.now(), {.breaker = State::kForcedOpen}), clock.now(), true, options);
  ASSERT_EQ(forced.events.size(), 1u);
  EXPECT_EQ(forced.events[0].type, EventType::kCircuitBreakerOpen);
}

TEST_F(HealthEvents, AConditionThatStaysTrueIsOneEvent) {
  EXPECT_EQ(next({.refused = true, .breaker = State::kOpen}),
            (Events{"circuit_breaker_open:open"}));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(next({.refused = true, .breaker = State::kOpen}), Events{});
  EXPECT_TRUE(active(EventType::kCircuitBreakerOpen));
}

TEST_F(HealthEvents, RoundsThatReachNoR2NeitherRaiseNorClearRateConditions) {
  EXPECT_EQ(next({.failing = {Operation::kPut, Operation::kList}}),
            (Events{"high_error_rate:open", "service_degraded:open"}));
  // Everything refused: no error rate is known, so those alerts stay as they are.
  EXPECT_EQ(next({.refused = true, .breaker = State::kOpen}),
            (Events{"circuit_breaker_open:open"}));
  EXPECT_TRUE(active(EventType::kHighErrorRate));
  EXPECT_TRUE(active(EventType::kServiceDegraded));
}

TEST_F(HealthEvents, RecoveryResolvesEachConditionAndIsRecordedOnce) {
  EXPECT_EQ(next({.refused = true, .breaker = State::kOpen}),
            (Events{"circuit_breaker_open:open"}));
  TimePoint opened = clock.now();
  EXPECT_EQ(next({.refused = true, .breaker = State::kOpen}, 600'000), Events{});
  EXPECT_EQ(next({}, 600'000),
            (Events{"circuit_breaker_open:resolve", "service_recovered:record"}));
  EXPECT_EQ(clock.now() - opened, Duration(1'200'000));
  EXPECT_NE(last[0].message.find("after 20 min"), std::string::npos) << last[0].message;
  EXPECT_NE(last[1].message.find("after 20 min"), std::string::npos) << last[1].message;
  EXPECT_EQ(next({}), Events{});  // nothing more to recover from
}

TEST_F(HealthEvents, RecoveryWaitsUntilEveryConditionHasCleared) {
  EXPECT_EQ(next({.failing = {Operation::kPut, Operation::kList}, .slow = {Operation::kGet}}),
            (Events{"high_error_rate:open", "slow_response:open", "service_degraded:open"}));
  // Failures stop, the slowness stays: two conditions clear, but the service has not recovered.
  EXPECT_EQ(next({.slow = {Operation::kGet}}),
            (Events{"high_error_rate:resolve", "service_degraded:resolve"}));
  EXPECT_EQ(next({}), (Events{"slow_response:resolve", "service_recovered:record"}));
}

TEST_F(HealthEvents, RaiseAndClearCanWaitForSeveralRoundsInARow) {
  options.raise_after_rounds = 2;
  options.clear_after_rounds = 2;
  RoundSpec open{.refused = true, .breaker = State::kOpen};
  EXPECT_EQ(next(open), Events{});  // 1 round holding: not yet
  EXPECT_EQ(next({}), Events{});    // the run is broken
  EXPECT_EQ(next(open), Events{});
  EXPECT_EQ(next(open), (Events{"circuit_breaker_open:open"}));  // 2 in a row
  EXPECT_EQ(next({}), Events{});                                 // 1 clear round: not yet
  EXPECT_EQ(next(open), Events{});                               // still active, no new alert
  EXPECT_EQ(next({}), Events{});
  EXPECT_EQ(next({}), (Events{"circuit_breaker_open:resolve", "service_recovered:record"}));
}

TEST_F(HealthEvents, AlertSwitchesTurnActionsOffButNotTheEvents) {
  options.alert_on_failure = false;
  options.alert_on_recovery = false;
  EXPECT_EQ(next({.refused = true, .breaker = State::kOpen}),
            (Events{"circuit_breaker_open:none"}));
  // Resolving stays on: an alert opened before alerting was turned off must not stay open.
  EXPECT_EQ(next({}), (Events{"circuit_breaker_open:resolve", "service_recovered:none"}));
}

TEST_F(HealthEvents, ARoundOlderThanTheLastOneIsIgnored) {
  next({});
  TimePoint last_round = clock.now();
  RoundSummary late =
      round_at(last_round - Duration(1), {.refused = true, .breaker = State::kOpen});
  DerivedEvents d = derive_events(state, late, clock.now(), true, options);
  EXPECT_TRUE(d.ignored);
  EXPECT_TRUE(d.events.empty());
  EXPECT_EQ(d.next.rounds, state.rounds);
  RoundSummary same_time = round_at(last_round, {.refused = true, .breaker = State::kOpen});
  EXPECT_FALSE(derive_events(state, same_time, clock.now(), true, options).ignored);
}

TEST_F(HealthEvents, OnlyScheduledRoundsMoveTheScheduleClock) {
  clock.advance(1000);
  DerivedEvents manual = derive_events(state, round_at(clock.now(), {}), clock.now(),
                                       /*scheduled=*/false, options);
  EXPECT_EQ(manual.next.last_round_at, clock.now());
  EXPECT_FALSE(manual.next.last_scheduled_round_at);
  DerivedEvents cron = derive_events(manual.next, round_at(clock.now(), {}), clock.now(),
                                     /*scheduled=*/true, options);
  EXPECT_EQ(cron.next.last_scheduled_round_at, clock.now());
}

TEST_F(HealthEvents, StateSurvivesJsonWithItsSchemaVersion) {
  next({.failing = {Operation::kPut, Operation::kList}, .slow = {Operation::kGet}});
  r2w::Json j = state_to_json(state);
  EXPECT_EQ(j["schema_version"], 1);
  auto back = state_from_json(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(state_to_json(back.value()), j);
  j["schema_version"] = 99;
  EXPECT_FALSE(state_from_json(j).ok());
  EXPECT_TRUE(state_from_json(nullptr).ok());
  EXPECT_FALSE(state_from_json(r2w::Json::array()).ok());
}

}  // namespace
}  // namespace r2w::health
