#include "core/ops/retention.h"

#include <charconv>

#include "core/ops/backup.h"

namespace r2w::ops {

namespace {

using enum RetentionAction;
using enum TimeKind;
using enum RowFilter;
using enum PeriodSource;

constexpr int64_t kDayMs = 86'400'000;

const std::vector<TablePolicy>& policies() {
  // clang-format off
  static const std::vector<TablePolicy> kPolicies = {
      // Aggregated metrics: hour and day rollups, inventory snapshots (minute rows and expired
      // quota reservations are deleted by the metrics retention, metrics/sampling.h).
      {.table = "storage_metrics", .time_column = "period_start_ms", .time_kind = kEpochMs,
       .key = {"level", "period_start_ms", "bucket", "prefix", "user_id", "operation", "writer"},
       .filter = kAggregatedMetrics, .variable = "AGGREGATED_METRICS_RETENTION_DAYS",
       .default_days = 365, .min_days = 1, .action = kArchive},
      // The account-wide hour and day rows (no user or prefix; bucket '*' is every bucket).
      {.table = "account_metrics", .time_column = "period_start_ms",
       .key = {"level", "period_start_ms", "bucket", "operation", "writer"},
       .variable = "AGGREGATED_METRICS_RETENTION_DAYS", .default_days = 365, .min_days = 1},
      {.table = "storage_inventory_snapshots", .time_column = "taken_at_ms", .key = {"id"},
       .variable = "AGGREGATED_METRICS_RETENTION_DAYS", .default_days = 365, .min_days = 1},
      // Daily storage peaks: the bill of the month reads them (two months at least).
      {.table = "storage_daily_peaks", .time_column = "day", .time_kind = kDayText,
       .key = {"day", "bucket", "prefix", "storage_class"},
       .variable = "USAGE_PEAKS_RETENTION_DAYS", .default_days = 400, .min_days = 62},
      {.table = "user_storage_daily_peaks", .time_column = "day", .time_kind = kDayText,
       .key = {"user_id", "day", "prefix"},
       .variable = "USAGE_PEAKS_RETENTION_DAYS", .default_days = 400, .min_days = 62},
      // Their day sums over every user (migration 0030, kept by triggers): derived, deleted.
      {.table = "user_storage_daily_totals", .time_column = "day", .time_kind = kDayText,
       .key = {"day"}, .variable = "USAGE_PEAKS_RETENTION_DAYS", .default_days = 400,
       .min_days = 62, .action = kDelete},
      // The account's analytics: the collector rewrites up to 31 days back.
      {.table = "account_operations_hourly", .time_column = "hour_ms",
       .key = {"hour_ms", "bucket", "action_type", "action_status", "status_code"},
       .variable = "ACCOUNT_ANALYTICS_RETENTION_DAYS", .default_days = 400, .min_days = 62},
      // Their day sums (migration 0024), kept as long as the hours they add up.
      {.table = "account_operations_daily", .time_column = "day", .time_kind = kDayText,
       .key = {"day", "bucket", "action_type", "status_code"},
       .variable = "ACCOUNT_ANALYTICS_RETENTION_DAYS", .default_days = 400, .min_days = 62},
      {.table = "account_storage_daily", .time_column = "day", .time_kind = kDayText,
       .key = {"day", "bucket", "storage_class"},
       .variable = "ACCOUNT_ANALYTICS_RETENTION_DAYS", .default_days = 400, .min_days = 62},
      // Probe history: hourly aggregates archived; raw results deleted, never before 90 days.
      {.table = "r2_operation_metrics", .time_column = "hour_start_ms",
       .key = {"operation", "hour_start_ms"},
       .variable = "PROBE_METRICS_RETENTION_DAYS", .default_days = 400,
       .min_days = kProbeHistoryMinDays},
      {.table = "r2_health_checks", .time_column = "checked_at_ms", .key = {"id"},
       .source = kMonitorConfig, .variable = "retentionDays", .default_days = 30,
       .min_days = kProbeHistoryMinDays, .action = kDelete},
      // Costs: snapshots of the month's bill (every 6 hours) and the daily / monthly reports.
      {.table = "cost_snapshots", .time_column = "computed_at_ms", .key = {"id"},
       .variable = "COST_HISTORY_RETENTION_DAYS", .default_days = 730, .min_days = 62},
      {.table = "cost_reports", .time_column = "created_at_ms", .key = {"id"},
       .variable = "COST_HISTORY_RETENTION_DAYS", .default_days = 730, .min_days = 62},
      {.table = "reports", .time_column = "created_at_ms", .key = {"id"},
       .variable = "COST_HISTORY_RETENTION_DAYS", .default_days = 730, .min_days = 62},
      // Alerts and their history: only what is over (resolved, sent or failed, closed).
      {.table = "alerts", .time_column = "updated_at_ms", .key = {"id"},
       .filter = kResolvedAlerts, .variable = "ALERT_HISTORY_RETENTION_DAYS",
       .default_days = 365, .min_days = 7},
      {.table = "alert_notifications", .time_column = "at_ms", .key = {"id"},
       .variable = "ALERT_HISTORY_RETENTION_DAYS", .default_days = 365, .min_days = 7},
      {.table = "alert_outbox", .time_column = "updated_at_ms", .key = {"key"},
       .filter = kDoneOutbox, .variable = "ALERT_HISTORY_RETENTION_DAYS",
       .default_days = 365, .min_days = 7},
      {.table = "alert_github_issues", .time_column = "closed_at_ms",
       .key = {"channel", "alert_id"}, .filter = kClosedIssues,
       .variable = "ALERT_HISTORY_RETENTION_DAYS", .default_days = 365, .min_days = 7},
      {.table = "silences", .time_column = "ends_at_ms", .key = {"id"},
       .variable = "ALERT_HISTORY_RETENTION_DAYS", .default_days = 365, .min_days = 7},
      {.table = "service_alerts", .time_column = "updated_at_ms", .key = {"id"},
       .filter = kResolvedServiceAlerts, .variable = "ALERT_HISTORY_RETENTION_DAYS",
       .default_days = 365, .min_days = 7},
      // The public status page: probe tallies (the page's longest window is 90 days) and the
      // incidents an admin published (open ones have no resolved_at_ms and are kept).
      {.table = "status_probe_counts", .time_column = "start_ms",
       .key = {"period", "start_ms", "operation", "trigger", "status"}, .source = kFixed,
       .variable = "kStatusTallyRetentionDays (core/ops/retention.cc)", .default_days = 100,
       .min_days = 100, .action = kDelete},
      {.table = "status_incidents", .time_column = "resolved_at_ms", .key = {"id"},
       .variable = "ALERT_HISTORY_RETENTION_DAYS", .default_days = 365, .min_days = 7},
      {.table = "status_incident_updates", .time_column = "posted_at_ms", .key = {"id"},
       .variable = "ALERT_HISTORY_RETENTION_DAYS", .default_days = 365, .min_days = 7},
      // Multipart uploads through the storage API: R2 aborts an upload 7 days after it started
      // (expires_at_ms); its rows and parts go a day after that.
      {.table = "multipart_uploads", .time_column = "expires_at_ms", .key = {"id"},
       .source = kFixed, .variable = "the upload's expiry (core/storage/upload-policy.h)",
       .default_days = 1, .min_days = 1, .action = kDelete},
      {.table = "multipart_parts", .time_column = "uploaded_at_ms",
       .key = {"upload_id", "part_number"}, .source = kFixed,
       .variable = "the upload's expiry (core/storage/upload-policy.h)", .default_days = 8,
       .min_days = 8, .action = kDelete},
      // Security: the audit log and abuse events are archived (the record outlives D1's copy).
      {.table = "audit_log", .time_column = "at_ms", .key = {"id"},
       .variable = "AUDIT_LOG_RETENTION_DAYS", .default_days = 365, .min_days = 30},
      {.table = "security_events", .time_column = "last_at_ms", .key = {"id"},
       .variable = "SECURITY_EVENT_RETENTION_DAYS", .default_days = 90, .min_days = 1},
      // Operational history only: deleted.
      {.table = "circuit_breaker_events", .time_column = "at_ms", .key = {"id"},
       .variable = "BREAKER_EVENT_RETENTION_DAYS", .default_days = 90, .min_days = 1,
       .action = kDelete},
      {.table = "job_runs", .time_column = "started_ms", .key = {"id"}, .source = kFixed,
       .variable = "kJobRunRetention (core/ops/jobs.h)", .default_days = 30, .min_days = 30,
       .action = kDelete},
      {.table = "daily_work", .time_column = "started_ms", .key = {"day"}, .source = kFixed,
       .variable = "kDailyWorkRetention (core/ops/daily.h)", .default_days = 30, .min_days = 30,
       .action = kDelete},
  };
  // clang-format on
  return kPolicies;
}

constexpr OtherTable kOtherTables[] = {
    {"storage_metrics", "minute rows: RAW_METRICS_RETENTION_DAYS (metrics retention)"},
    {"quota_reservations", "deleted when they expire (metrics retention)"},
    {"security_counters", "the window they count (security retention)"},
    {"write_behind_batches", "a day: kWriteBehindIdRetention (core/security/policy.h)"},
    {"user_objects", "one row per stored object"},
    {"circuit_breaker_state", "one row per breaker"},
    {"fault_injection", "one row"},
    {"metrics_rollup_progress", "one row per rollup level"},
    {"storage_inventory_progress", "one row per bucket"},
    {"health_check_config", "one row"},
    {"health_monitor_state", "one row"},
    {"backup_progress", "a backup under way: deleted when its manifest is written (backup.h)"},
    {"pricing_tiers", "one row per price"},
    {"cost_budgets", "one row per budget"},
    {"alert_rules", "one row per rule"},
    {"alert_config", "one row"},
    {"alert_states", "one row per open alert (the engine deletes what it no longer needs)"},
    {"alert_default_rules", "one row per default rule"},
    {"users", "one row per user"},
    {"api_tokens", "one row per token issued (revoked ones name the audit log's actors)"},
    {"user_storage_quotas", "one row per user"},
    {"user_prefix_usage", "one row per user and prefix"},
    {"account_collector_state", "one row"},
    {"job_registry", "one row per job"},
    {"report_subscriptions", "one row"},
    {"d1_migrations", "one row per migration (wrangler)"},
};

std::optional<uint32_t> parse_days(std::string_view text) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

}  // namespace

std::span<const TablePolicy> retention_policies() { return policies(); }
std::span<const OtherTable> other_tables() { return kOtherTables; }

const TablePolicy* find_policy(std::string_view table) {
  for (const TablePolicy& p : policies()) {
    if (p.table == table) return &p;
  }
  return nullptr;
}

Result<RetentionSettings> retention_settings(const std::map<std::string, std::string>& vars,
                                             std::optional<uint32_t> probe_retention_days) {
  RetentionSettings s;
  // Every variable's bounds: the largest min_days of the tables it sets.
  std::map<std::string_view, uint32_t> var_min;
  for (const TablePolicy& p : policies()) {
    if (p.source != kVariable) continue;
    uint32_t& m = var_min[p.variable];
    m = std::max(m, p.min_days);
  }
  for (const TablePolicy& p : policies()) {
    uint32_t days = p.default_days;
    switch (p.source) {
      case kFixed:
        break;
      case kMonitorConfig:
        days = std::max(probe_retention_days.value_or(p.default_days), p.min_days);
        break;
      case kVariable: {
        auto it = vars.find(std::string(p.variable));
        if (it == vars.end() || it->second.empty()) break;
        auto v = parse_days(it->second);
        uint32_t min = var_min[p.variable];
        if (!v || *v < min || *v > kMaxRetentionDays) {
          return invalid_field(std::string(p.variable),
                               std::string(p.variable) + " must be a whole number of days, " +
                                   std::to_string(min) + ".." + std::to_string(kMaxRetentionDays));
        }
        days = *v;
        break;
      }
    }
    s.days[std::string(p.table)] = days;
  }
  return s;
}

std::vector<TableCutoff> retention_cutoffs(const RetentionSettings& s, TimePoint now) {
  std::vector<TableCutoff> out;
  for (const TablePolicy& p : policies()) {
    auto it = s.days.find(p.table);
    uint32_t days = it == s.days.end() ? p.default_days : it->second;
    TimePoint before = now - Duration(kDayMs * days);
    // A day column keeps whole days: the day that contains the cutoff is kept.
    out.push_back(
        {.policy = &p, .days = days, .before = before, .before_day = format_date(date_of(before))});
  }
  return out;
}

std::string archive_key(std::string_view table, YearMonth month) {
  return std::string(kArchiveRoot) + std::string(table) + "/" + format_year_month(month) +
         ".jsonl.gz";
}

Result<ArchiveWindow> archive_window(const TableCutoff& cutoff, std::optional<int64_t> oldest_ms,
                                     std::optional<std::string_view> oldest_day) {
  const TablePolicy& p = *cutoff.policy;
  if (p.action != kArchive) {
    return invalid_field("table", std::string(p.table) + " is deleted, not archived");
  }
  YearMonth month;
  if (p.time_kind == kDayText) {
    auto day = oldest_day ? parse_date(*oldest_day) : std::nullopt;
    if (!day) return invalid_field("oldest_day", "oldest_day must be a YYYY-MM-DD day");
    if (format_date(*day) >= cutoff.before_day) {
      return invalid_field("oldest_day", "oldest_day is not past retention");
    }
    month = month_of(*day);
  } else {
    if (!oldest_ms || *oldest_ms < 0) {
      return invalid_field("oldest_ms", "oldest_ms must be a time in ms");
    }
    if (from_epoch_ms(*oldest_ms) >= cutoff.before) {
      return invalid_field("oldest_ms", "oldest_ms is not past retention");
    }
    month = month_of(date_of(from_epoch_ms(*oldest_ms)));
  }
  CivilDate first = first_day(month);
  CivilDate next = first_day(next_month(month));
  ArchiveWindow w{.month = format_year_month(month), .key = archive_key(p.table, month)};
  w.from = from_epoch_ms(days_since_epoch(first) * kDayMs);
  w.to = std::min(from_epoch_ms(days_since_epoch(next) * kDayMs), cutoff.before);
  w.from_day = format_date(first);
  w.to_day = std::min(format_date(next), cutoff.before_day);
  return w;
}

std::optional<ArchiveKey> parse_archive_key(std::string_view key) {
  if (!key.starts_with(kArchiveRoot)) return std::nullopt;
  key.remove_prefix(kArchiveRoot.size());
  constexpr std::string_view kSuffix = ".jsonl.gz";
  if (!key.ends_with(kSuffix)) return std::nullopt;
  key.remove_suffix(kSuffix.size());
  auto slash = key.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view table = key.substr(0, slash);
  std::string_view month = key.substr(slash + 1);
  if (!valid_table_name(table) || !parse_year_month(month)) return std::nullopt;
  return ArchiveKey{.table = std::string(table), .month = std::string(month)};
}

std::string_view retention_action_name(RetentionAction a) {
  return a == kArchive ? "archive" : "delete";
}

std::string_view row_filter_name(RowFilter f) {
  switch (f) {
    case kAll:
      return "all";
    case kAggregatedMetrics:
      return "aggregated_metrics";
    case kResolvedAlerts:
      return "resolved_alerts";
    case kDoneOutbox:
      return "done_outbox";
    case kClosedIssues:
      return "closed_issues";
    case kResolvedServiceAlerts:
      return "resolved_service_alerts";
  }
  return "all";
}

std::string_view time_kind_name(TimeKind k) { return k == kDayText ? "day" : "ms"; }

}  // namespace r2w::ops
