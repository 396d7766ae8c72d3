#include "wasm-bindings/codec/ops.h"

#include <gtest/gtest.h>

#include "core/common/civil-date.h"
#include "core/ops/backup.h"
#include "core/ops/cron.h"
#include "core/ops/jobs.h"
#include "core/ops/log-line.h"
#include "core/ops/retention.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::ops {
namespace {

TimePoint utc(int32_t y, uint32_t mo, uint32_t d, int64_t h = 0, int64_t mi = 0, int64_t s = 0) {
  return from_epoch_ms((days_since_epoch({y, mo, d}) * 86'400 + h * 3600 + mi * 60 + s) * 1000);
}

CronExpr cron(const char* text) {
  auto c = parse_cron(text);
  EXPECT_TRUE(c.ok()) << text;
  return c.ok() ? c.value() : CronExpr{};
}

TEST(Cron, ParsesEveryScheduleInWranglerToml) {
  for (const char* text : {"* * * * *", "*/5 * * * *", "0 0 * * *", "0 */6 * * *", "0 0 1 * *"}) {
    EXPECT_TRUE(parse_cron(text).ok()) << text;
  }
}

TEST(Cron, RefusesMalformedAndUnsupportedExpressionsNamingTheField) {
  for (const char* text : {"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *",
                           "* * * 13 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *", "L * * * *",
                           "* * * JAN *", "0 0 30 2 *", "a b c d e"}) {
    auto c = parse_cron(text, "crons[2]");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.error().field, "crons[2]") << text;
  }
}

TEST(Cron, NextAndPreviousFiringAtTheBoundaries) {
  auto five = cron("*/5 * * * *");
  EXPECT_EQ(next_fire(five, utc(2026, 11, 30, 7, 59, 59)), utc(2026, 11, 30, 8, 0));
  EXPECT_EQ(next_fire(five, utc(2026, 11, 30, 8, 0)), utc(2026, 11, 30, 8, 5));
  EXPECT_EQ(*previous_fire(five, utc(2026, 11, 30, 8, 4, 59)), utc(2026, 11, 30, 8, 0));
  EXPECT_EQ(*previous_fire(five, utc(2026, 11, 30, 8, 5)), utc(2026, 11, 30, 8, 5));
  auto monthly = cron("0 0 1 * *");
  EXPECT_EQ(next_fire(monthly, utc(2026, 12, 15)), utc(2027, 1, 1));
  EXPECT_EQ(nominal_interval(monthly, utc(2026, 11, 30)), std::chrono::hours(24 * 31));
  EXPECT_EQ(nominal_interval(cron("0 */6 * * *"), utc(2026, 11, 30, 7)), std::chrono::hours(6));
  EXPECT_EQ(nominal_interval(cron("* * * * *"), utc(2026, 11, 30, 7)), std::chrono::minutes(1));
  // Feb 29 only: the next leap year.
  EXPECT_EQ(next_fire(cron("0 12 29 2 *"), utc(2026, 3, 1)), utc(2028, 2, 29, 12));
  // Day of month OR day of week when both are restricted: the 13th or any Friday.
  auto either = cron("0 0 13 * 5");
  EXPECT_EQ(next_fire(either, utc(2026, 11, 30)), utc(2026, 12, 4));  // a Friday
  EXPECT_TRUE(fires_at(either, utc(2026, 12, 13)));
  EXPECT_TRUE(fires_at(cron("0 0 * * 7"), utc(2026, 11, 29)));  // 7 is Sunday too
}

TEST(Jobs, AJobTwoRunsLateIsLateAndFiveRunsLateIsStale) {
  JobSpec job{.name = "collect-metrics", .cron = cron("*/5 * * * *")};
  JobHistory h{.last_started = utc(2026, 11, 30, 8, 0),
               .last_ended = utc(2026, 11, 30, 8, 0, 3),
               .last_outcome = RunOutcome::kOk,
               .last_success = utc(2026, 11, 30, 8, 0)};
  TimePoint since = utc(2026, 11, 1);
  // 8:05 is due; it counts as missed only after the grace minute.
  EXPECT_EQ(judge_job(job, h, since, utc(2026, 11, 30, 8, 5, 59)).missed_runs, 0u);
  EXPECT_EQ(judge_job(job, h, since, utc(2026, 11, 30, 8, 6)).missed_runs, 1u);
  auto late = judge_job(job, h, since, utc(2026, 11, 30, 8, 11));
  EXPECT_EQ(late.missed_runs, 2u);
  EXPECT_EQ(late.health, JobHealth::kLate);
  EXPECT_NE(late.reason.find("2 scheduled runs missed since its last success"), std::string::npos)
      << late.reason;
  auto stale = judge_job(job, h, since, utc(2026, 11, 30, 9, 0));
  EXPECT_EQ(stale.health, JobHealth::kStale);
  EXPECT_EQ(stale.missed_runs, 5u);
  EXPECT_EQ(stale.next_due, utc(2026, 11, 30, 9, 5));
}

TEST(Jobs, AFailedRunDoesNotCountAsARun) {
  JobSpec job{.name = "daily", .cron = cron("0 0 * * *")};
  JobHistory h{.last_started = utc(2026, 11, 30),
               .last_outcome = RunOutcome::kError,
               .last_success = utc(2026, 11, 28)};
  auto s = judge_job(job, h, utc(2026, 1, 1), utc(2026, 11, 30, 1));
  EXPECT_EQ(s.missed_runs, 2u);  // Nov 29 and Nov 30
  EXPECT_NE(s.reason.find("its last run failed"), std::string::npos) << s.reason;
}

TEST(Jobs, RunsDueBeforeR2watchKnewOfTheJobAreNotMissed) {
  JobSpec job{.name = "monthly", .cron = cron("0 0 1 * *")};
  auto s = judge_job(job, JobHistory{}, utc(2026, 11, 30, 7), utc(2026, 11, 30, 8));
  EXPECT_EQ(s.missed_runs, 0u);
  EXPECT_EQ(s.health, JobHealth::kOk);
  EXPECT_EQ(s.next_due, utc(2026, 12, 1));
  auto never = judge_job(JobSpec{.name = "alerts", .cron = cron("* * * * *")}, JobHistory{},
                         utc(2026, 11, 30, 8), utc(2026, 11, 30, 8, 10));
  EXPECT_EQ(never.health, JobHealth::kStale);
  EXPECT_NE(never.reason.find("never succeeded"), std::string::npos);
}

TEST(LogLine, LevelFollowsTheStatusOnBothSidesOfEachBoundary) {
  EXPECT_EQ(request_log_level(200), LogLevel::kInfo);
  EXPECT_EQ(request_log_level(399), LogLevel::kInfo);
  EXPECT_EQ(request_log_level(400), LogLevel::kWarn);
  EXPECT_EQ(request_log_level(499), LogLevel::kWarn);
  EXPECT_EQ(request_log_level(500), LogLevel::kError);
  EXPECT_EQ(request_log_level(503), LogLevel::kError);
}

TEST(LogLine, TimesAreUtcWithMilliseconds) {
  EXPECT_EQ(format_utc_ms(from_epoch_ms(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_utc_ms(utc(2026, 11, 30, 9, 4, 7) + Duration(123)), "2026-11-30T09:04:07.123Z");
  EXPECT_EQ(format_utc_ms(utc(2024, 2, 29, 23, 59, 59) + Duration(999)),
            "2024-02-29T23:59:59.999Z");
}

TEST(LogLine, UserHashIsStableUnderOneKeyAndDiffersUnderAnother) {
  std::string a = user_hash("key-one-0123456789abcdef0123456789", "alice");
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a, user_hash("key-one-0123456789abcdef0123456789", "alice"));
  EXPECT_NE(a, user_hash("key-one-0123456789abcdef0123456789", "bob"));
  EXPECT_NE(a, user_hash("key-two-0123456789abcdef0123456789", "alice"));
}

TEST(LogLine, RequestLineHasEveryFieldAndNeverTheUserInTheClear) {
  RequestLog r{.time = utc(2026, 11, 30, 9, 0, 0),
               .method = "GET",
               .route = "/api/storage/files/*",
               .status = 404,
               .duration = Duration(12),
               .request_id = "8c1f2a-AMS",
               .user = "alice-the-user"};
  std::string line = codec::log_line_text(request_line(r, "key-one-0123456789abcdef0123456789"));
  EXPECT_EQ(line,
            R"({"time":"2026-11-30T09:00:00.000Z","level":"warn","kind":"request","method":"GET",)"
            R"("route":"/api/storage/files/*","status":404,"duration_ms":12,)"
            R"("request_id":"8c1f2a-AMS","user":")" +
                user_hash("key-one-0123456789abcdef0123456789", "alice-the-user") + R"("})");
  EXPECT_EQ(line.find("alice-the-user"), std::string::npos);
  // Without a key the user is left out rather than written as it is.
  std::string keyless = codec::log_line_text(request_line(r, std::nullopt));
  EXPECT_NE(keyless.find(R"("user":null)"), std::string::npos);
  EXPECT_EQ(keyless.find("alice"), std::string::npos);
}

TEST(LogLine, JobLineCarriesTheOutcomeAndACutError) {
  JobLog ok{
      .time = utc(2026, 11, 30), .job = "daily", .trigger = "cron", .duration = Duration(840)};
  EXPECT_EQ(codec::log_line_text(job_line(ok)),
            R"({"time":"2026-11-30T00:00:00.000Z","level":"info","kind":"job","job":"daily",)"
            R"("trigger":"cron","outcome":"ok","duration_ms":840,"error":null})");
  JobLog failed = ok;
  failed.ok = false;
  failed.error = std::string(1000, 'x');
  std::string line = codec::log_line_text(job_line(failed));
  EXPECT_NE(line.find(R"("level":"error")"), std::string::npos);
  EXPECT_NE(line.find(std::string(kMaxLoggedErrorChars, 'x') + "\""), std::string::npos);
  EXPECT_EQ(line.find(std::string(kMaxLoggedErrorChars + 1, 'x')), std::string::npos);
  // Quotes, control characters and a cut multi-byte character are written as valid JSON.
  failed.error =
      "say \"hi\"\n\x01"
      "caf\xC3";
  EXPECT_NE(codec::log_line_text(job_line(failed))
                .find(R"("error":"say \"hi\"\n\u0001caf)"
                      "\xEF\xBF\xBD\"}"),
            std::string::npos);
}

TEST(Backup, KeepDefaultsToSevenAndRefusesAnythingOutside1To365NamingTheVariable) {
  EXPECT_EQ(backup_options(std::nullopt).value().keep, 7u);
  EXPECT_EQ(backup_options(std::string("")).value().keep, 7u);
  EXPECT_EQ(backup_options(std::string("1")).value().keep, 1u);
  EXPECT_EQ(backup_options(std::string("365")).value().keep, 365u);
  for (const char* bad : {"0", "366", "-1", "7.5", "seven", "1000", " 7"}) {
    auto o = backup_options(std::string(bad));
    ASSERT_FALSE(o.ok()) << bad;
    EXPECT_EQ(o.error().field, "BACKUP_KEEP");
  }
}

TEST(Backup, KeysAreTheUtcStartTimeThenTheTable) {
  std::string id = backup_id(utc(2026, 11, 30, 0, 0, 5) + Duration(999));
  EXPECT_EQ(id, "20261130T000005Z");
  EXPECT_EQ(backup_table_key(id, "alerts"), ".r2watch/backups/20261130T000005Z/alerts.jsonl.gz");
  EXPECT_EQ(backup_manifest_key(id), ".r2watch/backups/20261130T000005Z/manifest.json");
  EXPECT_EQ(backup_id_of_key(".r2watch/backups/20261130T000005Z/alerts.jsonl.gz"), id);
  EXPECT_EQ(backup_id_of_key("archive/alerts/2026-11.jsonl.gz"), std::nullopt);
  EXPECT_FALSE(valid_table_name("a/b"));
  EXPECT_FALSE(valid_table_name(""));
  EXPECT_TRUE(valid_table_name("job_runs"));
}

TEST(Backup, KeepsTheNewestCompleteBackupsAndDeletesIncompleteOnes) {
  auto keys = [](const char* id, bool complete) {
    std::vector<std::string> k{backup_table_key(id, "a"), backup_table_key(id, "b")};
    if (complete) k.push_back(backup_manifest_key(id));
    return k;
  };
  std::vector<std::string> listed;
  for (auto [id, complete] :
       {std::pair{"20261126T000000Z", true}, std::pair{"20261127T000000Z", true},
        std::pair{"20261128T000000Z", false},  // failed half-way
        std::pair{"20261129T000000Z", true}, std::pair{"20261130T000000Z", true}}) {
    auto k = keys(id, complete);
    listed.insert(listed.end(), k.begin(), k.end());
  }
  listed.push_back(".r2watch/backups/not-a-backup.txt");
  auto del = backup_keys_to_delete(listed, {.keep = 2}, "20261130T000000Z");
  std::vector<std::string> expected;
  for (const char* id : {"20261126T000000Z", "20261127T000000Z"}) {
    auto k = keys(id, true);
    expected.insert(expected.end(), k.begin(), k.end());
  }
  auto k = keys("20261128T000000Z", false);
  expected.insert(expected.begin() + 6, k.begin(), k.end());
  EXPECT_EQ(del, expected);
}

TEST(Backup, ManifestRefusesABadChecksumOrTableNamingTheField) {
  BackupManifest m{.id = "20261130T000000Z",
                   .tables = {{.name = "alerts", .rows = 3, .sha256 = std::string(64, 'a')}}};
  EXPECT_TRUE(check_manifest(m).ok());
  m.tables[0].sha256 = std::string(64, 'A');
  EXPECT_EQ(check_manifest(m).error().field, "tables[0].sha256");
  m.tables[0].sha256 = std::string(64, 'a');
  m.tables.push_back(m.tables[0]);
  EXPECT_EQ(check_manifest(m).error().field, "tables[1].name");
}

TEST(BackupCursors, AStepDecidesByEachTablesCursorAsByEveryPart) {
  const std::vector<BackupTable> tables{{.name = "accounts", .order = RowOrder::kKey},
                                        {.name = "alerts", .order = RowOrder::kRowid}};
  const TimePoint now = from_epoch_ms(86'400'000 + 600'000);
  // accounts: 2 parts, the last full (not done); alerts: done (its last part short).
  auto p =
      progress_of_cursors("19700102T000000Z", from_epoch_ms(86'400'000),
                          {{.table = "accounts", .parts = 2, .last_rows = kBackupPartRows},
                           {.table = "alerts", .parts = 3, .last_rows = 7, .last_rowid = 409}});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.value().parts.size(), 5u);
  auto next = next_backup_step(tables, p.value(), BackupTrigger::kContinue, {}, now);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next.value().action, BackupAction::kCopy);
  EXPECT_EQ(next.value().table, "accounts");
  EXPECT_EQ(next.value().part, 2u);
  EXPECT_EQ(next.value().offset, 2 * kBackupPartRows);
  auto bad = progress_of_cursors("19700102T000000Z", now, {{.table = "alerts", .parts = 0}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "progress.tables[0]");
}

}  // namespace
}  // namespace r2w::ops
