#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/common/time.h"
#include "core/metrics/history.h"
#include "core/metrics/rollup.h"

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

// Whether a figure is measured against an alert threshold (and says so, also when unset).
enum class Thresholded : uint8_t { kNo, kYes };

struct OverviewFigure {
  std::string_view name;
  Trend trend;
  Thresholded thresholded = Thresholded::kNo;
};

struct Overview {
  std::string_view range;
  TimePoint current_from;
  TimePoint current_to;
  TimePoint previous_from;
  TimePoint previous_to;
  std::vector<OverviewFigure> figures;
};

// Change from `previous` to `value` in percent of `previous`; unset without a baseline.
std::optional<double> change_pct(std::optional<double> value, std::optional<double> previous);

// `rows` may span both periods: rows starting in [plan.from - (plan.to - plan.from), plan.from)
// are the previous period, rows in [plan.from, plan.to) the current one, others are ignored.
// Figures: calls, uploads (put calls), downloads (get calls), bytes_up, bytes_down,
// error_rate_pct, avg_ms, p95_ms (the last three against their thresholds).
Overview overview(const std::vector<Row>& rows, const HistoryPlan& plan,
                  const OverviewThresholds& thresholds);

}  // namespace r2w::metrics
