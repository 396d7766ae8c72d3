#pragma once

// The ops domain's JSON: the job schedule and heartbeats as the Worker reads them, each job's
// standing, and the structured log line (core/ops/log-line.h) written in its field order.

#include <map>
#include <string>
#include <vector>

#include "core/common/result.h"
#include "core/common/time.h"
#include "core/ops/daily.h"
#include "core/ops/jobs.h"
#include "core/ops/log-line.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::codec {

// {"schedule": [{"name", "cron"}] (at most ops::kMaxJobs), "history": [{"job",
//  "last_started_ms", "last_ended_ms", "last_outcome", "last_success_ms", "known_since_ms"?}],
//  "known_since_ms": n}.
struct ParsedJobs {
  std::vector<ops::JobSpec> specs;
  std::map<std::string, ops::JobHistory> history;
  TimePoint known_since;
};
Result<ParsedJobs> jobs_from_json(const Json& in, TimePoint now);

// Each job's standing at `now` (errors prefixed with "jobs").
Result<std::vector<ops::JobStatus>> job_statuses_from_json(const Json& in, TimePoint now);
// {"name", "cron", "interval_ms", "previous_due_ms", "next_due_ms", "last_started_ms",
//  "last_ended_ms", "last_outcome", "last_success_ms", "missed_runs", "health", "reason"}.
Json job_status_to_json(const ops::JobStatus& s, const ops::JobHistory& h);

// The day's work as D1 holds it (field names under `at`): {"day": "YYYY-MM-DD", "started_ms",
// "done": [task names], "failed": [task names], "attempts", "steps", "finished_ms": n|null},
// or null (none).
Result<std::optional<ops::DailyWork>> daily_work_from_json(const Json* in, std::string_view at);

// One JSON line, no trailing newline, fields in this order (the order is part of the format):
//  request: time, level, kind, method, route, status, duration_ms, request_id, user;
//  job: time, level, kind, job, trigger, outcome, duration_ms, error.
// Invalid UTF-8 (a cut multi-byte character) is replaced by U+FFFD, never an error.
std::string log_line_text(const ops::RequestLine& line);
std::string log_line_text(const ops::JobLine& line);

}  // namespace r2w::codec
