#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/civil-date.h"
#include "core/common/result.h"
#include "core/common/time.h"
#include "core/ops/jobs.h"

namespace r2w::ops {

// The day's work, made in steps. The daily cron (00:00 UTC) only starts it: one row in D1
// (kDailyWorkTable) for the UTC day. The 5-minute cron carries it on, one step per run: the task
// due next (below, in order), one bounded step of it (a day rollup, one table retention run, one
// report, one backup step of at most kBackupStepRows rows). A task is recorded done when its
// last step says so; a step that dies before that is redone by the next run (every step is
// idempotent: rollups replace, retention merges by key, a report replaces its period and
// delivers once per period and channel, a backup part is rewritten under its own key). When
// every task is done the day's work is finished (a heartbeat of job "daily", made by that run).
// A day's work not finished kDailyWorkDeadline after it started makes job "daily" late.

inline constexpr std::string_view kDailyWorkTable = "daily_work";  // migration 0029

enum class DailyTask : uint8_t {
  kDayRollup,      // day rows from hour rows, one day per step
  kRetention,      // minute rows past their period, expired reservations
  kSecurity,       // security counters past their window
  kTables,         // the retention of every other table (archive, then delete), one run a step
  kReportDaily,    // yesterday's report
  kReportWeekly,   // last week's (Mondays)
  kReportMonthly,  // last month's (the 1st)
  kBackup,         // a backup of D1 to R2, one step a run
};
std::string_view daily_task_name(DailyTask t);  // "day_rollup", ..., "report_daily", "backup"
std::optional<DailyTask> parse_daily_task(std::string_view name);

// A step of a task that fails is tried again by the next run, this many times in all; then the
// task is given up for the day (recorded as failed, the rest goes on, and the day's heartbeat
// ends in error naming it).
inline constexpr uint32_t kDailyStepAttempts = 3;
// The day's work should be finished before the next day's starts (its backup, rows / 400
// five-minute runs, takes most of a day at 100,000 rows); later, job "daily" is late.
inline constexpr Duration kDailyWorkDeadline = std::chrono::hours(24);
// daily_work rows are kept this long.
inline constexpr Duration kDailyWorkRetention = std::chrono::hours(24 * 30);

// The day's tasks, in order, for work started at `started` (its reports: report_due's).
std::vector<DailyTask> daily_tasks(TimePoint started);

// D1's row of one day's work.
struct DailyWork {
  CivilDate day;
  TimePoint started;
  std::vector<DailyTask> done;    // done or given up, in order
  std::vector<DailyTask> failed;  // of `done`, those given up
  uint32_t attempts = 0;          // failed attempts of the task due next
  uint64_t steps = 0;             // steps made so far
  std::optional<TimePoint> finished;
};

// What the daily cron records: the UTC day of `now`, started now.
struct DailyStart {
  CivilDate day;
  TimePoint started;
};
DailyStart daily_start(TimePoint now);

enum class DailyAction : uint8_t { kIdle, kRun, kGiveUp, kSkip, kFinish };
std::string_view daily_action_name(DailyAction a);

struct DailyNext {
  DailyAction action = DailyAction::kIdle;
  DailyTask task = DailyTask::kDayRollup;  // kRun, kGiveUp (kBackup: a step with trigger
                                           // "start", which goes on with a backup under way)
};

// Whether a later day's work has started beside the work judged.
enum class LaterWork : uint8_t { kNone, kStarted };

// A task a later day's work makes anew, so an older work that has not done it by then skips it:
// the day rollup (the later one rolls up every day not rolled up), retention of minute rows,
// security counters and tables (later cutoffs), the backup (the later one's start goes on with
// the backup under way). The reports are of their own periods: never skipped.
bool superseded_by_later_work(DailyTask t);

// The move of the 5-minute run for the oldest unfinished work (nullopt: none): idle (nothing
// to do), run a step of the task due next, give that task up (kDailyStepAttempts failed), skip
// it (a later day's work has started and makes it anew: a backup that takes longer than a day
// goes on there rather than holding every later day's work back), or finish (every task done).
// The daily cron makes no step itself, so the two crons firing at 00:00 never make one at once.
// Refuses a work whose done list is not a prefix of its tasks (naming "work.done").
Result<DailyNext> next_daily_step(const std::optional<DailyWork>& work,
                                  LaterWork later = LaterWork::kNone);

// The day rollup in steps: one bucket of the days the rollup plans per step (its per-user and
// account rows; every bucket's own rows merge apart from the others'), buckets in name order;
// the level's progress moves when the last is done. `buckets`: the buckets with hour rows in
// the planned days; `after`: the last bucket done for these same days (none: from the first).
struct DayRollupStep {
  std::optional<std::string> bucket;  // none: no bucket left (move the progress only)
  uint32_t left_after = 0;            // buckets left after this one
};
// The most buckets one day rollup step reads the list of.
inline constexpr size_t kMaxDayRollupBuckets = 100'000;
DayRollupStep next_day_rollup_bucket(std::vector<std::string> buckets,
                                     const std::optional<std::string>& after);

// Whether the oldest unfinished work is late at `now`, and why ("" when not).
std::string daily_work_lateness(const std::optional<DailyWork>& work, TimePoint now);

// The job whose runs start the day's work (jobs.js).
inline constexpr std::string_view kDailyJobName = "daily";

// Job "daily" judged with its work: an ok job whose work is late (above) is late, saying why.
void judge_daily_work(JobStatus& daily, const std::optional<DailyWork>& work, TimePoint now);

}  // namespace r2w::ops
