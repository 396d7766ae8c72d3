#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/breaker/circuit-breaker.h"
#include "core/common/time.h"
#include "core/health/probe-round.h"
#include "core/ops/jobs.h"

namespace r2w::health {

enum class Level : uint8_t { kHealthy, kDegraded, kUnhealthy };
std::string_view level_name(Level level);

// What the Worker observed just now, handed in by the caller.
struct Observations {
  breaker::Status breaker;
  // Whether a trivial query on the database answered, and how long it took.
  bool database_ok = false;
  Duration database_latency = Duration(0);
  std::string database_error;
  // Whether the Analytics Engine dataset is bound to the Worker.
  bool analytics_bound = false;
  // The last probe round, if any, and the time now (to tell whether that round is recent).
  std::optional<RoundSummary> last_round;
  TimePoint now;
  // The scheduled jobs' standing (ops::judge_job), when the caller read their heartbeats.
  std::optional<std::vector<ops::JobStatus>> jobs;
};

// Thresholds for "degraded", with defaults.
struct VerdictOptions {
  // Storage is degraded when the breaker window's failure rate is at or above this.
  double degraded_error_rate_pct = 5;
  // Storage is degraded when the average response time is above this.
  Duration degraded_response = Duration(2'000);
  // The database is degraded when its check took longer than this.
  Duration degraded_database_latency = Duration(1'000);
  // A probe round older than this says nothing about now and is not judged (monitoring was
  // stopped, or the cron has not run): three 5-minute cron periods by default.
  Duration probe_round_max_age = Duration(15 * 60'000);
};

struct Component {
  std::string name;
  Level level = Level::kHealthy;
  std::string reason;  // empty when healthy
};

struct Verdict {
  Level overall = Level::kHealthy;
  std::vector<Component> components;  // storage, database, analytics
};

// A job late by ops::JobLatenessOptions::degraded_missed_runs makes "jobs" degraded, one stale
// (unhealthy_missed_runs) unhealthy: a Worker whose crons stopped is not healthy.
// Judges storage by the breaker and the last recent probe round (OPEN or FORCED_OPEN, or more
// than half of the round's attempted probes failing: unhealthy; HALF_OPEN, DISABLED, any
// probe failing or slow, a high error rate or slow responses: degraded), the database by its
// check, analytics by its binding. Overall is the worst component, except that analytics alone
// never makes it unhealthy.
Verdict judge(const Observations& obs, const VerdictOptions& options);
// The HTTP status GET /api/health answers with: 503 when unhealthy (a load balancer or uptime
// check takes the instance out), 200 otherwise (degraded still serves).
uint32_t verdict_http_status(const Verdict& verdict);

}  // namespace r2w::health
