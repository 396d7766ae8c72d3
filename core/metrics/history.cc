#include "core/metrics/history.h"

#include <map>

#include "core/cost/operation-class.h"

namespace r2w::metrics {

namespace {

struct RangeSpec {
  std::string_view name;
  Duration length;
  Level level;
  Duration step;
};

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

constexpr RangeSpec kRanges[] = {
    {"1h", Duration(kHour), Level::kMinute, Duration(kMinute)},
    {"24h", Duration(kDay), Level::kHour, Duration(kHour)},
    {"7d", Duration(7 * kDay), Level::kHour, Duration(kHour)},
    {"30d", Duration(30 * kDay), Level::kDay, Duration(kDay)},
};

int64_t floor_to(int64_t t, int64_t step) {
  int64_t q = t / step;
  if (t % step != 0 && t < 0) q--;
  return q * step;
}

r2w::Json maybe(std::optional<double> v) { return v ? r2w::Json(*v) : r2w::Json(nullptr); }

double mbps(uint64_t bytes, Duration window) {
  return static_cast<double>(bytes) * 8.0 / (static_cast<double>(window.count()) / 1000.0) / 1e6;
}

}  // namespace

Result<HistoryPlan> plan_history(std::string_view range, TimePoint now) {
  for (const RangeSpec& r : kRanges) {
    if (r.name != range) continue;
    int64_t to = floor_to(to_epoch_ms(now), r.step.count()) + r.step.count();
    return HistoryPlan{.range = r.name,
                       .level = r.level,
                       .step = r.step,
                       .from = from_epoch_ms(to - r.length.count()),
                       .to = from_epoch_ms(to)};
  }
  return invalid_field("range", "range must be one of 1h, 24h, 7d, 30d");
}

ReadPlan plan_reads(TimePoint from, TimePoint to, std::optional<TimePoint> hours_complete_before,
                    std::optional<TimePoint> days_complete_before, Scope scope, Level coarsest) {
  ReadPlan plan{.from = from};
  if (to <= from) return plan;
  if (coarsest == Level::kMinute) {
    plan.segments.push_back(
        {.level = Level::kMinute, .source = Source::kLive, .from = from, .to = to});
    return plan;
  }
  auto clamp = [](TimePoint t, TimePoint lo, TimePoint hi) {
    return std::max(lo, std::min(t, hi));
  };
  auto ceil_to = [](Level level, TimePoint t) {
    TimePoint start = period_start(level, t);
    return start == t ? t : start + level_length(level);
  };
  if (scope == Scope::kAccount) plan.from = period_start(Level::kHour, from);
  TimePoint f = plan.from;
  // Hour progress is hour-aligned; a day is complete only when its hours are.
  TimePoint hours_done = clamp(hours_complete_before.value_or(f), f, to);
  TimePoint days_done =
      coarsest == Level::kDay ? clamp(days_complete_before.value_or(f), f, hours_done) : f;
  TimePoint cur = f;
  // Per user: the part of the first hour before its end, from minute rows.
  TimePoint first_hour_end = std::min(ceil_to(Level::kHour, f), hours_done);
  if (cur < first_hour_end) {
    plan.segments.push_back(
        {.level = Level::kMinute, .source = Source::kLive, .from = cur, .to = first_hour_end});
    cur = first_hour_end;
  }
  TimePoint d0 = ceil_to(Level::kDay, cur), d1 = period_start(Level::kDay, days_done);
  if (d0 < d1) {
    if (cur < d0) {
      plan.segments.push_back(
          {.level = Level::kHour, .source = Source::kRollup, .from = cur, .to = d0});
    }
    plan.segments.push_back(
        {.level = Level::kDay, .source = Source::kRollup, .from = d0, .to = d1});
    cur = d1;
  }
  if (cur < hours_done) {
    plan.segments.push_back(
        {.level = Level::kHour, .source = Source::kRollup, .from = cur, .to = hours_done});
    cur = hours_done;
  }
  if (cur < to) {
    plan.segments.push_back({.level = scope == Scope::kAccount ? Level::kHour : Level::kMinute,
                             .source = Source::kLive,
                             .from = cur,
                             .to = to});
  }
  return plan;
}

r2w::Json read_plan_to_json(const ReadPlan& plan) {
  r2w::Json segments = r2w::Json::array();
  for (const ReadSegment& s : plan.segments) {
    segments.push_back({{"level", level_name(s.level)},
                        {"source", s.source == Source::kRollup ? "rollup" : "live"},
                        {"from_ms", to_epoch_ms(s.from)},
                        {"to_ms", to_epoch_ms(s.to)}});
  }
  return {{"from_ms", to_epoch_ms(plan.from)}, {"segments", std::move(segments)}};
}

r2w::Json plan_to_json(const HistoryPlan& p) {
  return {{"range", p.range},
          {"level", level_name(p.level)},
          {"step_ms", p.step.count()},
          {"from_ms", to_epoch_ms(p.from)},
          {"to_ms", to_epoch_ms(p.to)}};
}

std::vector<Point> build_series(const std::vector<Row>& rows, const HistoryPlan& plan) {
  int64_t from = to_epoch_ms(plan.from), to = to_epoch_ms(plan.to), step = plan.step.count();
  std::vector<Point> points;
  for (int64_t t = from; t < to; t += step) points.push_back(Point{.start = from_epoch_ms(t)});
  for (const Row& row : rows) {
    int64_t t = to_epoch_ms(row.period_start);
    if (t < from || t >= to) continue;
    points[static_cast<size_t>((t - from) / step)].figures.merge(row.figures);
  }
  return points;
}

r2w::Json point_to_json(const Point& p) {
  const Figures& f = p.figures;
  std::optional<double> avg;
  if (f.latency.count() > 0) avg = f.latency.sum() / static_cast<double>(f.latency.count());
  return {{"t_ms", to_epoch_ms(p.start)},
          {"calls", f.calls},
          {"errors", f.errors},
          {"error_rate_pct",
           f.calls ? r2w::Json(static_cast<double>(f.errors) * 100.0 / static_cast<double>(f.calls))
                   : r2w::Json(nullptr)},
          {"bytes_up", f.bytes_up},
          {"bytes_down", f.bytes_down},
          {"avg_ms", maybe(avg)},
          {"p50_ms", maybe(f.latency.quantile(0.5))},
          {"p95_ms", maybe(f.latency.quantile(0.95))},
          {"p99_ms", maybe(f.latency.quantile(0.99))}};
}

std::optional<Duration> usage_period_length(std::string_view period) {
  if (period == "hour") return Duration(kHour);
  if (period == "day") return Duration(kDay);
  if (period == "week") return Duration(7 * kDay);
  if (period == "month") return Duration(30 * kDay);
  return std::nullopt;
}

r2w::Json usage_summary(const std::array<OperationTotals, kAllOperations.size()>& totals,
                        Duration window) {
  OperationTotals all;
  std::map<std::string, uint64_t> by_class = {{"A", 0}, {"B", 0}, {"free", 0}};
  r2w::Json by_operation = r2w::Json::object();
  for (Operation op : kAllOperations) {
    const OperationTotals& t = totals[static_cast<size_t>(op)];
    all.calls += t.calls;
    all.errors += t.errors;
    all.bytes_up += t.bytes_up;
    all.bytes_down += t.bytes_down;
    by_class[std::string(cost::operation_class_label(cost::classify_operation(op)))] += t.calls;
    by_operation[std::string(operation_name(op))] = {
        {"calls", t.calls},
        {"errors", t.errors},
        {"bytes_up", t.bytes_up},
        {"bytes_down", t.bytes_down},
        {"r2_class", cost::operation_class_label(cost::classify_operation(op))}};
  }
  return {
      {"window_ms", window.count()},
      {"bandwidth",
       {{"upload_bytes", all.bytes_up},
        {"download_bytes", all.bytes_down},
        {"avg_upload_mbps", mbps(all.bytes_up, window)},
        {"avg_download_mbps", mbps(all.bytes_down, window)}}},
      {"api_calls",
       {{"total", all.calls},
        {"class_a", by_class["A"]},
        {"class_b", by_class["B"]},
        {"free", by_class["free"]}}},
      {"errors", all.errors},
      {"error_rate_pct", all.calls ? r2w::Json(static_cast<double>(all.errors) * 100.0 /
                                               static_cast<double>(all.calls))
                                   : r2w::Json(nullptr)},
      {"by_operation", by_operation},
  };
}

}  // namespace r2w::metrics
