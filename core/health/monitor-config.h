#pragma once

#include <cstdint>
#include <vector>

#include "core/breaker/breaker-options.h"
#include "core/common/operation.h"
#include "core/common/result.h"
#include "core/common/time.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::health {

// The health monitor's settings, changed at run time through the API and stored in D1
// (`health_check_config`). JSON uses the names of the API (camelCase, durations in ms).
struct MonitorConfig {
  // `checkInterval`: the time between two scheduled probe rounds (the probe scheduler's
  // Durable Object alarm fires at this pace; a round asked for sooner runs none). Default
  // 30,000 ms, range 10,000 .. 86,400,000 ms (an alarm every 10 s at the most).
  Duration check_interval = Duration(30'000);
  // `timeout`: a probe that has not answered in this time fails as "timeout". Default
  // 5,000 ms, range 100 .. 60,000 ms.
  Duration timeout = Duration(5'000);
  // `failureThreshold`: failures in a row that open the breaker (its
  // consecutive_failure_threshold). Default 3, range 1 .. 100.
  uint32_t failure_threshold = 3;
  // `recoveryTimeout`: how long the open breaker refuses calls before a trial (its
  // wait_in_open_ms). Default 60,000 ms, range 1,000 .. 86,400,000 ms.
  Duration recovery_timeout = Duration(60'000);
  // `slowResponseThreshold`: a probe (and any R2 call: the breaker's slow_call_duration_ms)
  // longer than this is slow. Default 2,000 ms, range 1 ms .. less than `timeout`.
  Duration slow_response_threshold = Duration(2'000);
  // `enabled`: whether scheduled rounds run (monitoring started or stopped). Default true.
  bool enabled = true;
  // `testOperations`: which operations are probed; at least one, no repeats. Default all five.
  // Kept in the canonical order of kAllOperations whatever order the input had.
  std::vector<Operation> test_operations{kAllOperations.begin(), kAllOperations.end()};
  // `alertOnFailure` / `alertOnRecovery`: whether failure events open alerts and whether a
  // recovery is recorded. Default true both.
  bool alert_on_failure = true;
  bool alert_on_recovery = true;
  // `retentionDays`: probe results older than this are deleted by the daily job. Default 30,
  // range 1 .. 3,650.
  uint32_t retention_days = 30;

  bool probes(Operation op) const;
  // Every problem, one per bad field (empty when valid).
  std::vector<FieldProblem> problems() const;
};

r2w::Json config_to_json(const MonitorConfig& config);

// Merges the fields present in `update` over `base` and validates the result. Every bad field
// is reported (unknown names, wrong types, out of range, inconsistent), each in
// Error::problems, and nothing is returned then: an update is applied whole or not at all.
// The form GET answers, {"config": {...}, "monitoring": "running"|"stopped"}, is taken too
// (`monitoring` when it agrees with enabled; fields then named config.<field>).
Result<MonitorConfig> config_from_json(const r2w::Json& update, const MonitorConfig& base);

// The breaker options this config implies: `base` with failureThreshold,
// recoveryTimeout and slowResponseThreshold put in their place.
breaker::Options breaker_options_for(const MonitorConfig& config, const breaker::Options& base);

}  // namespace r2w::health
