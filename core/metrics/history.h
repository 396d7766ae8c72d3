#pragma once

#include <array>
#include <optional>
#include <string_view>
#include <vector>

#include "core/common/civil-date.h"
#include "core/common/operation.h"
#include "core/common/result.h"
#include "core/common/time.h"
#include "core/metrics/rollup.h"

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

struct Point {
  TimePoint start;
  Figures figures;
};
// One point per step of the plan (empty steps included), each the exact merge of the rows
// that start inside it; rows outside [from, to) are ignored.
std::vector<Point> build_series(const std::vector<Row>& rows, const HistoryPlan& plan);
// What a point's figures say: error rate (percent of calls), average and p50 / p95 / p99
// latency; each unset where there is nothing to measure (no calls, no latencies).
struct PointStats {
  std::optional<double> error_rate_pct;
  std::optional<double> avg_ms;
  std::optional<double> p50_ms;
  std::optional<double> p95_ms;
  std::optional<double> p99_ms;
};
PointStats point_stats(const Figures& f);

// Summed counters per operation over a usage period (what the database adds up).
struct OperationTotals {
  uint64_t calls = 0;
  uint64_t errors = 0;
  uint64_t bytes_up = 0;
  uint64_t bytes_down = 0;
};

// The windows the usage routes read, from `now`:
//  kDetails / kExport: the last `hours` (1..kMaxUsageHours; default 24 / 168) of minute rows,
//   summed per `step` (one hour);
//  kStatus: the last 5 minutes (throughput now: a usage summary of period "5m");
//  kStorage: the last 31 days of inventory snapshots and daily peaks (from `from_day` on);
//  kScrape: what GET /metrics reports: latency quantiles of the last 15 minutes, and the
//   account's requests of the last 24 hours (from `account_from`).
// Windows are [from, to), `to` just past now.
inline constexpr uint32_t kMaxUsageHours = 8'784;  // a leap year
enum class UsageView : uint8_t { kDetails, kExport, kStatus, kStorage, kScrape };
std::optional<UsageView> parse_usage_view(std::string_view name);
struct UsageWindow {
  uint32_t hours = 0;  // the hours asked for (kDetails, kExport); 0 otherwise
  TimePoint from;
  TimePoint to;
  Duration step{0};  // rows are summed per step (kDetails, kExport); 0 otherwise
  CivilDate from_day;
  CivilDate today;                        // the UTC day holding `now`
  std::optional<TimePoint> account_from;  // kScrape
};
// `hours` unset: the view's default. Refused ("invalid_query", naming "hours") outside
// 1..kMaxUsageHours, or when the view takes no hours.
Result<UsageWindow> usage_window(UsageView view, std::optional<uint64_t> hours, TimePoint now);

// hour | day | week | month (30 days), or 5m (the last 5 minutes: throughput now), the rolling
// window a usage summary covers.
std::optional<Duration> usage_period_length(std::string_view period);

// Bandwidth, API calls by class and by operation, error rate and average throughput over
// a window of `window` length.
struct UsageSummary {
  Duration window{0};
  OperationTotals all;
  uint64_t class_a_calls = 0;
  uint64_t class_b_calls = 0;
  uint64_t free_calls = 0;
  std::optional<double> error_rate_pct;  // unset without calls
  double avg_upload_mbps = 0;
  double avg_download_mbps = 0;
  std::array<OperationTotals, kAllOperations.size()> by_operation{};
};
UsageSummary usage_summary(const std::array<OperationTotals, kAllOperations.size()>& totals,
                           Duration window);

}  // namespace r2w::metrics
