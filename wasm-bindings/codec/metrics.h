#pragma once

// The metrics domain's JSON: rollup rows and their latency sketches, read plans, history points,
// usage summaries, settings, the dashboard overview, inventory walks and storage growth. The
// core (core/metrics/) decides; this file only reads and writes its structs.

#include <vector>

#include "core/common/result.h"
#include "core/metrics/history.h"
#include "core/metrics/inventory.h"
#include "core/metrics/latency-sketch.h"
#include "core/metrics/overview.h"
#include "core/metrics/rollup.h"
#include "core/metrics/sampling.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::codec {

// {"version": 1, "zero": n, "bins": [[index, count], ...], "sum": s, "min": m, "max": M}; empty
// sketch: min and max null. A stored sketch without "version" is version 1; another version is
// refused naming "version".
Json sketch_to_json(const metrics::LatencySketch& s);
Result<metrics::LatencySketch> sketch_from_json(const Json& j);

// {"bucket", "prefix", "user", "operation", "r2_class", "level", "period_start_ms", "calls",
//  "errors", "bytes_up", "bytes_down", "latency": <sketch>}. "r2_class" is derived from the
// operation (accepted on input, ignored); "level" defaults to minute.
Json row_to_json(const metrics::Row& row);
Result<metrics::Row> row_from_json(const Json& j);
// The rows of `in[field]` (an array), errors prefixed with "<field>[i]".
Result<std::vector<metrics::Row>> rows_from_json(const Json& in, const char* field);
Json rows_to_json(const std::vector<metrics::Row>& rows);

// {"from_ms", "segments": [{"level", "source": "rollup"|"live", "from_ms", "to_ms"}]}.
Json read_plan_to_json(const metrics::ReadPlan& plan);
// {"range", "level", "step_ms", "from_ms", "to_ms"}.
Json history_plan_to_json(const metrics::HistoryPlan& plan);
// {t_ms, calls, errors, error_rate_pct, bytes_up, bytes_down, avg_ms, p50_ms, p95_ms, p99_ms}.
Json point_to_json(const metrics::Point& p);
Json usage_summary_to_json(const metrics::UsageSummary& u);

// {"hours", "from_ms", "to_ms", "step_ms", "from_day": "YYYY-MM-DD", "today", "account_from_ms"}.
Json usage_window_to_json(const metrics::UsageWindow& w);
// A count given as a query parameter's text ("24": digits only, at most 9) or a JSON integer;
// null is unset. Anything else is refused (an "invalid_field" Error without a field: the caller
// names it).
Result<std::optional<uint64_t>> query_count(const Json& v);

// Worker variables (numbers or numeric strings; absent, null or "" unset). Errors name the
// variable.
Result<metrics::SettingsVars> settings_vars_from_json(const Json& vars);
// The settings and r2watch's own key prefix ("own_prefix", metrics::kOwnPrefix: left out of
// every figure a person sees).
Json settings_to_json(const metrics::Settings& s);

// {"range", "current": {"from_ms", "to_ms"}, "previous": {"from_ms", "to_ms"}, "figures":
//  {name: {"value", "previous", "change_pct", "threshold"?, "over_threshold"?}}}.
Json overview_to_json(const metrics::Overview& o);

// The inventory walk's stored state: {"version": 1, "started_at_ms", "objects", "bytes",
// "by_prefix", "by_user", "by_user_prefix", "by_content_type", "by_prefix_class", "largest"}.
Json inventory_to_json(const metrics::Inventory& inv);
Result<metrics::Inventory> inventory_from_json(const Json& j);
// A listing page: [{"key", "size", "content_type"?, "storage_class"?}, ...], refused whole on
// bad input (naming "objects[i].key" ...).
Result<std::vector<metrics::ListedObject>> listed_objects_from_json(const Json& objects);

// Snapshots [{"taken_at_ms", "objects", "bytes"}, ...]; malformed entries are skipped.
std::vector<metrics::Snapshot> snapshots_from_json(const Json& snapshots);
// {"latest": {"taken_at_ms", "objects", "bytes"} | null, "changes": {"1d": {"since_ms",
//  "bytes_delta", "objects_delta", "bytes_pct"} | null, ...}}.
Json growth_to_json(const metrics::Growth& g);

}  // namespace r2w::codec
