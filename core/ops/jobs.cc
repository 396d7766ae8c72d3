#include "core/ops/jobs.h"

#include <algorithm>

namespace r2w::ops {

std::string_view run_outcome_name(RunOutcome o) {
  switch (o) {
    case RunOutcome::kRunning:
      return "running";
    case RunOutcome::kOk:
      return "ok";
    case RunOutcome::kError:
      return "error";
  }
  return "error";
}

std::optional<RunOutcome> parse_run_outcome(std::string_view name) {
  for (RunOutcome o : {RunOutcome::kRunning, RunOutcome::kOk, RunOutcome::kError}) {
    if (run_outcome_name(o) == name) return o;
  }
  return std::nullopt;
}

std::string_view job_health_name(JobHealth h) {
  switch (h) {
    case JobHealth::kOk:
      return "ok";
    case JobHealth::kLate:
      return "late";
    case JobHealth::kStale:
      return "stale";
  }
  return "stale";
}

JobStatus judge_job(const JobSpec& job, const JobHistory& history, TimePoint known_since,
                    TimePoint now, const JobLatenessOptions& options) {
  JobStatus s{.name = job.name, .cron = job.cron.text};
  s.interval = nominal_interval(job.cron, now);
  s.previous_due = previous_fire(job.cron, now);
  s.next_due = next_fire(job.cron, now);
  // Count due times after the baseline that are past their grace, up to the unhealthy mark.
  // A scheduled run starts at its due minute, so a success that started at or after a due time
  // covers it.
  TimePoint known = history.known_since.value_or(known_since);
  TimePoint baseline = std::max(history.last_success.value_or(known), known);
  TimePoint counted_until = now - options.grace;
  const uint32_t cap = std::max(options.unhealthy_missed_runs, options.degraded_missed_runs);
  TimePoint due = next_fire(job.cron, baseline - std::chrono::milliseconds(1));
  if (history.last_success && due <= *history.last_success) due = next_fire(job.cron, due);
  while (due <= counted_until && s.missed_runs < cap) {
    ++s.missed_runs;
    due = next_fire(job.cron, due);
  }
  auto describe = [&]() {
    std::string last =
        history.last_success ? "since its last success" : "and it has never succeeded";
    std::string what = std::to_string(s.missed_runs) + (s.missed_runs >= cap ? " or more" : "") +
                       " scheduled runs missed " + last;
    if (history.last_outcome == RunOutcome::kError) what += " (its last run failed)";
    return what;
  };
  if (s.missed_runs >= options.unhealthy_missed_runs) {
    s.health = JobHealth::kStale;
    s.reason = "job " + job.name + ": " + describe();
  } else if (s.missed_runs >= options.degraded_missed_runs) {
    s.health = JobHealth::kLate;
    s.reason = "job " + job.name + ": " + describe();
  }
  return s;
}

}  // namespace r2w::ops
