#include "core/metrics/overview.h"

#include <array>
#include <string>
#include <utility>

namespace r2w::metrics {

namespace {

struct PeriodFigures {
  Figures all;
  uint64_t uploads = 0;
  uint64_t downloads = 0;
};

std::optional<double> error_rate(const Figures& f) {
  if (f.calls == 0) return std::nullopt;
  return static_cast<double>(f.errors) * 100.0 / static_cast<double>(f.calls);
}

std::optional<double> average_ms(const Figures& f) {
  if (f.latency.count() == 0) return std::nullopt;
  return f.latency.sum() / static_cast<double>(f.latency.count());
}

r2w::Json maybe(std::optional<double> v) { return v ? r2w::Json(*v) : r2w::Json(nullptr); }

r2w::Json trend_json(const Trend& t, bool has_threshold) {
  r2w::Json j = {{"value", maybe(t.value)},
                 {"previous", maybe(t.previous)},
                 {"change_pct", maybe(t.change_pct)}};
  if (has_threshold) {
    j["threshold"] = maybe(t.threshold);
    j["over_threshold"] = t.over_threshold;
  }
  return j;
}

Trend trend(std::optional<double> value, std::optional<double> previous,
            std::optional<double> threshold = std::nullopt) {
  Trend t{.value = value,
          .previous = previous,
          .change_pct = change_pct(value, previous),
          .threshold = threshold};
  t.over_threshold = threshold && value && *value > *threshold;
  return t;
}

std::optional<double> count(uint64_t n) { return static_cast<double>(n); }

}  // namespace

std::optional<double> change_pct(std::optional<double> value, std::optional<double> previous) {
  if (!value || !previous || *previous == 0) return std::nullopt;
  return (*value - *previous) * 100.0 / *previous;
}

r2w::Json overview(const std::vector<Row>& rows, const HistoryPlan& plan,
                   const OverviewThresholds& thresholds) {
  const Duration length = plan.to - plan.from;
  const TimePoint previous_from = plan.from - length;
  PeriodFigures current, previous;
  for (const Row& row : rows) {
    PeriodFigures* target = nullptr;
    if (row.period_start >= plan.from && row.period_start < plan.to) {
      target = &current;
    } else if (row.period_start >= previous_from && row.period_start < plan.from) {
      target = &previous;
    } else {
      continue;
    }
    target->all.merge(row.figures);
    if (row.operation == Operation::kPut) target->uploads += row.figures.calls;
    if (row.operation == Operation::kGet) target->downloads += row.figures.calls;
  }
  const Figures& c = current.all;
  const Figures& p = previous.all;
  r2w::Json figures = r2w::Json::object();
  figures["calls"] = trend_json(trend(count(c.calls), count(p.calls)), false);
  figures["uploads"] = trend_json(trend(count(current.uploads), count(previous.uploads)), false);
  figures["downloads"] =
      trend_json(trend(count(current.downloads), count(previous.downloads)), false);
  figures["bytes_up"] = trend_json(trend(count(c.bytes_up), count(p.bytes_up)), false);
  figures["bytes_down"] = trend_json(trend(count(c.bytes_down), count(p.bytes_down)), false);
  figures["error_rate_pct"] =
      trend_json(trend(error_rate(c), error_rate(p), thresholds.error_rate_pct), true);
  figures["avg_ms"] = trend_json(trend(average_ms(c), average_ms(p), thresholds.response_ms), true);
  figures["p95_ms"] = trend_json(
      trend(c.latency.quantile(0.95), p.latency.quantile(0.95), thresholds.response_ms), true);
  return {
      {"range", std::string(plan.range)},
      {"current", {{"from_ms", to_epoch_ms(plan.from)}, {"to_ms", to_epoch_ms(plan.to)}}},
      {"previous", {{"from_ms", to_epoch_ms(previous_from)}, {"to_ms", to_epoch_ms(plan.from)}}},
      {"figures", std::move(figures)}};
}

}  // namespace r2w::metrics
