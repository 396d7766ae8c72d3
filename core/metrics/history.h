#pragma once

#include <array>
#include <optional>
#include <string_view>
#include <vector>

#include "core/common/operation.h"
#include "core/common/result.h"
#include "core/common/time.h"
#include "core/metrics/rollup.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::metrics {

// Which rollups answer a history range and at what resolution:
// 1h -> minute rows, 1-minute points (60); 24h -> hour rows, 1-hour points (24);
// 7d -> hour rows, 1-hour points (168); 30d -> day rows, 1-day points (30). Only the last hour
// reads minute rows (every user's, for the whole account): longer ranges read the account's
// hour and day rows (plan_reads), so the dashboard's default day costs the same at any number
// of users.
// Points cover [from, to): `to` is the end of the step holding `now`.
struct HistoryPlan {
  std::string_view range;
  Level level = Level::kMinute;
  Duration step = Duration(60'000);
  TimePoint from;
  TimePoint to;
};
Result<HistoryPlan> plan_history(std::string_view range, TimePoint now);
r2w::Json plan_to_json(const HistoryPlan& plan);

// Which stored rows answer a window [from, to): the one rule of every reader of rollups.
// Complete days come from day rows, complete hours from hour rows (written by the rollup
// jobs, writer ""), and the rest (`source` kLive) from what the flushes wrote: minute rows per
// user, or, for the whole account, the writers' own account-wide hour rows (summed over
// writers). Levels coarser than `coarsest` are not used (a series of hour points needs hour
// rows). Per user (kPerUser), a window starting inside an hour reads that hour's start from
// minute rows; the account-wide series has no minute rows, so its window starts at the start
// of the hour holding `from` (ReadPlan::from). With coarsest kMinute everything is minute rows
// (per user, summed for the whole account). Segments are in time order and do not overlap.
enum class Source : uint8_t { kRollup, kLive };
struct ReadSegment {
  Level level = Level::kMinute;
  Source source = Source::kLive;
  TimePoint from;
  TimePoint to;
};
struct ReadPlan {
  TimePoint from;
  std::vector<ReadSegment> segments;
};
ReadPlan plan_reads(TimePoint from, TimePoint to, std::optional<TimePoint> hours_complete_before,
                    std::optional<TimePoint> days_complete_before, Scope scope, Level coarsest);
r2w::Json read_plan_to_json(const ReadPlan& plan);

struct Point {
  TimePoint start;
  Figures figures;
};
// One point per step of the plan (empty steps included), each the exact merge of the rows
// that start inside it; rows outside [from, to) are ignored.
std::vector<Point> build_series(const std::vector<Row>& rows, const HistoryPlan& plan);
// {t_ms, calls, errors, error_rate_pct, bytes_up, bytes_down, avg_ms, p50_ms, p95_ms, p99_ms}
r2w::Json point_to_json(const Point& p);

// Summed counters per operation over a usage period (what the database adds up).
struct OperationTotals {
  uint64_t calls = 0;
  uint64_t errors = 0;
  uint64_t bytes_up = 0;
  uint64_t bytes_down = 0;
};

// hour | day | week | month (30 days), the rolling window a usage summary covers.
std::optional<Duration> usage_period_length(std::string_view period);

// Bandwidth, API calls by class and by operation, error rate and average throughput over
// a window of `window` length.
r2w::Json usage_summary(const std::array<OperationTotals, kAllOperations.size()>& totals,
                        Duration window);

}  // namespace r2w::metrics
