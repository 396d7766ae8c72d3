#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/alerts/rule.h"

namespace r2w::alerts {

// The warning lines of the dashboard's overview (GET /api/metrics/overview) come from the alert
// rules, so the page warns where alerts fire: for the error rate, the enabled error_rate rules;
// for response times, the enabled latency rules. Of the rules that apply, the line is the
// lowest threshold (the first one crossed).
// A rule applies when it warns above a value (comparison ">" or ">="), names no prefix, names no
// bucket or `bucket`, and names no user or `user` (the user the overview is narrowed to).
// No applicable rule: no line (the figure is never "over threshold").
struct WarningLine {
  double threshold = 0;
  std::string rule_id;
};
struct OverviewLines {
  std::optional<WarningLine> error_rate_pct;
  std::optional<WarningLine> response_ms;
};
OverviewLines overview_lines(const std::vector<Rule>& rules, std::string_view bucket,
                             std::string_view user);

}  // namespace r2w::alerts
