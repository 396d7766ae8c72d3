#include <gtest/gtest.h>

#include "core/common/civil-date.h"
#include "core/ops/cron.h"
#include "core/ops/jobs.h"

namespace r2w::ops {
namespace {

TimePoint utc(int32_t y, uint32_t mo, uint32_t d, int64_t h = 0, int64_t mi = 0, int64_t s = 0) {
  return from_epoch_ms((days_since_epoch({y, mo, d}) * 86'400 + h * 3600 + mi * 60 + s) * 1000);
}

CronExpr cron(const char* text) {
  auto c = parse_cron(text);
  EXPECT_TRUE(c.ok()) << text;
  return c.ok() ? c.value() : CronExpr{};
}

TEST(Cron, ParsesEveryScheduleInWranglerToml) {
  for (const char* text : {"* * * * *", "*/5 * * * *", "0 0 * * *", "0 */6 * * *", "0 0 1 * *"}) {
    EXPECT_TRUE(parse_cron(text).ok()) << text;
  }
}

TEST(Cron, RefusesMalformedAndUnsupportedExpressionsNamingTheField) {
  for (const char* text : {"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *",
                           "* * * 13 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *", "L * * * *",
                           "* * * JAN *", "0 0 30 2 *", "a b c d e"}) {
    auto c = parse_cron(text, "crons[2]");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.error().field, "crons[2]") << text;
  }
}

TEST(Cron, NextAndPreviousFiringAtTheBoundaries) {
  auto five = cron("*/5 * * * *");
  EXPECT_EQ(next_fire(five, utc(2026, 11, 30, 7, 59, 59)), utc(2026, 11, 30, 8, 0));
  EXPECT_EQ(next_fire(five, utc(2026, 11, 30, 8, 0)), utc(2026, 11, 30, 8, 5));
  EXPECT_EQ(*previous_fire(five, utc(2026, 11, 30, 8, 4, 59)), utc(2026, 11, 30, 8, 0));
  EXPECT_EQ(*previous_fire(five, utc(2026, 11, 30, 8, 5)), utc(2026, 11, 30, 8, 5));
  auto monthly = cron("0 0 1 * *");
  EXPECT_EQ(next_fire(monthly, utc(2026, 12, 15)), utc(2027, 1, 1));
  EXPECT_EQ(nominal_interval(monthly, utc(2026, 11, 30)), std::chrono::hours(24 * 31));
  EXPECT_EQ(nominal_interval(cron("0 */6 * * *"), utc(2026, 11, 30, 7)), std::chrono::hours(6));
  EXPECT_EQ(nominal_interval(cron("* * * * *"), utc(2026, 11, 30, 7)), std::chrono::minutes(1));
  // Feb 29 only: the next leap year.
  EXPECT_EQ(next_fire(cron("0 12 29 2 *"), utc(2026, 3, 1)), utc(2028, 2, 29, 12));
  // Day of month OR day of week when both are restricted: the 13th or any Friday.
  auto either = cron("0 0 13 * 5");
  EXPECT_EQ(next_fire(either, utc(2026, 11, 30)), utc(2026, 12, 4));  // a Friday
  EXPECT_TRUE(fires_at(either, utc(2026, 12, 13)));
  EXPECT_TRUE(fires_at(cron("0 0 * * 7"), utc(2026, 11, 29)));  // 7 is Sunday too
}

TEST(Jobs, AJobTwoRunsLateIsLateAndFiveRunsLateIsStale) {
  JobSpec job{.name = "collect-metrics", .cron = cron("*/5 * * * *")};
  JobHistory h{.last_started = utc(2026, 11, 30, 8, 0),
               .last_ended = utc(2026, 11, 30, 8, 0, 3),
               .last_outcome = RunOutcome::kOk,
               .last_success = utc(2026, 11, 30, 8, 0)};
  TimePoint since = utc(2026, 11, 1);
  // 8:05 is due; it counts as missed only after the grace minute.
  EXPECT_EQ(judge_job(job, h, since, utc(2026, 11, 30, 8, 5, 59)).missed_runs, 0u);
  EXPECT_EQ(judge_job(job, h, since, utc(2026, 11, 30, 8, 6)).missed_runs, 1u);
  auto late = judge_job(job, h, since, utc(2026, 11, 30, 8, 11));
  EXPECT_EQ(late.missed_runs, 2u);
  EXPECT_EQ(late.health, JobHealth::kLate);
  EXPECT_NE(late.reason.find("2 scheduled runs missed since its last success"), std::string::npos)
      << late.reason;
  auto stale = judge_job(job, h, since, utc(2026, 11, 30, 9, 0));
  EXPECT_EQ(stale.health, JobHealth::kStale);
  EXPECT_EQ(stale.missed_runs, 5u);
  EXPECT_EQ(stale.next_due, utc(2026, 11, 30, 9, 5));
}

TEST(Jobs, AFailedRunDoesNotCountAsARun) {
  JobSpec job{.name = "daily", .cron = cron("0 0 * * *")};
  JobHistory h{.last_started = utc(2026, 11, 30),
               .last_outcome = RunOutcome::kError,
               .last_success = utc(2026, 11, 28)};
  auto s = judge_job(job, h, utc(2026, 1, 1), utc(2026, 11, 30, 1));
  EXPECT_EQ(s.missed_runs, 2u);  // Nov 29 and Nov 30
  EXPECT_NE(s.reason.find("its last run failed"), std::string::npos) << s.reason;
}

TEST(Jobs, RunsDueBeforeR2watchKnewOfTheJobAreNotMissed) {
  JobSpec job{.name = "monthly", .cron = cron("0 0 1 * *")};
  auto s = judge_job(job, JobHistory{}, utc(2026, 11, 30, 7), utc(2026, 11, 30, 8));
  EXPECT_EQ(s.missed_runs, 0u);
  EXPECT_EQ(s.health, JobHealth::kOk);
  EXPECT_EQ(s.next_due, utc(2026, 12, 1));
  auto never = judge_job(JobSpec{.name = "alerts", .cron = cron("* * * * *")}, JobHistory{},
                         utc(2026, 11, 30, 8), utc(2026, 11, 30, 8, 10));
  EXPECT_EQ(never.health, JobHealth::kStale);
  EXPECT_NE(never.reason.find("never succeeded"), std::string::npos);
}

}  // namespace
}  // namespace r2w::ops
