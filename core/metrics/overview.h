#pragma once

#include <optional>
#include <vector>

#include "core/common/time.h"
#include "core/metrics/history.h"
#include "core/metrics/rollup.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::metrics {

// The dashboard's performance figures over a history range, each against the period of the
// same length just before it, and the latency and error figures against their alert thresholds.
struct OverviewThresholds {
  // Error rate above this is a warning (percent); unset: no warning. Default: none.
  std::optional<double> error_rate_pct;
  // Average or p95 response time above this is a warning (ms); unset: no warning.
  std::optional<double> response_ms;
};

// One figure: its value in the range, in the period before, and the change between them in
// percent of the previous value. `value`/`previous` are unset where there were no calls to
// measure (rates and latencies); `change_pct` is unset when either side is unset or the previous
// value is 0 (no baseline to compare with).
struct Trend {
  std::optional<double> value;
  std::optional<double> previous;
  std::optional<double> change_pct;
  std::optional<double> threshold;
  bool over_threshold = false;
};

// Change from `previous` to `value` in percent of `previous`; unset without a baseline.
std::optional<double> change_pct(std::optional<double> value, std::optional<double> previous);

// `rows` may span both periods: rows starting in [plan.from - (plan.to - plan.from), plan.from)
// are the previous period, rows in [plan.from, plan.to) the current one, others are ignored.
// Figures: calls, uploads (put calls), downloads (get calls), bytes_up, bytes_down,
// error_rate_pct, avg_ms, p95_ms. Answers {"range", "current": {"from_ms", "to_ms"},
// "previous": {"from_ms", "to_ms"}, "figures": {name: {"value", "previous", "change_pct",
// "threshold"?, "over_threshold"?}}}.
r2w::Json overview(const std::vector<Row>& rows, const HistoryPlan& plan,
                   const OverviewThresholds& thresholds);

}  // namespace r2w::metrics
