#include "core/health/health-verdict.h"

#include <algorithm>

#include "core/common/format.h"

namespace r2w::health {

namespace {

std::string format_number(double v) { return format_fixed(v, 1); }

std::string op_list(const std::vector<Operation>& ops) {
  std::string out;
  for (Operation op : ops) out += (out.empty() ? "" : ", ") + std::string(operation_name(op));
  return out;
}

Component judge_storage(const Observations& obs, const VerdictOptions& o) {
  using breaker::State;
  const breaker::Status& b = obs.breaker;
  Component c{.name = "storage"};
  const RoundSummary* round = nullptr;
  if (obs.last_round && obs.now - obs.last_round->at <= o.probe_round_max_age) {
    round = &*obs.last_round;
  }
  switch (b.state) {
    case State::kOpen:
      return {c.name, Level::kUnhealthy, "circuit breaker is open: R2 calls are refused"};
    case State::kForcedOpen:
      return {c.name, Level::kUnhealthy, "circuit breaker was forced open by an operator"};
    default:
      break;
  }
  // Refused probes never reached R2: only the attempted ones count.
  if (round && round->attempted > 0 && round->failed * 2 > round->attempted) {
    return {c.name, Level::kUnhealthy,
            "most operations failing in the last probe round: " + std::to_string(round->failed) +
                " of " + std::to_string(round->attempted) + " probes (" + op_list(round->failing) +
                ")"};
  }
  switch (b.state) {
    case State::kHalfOpen:
      return {c.name, Level::kDegraded, "circuit breaker is half open: trial calls under way"};
    case State::kDisabled:
      return {c.name, Level::kDegraded, "circuit breaker is disabled: R2 calls are unguarded"};
    default:
      break;
  }
  if (round && !round->failing.empty()) {
    return {c.name, Level::kDegraded,
            "operations failing in the last probe round: " + op_list(round->failing)};
  }
  if (round && !round->slow_operations.empty()) {
    return {c.name, Level::kDegraded,
            "slow responses in the last probe round: " + op_list(round->slow_operations) +
                " (slowest " + std::to_string(round->max_response_time.count()) + " ms)"};
  }
  const auto& f = b.figures;
  if (f.failure_rate_pct && *f.failure_rate_pct >= o.degraded_error_rate_pct) {
    return {c.name, Level::kDegraded,
            "error rate " + format_number(*f.failure_rate_pct) + "% is at or above " +
                format_number(o.degraded_error_rate_pct) + "%"};
  }
  if (f.ema_response_ms && *f.ema_response_ms > static_cast<double>(o.degraded_response.count())) {
    return {c.name, Level::kDegraded,
            "average response " + format_number(*f.ema_response_ms) + " ms is above " +
                std::to_string(o.degraded_response.count()) + " ms"};
  }
  return c;
}

}  // namespace

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kHealthy:
      return "healthy";
    case Level::kDegraded:
      return "degraded";
    case Level::kUnhealthy:
      return "unhealthy";
  }
  return "unknown";
}

Verdict judge(const Observations& obs, const VerdictOptions& options) {
  Verdict v;
  v.components.push_back(judge_storage(obs, options));
  Component db{.name = "database"};
  if (!obs.database_ok) {
    db.level = Level::kUnhealthy;
    db.reason = "database check failed" +
                (obs.database_error.empty() ? std::string() : ": " + obs.database_error);
  } else if (obs.database_latency > options.degraded_database_latency) {
    db.level = Level::kDegraded;
    db.reason = "database check took " + std::to_string(obs.database_latency.count()) + " ms";
  }
  v.components.push_back(db);
  Component analytics{.name = "analytics"};
  if (!obs.analytics_bound) {
    analytics.level = Level::kDegraded;
    analytics.reason = "Analytics Engine dataset is not bound: raw events are not recorded";
  }
  v.components.push_back(analytics);
  if (obs.jobs) {
    Component jobs{.name = "jobs"};
    for (const ops::JobStatus& j : *obs.jobs) {
      Level level = j.health == ops::JobHealth::kStale  ? Level::kUnhealthy
                    : j.health == ops::JobHealth::kLate ? Level::kDegraded
                                                        : Level::kHealthy;
      if (level == Level::kHealthy) continue;
      jobs.level = std::max(jobs.level, level);
      jobs.reason += (jobs.reason.empty() ? "" : "; ") + j.reason;
    }
    v.components.push_back(jobs);
  }
  for (const Component& c : v.components) {
    Level counted = c.name == "analytics" ? std::min(c.level, Level::kDegraded) : c.level;
    v.overall = std::max(v.overall, counted);
  }
  return v;
}

uint32_t verdict_http_status(const Verdict& verdict) {
  return verdict.overall == Level::kUnhealthy ? 503 : 200;
}

}  // namespace r2w::health
