#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/civil-date.h"
#include "core/common/result.h"
#include "core/common/time.h"

namespace r2w::ops {

// Retention of every table of D1 that grows with time: how long its rows are kept, the variable
// that sets the period, and whether rows past it are archived to R2 (compressed JSON lines, one
// object per table and month, written and verified before the rows are deleted) or deleted.
// docs/operations.md, "Tables and retention", is this list in prose. The tables that hold state
// or settings (one row per thing configured) are listed too: every table of the schema is in
// one list or the other (a Worker test checks it against the migrations).

// What becomes of a row past its table's retention.
enum class RetentionAction { kDelete, kArchive };

// How the table's time column holds time: epoch milliseconds or a "YYYY-MM-DD" day.
enum class TimeKind { kEpochMs, kDayText };

// Which rows of the table the retention reads: all of them, or only those that are over
// (an active alert, an unsent notification, an open GitHub issue are kept whatever their age).
// The Worker's SQL (worker-shim/src/db/retention.js) maps each one to its WHERE clause.
enum class RowFilter {
  kAll,
  kAggregatedMetrics,      // storage_metrics hour and day rows (minute rows: metrics retention)
  kResolvedAlerts,         // alerts in state resolved or inactive
  kDoneOutbox,             // alert_outbox rows sent or failed (not pending, sending or retry)
  kClosedIssues,           // alert_github_issues with closed_at_ms
  kResolvedServiceAlerts,  // service_alerts with status resolved
};

// Where a table's period comes from.
enum class PeriodSource {
  kVariable,       // a Worker variable (wrangler.toml [vars], every environment)
  kFixed,          // a constant of the core (default_days)
  kMonitorConfig,  // the health monitor's retentionDays (PUT /api/health/config)
};

struct TablePolicy {
  std::string_view table;
  std::string_view time_column;
  TimeKind time_kind = TimeKind::kEpochMs;
  // The columns that identify a row (its primary key or unique identity): an archive merges
  // by them, so a re-run never stores a row twice.
  std::vector<std::string_view> key;
  RowFilter filter = RowFilter::kAll;
  PeriodSource source = PeriodSource::kVariable;
  // The Worker variable that sets the period in days (kVariable), or what else sets it.
  std::string_view variable;
  uint32_t default_days = 0;
  // The shortest period allowed: what other parts need (90 days of probe history for the
  // status page's uptime, the billing month of the daily peaks, the account collector's reach).
  uint32_t min_days = 1;
  RetentionAction action = RetentionAction::kArchive;
};

// Every table the retention job bounds, in the order it works through them.
std::span<const TablePolicy> retention_policies();
// Tables bounded by something else (their own job, or one row per configured thing) with the
// reason, for the documentation and the schema check.
struct OtherTable {
  std::string_view table;
  std::string_view bounded_by;
};
std::span<const OtherTable> other_tables();
const TablePolicy* find_policy(std::string_view table);

inline constexpr uint32_t kMaxRetentionDays = 3'650;
// The status page shows 90-day uptime from the probe results: they are kept at least that long
// whatever the monitor's retentionDays says.
inline constexpr uint32_t kProbeHistoryMinDays = 90;
// One step archives one slice of one table-month: its rows read from D1 in pages of
// kArchiveRowsPerRead, at most kArchiveRowsPerObjectWrite of them merged into the month's object
// in one write (so a month is rewritten once per step, not once per page), then deleted. A run
// stops after kArchiveStepsPerRun steps and the next one goes on where it stopped.
inline constexpr uint32_t kArchiveRowsPerRead = 2'000;
inline constexpr uint32_t kArchiveRowsPerObjectWrite = 50'000;
inline constexpr uint32_t kArchiveStepsPerRun = 100;

inline constexpr std::string_view kArchiveRoot = ".r2watch/archive/";

// The period of each table in days, from the Worker's variables ({"NAME": "days"}; absent:
// the default). `probe_retention_days` is the health monitor's retentionDays (probe results
// keep the longer of it and kProbeHistoryMinDays). A value that is not a whole number within
// [min_days, 3650] is refused, naming the variable.
struct RetentionSettings {
  std::map<std::string, uint32_t, std::less<>> days;  // by table
};
Result<RetentionSettings> retention_settings(const std::map<std::string, std::string>& vars,
                                             std::optional<uint32_t> probe_retention_days);

// One table's cutoff at `now`: rows older than this (by the time column) are past retention.
// For day columns, `before_day` is the first day kept ("YYYY-MM-DD").
struct TableCutoff {
  const TablePolicy* policy = nullptr;
  uint32_t days = 0;
  TimePoint before;
  std::string before_day;
};
std::vector<TableCutoff> retention_cutoffs(const RetentionSettings& s, TimePoint now);

// The slice of one table's rows that goes into one archive object: the calendar month (UTC) of
// the oldest row past retention, up to the cutoff. `from`/`to` are epoch ms for kEpochMs
// columns, `from_day`/`to_day` ("YYYY-MM-DD", `to_day` excluded) for day columns.
struct ArchiveWindow {
  std::string month;  // "YYYY-MM"
  std::string key;    // kArchiveRoot + "<table>/<YYYY-MM>.jsonl.gz"
  TimePoint from;
  TimePoint to;
  std::string from_day;
  std::string to_day;
};
// `oldest_ms` / `oldest_day`: the oldest row's time (by the policy's time kind). Refused when it
// is not past the cutoff (nothing to archive) or a day is not a date.
Result<ArchiveWindow> archive_window(const TableCutoff& cutoff, std::optional<int64_t> oldest_ms,
                                     std::optional<std::string_view> oldest_day);

std::string archive_key(std::string_view table, YearMonth month);
// The table and month of a key under kArchiveRoot, if it is an archive object's key.
struct ArchiveKey {
  std::string table;
  std::string month;
};
std::optional<ArchiveKey> parse_archive_key(std::string_view key);

std::string_view retention_action_name(RetentionAction a);
std::string_view row_filter_name(RowFilter f);
std::string_view time_kind_name(TimeKind k);

}  // namespace r2w::ops
