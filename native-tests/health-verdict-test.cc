#include "core/health/health-verdict.h"

#include <gtest/gtest.h>

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
  nlohmann::json j = verdict_to_json(v);
  EXPECT_EQ(j["components"]["analytics"]["status"], "degraded");
  EXPECT_EQ(j["reasons"].size(), 1u);
}

}  // namespace
}  // namespace r2w::health
