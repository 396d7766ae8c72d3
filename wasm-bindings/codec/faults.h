#pragma once

// The fault plan's JSON: the changes PUT /api/admin/faults sends and the stored plan.

#include "core/common/result.h"
#include "core/faults/fault-plan.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::codec {

// One of:
//  {"target"?: "r2", "operation": "get"|"put"|"delete"|"list"|"head"|"all", "error_rate": 0..1,
//   "latency_ms": 0..30000} (absent numbers are 0);
//  {"target": "d1", "error_rate": 0..1, "latency_ms": 0..30000, "fail"?: "before"|"after"};
//  {"target": "clock", "skew_ms": 0..86400000};
//  or what GET answers, {"faults": <plan>}: the whole plan.
Result<faults::PlanChange> fault_change_from_json(const Json& body);

// {"get": {"error_rate", "latency_ms"}, ..., "d1": {"error_rate", "latency_ms", "fail"},
//  "clock": {"skew_ms"}} for everything with a fault (its keys are what has a fault, so the
// version is not among them).
Json fault_plan_to_json(const faults::PlanState& plan);

// The stored (and answered) form: {"faults": <plan>, "version": 1}. Read back validated like a
// change; a bare plan (stored before versions) is version 1, another version is refused naming
// "version".
Json fault_state_to_json(const faults::PlanState& plan);
Result<faults::PlanState> fault_state_from_json(const Json& j);

}  // namespace r2w::codec
