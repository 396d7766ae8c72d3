#include "core/ops/retention.h"

#include <gtest/gtest.h>

#include <set>

#include "core/common/civil-date.h"

namespace r2w::ops {
namespace {

TimePoint utc(int32_t y, uint32_t mo, uint32_t d, int64_t h = 0) {
  return from_epoch_ms((days_since_epoch({y, mo, d}) * 86'400 + h * 3600) * 1000);
}

const TableCutoff& cutoff_of(const std::vector<TableCutoff>& all, std::string_view table) {
  for (const TableCutoff& c : all) {
    if (c.policy->table == table) return c;
  }
  ADD_FAILURE() << "no cutoff for " << table;
  return all.front();
}

RetentionSettings settings(const std::map<std::string, std::string>& vars = {},
                           std::optional<uint32_t> probe_days = std::nullopt) {
  auto s = retention_settings(vars, probe_days);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? s.value() : RetentionSettings{};
}

TEST(Retention, EveryTableHasOnePolicyAKeyAndAPeriodWithinItsBounds) {
  std::set<std::string_view> seen;
  for (const TablePolicy& p : retention_policies()) {
    EXPECT_TRUE(seen.insert(p.table).second) << p.table << " listed twice";
    EXPECT_FALSE(p.key.empty()) << p.table;
    EXPECT_FALSE(p.time_column.empty()) << p.table;
    EXPECT_GE(p.default_days, 1u) << p.table;
    if (p.source == PeriodSource::kVariable) {
      EXPECT_GE(p.default_days, p.min_days) << p.table;
    }
  }
  for (std::string_view t :
       {"alerts", "audit_log", "alert_outbox", "alert_notifications", "service_alerts",
        "cost_snapshots", "cost_reports", "storage_daily_peaks", "user_storage_daily_peaks",
        "user_storage_daily_totals", "job_runs", "security_events", "circuit_breaker_events",
        "r2_health_checks", "r2_operation_metrics", "account_operations_hourly",
        "account_operations_daily", "account_storage_daily", "storage_metrics"}) {
    EXPECT_NE(find_policy(t), nullptr) << t;
  }
}

TEST(Retention, DefaultsGiveEachTableItsDocumentedCutoff) {
  TimePoint now = utc(2026, 11, 30);
  auto all = retention_cutoffs(settings(), now);
  EXPECT_EQ(cutoff_of(all, "storage_metrics").before, now - std::chrono::hours(24 * 365));
  EXPECT_EQ(cutoff_of(all, "audit_log").days, 365u);
  EXPECT_EQ(cutoff_of(all, "circuit_breaker_events").before, utc(2026, 9, 1));
  EXPECT_EQ(cutoff_of(all, "security_events").before, utc(2026, 9, 1));
  EXPECT_EQ(cutoff_of(all, "job_runs").days, 30u);
  EXPECT_EQ(cutoff_of(all, "cost_reports").days, 730u);
  EXPECT_EQ(cutoff_of(all, "storage_daily_peaks").before_day, "2025-10-26");
}

TEST(Retention, ProbeResultsAreKeptAtLeastNinetyDaysWhateverTheMonitorSays) {
  TimePoint now = utc(2026, 11, 30);
  EXPECT_EQ(cutoff_of(retention_cutoffs(settings({}, 30), now), "r2_health_checks").days, 90u);
  EXPECT_EQ(cutoff_of(retention_cutoffs(settings({}, std::nullopt), now), "r2_health_checks").days,
            90u);
  EXPECT_EQ(cutoff_of(retention_cutoffs(settings({}, 200), now), "r2_health_checks").days, 200u);
  // The hourly aggregates of probes cannot be set below 90 days either.
  auto refused = retention_settings({{"PROBE_METRICS_RETENTION_DAYS", "30"}}, std::nullopt);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "PROBE_METRICS_RETENTION_DAYS");
}

TEST(Retention, AVariableSetsEveryTableItCoversAndABadOneIsRefusedNamingIt) {
  TimePoint now = utc(2026, 11, 30);
  auto all = retention_cutoffs(settings({{"ALERT_HISTORY_RETENTION_DAYS", "30"}}), now);
  for (std::string_view t : {"alerts", "alert_outbox", "alert_notifications", "service_alerts"}) {
    EXPECT_EQ(cutoff_of(all, t).days, 30u) << t;
  }
  for (const char* bad : {"0", "-1", "12.5", "ten", "3651", " 30"}) {
    auto s = retention_settings({{"AUDIT_LOG_RETENTION_DAYS", bad}}, std::nullopt);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().field, "AUDIT_LOG_RETENTION_DAYS");
  }
  // The daily peaks carry the bill of the month: not below two months.
  EXPECT_FALSE(retention_settings({{"USAGE_PEAKS_RETENTION_DAYS", "31"}}, std::nullopt).ok());
}

TEST(Retention, ArchiveWindowIsTheOldestRowsMonthUpToTheCutoff) {
  TimePoint now = utc(2026, 11, 30);
  auto all = retention_cutoffs(settings(), now);
  const TableCutoff& audit = cutoff_of(all, "audit_log");  // before 2025-11-30
  auto w = archive_window(audit, to_epoch_ms(utc(2025, 3, 14, 5)), std::nullopt);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.value().month, "2025-03");
  EXPECT_EQ(w.value().key, ".r2watch/archive/audit_log/2025-03.jsonl.gz");
  EXPECT_EQ(w.value().from, utc(2025, 3, 1));
  EXPECT_EQ(w.value().to, utc(2025, 4, 1));
  // The cutoff's own month stops at the cutoff.
  auto last = archive_window(audit, to_epoch_ms(utc(2025, 11, 2)), std::nullopt);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last.value().to, audit.before);
  // Nothing past retention: refused.
  EXPECT_FALSE(archive_window(audit, to_epoch_ms(audit.before), std::nullopt).ok());
  // A deleted table has no archive.
  EXPECT_FALSE(archive_window(cutoff_of(all, "circuit_breaker_events"), 0, std::nullopt).ok());
}

TEST(Retention, DayColumnsArchiveWholeDaysByMonth) {
  TimePoint now = utc(2026, 11, 30, 13);
  const TableCutoff& peaks = cutoff_of(retention_cutoffs(settings(), now), "storage_daily_peaks");
  EXPECT_EQ(peaks.before_day, "2025-10-26");
  auto w = archive_window(peaks, std::nullopt, "2025-10-03");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.value().month, "2025-10");
  EXPECT_EQ(w.value().from_day, "2025-10-01");
  EXPECT_EQ(w.value().to_day, "2025-10-26");
  auto feb = archive_window(peaks, std::nullopt, "2024-02-29");
  ASSERT_TRUE(feb.ok());
  EXPECT_EQ(feb.value().to_day, "2024-03-01");
  EXPECT_FALSE(archive_window(peaks, std::nullopt, "2025-10-26").ok());
  EXPECT_EQ(archive_window(peaks, std::nullopt, "2025-02-30").error().field, "oldest_day");
}

TEST(Retention, ArchiveKeysParseBackAndOthersAreIgnored) {
  auto k = parse_archive_key(".r2watch/archive/alerts/2025-03.jsonl.gz");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->table, "alerts");
  EXPECT_EQ(k->month, "2025-03");
  for (const char* bad :
       {".r2watch/archive/alerts/2025-13.jsonl.gz", ".r2watch/archive/a.jsonl.gz",
        ".r2watch/backups/x/alerts.jsonl.gz", ".r2watch/archive/al-erts/2025-03.jsonl.gz",
        ".r2watch/archive/alerts/2025-03.jsonl"}) {
    EXPECT_FALSE(parse_archive_key(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace r2w::ops
