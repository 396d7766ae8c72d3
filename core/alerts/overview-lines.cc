#include "core/alerts/overview-lines.h"

namespace r2w::alerts {

OverviewLines overview_lines(const std::vector<Rule>& rules, std::string_view bucket,
                             std::string_view user) {
  OverviewLines out;
  for (const Rule& r : rules) {
    if (!r.enabled) continue;
    if (r.comparison != Comparison::kGt && r.comparison != Comparison::kGte) continue;
    if (!r.scope.prefix.empty()) continue;
    if (!r.scope.bucket.empty() && r.scope.bucket != bucket) continue;
    if (!r.scope.user.empty() && r.scope.user != user) continue;
    std::optional<WarningLine>* line = r.type == RuleType::kErrorRate ? &out.error_rate_pct
                                       : r.type == RuleType::kLatency ? &out.response_ms
                                                                      : nullptr;
    if (!line) continue;
    if (!*line || r.threshold < (*line)->threshold ||
        (r.threshold == (*line)->threshold && r.id < (*line)->rule_id)) {
      *line = WarningLine{.threshold = r.threshold, .rule_id = r.id};
    }
  }
  return out;
}

}  // namespace r2w::alerts
