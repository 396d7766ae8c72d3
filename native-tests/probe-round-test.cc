#include "core/health/probe-round.h"

#include <gtest/gtest.h>

#include "native-tests/test-clock.h"

namespace r2w::health {
namespace {

using json = r2w::Json;

ProbeObservation seen(Operation op, ProbeOutcome outcome, int64_t latency_ms = 10,
                      bool found = false) {
  return {.operation = op, .outcome = outcome, .found = found, .latency = Duration(latency_ms)};
}

std::vector<ProbeObservation> all_good() {
  return {seen(Operation::kGet, ProbeOutcome::kOk), seen(Operation::kPut, ProbeOutcome::kOk),
          seen(Operation::kHead, ProbeOutcome::kOk, 10, true),
          seen(Operation::kList, ProbeOutcome::kOk), seen(Operation::kDelete, ProbeOutcome::kOk)};
}

std::vector<std::string> statuses(const std::vector<ProbeResult>& results) {
  std::vector<std::string> out;
  for (const auto& r : results) out.emplace_back(probe_status_name(r.status));
  return out;
}

TEST(ProbePlan, RunsGetPutHeadListDeleteUnderTheProbePrefix) {
  testing::FakeClock clock(1'700'000'000'000);
  auto plan = plan_round(MonitorConfig{}, "abc", clock.now());
  ASSERT_TRUE(plan.ok());
  const ProbePlan& p = plan.value();
  EXPECT_EQ(p.round_id, "1700000000000-abc");
  EXPECT_EQ(p.object_key, ".r2watch/health/1700000000000-abc");
  ASSERT_EQ(p.steps.size(), 5u);
  std::vector<Operation> order;
  for (const auto& s : p.steps) order.push_back(s.operation);
  EXPECT_EQ(order, (std::vector<Operation>{Operation::kGet, Operation::kPut, Operation::kHead,
                                           Operation::kList, Operation::kDelete}));
  EXPECT_EQ(p.steps[0].key, p.missing_key);
  EXPECT_EQ(p.steps[1].key, p.object_key);
  EXPECT_FALSE(p.steps[1].body.empty());
  EXPECT_EQ(p.steps[2].key, p.object_key);
  EXPECT_EQ(p.steps[3].prefix, ".r2watch/health/");
  EXPECT_EQ(p.steps[3].limit, kProbeListLimit);
  EXPECT_EQ(p.cleanup_keys, std::vector<std::string>{p.object_key});
  EXPECT_EQ(p.timeout, Duration(5'000));
}

TEST(ProbePlan, WithoutPutHeadLooksForTheMissingKeyAndNothingNeedsCleaning) {
  MonitorConfig c;
  c.test_operations = {Operation::kHead, Operation::kList};
  auto plan = plan_round(c, "n", TimePoint{});
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan.value().steps.size(), 2u);
  EXPECT_EQ(plan.value().steps[0].key, plan.value().missing_key);
  EXPECT_TRUE(plan.value().cleanup_keys.empty());
}

TEST(ProbePlan, RefusesANonceThatCouldEscapeTheKey) {
  for (const char* bad : {"", "a/b", "a b", "..", "x\n"}) {
    auto plan = plan_round(MonitorConfig{}, bad, TimePoint{});
    ASSERT_FALSE(plan.ok()) << bad;
    EXPECT_EQ(plan.error().field, "nonce");
  }
  EXPECT_TRUE(plan_round(MonitorConfig{}, std::string(64, 'a'), TimePoint{}).ok());
  EXPECT_FALSE(plan_round(MonitorConfig{}, std::string(65, 'a'), TimePoint{}).ok());
}

TEST(ScheduledRounds, WaitForTheCheckIntervalAndStopWhenDisabled) {
  testing::FakeClock clock;
  MonitorConfig c;
  c.check_interval = Duration(600'000);
  EXPECT_TRUE(should_run_scheduled(c, std::nullopt, clock.now()).run);
  TimePoint last = clock.now();
  clock.advance(599'999);
  RunDecision d = should_run_scheduled(c, last, clock.now());
  EXPECT_FALSE(d.run);
  EXPECT_NE(d.reason.find("checkInterval"), std::string::npos);
  // The alarm is set for when the round is due: checkInterval after the last one.
  EXPECT_EQ(d.next_at, last + Duration(600'000));
  clock.advance(1);
  d = should_run_scheduled(c, last, clock.now());
  EXPECT_TRUE(d.run);
  EXPECT_EQ(d.next_at, clock.now() + Duration(600'000));
  c.enabled = false;
  d = should_run_scheduled(c, std::nullopt, clock.now());
  EXPECT_FALSE(d.run);
  EXPECT_EQ(d.reason, "monitoring is stopped");
  EXPECT_FALSE(d.next_at.has_value());
}

TEST(ClassifyRound, AllGoodIsOk) {
  auto results = classify_round(all_good(), MonitorConfig{});
  EXPECT_EQ(statuses(results), (std::vector<std::string>{"ok", "ok", "ok", "ok", "ok"}));
}

TEST(ClassifyRound, SlowIsJudgedOnBothSidesOfTheThreshold) {
  MonitorConfig c;  // 2,000 ms
  auto at = classify_round({seen(Operation::kList, ProbeOutcome::kOk, 2000)}, c);
  EXPECT_EQ(at[0].status, ProbeStatus::kOk);
  auto above = classify_round({seen(Operation::kList, ProbeOutcome::kOk, 2001)}, c);
  EXPECT_EQ(above[0].status, ProbeStatus::kSlow);
  EXPECT_TRUE(above[0].ok());
}

TEST(ClassifyRound, AFoundMissingKeyIsUnexpected) {
  auto r = classify_round({seen(Operation::kGet, ProbeOutcome::kOk, 5, true)}, MonitorConfig{});
  EXPECT_EQ(r[0].status, ProbeStatus::kUnexpected);
  EXPECT_FALSE(r[0].ok());
}

TEST(ClassifyRound, HeadExpectsTheObjectOnlyWhenPutSucceeded) {
  MonitorConfig c;
  auto put_failed = classify_round({seen(Operation::kPut, ProbeOutcome::kError),
                                    seen(Operation::kHead, ProbeOutcome::kOk, 5, false)},
                                   c);
  EXPECT_EQ(statuses(put_failed), (std::vector<std::string>{"error", "ok"}));
  auto lost = classify_round({seen(Operation::kPut, ProbeOutcome::kOk),
                              seen(Operation::kHead, ProbeOutcome::kOk, 5, false)},
                             c);
  EXPECT_EQ(statuses(lost), (std::vector<std::string>{"ok", "unexpected"}));
  auto ghost = classify_round({seen(Operation::kHead, ProbeOutcome::kOk, 5, true)}, c);
  EXPECT_EQ(statuses(ghost), (std::vector<std::string>{"unexpected"}));
}

TEST(ClassifyRound, TimeoutsAndRefusalsAreNamed) {
  auto r = classify_round({seen(Operation::kGet, ProbeOutcome::kTimeout, 5000),
                           seen(Operation::kPut, ProbeOutcome::kRefused, 0)},
                          MonitorConfig{});
  EXPECT_EQ(statuses(r), (std::vector<std::string>{"timeout", "circuit_open"}));
  EXPECT_NE(r[0].error.find("5000 ms"), std::string::npos);
  EXPECT_FALSE(r[1].attempted());
}

TEST(Summarize, CountsFailuresOverAttemptedProbesOnly) {
  auto results = classify_round(
      {seen(Operation::kGet, ProbeOutcome::kOk), seen(Operation::kPut, ProbeOutcome::kError),
       seen(Operation::kHead, ProbeOutcome::kOk, 2500),
       seen(Operation::kList, ProbeOutcome::kRefused),
       seen(Operation::kDelete, ProbeOutcome::kRefused)},
      MonitorConfig{});
  RoundSummary s = summarize(results, breaker::State::kOpen, TimePoint{});
  EXPECT_EQ(s.probes, 5u);
  EXPECT_EQ(s.attempted, 3u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.refused, 2u);
  EXPECT_EQ(s.slow, 1u);
  EXPECT_EQ(s.failing, std::vector<Operation>{Operation::kPut});
  EXPECT_EQ(s.slow_operations, std::vector<Operation>{Operation::kHead});
  ASSERT_TRUE(s.error_rate_pct);
  EXPECT_NEAR(*s.error_rate_pct, 100.0 / 3, 1e-9);
  EXPECT_EQ(s.max_response_time, Duration(2500));
  auto back = summary_from_json(summary_to_json(s));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(summary_to_json(back.value()), summary_to_json(s));
}

TEST(Summarize, NothingAttemptedHasNoErrorRate) {
  auto results = classify_round({seen(Operation::kGet, ProbeOutcome::kRefused)}, MonitorConfig{});
  EXPECT_FALSE(summarize(results, breaker::State::kOpen, TimePoint{}).error_rate_pct);
}

TEST(StaleProbeKeys, SweepsOnlyOldProbeObjects) {
  testing::FakeClock clock(1'000'000);
  std::vector<std::string> keys = {
      ".r2watch/health/400000-a",           // 600,000 ms old: exactly the limit, kept
      ".r2watch/health/399999-b",           // older: swept
      ".r2watch/health/missing-1-c",        // never written, but swept if it exists
      ".r2watch/health/999999-d",           // fresh
      ".r2watch/health/notes.txt",          // not a probe key
      "user/399999-x",                      // not under the prefix
      ".r2watch/health/12345678901234567",  // too many digits to be a time
  };
  EXPECT_EQ(stale_probe_keys(keys, clock.now(), Duration(600'000)),
            (std::vector<std::string>{".r2watch/health/399999-b", ".r2watch/health/missing-1-c"}));
}

TEST(OperationStats, RatesAverageAndNearestRankP95) {
  std::vector<StoredCheck> checks;
  for (int i = 1; i <= 20; ++i) {
    checks.push_back({.operation = Operation::kGet, .ok = i != 20, .response_time = Duration(i)});
  }
  auto stats = operation_stats(checks);
  const OperationStats& get = stats[static_cast<size_t>(Operation::kGet)];
  EXPECT_EQ(get.checks, 20u);
  EXPECT_EQ(get.successes, 19u);
  EXPECT_DOUBLE_EQ(*get.success_rate_pct, 95.0);
  EXPECT_DOUBLE_EQ(*get.error_rate_pct, 5.0);
  EXPECT_DOUBLE_EQ(*get.avg_response_ms, 10.5);
  EXPECT_EQ(*get.p95_response_ms, 19);  // rank ceil(0.95 * 20) = 19
  const OperationStats& put = stats[static_cast<size_t>(Operation::kPut)];
  EXPECT_EQ(put.checks, 0u);
  EXPECT_FALSE(put.p95_response_ms);
  EXPECT_FALSE(put.success_rate_pct);
}

TEST(OperationStats, PercentileMatchesExactNearestRankOnManySizes) {
  for (int n = 1; n <= 200; ++n) {
    std::vector<int64_t> values;
    for (int i = 0; i < n; ++i) values.push_back((i * 7919) % (n + 3));  // shuffled
    std::vector<int64_t> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    size_t rank = (95 * n + 99) / 100;  // ceil(0.95 n) in integers
    EXPECT_EQ(*nearest_rank_percentile(values, 95), sorted[rank - 1]) << n;
  }
  EXPECT_FALSE(nearest_rank_percentile({}, 95));
}

}  // namespace
}  // namespace r2w::health
