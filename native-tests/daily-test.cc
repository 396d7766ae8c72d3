// The day's work in steps (core/ops/daily.h): which task is due next, when a task is given up,
// when the work is finished, and when job "daily" is late for it.
#include "core/ops/daily.h"

#include <gtest/gtest.h>

#include "core/common/civil-date.h"

namespace r2w::ops {
namespace {

// 2026-11-30T00:00:00Z is a Monday; 2026-12-01 the 1st of a month; 2026-11-26 a Thursday.
const TimePoint kMonday = from_epoch_ms(days_since_epoch({2026, 11, 30}) * 86'400'000);
const TimePoint kFirst = kMonday + std::chrono::hours(24);
const TimePoint kThursday = kMonday - std::chrono::hours(24 * 4);

DailyWork work_at(TimePoint started) {
  return DailyWork{.day = date_of(started), .started = started};
}

TEST(DailyTasks, ReportsFollowTheCalendar) {
  const std::vector<DailyTask> common{DailyTask::kDayRollup, DailyTask::kRetention,
                                      DailyTask::kSecurity, DailyTask::kTables,
                                      DailyTask::kReportDaily};
  auto thursday = common;
  thursday.push_back(DailyTask::kBackup);
  EXPECT_EQ(daily_tasks(kThursday), thursday);
  auto monday = common;
  monday.push_back(DailyTask::kReportWeekly);
  monday.push_back(DailyTask::kBackup);
  EXPECT_EQ(daily_tasks(kMonday), monday);
  auto first = common;
  first.push_back(DailyTask::kReportMonthly);
  first.push_back(DailyTask::kBackup);
  EXPECT_EQ(daily_tasks(kFirst), first);
}

TEST(DailyTasks, NamesRoundTrip) {
  for (DailyTask t : daily_tasks(kFirst)) EXPECT_EQ(parse_daily_task(daily_task_name(t)), t);
  EXPECT_EQ(parse_daily_task("report_weekly"), DailyTask::kReportWeekly);
  EXPECT_FALSE(parse_daily_task("everything").has_value());
}

TEST(DailyNext, NothingWithoutWorkOrWhenFinished) {
  EXPECT_EQ(next_daily_step(std::nullopt).value().action, DailyAction::kIdle);
  DailyWork w = work_at(kMonday);
  w.finished = kMonday + std::chrono::hours(1);
  EXPECT_EQ(next_daily_step(w).value().action, DailyAction::kIdle);
}

TEST(DailyNext, TheTasksInOrderThenFinish) {
  DailyWork w = work_at(kThursday);
  for (DailyTask t : daily_tasks(kThursday)) {
    auto next = next_daily_step(w).value();
    EXPECT_EQ(next.action, DailyAction::kRun);
    EXPECT_EQ(next.task, t);
    w.done.push_back(t);
  }
  EXPECT_EQ(next_daily_step(w).value().action, DailyAction::kFinish);
}

TEST(DailyNext, AFailingTaskIsTriedThenGivenUp) {
  DailyWork w = work_at(kThursday);
  w.done = {DailyTask::kDayRollup, DailyTask::kRetention, DailyTask::kSecurity};
  w.attempts = kDailyStepAttempts - 1;
  EXPECT_EQ(next_daily_step(w).value().action, DailyAction::kRun);
  w.attempts = kDailyStepAttempts;
  auto next = next_daily_step(w).value();
  EXPECT_EQ(next.action, DailyAction::kGiveUp);
  EXPECT_EQ(next.task, DailyTask::kTables);
}

TEST(DailyNext, ALaterDaysWorkTakesOverAllButTheReports) {
  DailyWork w = work_at(kMonday);
  w.done = {DailyTask::kDayRollup, DailyTask::kRetention};
  auto next = next_daily_step(w, LaterWork::kStarted).value();
  EXPECT_EQ(next.action, DailyAction::kSkip);
  EXPECT_EQ(next.task, DailyTask::kSecurity);
  w.done = {DailyTask::kDayRollup, DailyTask::kRetention, DailyTask::kSecurity, DailyTask::kTables};
  next = next_daily_step(w, LaterWork::kStarted).value();
  EXPECT_EQ(next.action, DailyAction::kRun);
  EXPECT_EQ(next.task, DailyTask::kReportDaily);
  w.done.push_back(DailyTask::kReportDaily);
  w.done.push_back(DailyTask::kReportWeekly);
  next = next_daily_step(w, LaterWork::kStarted).value();
  EXPECT_EQ(next.action, DailyAction::kSkip);
  EXPECT_EQ(next.task, DailyTask::kBackup);
  EXPECT_EQ(next_daily_step(w).value().action, DailyAction::kRun);
}

TEST(DailyNext, RefusesADoneListThatIsNotTheDaysTasks) {
  DailyWork w = work_at(kThursday);
  w.done = {DailyTask::kRetention};
  auto next = next_daily_step(w);
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().field, "work.done");
  w.done = {DailyTask::kDayRollup};
  w.failed = {DailyTask::kBackup};
  next = next_daily_step(w);
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().field, "work.failed");
}

TEST(DailyLateness, LateOnlyPastTheDeadlineAndUnfinished) {
  DailyWork w = work_at(kMonday);
  JobStatus daily{.name = std::string(kDailyJobName)};
  judge_daily_work(daily, w, kMonday + kDailyWorkDeadline - std::chrono::minutes(1));
  EXPECT_EQ(daily.health, JobHealth::kOk);
  judge_daily_work(daily, w, kMonday + kDailyWorkDeadline);
  EXPECT_EQ(daily.health, JobHealth::kLate);
  EXPECT_NE(daily.reason.find("2026-11-30"), std::string::npos) << daily.reason;
  JobStatus done{.name = std::string(kDailyJobName)};
  w.finished = kMonday + std::chrono::hours(2);
  judge_daily_work(done, w, kMonday + std::chrono::hours(12));
  EXPECT_EQ(done.health, JobHealth::kOk);
}

TEST(DayRollupSteps, OneBucketAStepInNameOrder) {
  const std::vector<std::string> buckets{"photos", "", "logs", "photos"};
  DayRollupStep s = next_day_rollup_bucket(buckets, std::nullopt);
  EXPECT_EQ(s.bucket, "");
  EXPECT_EQ(s.left_after, 2u);
  s = next_day_rollup_bucket(buckets, "");
  EXPECT_EQ(s.bucket, "logs");
  s = next_day_rollup_bucket(buckets, "logs");
  EXPECT_EQ(s.bucket, "photos");
  EXPECT_EQ(s.left_after, 0u);
  EXPECT_FALSE(next_day_rollup_bucket(buckets, "photos").bucket.has_value());
  EXPECT_FALSE(next_day_rollup_bucket({}, std::nullopt).bucket.has_value());
}

TEST(DailyStart, TheUtcDayOfTheRun) {
  const DailyStart s = daily_start(kMonday + std::chrono::seconds(3));
  EXPECT_EQ(format_date(s.day), "2026-11-30");
  EXPECT_EQ(s.started, kMonday + std::chrono::seconds(3));
}

}  // namespace
}  // namespace r2w::ops
