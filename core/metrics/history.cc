#include "core/metrics/history.h"

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

std::optional<double> percent(uint64_t part, uint64_t whole) {
  if (whole == 0) return std::nullopt;
  return static_cast<double>(part) * 100.0 / static_cast<double>(whole);
}

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

std::optional<UsageView> parse_usage_view(std::string_view name) {
  if (name == "details") return UsageView::kDetails;
  if (name == "export") return UsageView::kExport;
  if (name == "status") return UsageView::kStatus;
  if (name == "storage") return UsageView::kStorage;
  if (name == "scrape") return UsageView::kScrape;
  return std::nullopt;
}

Result<UsageWindow> usage_window(UsageView view, std::optional<uint64_t> hours, TimePoint now) {
  const TimePoint to = now + Duration(1);
  auto bad_hours = [] {
    return Error{
        .code = "invalid_query",
        .message = "hours must be a whole number from 1 to " + std::to_string(kMaxUsageHours),
        .field = "hours"};
  };
  UsageWindow w{.to = to};
  switch (view) {
    case UsageView::kDetails:
    case UsageView::kExport: {
      uint64_t h = hours.value_or(view == UsageView::kDetails ? 24 : 168);
      if (h < 1 || h > kMaxUsageHours) return bad_hours();
      w.hours = static_cast<uint32_t>(h);
      w.from = now - Duration(static_cast<int64_t>(h) * kHour);
      w.step = Duration(kHour);
      break;
    }
    case UsageView::kStatus:
      if (hours) return bad_hours();
      w.from = now - Duration(5 * kMinute);
      break;
    case UsageView::kStorage:
      if (hours) return bad_hours();
      w.from = now - Duration(31 * kDay);
      break;
    case UsageView::kScrape:
      if (hours) return bad_hours();
      w.from = now - Duration(15 * kMinute);
      w.account_from = now - Duration(kDay);
      break;
  }
  w.from_day = date_of(w.from);
  w.today = date_of(now);
  return w;
}

PointStats point_stats(const Figures& f) {
  PointStats s{.error_rate_pct = percent(f.errors, f.calls)};
  if (f.latency.count() > 0) s.avg_ms = f.latency.sum() / static_cast<double>(f.latency.count());
  s.p50_ms = f.latency.quantile(0.5);
  s.p95_ms = f.latency.quantile(0.95);
  s.p99_ms = f.latency.quantile(0.99);
  return s;
}

std::optional<Duration> usage_period_length(std::string_view period) {
  if (period == "5m") return Duration(5 * kMinute);
  if (period == "hour") return Duration(kHour);
  if (period == "day") return Duration(kDay);
  if (period == "week") return Duration(7 * kDay);
  if (period == "month") return Duration(30 * kDay);
  return std::nullopt;
}

UsageSummary usage_summary(const std::array<OperationTotals, kAllOperations.size()>& totals,
                           Duration window) {
  UsageSummary u{.window = window, .by_operation = totals};
  for (Operation op : kAllOperations) {
    const OperationTotals& t = totals[static_cast<size_t>(op)];
    u.all.calls += t.calls;
    u.all.errors += t.errors;
    u.all.bytes_up += t.bytes_up;
    u.all.bytes_down += t.bytes_down;
    switch (cost::classify_operation(op)) {
      case cost::OperationClass::kClassA:
        u.class_a_calls += t.calls;
        break;
      case cost::OperationClass::kClassB:
        u.class_b_calls += t.calls;
        break;
      default:
        u.free_calls += t.calls;
        break;
    }
  }
  u.error_rate_pct = percent(u.all.errors, u.all.calls);
  u.avg_upload_mbps = mbps(u.all.bytes_up, window);
  u.avg_download_mbps = mbps(u.all.bytes_down, window);
  return u;
}

}  // namespace r2w::metrics
