#include "core/health/health-verdict.h"

#include <gtest/gtest.h>

#include "wasm-bindings/codec/health.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::health {
namespace {

Observations all_well() {
  return Observations{
      .database_ok = true, .database_latency = Duration(3), .analytics_bound = true};
}

TEST(HealthVerdict, AllWellIsHealthy) {
  Verdict v = judge(all_well(), VerdictOptions{});
  EXPECT_EQ(v.overall, Level::kHealthy);
  for (const Component& c : v.components) EXPECT_TRUE(c.reason.empty()) << c.name;
}

TEST(HealthVerdict, OpenBreakerMakesStorageAndOverallUnhealthy) {
  for (auto state : {breaker::State::kOpen, breaker::State::kForcedOpen}) {
    Observations o = all_well();
    o.breaker.state = state;
    Verdict v = judge(o, VerdictOptions{});
    EXPECT_EQ(v.overall, Level::kUnhealthy);
    EXPECT_EQ(v.components[0].level, Level::kUnhealthy);
    EXPECT_NE(v.components[0].reason.find("open"), std::string::npos);
  }
}

TEST(HealthVerdict, HalfOpenOrDisabledIsDegraded) {
  for (auto state : {breaker::State::kHalfOpen, breaker::State::kDisabled}) {
    Observations o = all_well();
    o.breaker.state = state;
    EXPECT_EQ(judge(o, VerdictOptions{}).overall, Level::kDegraded);
  }
}

TEST(HealthVerdict, OnlyUnhealthyAnswers503) {
  Observations o = all_well();
  EXPECT_EQ(verdict_http_status(judge(o, VerdictOptions{})), 200u);
  o.breaker.state = breaker::State::kHalfOpen;  // degraded still serves
  EXPECT_EQ(verdict_http_status(judge(o, VerdictOptions{})), 200u);
  o.breaker.state = breaker::State::kOpen;
  EXPECT_EQ(verdict_http_status(judge(o, VerdictOptions{})), 503u);
}

TEST(HealthVerdict, ErrorRateBothSidesOfTheThreshold) {
  Observations o = all_well();
  o.breaker.figures.failure_rate_pct = 4.9;
  EXPECT_EQ(judge(o, VerdictOptions{}).overall, Level::kHealthy);
  o.breaker.figures.failure_rate_pct = 5.0;
  Verdict v = judge(o, VerdictOptions{});
  EXPECT_EQ(v.overall, Level::kDegraded);
  EXPECT_NE(v.components[0].reason.find("5.0%"), std::string::npos);
}

TEST(HealthVerdict, SlowAverageResponseIsDegraded) {
  Observations o = all_well();
  o.breaker.figures.ema_response_ms = 2000;
  EXPECT_EQ(judge(o, VerdictOptions{}).overall, Level::kHealthy);
  o.breaker.figures.ema_response_ms = 2000.5;
  EXPECT_EQ(judge(o, VerdictOptions{}).overall, Level::kDegraded);
}

TEST(HealthVerdict, DatabaseFailureIsUnhealthyWithItsError) {
  Observations o = all_well();
  o.database_ok = false;
  o.database_error = "no such table";
  Verdict v = judge(o, VerdictOptions{});
  EXPECT_EQ(v.overall, Level::kUnhealthy);
  EXPECT_NE(v.components[1].reason.find("no such table"), std::string::npos);
}

TEST(HealthVerdict, MissingAnalyticsOnlyDegrades) {
  Observations o = all_well();
  o.analytics_bound = false;
  Verdict v = judge(o, VerdictOptions{});
  EXPECT_EQ(v.overall, Level::kDegraded);
  Json j = codec::verdict_to_json(v);
  EXPECT_EQ(j["components"]["analytics"]["status"], "degraded");
  EXPECT_EQ(j["reasons"].size(), 1u);
}

RoundSummary probe_round(uint32_t attempted, std::vector<Operation> failing,
                         std::vector<Operation> slow = {}) {
  RoundSummary r{.at = from_epoch_ms(1'000'000), .probes = attempted, .attempted = attempted};
  r.failed = static_cast<uint32_t>(failing.size());
  r.slow = static_cast<uint32_t>(slow.size());
  r.failing = std::move(failing);
  r.slow_operations = std::move(slow);
  r.max_response_time = Duration(2'500);
  return r;
}

Observations with_round(RoundSummary r) {
  Observations o = all_well();
  o.last_round = std::move(r);
  o.now = from_epoch_ms(1'000'000);
  return o;
}

TEST(HealthVerdict, AllProbesPassingIsHealthy) {
  EXPECT_EQ(judge(with_round(probe_round(5, {})), VerdictOptions{}).overall, Level::kHealthy);
}

TEST(HealthVerdict, OneFailingProbeDegradesStorageNamingTheOperation) {
  Verdict v = judge(with_round(probe_round(5, {Operation::kPut})), VerdictOptions{});
  EXPECT_EQ(v.overall, Level::kDegraded);
  EXPECT_NE(v.components[0].reason.find("failing"), std::string::npos);
  EXPECT_NE(v.components[0].reason.find("put"), std::string::npos);
}

TEST(HealthVerdict, SlowProbesDegradeStorage) {
  Verdict v = judge(with_round(probe_round(5, {}, {Operation::kHead})), VerdictOptions{});
  EXPECT_EQ(v.overall, Level::kDegraded);
  EXPECT_NE(v.components[0].reason.find("slow"), std::string::npos);
}

TEST(HealthVerdict, MostProbesFailingIsUnhealthyHalfIsNot) {
  auto two = probe_round(4, {Operation::kPut, Operation::kGet});
  EXPECT_EQ(judge(with_round(two), VerdictOptions{}).overall, Level::kDegraded);
  auto three = probe_round(5, {Operation::kPut, Operation::kGet, Operation::kHead});
  Verdict v = judge(with_round(three), VerdictOptions{});
  EXPECT_EQ(v.overall, Level::kUnhealthy);
  EXPECT_NE(v.components[0].reason.find("3 of 5"), std::string::npos) << v.components[0].reason;
}

TEST(HealthVerdict, RefusedProbesSayNothingAboutR2) {
  RoundSummary r = probe_round(0, {});
  r.probes = 5;
  r.refused = 5;
  EXPECT_EQ(judge(with_round(r), VerdictOptions{}).overall, Level::kHealthy);
}

TEST(HealthVerdict, AnOldProbeRoundIsNotJudged) {
  Observations o = with_round(probe_round(5, {Operation::kPut}));
  VerdictOptions options;
  o.now = o.last_round->at + options.probe_round_max_age;
  EXPECT_EQ(judge(o, options).overall, Level::kDegraded);
  o.now += Duration(1);
  EXPECT_EQ(judge(o, options).overall, Level::kHealthy);
}

TEST(HealthVerdict, AnOpenBreakerOutranksTheProbes) {
  Observations o = with_round(probe_round(5, {Operation::kPut}));
  o.breaker.state = breaker::State::kOpen;
  Verdict v = judge(o, VerdictOptions{});
  EXPECT_EQ(v.overall, Level::kUnhealthy);
  EXPECT_NE(v.components[0].reason.find("circuit breaker"), std::string::npos);
}

}  // namespace
}  // namespace r2w::health
