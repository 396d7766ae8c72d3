#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/common/civil-date.h"
#include "core/common/result.h"
#include "core/common/time.h"
#include "core/cost/money.h"
#include "core/cost/price-list.h"
#include "core/metrics/rollup.h"
#include "core/reports/period.h"

namespace r2w::reports {

// ---- what the Worker gathers for one period ------------------------------------------------

// Requests answered with one HTTP status (the account's figures; status >= 400 are errors).
struct StatusCount {
  std::string bucket;
  uint32_t status = 0;
  uint64_t requests = 0;
};

// An alert episode that fired in the period (alert history).
struct AlertRecord {
  std::string id;
  std::string name;
  std::string type;
  std::string severity;  // low, medium, high, critical
  std::string bucket;
  TimePoint fired_at;
  std::optional<TimePoint> acknowledged_at;
  std::optional<TimePoint> resolved_at;
};

// One day's peak stored bytes of a bucket's prefix ("" = the whole bucket, as the account's
// figures give it).
struct StorageDay {
  CivilDate day;
  std::string bucket;
  std::string prefix;
  uint64_t bytes = 0;
};

// Multipart uploads started and neither completed nor aborted, on the bucket's latest day.
struct PendingUploads {
  std::string bucket;
  uint64_t uploads = 0;
};

// A budget's standing this month (the cost engine's budget status).
struct BudgetStanding {
  std::string bucket;  // "" = the account
  std::string status;  // ok, warning, forecast_over, exceeded
  cost::Money budget;
  cost::Money spent;
  cost::Money forecast;
};

// The rules of a report. Defaults in comments.
struct ReportOptions {
  // Rows in each top list. Default 5.
  uint32_t top_n = 5;
  // A prefix is worth moving to Infrequent Access when its monthly bill there would be at
  // least this much lower. Default $0.01.
  cost::Money min_monthly_saving = cost::Money::micro_usd(10'000);
  // Pending multipart uploads on a bucket from which a recommendation is made. Default 1.
  uint64_t min_pending_uploads = 1;
};

struct ReportInput {
  Period period;
  // storage_metrics rows of the period (any level; r2watch's own traffic).
  std::vector<metrics::Row> operations;
  std::vector<StatusCount> statuses;
  std::vector<AlertRecord> alerts;
  // r2watch's bucket by prefix and, from the account's figures, every bucket as a whole.
  std::vector<StorageDay> storage;
  std::vector<PendingUploads> pending_uploads;
  std::vector<BudgetStanding> budgets;
  cost::PriceList prices;  // the price list of the period's (last) month
  ReportOptions options;
};

// ---- what the report says ------------------------------------------------------------------

struct Latency {
  std::optional<double> p50_ms, p95_ms, p99_ms;
};

struct OperationLine {
  std::string bucket;     // "" in the totals line
  std::string operation;  // "" in the totals line
  uint64_t calls = 0;
  uint64_t errors = 0;
  double error_rate_pct = 0;
  Latency latency;  // of the exactly merged sketch of every call (never an average)
};

struct Performance {
  OperationLine total;
  std::vector<OperationLine> by_bucket_operation;  // most calls first
};

struct Ranked {
  std::string key;
  uint64_t count = 0;
};

struct Errors {
  uint64_t total = 0;
  std::vector<Ranked> status_codes;  // key "404"; most first, top_n
  std::vector<Ranked> buckets;       // r2watch's calls that failed, top_n
  std::vector<Ranked> operations;    // top_n
};

struct Durations {
  uint64_t count = 0;              // alerts with the step done
  std::optional<Duration> median;  // the lower middle of an even count
  std::optional<Duration> max;
};

struct AlertSummary {
  uint64_t fired = 0;
  std::vector<Ranked> by_severity;  // critical, high, medium, low (only those that fired)
  uint64_t still_open = 0;          // not resolved by the period's end
  Durations acknowledge;            // fired -> acknowledged
  Durations resolve;                // fired -> resolved
  std::vector<AlertRecord> top;     // longest unresolved first, then latest; top_n
};

struct BucketGrowth {
  std::string bucket;
  uint64_t start_bytes = 0;  // the first day of the period with figures
  uint64_t end_bytes = 0;    // the last one
  int64_t growth_bytes = 0;
  std::optional<double> growth_pct;  // absent from 0 bytes
  uint64_t pending_uploads = 0;
};

struct PrefixSize {
  std::string bucket;
  std::string prefix;
  uint64_t bytes = 0;
};

struct StorageSummary {
  uint64_t start_bytes = 0;
  uint64_t end_bytes = 0;
  int64_t growth_bytes = 0;
  std::optional<double> growth_pct;
  std::vector<BucketGrowth> buckets;         // largest first
  std::vector<PrefixSize> largest_prefixes;  // on the last day, top_n
  uint64_t pending_uploads = 0;
};

enum class RecommendationKind : uint8_t { kInfrequentAccess, kAbandonedUploads, kBudget };
std::string_view recommendation_kind_name(RecommendationKind k);

struct Recommendation {
  RecommendationKind kind = RecommendationKind::kInfrequentAccess;
  std::string bucket;
  std::string prefix;
  std::string text;                           // one sentence a person acts on
  std::optional<cost::Money> monthly_saving;  // infrequent_access
  uint64_t pending_uploads = 0;               // abandoned_uploads
  std::string budget_status;                  // budget
};

struct Report {
  Period period;
  Performance performance;
  Errors errors;
  AlertSummary alerts;
  StorageSummary storage;
  std::vector<Recommendation> recommendations;
};

// The period's operations folded in steps (the day's work: a report of a week or a month read
// in one run is more than a cron run's CPU). Every section reads the operations only as sums
// by (bucket, prefix, operation) and merged sketches, never by user nor by period inside the
// period, so the rows of the period folded into one row per (bucket, prefix, operation)
// (user "", level day, period_start the period's start) give the same report as the rows
// themselves. Folding adds `rows` (those outside the period left out) to `folded` (the fold
// of the steps before); sketches merge exactly, so any split of the rows folds the same.
std::vector<metrics::Row> fold_operations(std::vector<metrics::Row> folded,
                                          const std::vector<metrics::Row>& rows, const Period& p);
// How much of the period one fold step reads: a day of day rows, an hour of hour rows (about
// as many rows), a day of minute rows (those after the hour rollup, normally less than an
// hour's: a day a step, so that a rollup that has not run yet makes no thousands of steps).
inline constexpr Duration kReportFoldDaySpan = std::chrono::hours(24);
inline constexpr Duration kReportFoldHourSpan = std::chrono::hours(1);
inline constexpr Duration kReportFoldMinuteSpan = std::chrono::hours(24);
// Where the rollups are complete (the report reads day rows before `days`, hour rows before
// `hours`, minute rows after): none, complete through the period.
struct RolledUp {
  std::optional<TimePoint> days;
  std::optional<TimePoint> hours;
};
// The end of the rows the next fold step reads when the steps before read them up to
// `through` (the period's start at first): the span of the level the rows at `through` are
// read from, at most to where that level ends and to the period's end; none when `through` is
// at the end. Refuses `through` outside the period (naming "through_ms").
Result<std::optional<TimePoint>> next_fold_end(const Period& p, TimePoint through,
                                               const RolledUp& rolled = {});

// Builds every section from the figures. Pure: the same input gives the same report.
Report build_report(const ReportInput& in);

// The monthly bill of a prefix's usage in a storage class, at list price without the free
// tier: `bytes` stored all month, `class_a` and `class_b` requests and `read_bytes` retrieved
// in a month (the period's figures scaled to 30 days).
cost::Money monthly_list_cost(const cost::PriceList& prices, cost::StorageClass c, uint64_t bytes,
                              double class_a, double class_b, double read_bytes);

}  // namespace r2w::reports
