#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/common/operation.h"
#include "core/common/result.h"
#include "core/common/time.h"
#include "core/metrics/latency-sketch.h"

namespace r2w::metrics {

enum class Level : uint8_t { kMinute, kHour, kDay };
// The keys of r2watch's own objects (health probes): left out of every figure a person sees.
inline constexpr std::string_view kOwnPrefix = ".r2watch";
// The bucket of the account-wide rows that add up every bucket (no bucket can be named so), so
// a view of the whole account reads one row per operation and period, whatever the buckets.
inline constexpr std::string_view kAllBuckets = "*";
std::string_view level_name(Level level);
std::optional<Level> parse_level(std::string_view name);
Duration level_length(Level level);
// Start of the period of `level` that holds `t` (UTC).
TimePoint period_start(Level level, TimePoint t);

// Who and where an operation was for: a bucket, the key's first path segment, the user.
struct Series {
  std::string bucket;
  std::string prefix;
  std::string user;
  // (libc++ 14, used for wasm, has no <=> for std::string.)
  bool operator<(const Series& o) const {
    return std::tie(bucket, prefix, user) < std::tie(o.bucket, o.prefix, o.user);
  }
  bool operator==(const Series& o) const {
    return std::tie(bucket, prefix, user) == std::tie(o.bucket, o.prefix, o.user);
  }
};

// What a period's operations add up to. Adding two of these is exact, sketches included.
struct Figures {
  uint64_t calls = 0;
  uint64_t errors = 0;
  uint64_t bytes_up = 0;
  uint64_t bytes_down = 0;
  LatencySketch latency;

  void merge(const Figures& other);
};

// One row of storage_metrics: the figures of one series and operation in one period.
struct Row {
  Series series;
  Operation operation = Operation::kGet;
  Level level = Level::kMinute;
  TimePoint period_start;
  Figures figures;
};

// A row read back from storage holds together: errors never exceed calls.
std::optional<Error> validate_row(const Row& row);

// Merges rows into rows of a coarser level: every row lands in the `level` period holding its
// start, and rows of the same series, operation and period add up. Sketches merge exactly, so
// percentiles of the result are those of all the underlying calls (never averaged). Output
// is sorted by (period, bucket, prefix, user, operation).
std::vector<Row> merge_rows(const std::vector<Row>& rows, Level level);

// Which series a row of the account-wide level keeps: per (bucket, operation, period), with
// neither prefix nor user (both ""), r2watch's own keys left out. These rows are what every
// account-wide view reads, so its cost does not grow with users or prefixes; each is the exact
// sum (sketches merged) of the per-user rows of its bucket, operation and period.
enum class Scope : uint8_t { kPerUser, kAccount };
// merge_rows into the account-wide series: rows of kOwnPrefix are dropped, prefix and user
// become "", and each row counts in its bucket's series and in kAllBuckets'. Output sorted by
// (period, bucket, operation). (Account rows merged into a coarser level keep their buckets:
// merge_rows.)
std::vector<Row> merge_account_rows(const std::vector<Row>& rows, Level level);

// Which periods a rollup run recomputes, and how far the target level is complete after it.
// Hour rows come from minute rows; an hour is complete 5 minutes after it ends (late flushes
// have landed). Day rows come from hour rows; a day is complete once hours are complete past
// its end. A run covers at most 72 hours or 35 days, from where the last complete period
// ends (or the earliest source row): hours through the hour holding `now` (the open hour's
// rows are cheap to redo), days through the last complete day only. Every reader takes the
// open day from hour rows (plan_reads), so recomputing it on every run (all of the day's
// per-user hour rows merged again, every 5 minutes) would be work nobody reads; a day is
// rolled up once, by the first run after it is complete (nullopt before then).
struct RollupPlan {
  TimePoint from;
  TimePoint to;
  TimePoint complete_before;
};
std::optional<RollupPlan> plan_rollup(Level target, std::optional<TimePoint> progress,
                                      std::optional<TimePoint> earliest_source,
                                      std::optional<TimePoint> source_complete_before,
                                      TimePoint now);

// Settings of the in-memory minute rollups, with defaults.
struct AggregatorOptions {
  // Distinct series kept in memory; calls of further series count under prefix "~other".
  // Default 1,000.
  uint32_t max_series = 1'000;
  // Rows written per flush batch. Default 50.
  uint32_t batch_size = 50;
  // A flush is due this long after the last one (sooner once a batch's worth is waiting).
  // The longest an evicted isolate can lose is this plus the write. Default 10,000 ms.
  Duration flush_interval = Duration(10'000);
  std::optional<Error> validate() const;
};

// One operation to record, for Aggregator::record_all.
enum class CallResult : uint8_t { kOk, kError };
struct OperationEvent {
  uint32_t series_id = 0;
  Operation operation = Operation::kGet;
  CallResult result = CallResult::kOk;
  Duration latency = Duration(0);
  uint64_t bytes_up = 0;
  uint64_t bytes_down = 0;
  TimePoint at;
};

// The current minutes' figures of one writer (one engine instance), kept until D1 has them.
// Rows are written with replace semantics under the writer's id: a row always carries the
// cumulative figures of its minute, so writing it twice, or retrying a failed write, never
// counts a call twice. Closed minutes leave memory once written.
class Aggregator {
 public:
  explicit Aggregator(AggregatorOptions options) : options_(options) {}

  // The id of a series, for the hot path. Ids are stable for the aggregator's life.
  uint32_t intern(const Series& series);
  const Series* series(uint32_t id) const;

  // Records one operation; false for an unknown series id.
  bool record(uint32_t series_id, Operation op, bool ok, Duration latency, uint64_t bytes_up,
              uint64_t bytes_down, TimePoint now);

  // Records operations as `record` would one after the other (the same figures, sketches
  // included), in bulk: the events of one minute, series and operation are summed first and
  // added to their minute row and account-wide hour rows once. Events of unknown series ids are
  // skipped; returns how many were recorded.
  size_t record_all(const OperationEvent* events, size_t count);
  // The same for runs of successes (the hot path's ring, folded), added by the caller as it
  // reads them: the figures a run of `series_id` and `op` in the minute of `at` adds its calls,
  // bytes and latencies into (nullptr for an unknown series id), valid until the next
  // run_figures or end_runs, which adds them to their minute and hour rows. Runs added in order
  // count as their calls recorded one after the other.
  Figures* run_figures(uint32_t series_id, Operation op, TimePoint at);
  void end_runs() { add_pending_sums(runs_used_); }

  // Up to batch_size rows changed since they were last written, oldest minute first, with a
  // token to confirm once they are stored. Nothing is removed until confirmed.
  struct Batch {
    uint64_t token = 0;
    std::vector<Row> rows;
    // The writer's account-wide hour rows changed since last written (level kHour, series
    // {bucket, "", ""}): the cumulative figures of this writer's calls in that hour, bucket and
    // operation, and of every bucket together (kAllBuckets), r2watch's own keys left out
    // (replace semantics too). Not bounded by batch_size: at most one per open hour, bucket
    // (and kAllBuckets) and operation.
    std::vector<Row> account_rows;
  };
  Batch take_batch(TimePoint now);
  // Whether changed rows wait and the flush interval has passed since the last batch.
  bool flush_due(TimePoint now) const;
  // The rows of that batch are stored: unchanged ones become clean, closed clean minutes
  // leave memory. An unknown or stale token changes nothing.
  void confirm(uint64_t token, TimePoint now);
  // Rows changed and not yet confirmed.
  size_t dirty_rows() const;
  size_t rows_in_memory() const { return cells_.size(); }
  size_t series_count() const { return series_.size(); }
  size_t account_rows_in_memory() const { return hours_.size(); }

  const AggregatorOptions& options() const { return options_; }
  void set_options(const AggregatorOptions& options) { options_ = options; }

 private:
  using CellKey = std::tuple<int64_t, uint32_t, Operation>;  // minute, series, operation
  struct Cell {
    Figures figures;
    uint64_t version = 0;          // bumped by every record
    uint64_t written_version = 0;  // last version confirmed stored
  };

  // hour start, bucket id, operation: the account-wide hour cells.
  using HourKey = std::tuple<int64_t, uint32_t, Operation>;
  static constexpr uint32_t kNoBucket = UINT32_MAX;

  AggregatorOptions options_;
  std::vector<Series> series_;
  // Per series id: its bucket's id in buckets_, or kNoBucket for r2watch's own keys.
  std::vector<uint32_t> series_bucket_;
  std::vector<std::string> buckets_;
  std::map<HourKey, Cell> hours_;
  std::vector<std::pair<HourKey, uint64_t>> pending_hours_;
  std::map<Series, uint32_t> series_ids_;
  std::map<CellKey, Cell> cells_;
  uint64_t next_token_ = 1;
  std::optional<TimePoint> last_take_;
  // record_all's sums per (minute, series, operation), kept between calls for their memory.
  struct Pending {
    int64_t minute = 0;
    uint32_t series_id = 0;
    Operation operation = Operation::kGet;
    Figures figures;
  };
  std::vector<Pending> pending_sums_;
  size_t runs_used_ = 0;  // run_figures' sums in use
  // The sums of record_all / record_runs: the one of (minute, series, operation) among the
  // first `used` (a new one, cleared, when none matches; all added first when kMaxSums are in
  // use), and their addition to the minute and hour cells.
  static constexpr size_t kMaxSums = 64;
  Pending& pending_sum(int64_t minute, uint32_t series_id, Operation op, size_t& used);
  void add_pending_sums(size_t& used);
  // record_all's latencies of one run, kept for their memory.
  std::vector<double> latency_scratch_;
  // The batch in flight: its token and the versions it carried.
  uint64_t pending_token_ = 0;
  std::vector<std::pair<CellKey, uint64_t>> pending_;
};

}  // namespace r2w::metrics
