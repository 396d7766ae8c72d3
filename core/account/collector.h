#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/civil-date.h"
#include "core/common/result.h"
#include "core/common/time.h"

namespace r2w::account {

// The two GraphQL Analytics datasets r2watch reads.
enum class Dataset : uint8_t { kOperations, kStorage };
std::string_view dataset_name(
    Dataset d);                           // "r2OperationsAdaptiveGroups", "r2StorageAdaptiveGroups"
std::string_view dataset_key(Dataset d);  // "operations", "storage"
std::optional<Dataset> parse_dataset_key(std::string_view key);

// How the collector pulls. Every field has its default; create() validates.
struct CollectorOptions {
  // Groups one query may return (the `limit` argument; Cloudflare's maximum is 10,000). An
  // answer with this many groups may be cut off, so its window is split and asked again.
  uint32_t limit = 10'000;
  // The longest window of one operations query (hour resolution) and storage query (days).
  std::chrono::hours operations_window{24};
  uint32_t storage_window_days = 8;
  // Queries one run may make (bounded work per run; a backfill resumes on the next run).
  uint32_t max_queries_per_run = 8;
  // Every run asks again for the operations of the last hours before its watermark: late data
  // replaces what was stored for them.
  std::chrono::hours repull{2};
  // How far back the datasets reach (Cloudflare keeps 31 days): the first run backfills it.
  uint32_t retention_days = 31;
  // After 429 or 5xx: wait base * 2^(failures - 1), at most max (or Retry-After if longer).
  Duration backoff_base = std::chrono::minutes(1);
  Duration backoff_max = std::chrono::hours(1);

  static Result<CollectorOptions> create(CollectorOptions o);
};

// One query's time range [start, end): hour-aligned for operations, day-aligned (00:00 UTC)
// for storage.
struct Window {
  Dataset dataset = Dataset::kOperations;
  TimePoint start;
  TimePoint end;
};

// What survives between runs (stored in D1 by the Worker).
struct CollectorState {
  // Every hour of operations before this is stored (replaced when re-pulled); none = backfill
  // not started.
  std::optional<TimePoint> operations_until;
  // Every day of storage before this (00:00 UTC) is stored.
  std::optional<TimePoint> storage_until;
  // No query before this (backing off after 429 or 5xx).
  std::optional<TimePoint> retry_at;
  uint32_t consecutive_failures = 0;
  // Why the last run stopped short ("" when it did not): what /api/health shows.
  std::string last_error;
  std::optional<TimePoint> last_error_at;
  std::optional<TimePoint> last_stored_at;
  std::optional<TimePoint> last_run_at;
  // Groups per hour of the last operations window stored: later windows are cut short enough
  // that their answers stay under 80% of the limit (no query is wasted on a cut-off answer).
  uint32_t operations_groups_per_hour = 0;
};

// One run of the collector: the windows still to ask for, in order, and how many queries it
// may still make.
struct CollectorRun {
  std::vector<Window> queue;
  uint32_t queries_left = 0;
  std::string error;  // the run's first failure ("" = none so far)
};

// The windows of a run at `now`: nothing while backing off; otherwise storage days from the
// day before the storage watermark (today's and yesterday's peaks still move) and operations
// hours from `repull` before the operations watermark, both up to now, each from the start of
// retention on the first run; cut into windows of at most the options' length.
CollectorRun plan_run(const CollectorState& state, TimePoint now, const CollectorOptions& options);

// What the Worker saw when it asked for a window.
struct AnswerSummary {
  uint32_t http_status = 200;           // 0: no answer (the request failed)
  std::optional<Duration> retry_after;  // the Retry-After header, when there was one
  // Non-empty: the answer cannot be used, and why (GraphQL `errors`, a missing field, a
  // negative or non-numeric figure). Set by whoever read the answer.
  std::string problem;
  size_t groups = 0;  // groups in the answer
  // An operations answer cut off at the limit but ordered by hour (the query asks for
  // datetimeHour_ASC, and the reader checked it): the last hour it reaches. Every hour before
  // it is complete; that hour itself may be cut short.
  std::optional<TimePoint> complete_until;
};

enum class Verdict : uint8_t {
  kStore,    // store the rows of Step::stored (replacing what it held), advance the watermark;
             // when the answer was cut off after whole hours, the rest of the window is asked
             // next
  kSplit,    // the answer may be cut off: the window was split, ask its halves
  kBackoff,  // 429, 5xx or no answer: nothing stored, the run ends, the same window is asked again
             // later
  kFail,     // unusable answer: nothing stored, watermark kept, the reason is kept for health
};
std::string_view verdict_name(Verdict v);  // "store", "split", "backoff", "fail"

struct Step {
  Verdict verdict = Verdict::kStore;
  std::string reason;  // for backoff and fail
  Window stored;       // for store: the part of the window whose rows are stored
  CollectorRun run;    // what is left of the run
  CollectorState state;
};

// Judges the answer to the run's first window (run.queue.front()) and moves run and state on.
// The run must not be empty.
Step advance(CollectorRun run, CollectorState state, const AnswerSummary& answer, TimePoint now,
             const CollectorOptions& options);

// The collector's condition for /api/health, in words.
struct CollectorHealth {
  std::string status;  // "off", "ok", "backfilling", "backing_off", "failing", "stale"
  std::string message;
  bool warning = false;
};
CollectorHealth collector_health(bool configured, const CollectorState& state, TimePoint now,
                                 const CollectorOptions& options);

// What the Worker reads back for the account's answers at `now`, so it holds no window of its
// own: action types seen since `retention_since` (the datasets' reach: health warns of
// unclassified ones), operations since `last_day_since` (the hours that start in the last 24
// hours: bucket list and /metrics; the first whole hour at or after now - 24 h), and the month to
// date, `month_start` to `as_of` (today, UTC).
struct AccountReads {
  TimePoint retention_since;
  TimePoint last_day_since;
  CivilDate as_of;
  CivilDate month_start;
};
AccountReads account_reads(TimePoint now, const CollectorOptions& options);

// What the Worker reads back for the account's usage from `from` to the end of the UTC day
// `as_of` (the bill, the reconciliation, the cost alerts): hour rows from `since` up to
// `until` (the end of `as_of`), storage day rows from `from_day` (the day of `from`) to `to_day`
// (`as_of`).
struct UsageReach {
  TimePoint since;
  TimePoint until;
  CivilDate from_day;
  CivilDate to_day;
};
UsageReach usage_reach(TimePoint from, CivilDate as_of);

// The start of the hour / UTC day that holds t, and the end of it.
TimePoint floor_hour(TimePoint t);
TimePoint floor_day(TimePoint t);

}  // namespace r2w::account
