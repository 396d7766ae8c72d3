#pragma once

// JSON <-> the health monitor's structs (core/health): its config (API form and the stored
// forms of every schema version), probe plans and results, round summaries, events, the state
// carried between rounds, and the health verdict.
#include "core/health/health-events.h"
#include "core/health/health-verdict.h"
#include "core/health/monitor-config.h"
#include "core/health/probe-round.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::codec {

// The schema version of the monitor config this build writes. Version 1 (a stored config
// without "version") used the old camelCase names (checkInterval, timeout, failureThreshold,
// ...); version 2 uses the API's names (check_interval_ms, timeout_ms, failure_threshold, ...).
inline constexpr int kMonitorConfigVersion = 2;

// The API form: {"check_interval_ms", "timeout_ms", ..., "retention_days"}.
Json config_to_json(const health::MonitorConfig& config);

// Merges the fields present in an API update over `base` and validates the result. Every bad
// field is reported (unknown names, old names, wrong types, out of range, inconsistent), each
// in Error::problems, and nothing is returned then: an update is applied whole or not at all.
// An old (camelCase) name is refused naming the new one. The form GET answers,
// {"config": {...}, "monitoring": "running"|"stopped"}, is taken too (`monitoring` when it
// agrees with enabled; fields then named config.<field>).
Result<health::MonitorConfig> config_from_json(const Json& update,
                                               const health::MonitorConfig& base);

// A config stored earlier: {"version": 2, <API names>} or, without "version", version 1 with
// the old names. Validated as an update is.
Result<health::MonitorConfig> stored_config_from_json(const Json& stored);

Json plan_to_json(const health::ProbePlan& plan);
Json result_to_json(const health::ProbeResult& r);
Json summary_to_json(const health::RoundSummary& s);
// {"hour_ms", "day_ms", "hours_from_ms", "hours_until_ms", "days_from_ms", "days_until_ms"}.
Json tally_to_json(const health::TallyPeriods& t);
Result<health::RoundSummary> summary_from_json(const Json& j);

Json event_to_json(const health::HealthEvent& e);
Json state_to_json(const health::MonitorState& state);
// Reads `state_to_json` output; null or an empty object is a fresh state.
Result<health::MonitorState> monitor_state_from_json(const Json& j);

Json verdict_to_json(const health::Verdict& v);

}  // namespace r2w::codec
