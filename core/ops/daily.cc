#include "core/ops/daily.h"

#include <algorithm>
#include <array>
#include <utility>

#include "core/reports/period.h"

namespace r2w::ops {

namespace {

constexpr std::array<std::pair<DailyTask, std::string_view>, 8> kTaskNames{{
    {DailyTask::kDayRollup, "day_rollup"},
    {DailyTask::kRetention, "retention"},
    {DailyTask::kSecurity, "security"},
    {DailyTask::kTables, "tables"},
    {DailyTask::kReportDaily, "report_daily"},
    {DailyTask::kReportWeekly, "report_weekly"},
    {DailyTask::kReportMonthly, "report_monthly"},
    {DailyTask::kBackup, "backup"},
}};

DailyTask report_task(reports::ReportType t) {
  switch (t) {
    case reports::ReportType::kDaily:
      return DailyTask::kReportDaily;
    case reports::ReportType::kWeekly:
      return DailyTask::kReportWeekly;
    case reports::ReportType::kMonthly:
      return DailyTask::kReportMonthly;
  }
  return DailyTask::kReportDaily;
}

}  // namespace

std::string_view daily_task_name(DailyTask t) {
  for (const auto& [task, name] : kTaskNames) {
    if (task == t) return name;
  }
  return "day_rollup";
}

std::optional<DailyTask> parse_daily_task(std::string_view name) {
  for (const auto& [task, n] : kTaskNames) {
    if (n == name) return task;
  }
  return std::nullopt;
}

std::string_view daily_action_name(DailyAction a) {
  switch (a) {
    case DailyAction::kIdle:
      return "idle";
    case DailyAction::kRun:
      return "run";
    case DailyAction::kGiveUp:
      return "give_up";
    case DailyAction::kSkip:
      return "skip";
    case DailyAction::kFinish:
      return "finish";
  }
  return "idle";
}

std::vector<DailyTask> daily_tasks(TimePoint started) {
  std::vector<DailyTask> tasks{DailyTask::kDayRollup, DailyTask::kRetention, DailyTask::kSecurity,
                               DailyTask::kTables};
  for (const reports::Period& p : reports::due_periods(started))
    tasks.push_back(report_task(p.type));
  tasks.push_back(DailyTask::kBackup);
  return tasks;
}

DailyStart daily_start(TimePoint now) { return DailyStart{.day = date_of(now), .started = now}; }

bool superseded_by_later_work(DailyTask t) {
  switch (t) {
    case DailyTask::kReportDaily:
    case DailyTask::kReportWeekly:
    case DailyTask::kReportMonthly:
      return false;
    default:
      return true;
  }
}

Result<DailyNext> next_daily_step(const std::optional<DailyWork>& work, LaterWork later) {
  if (!work || work->finished) return DailyNext{};
  const std::vector<DailyTask> tasks = daily_tasks(work->started);
  if (work->done.size() > tasks.size() ||
      !std::equal(work->done.begin(), work->done.end(), tasks.begin())) {
    return invalid_field("work.done", "work.done must be the day's tasks done so far, in order");
  }
  for (DailyTask f : work->failed) {
    if (std::find(work->done.begin(), work->done.end(), f) == work->done.end()) {
      return invalid_field("work.failed", "work.failed must be tasks of work.done");
    }
  }
  if (work->done.size() == tasks.size()) return DailyNext{.action = DailyAction::kFinish};
  const DailyTask task = tasks[work->done.size()];
  if (later == LaterWork::kStarted && superseded_by_later_work(task)) {
    return DailyNext{.action = DailyAction::kSkip, .task = task};
  }
  if (work->attempts >= kDailyStepAttempts) {
    return DailyNext{.action = DailyAction::kGiveUp, .task = task};
  }
  return DailyNext{.action = DailyAction::kRun, .task = task};
}

DayRollupStep next_day_rollup_bucket(std::vector<std::string> buckets,
                                     const std::optional<std::string>& after) {
  std::sort(buckets.begin(), buckets.end());
  buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
  auto next = after ? std::upper_bound(buckets.begin(), buckets.end(), *after) : buckets.begin();
  if (next == buckets.end()) return DayRollupStep{};
  return DayRollupStep{.bucket = *next,
                       .left_after = static_cast<uint32_t>(buckets.end() - next - 1)};
}

std::string daily_work_lateness(const std::optional<DailyWork>& work, TimePoint now) {
  if (!work || work->finished) return "";
  const TimePoint deadline = work->started + kDailyWorkDeadline;
  if (now < deadline) return "";
  std::string why = "the work of " + format_date(work->day) + " is not finished ";
  why += std::to_string(std::chrono::duration_cast<std::chrono::hours>(kDailyWorkDeadline).count());
  why += " h after it started (";
  why += std::to_string(work->done.size()) + " of " +
         std::to_string(daily_tasks(work->started).size()) + " tasks done)";
  return why;
}

void judge_daily_work(JobStatus& daily, const std::optional<DailyWork>& work, TimePoint now) {
  if (daily.health != JobHealth::kOk) return;
  std::string why = daily_work_lateness(work, now);
  if (why.empty()) return;
  daily.health = JobHealth::kLate;
  daily.reason = std::move(why);
}

}  // namespace r2w::ops
