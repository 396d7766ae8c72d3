#pragma once

// JSON <-> the circuit breaker's structs (core/breaker): options, status, figures,
// transitions, and the snapshot a new instance continues from (with its schema version).
#include "core/breaker/breaker-options.h"
#include "core/breaker/circuit-breaker.h"
#include "core/breaker/sliding-window.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::codec {

// The schema version of the breaker snapshot this build writes and reads.
inline constexpr int kBreakerSnapshotVersion = 1;

// Options as the API and D1 name them (snake_case, units in names). `options_from_json`
// merges the given fields over `base`, refuses unknown fields and wrong types, and validates
// the result in the core (Options::validate, naming the field).
Json options_to_json(const breaker::Options& options);
Result<breaker::Options> options_from_json(const Json& j, const breaker::Options& base);

Json figures_to_json(const breaker::WindowFigures& f);
Json transition_to_json(const breaker::Transition& t);
Json status_to_json(const breaker::Status& s);

// {"schema_version": 1, "state", "since_ms", "consecutive_failures", "ema_response_ms",
//  "totals": {...}, "half_open": {...}, "window": {"type": "count_based", "calls": [flags]} |
//  {"type": "time_based", "buckets": [[index, calls, failures, slow], ...]}}.
Json snapshot_to_json(const breaker::Snapshot& s);
// Refuses a snapshot of another schema version or with a malformed field (code
// "invalid_snapshot", naming it). A malformed window is dropped (the breaker starts empty).
Result<breaker::Snapshot> snapshot_from_json(const Json& j);

}  // namespace r2w::codec
