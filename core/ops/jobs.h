#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/common/time.h"
#include "core/ops/cron.h"

namespace r2w::ops {

// A job of the Worker and its schedule (wrangler.toml's crons, dispatched by name).
struct JobSpec {
  std::string name;
  CronExpr cron;
};

enum class RunOutcome : uint8_t { kRunning, kOk, kError };
std::string_view run_outcome_name(RunOutcome o);
std::optional<RunOutcome> parse_run_outcome(std::string_view name);

// What the heartbeat table (job_runs) says of a job.
struct JobHistory {
  std::optional<TimePoint> last_started;
  std::optional<TimePoint> last_ended;
  std::optional<RunOutcome> last_outcome;
  std::optional<TimePoint> last_success;  // start of the last run that ended well
  // When r2watch first knew of this job, if recorded (else judge_job's `known_since`).
  std::optional<TimePoint> known_since;
};

enum class JobHealth : uint8_t { kOk, kLate, kStale };
std::string_view job_health_name(JobHealth h);

// How late a job may be, in missed runs (due times that passed without a successful run).
struct JobLatenessOptions {
  // Degraded from this many missed runs on [2].
  uint32_t degraded_missed_runs = 2;
  // Unhealthy from this many [5].
  uint32_t unhealthy_missed_runs = 5;
  // A run due at t counts as missed only once t + grace has passed, so a run under way is not
  // late [1 minute].
  Duration grace = std::chrono::minutes(1);
};

struct JobStatus {
  std::string name;
  std::string cron;
  Duration interval{0};
  std::optional<TimePoint> previous_due;
  TimePoint next_due;
  // Due times since the last success (or since `known_since` for a job that never succeeded)
  // that passed without one, counted up to unhealthy_missed_runs.
  uint32_t missed_runs = 0;
  JobHealth health = JobHealth::kOk;
  std::string reason;  // empty when ok
};

// The job's standing at `now`. `known_since` is when r2watch first knew of the job (its first
// heartbeat or the schedule's first reading): runs due before it are not counted as missed.
JobStatus judge_job(const JobSpec& job, const JobHistory& history, TimePoint known_since,
                    TimePoint now, const JobLatenessOptions& options = {});

// How long job heartbeats are kept [30 days].
// The most scheduled jobs a status check reads.
inline constexpr size_t kMaxJobs = 64;
// GET /api/admin/jobs lists this many recent runs unless asked (`limit`, 1..kMaxRecentRuns).
inline constexpr uint32_t kDefaultRecentRuns = 20;
inline constexpr uint32_t kMaxRecentRuns = 500;

inline constexpr Duration kJobRunRetention = std::chrono::hours(24 * 30);

}  // namespace r2w::ops
