#pragma once

#include <vector>

#include "core/common/result.h"
#include "core/common/time.h"
#include "core/ops/jobs.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::bindings {

// The scheduled jobs and their heartbeats as the Worker reads them:
// {"schedule": [{"name", "cron"}], "history": [{"job", "last_started_ms", "last_ended_ms",
//  "last_outcome", "last_success_ms", "known_since_ms"?}], "known_since_ms": n} -> each job's
//  standing at `now`.
Result<std::vector<ops::JobStatus>> job_statuses_from_json(const r2w::Json& in, TimePoint now);
r2w::Json job_status_to_json(const ops::JobStatus& s, const ops::JobHistory& h);

}  // namespace r2w::bindings
