// The month computations against hand-worked figures: month-to-date bill, daily average,
// forecast on synthetic months, trend, attribution that adds up exactly, budgets, cost
// anomalies and the storage-class what-if.
#include <gtest/gtest.h>

#include <random>

#include "core/cost/anomaly.h"
#include "core/cost/attribution.h"
#include "core/cost/budget.h"
#include "core/cost/month.h"
#include "core/cost/period-report.h"
#include "core/cost/window.h"
#include "wasm-bindings/codec/cost.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::cost {
namespace {

using json = r2w::Json;
using namespace r2w::codec;  // NOLINT: the cost codec's readers, tested with the core

constexpr uint64_t GB = kBytesPerGb;
Money usd_micro(int64_t m) { return Money::micro_usd(m); }

struct RowSpec {
  std::string bucket = "logs";
  StorageClass cls = StorageClass::kStandard;
  uint64_t peak_bytes = 0;
  uint64_t class_a = 0;
  uint64_t class_b = 0;
  uint64_t retrieved = 0;
  std::string prefix;
  std::string user;
};

UsageRow row(CivilDate date, const RowSpec& s) {
  UsageRow r;
  r.date = date;
  r.bucket = s.bucket;
  r.prefix = s.prefix;
  r.user = s.user;
  r.storage_class = s.cls;
  r.storage_peak_bytes = s.peak_bytes;
  r.class_a_requests = s.class_a;
  r.class_b_requests = s.class_b;
  r.retrieved_bytes = s.retrieved;
  return r;
}

// Days first..last of June 2026 (30 days) with the same row every day.
void add_days(std::vector<UsageRow>& rows, uint32_t first, uint32_t last, const RowSpec& s) {
  for (uint32_t d = first; d <= last; ++d) rows.push_back(row({2026, 6, d}, s));
}

MonthInput june(uint32_t as_of, std::vector<UsageRow> rows) {
  return MonthInput{.as_of = {2026, 6, as_of}, .prices = default_price_list(), .rows = rows};
}

MonthReport report_of(const MonthInput& in) {
  auto r = month_report(in);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : MonthReport{};
}

// A steady month: 300 GB stored, 100,000 PUTs and 500,000 GETs every day of June.
std::vector<UsageRow> steady_logs(uint32_t through) {
  std::vector<UsageRow> rows;
  add_days(rows, 1, through, {.peak_bytes = 300 * GB, .class_a = 100'000, .class_b = 500'000});
  return rows;
}

TEST(MonthReport, SteadyMonthToDateAndForecastMatchTheHandBill) {
  MonthReport r = report_of(june(10, steady_logs(10)));
  // To date (10 days): storage 300 GB * 10/30 = 100 GB-months - 10 free = 90 * $0.015 =
  // $1.35; 1,000,000 PUTs and 5,000,000 GETs are inside the free tier.
  EXPECT_EQ(r.to_date.line(StorageClass::kStandard, Line::kStorage).billable_units, 90u);
  EXPECT_EQ(r.to_date.total, usd_micro(1'350'000));
  EXPECT_EQ(r.daily_average, usd_micro(135'000));
  // Month end (steady, so every scenario is exact): storage 300 - 10 = 290 * $0.015 = $4.35;
  // 3,000,000 PUTs - 1M = 2 * $4.50 = $9.00; 15,000,000 GETs - 10M = 5 * $0.36 = $1.80.
  for (Scenario s : kAllScenarios) {
    EXPECT_EQ(r.month_end[static_cast<size_t>(s)].total, usd_micro(15'150'000)) << scenario_name(s);
  }
  // Trend: a day at list price is 300 * 0.015 / 30 + 0.1 * 4.50 + 0.5 * 0.36 = $0.78.
  ASSERT_EQ(r.trend.size(), 10u);
  for (const DayPoint& p : r.trend) EXPECT_EQ(p.list_cost, usd_micro(780'000));
  EXPECT_EQ(r.trend[0].bill_to_date, usd_micro(0));        // 10 GB-months: all free
  EXPECT_EQ(r.trend[1].bill_to_date, usd_micro(150'000));  // 20 - 10 = 10 * $0.015
  EXPECT_EQ(r.trend[9].bill_to_date, usd_micro(1'350'000));
}

TEST(MonthReport, ACompleteMonthIsItsOwnForecast) {
  MonthReport r = report_of(june(30, steady_logs(30)));
  EXPECT_EQ(r.to_date.total, usd_micro(15'150'000));
  EXPECT_EQ(r.month_end[0].total, r.to_date.total);
  EXPECT_EQ(r.month_end[2].total, r.to_date.total);
}

TEST(MonthReport, MidMonthGrowthIsAveragedOverTheMonth) {
  // 100 GB for days 1-15, 400 GB for days 16-30: (15 * 100 + 15 * 400) / 30 = 250 GB-months
  // - 10 free = 240 * $0.015 = $3.60. 40,000 PUTs a day = 1.2 million - 1M = 1 * $4.50;
  // 400,000 GETs a day = 12 million - 10M = 2 * $0.36 = $0.72. Total $8.82.
  std::vector<UsageRow> rows;
  add_days(rows, 1, 15, {.peak_bytes = 100 * GB, .class_a = 40'000, .class_b = 400'000});
  add_days(rows, 16, 30, {.peak_bytes = 400 * GB, .class_a = 40'000, .class_b = 400'000});
  MonthReport r = report_of(june(30, rows));
  EXPECT_EQ(r.to_date.line(StorageClass::kStandard, Line::kStorage).billable_units, 240u);
  EXPECT_EQ(r.to_date.line(StorageClass::kStandard, Line::kStorage).cost, usd_micro(3'600'000));
  EXPECT_EQ(r.to_date.line(StorageClass::kStandard, Line::kClassA).cost, usd_micro(4'500'000));
  EXPECT_EQ(r.to_date.line(StorageClass::kStandard, Line::kClassB).cost, usd_micro(720'000));
  EXPECT_EQ(r.to_date.total, usd_micro(8'820'000));
}

TEST(MonthReport, DocsStorageExampleOfGrowthWithinAMonth) {
  // R2 docs: 1 GB for 5 days then 3 GB for 25 days = 2.66 GB-months. In Infrequent Access (no
  // free tier) that bills 3 GB-months * $0.01 = $0.03.
  std::vector<UsageRow> rows;
  add_days(rows, 1, 5, {.cls = StorageClass::kInfrequentAccess, .peak_bytes = 1 * GB});
  add_days(rows, 6, 30, {.cls = StorageClass::kInfrequentAccess, .peak_bytes = 3 * GB});
  MonthReport r = report_of(june(30, rows));
  const BillLine& storage = r.to_date.line(StorageClass::kInfrequentAccess, Line::kStorage);
  EXPECT_EQ(storage.usage, static_cast<Wide>(80) * GB);  // 80 GB-days
  EXPECT_EQ(storage.billable_units, 3u);
  EXPECT_EQ(r.to_date.total, usd_micro(30'000));
}

TEST(MonthReport, ThirtyOneDayMonthAveragesOverItsOwnDays) {
  // July: 100 GB every day = 100 GB-months (not 103.3) - 10 = 90 * $0.015 = $1.35.
  std::vector<UsageRow> rows;
  for (uint32_t d = 1; d <= 31; ++d) rows.push_back(row({2026, 7, d}, {.peak_bytes = 100 * GB}));
  MonthInput in{.as_of = {2026, 7, 31}, .prices = default_price_list(), .rows = rows};
  EXPECT_EQ(report_of(in).to_date.total, usd_micro(1'350'000));
}

TEST(MonthReport, InfrequentAccessEarlyDeletesOweTheMinimumDuration) {
  // 300 GB in Infrequent Access on June 1 only, deleted when 1 day old: it owes 29 more days,
  // so 300 GB * 30 days = 300 GB-months * $0.01 = $3.00.
  UsageRow r = row({2026, 6, 1}, {.cls = StorageClass::kInfrequentAccess, .peak_bytes = 300 * GB});
  UsageRow del = row({2026, 6, 2}, {.cls = StorageClass::kInfrequentAccess});
  del.early_deletes.push_back({.bytes = 300 * GB, .age_days = 1});
  MonthReport rep = report_of(june(2, {r, del}));
  EXPECT_EQ(rep.to_date.line(StorageClass::kInfrequentAccess, Line::kStorage).billable_units, 300u);
  EXPECT_EQ(rep.to_date.total, usd_micro(3'000'000));
  // Deleted at 30 days or older owes nothing more: 300 GB-days = 10 GB-months * $0.01.
  del.early_deletes[0].age_days = 30;
  EXPECT_EQ(report_of(june(2, {r, del})).to_date.total, usd_micro(100'000));
}

TEST(MonthReport, RefusesRowsOutsideTheMonthToDate) {
  std::vector<UsageRow> rows = steady_logs(10);
  rows.push_back(row({2026, 6, 11}, {}));
  auto r = month_report(june(10, rows));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "usage[10].date");
  rows.back().date = {2026, 5, 31};
  EXPECT_FALSE(month_report(june(10, rows)).ok());
}

TEST(Forecast, LinearGrowthIsForecastExactly) {
  // Storage grows 10 GB a day from 10 GB (day d holds 10d GB); the expected forecast carries
  // the growth on: the month holds 10 * (1 + ... + 30) = 4,650 GB-days = 155 GB-months
  // - 10 = 145 * $0.015 = $2.175.
  std::vector<UsageRow> rows;
  for (uint32_t d = 1; d <= 12; ++d) rows.push_back(row({2026, 6, d}, {.peak_bytes = 10 * d * GB}));
  MonthReport r = report_of(june(12, rows));
  EXPECT_EQ(r.month_end[1].line(StorageClass::kStandard, Line::kStorage).billable_units, 145u);
  EXPECT_EQ(r.month_end[1].total, usd_micro(2'175'000));
  EXPECT_EQ(r.month_end[0].total, r.month_end[1].total);  // every daily change was the same
}

TEST(Forecast, RangeBracketsTheExpectedFromTheWindowsSmallestAndLargestDays) {
  // GETs alternate 1M (odd days) and 3M (even days): low repeats the window's smallest day
  // (1M), high its largest (3M), expected its mean.
  std::vector<UsageRow> rows;
  for (uint32_t d = 1; d <= 10; ++d) {
    rows.push_back(row({2026, 6, d}, {.class_b = d % 2 == 0 ? 3'000'000u : 1'000'000u}));
  }
  MonthReport r = report_of(june(10, rows));
  // To date: 20M GETs - 10M = 10 * $0.36 = $3.60.
  EXPECT_EQ(r.to_date.total, usd_micro(3'600'000));
  // Window days 4..10 hold 3+1+3+1+3+1+3 = 15M: low 20 + 20 * 1 = 40M - 10 = 30 * 0.36 =
  // $10.80; high 20 + 20 * 3 = 80M -> 70 * 0.36 = $25.20; expected 20 + 20 * 15/7 = 62.857M
  // -> 63M - 10 = 53 * 0.36 = $19.08.
  EXPECT_EQ(r.month_end[0].total, usd_micro(10'800'000));
  EXPECT_EQ(r.month_end[1].total, usd_micro(19'080'000));
  EXPECT_EQ(r.month_end[2].total, usd_micro(25'200'000));
}

TEST(Forecast, RandomMonthsKeepLowBelowExpectedBelowHigh) {
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<UsageRow> rows;
    uint32_t as_of = 1 + static_cast<uint32_t>(rng() % 30);
    uint64_t peak = rng() % (500 * GB);
    for (uint32_t d = 1; d <= as_of; ++d) {
      for (const char* bucket : {"a", "b"}) {
        peak = std::max<int64_t>(0, static_cast<int64_t>(peak) +
                                        static_cast<int64_t>(rng() % (40 * GB)) -
                                        static_cast<int64_t>(20 * GB));
        rows.push_back(row({2026, 6, d}, {.bucket = bucket,
                                          .cls = rng() % 3 == 0 ? StorageClass::kInfrequentAccess
                                                                : StorageClass::kStandard,
                                          .peak_bytes = peak,
                                          .class_a = rng() % 200'000,
                                          .class_b = rng() % 2'000'000,
                                          .retrieved = rng() % (5 * GB)}));
      }
    }
    MonthReport r = report_of(june(as_of, rows));
    EXPECT_LE(r.to_date.total, r.month_end[0].total);
    EXPECT_LE(r.month_end[0].total, r.month_end[1].total);
    EXPECT_LE(r.month_end[1].total, r.month_end[2].total);
    // Attribution by bucket adds up exactly to the bill every day.
    for (uint32_t d = 1; d <= r.days_in_month; ++d) {
      Money sum;
      for (const Share& s : r.bucket_shares(d)) sum += s.total;
      EXPECT_EQ(sum, r.expected_bill_by_day[d - 1].total);
    }
  }
}

TEST(Attribution, SharesAddUpExactlyToTheTotalInEveryDimension) {
  // Three buckets with equal storage share the storage line; odd micro-dollars go to the
  // largest remainders.
  std::vector<UsageRow> rows;
  for (uint32_t d = 1; d <= 30; ++d) {
    rows.push_back(row({2026, 6, d}, {.bucket = "a",
                                      .peak_bytes = 11 * GB,
                                      .class_b = 400'001,
                                      .prefix = "img/",
                                      .user = "ann"}));
    rows.push_back(row({2026, 6, d}, {.bucket = "b",
                                      .peak_bytes = 11 * GB,
                                      .class_a = 50'000,
                                      .prefix = "log/",
                                      .user = "bob"}));
    rows.push_back(row({2026, 6, d}, {.bucket = "c",
                                      .cls = StorageClass::kInfrequentAccess,
                                      .peak_bytes = 11 * GB,
                                      .class_b = 3,
                                      .retrieved = 1,
                                      .prefix = "img/"}));
  }
  MonthInput in = june(30, rows);
  MonthReport r = report_of(in);
  // Standard: 22 GB-months - 10 = 12 * $0.015 = $0.18; 1.5M PUTs -> 1 * $4.50; 12,000,030
  // GETs -> 3 * $0.36 = $1.08. IA: 11 GB-months * $0.01 = $0.11; 90 GETs -> 1 * $0.90;
  // 30 bytes retrieved -> 1 GB * $0.01. Total $6.78.
  EXPECT_EQ(r.to_date.total, usd_micro(6'780'000));
  for (BreakdownBy by : {BreakdownBy::kBucket, BreakdownBy::kPrefix, BreakdownBy::kStorageClass,
                         BreakdownBy::kUser}) {
    Money sum;
    for (const Share& s : breakdown(r, in, by)) sum += s.total;
    EXPECT_EQ(sum, r.to_date.total);
  }
  auto by_bucket = breakdown(r, in, BreakdownBy::kBucket);
  ASSERT_EQ(by_bucket.size(), 3u);
  // a and b split Standard storage $0.18 evenly; a takes every GET: 400,001 of 400,001 of the
  // Standard GETs; b every PUT.
  EXPECT_EQ(by_bucket[0].lines[index_of(Line::kStorage)], usd_micro(90'000));
  EXPECT_EQ(by_bucket[0].lines[index_of(Line::kClassB)], usd_micro(1'080'000));
  EXPECT_EQ(by_bucket[1].total, usd_micro(90'000 + 4'500'000));
  EXPECT_EQ(by_bucket[2].total, usd_micro(110'000 + 900'000 + 10'000));
  auto by_class = breakdown(r, in, BreakdownBy::kStorageClass);
  ASSERT_EQ(by_class.size(), 2u);
  EXPECT_EQ(by_class[0].key, "infrequent_access");
  EXPECT_EQ(by_class[0].total, usd_micro(1'020'000));
  auto by_user = breakdown(r, in, BreakdownBy::kUser);
  EXPECT_EQ(by_user[0].key, "");  // bucket c's rows have no user
}

TEST(Budget, BurnRateAndTheDayTheBudgetIsExceeded) {
  // The steady month at day 10 has spent $1.35. Projected bill to day d: storage (10d - 10)
  // * $0.015, PUTs ceil((0.1d - 1)) * $4.50, GETs ceil(0.5d - 10) * $0.36. Day 20: 2.85 +
  // 4.50 + 0 = $7.35; day 21: 3.00 + 9.00 + 0.36 = $12.36 > $10.
  MonthReport r = report_of(june(10, steady_logs(10)));
  std::vector<Budget> budgets = {
      {.bucket = std::nullopt, .monthly = usd_micro(10'000'000)},
      {.bucket = "logs", .monthly = usd_micro(20'000'000)},
      {.bucket = "other", .monthly = usd_micro(1'000'000)},
      {.bucket = std::nullopt, .monthly = usd_micro(1'000'000), .warn_at_pct = 50},
      {.bucket = std::nullopt, .monthly = usd_micro(1'500'000), .warn_at_pct = 90},
  };
  auto s = budget_status(r, budgets);
  EXPECT_EQ(s[0].spent, usd_micro(1'350'000));
  EXPECT_EQ(s[0].burn_rate_per_day, usd_micro(135'000));
  EXPECT_EQ(s[0].forecast, usd_micro(15'150'000));
  EXPECT_EQ(s[0].exceeded_on, std::nullopt);
  EXPECT_EQ(s[0].projected_exceed_on, (CivilDate{2026, 6, 21}));
  EXPECT_EQ(s[0].status, "forecast_over");
  EXPECT_EQ(s[1].spent, usd_micro(1'350'000));  // logs is the only bucket
  EXPECT_EQ(s[1].projected_exceed_on, std::nullopt);
  EXPECT_EQ(s[1].status, "ok");
  EXPECT_EQ(s[2].spent, usd_micro(0));
  EXPECT_EQ(s[2].status, "ok");
  // $1.00: exceeded on day 8 (bill to day 8 = (80 - 10) * $0.015 = $1.05; day 7 = $0.90).
  EXPECT_EQ(s[3].status, "exceeded");
  EXPECT_EQ(s[3].exceeded_on, (CivilDate{2026, 6, 8}));
  // $1.50 with a 90% warning: $1.35 is exactly 90%.
  EXPECT_EQ(s[4].status, "warning");
}

TEST(Budget, ParsesAndRefusesBodiesNamingTheField) {
  auto ok = budgets_from_json(json::parse(
      R"({"budgets": [{"monthly_usd": "25.00"}, {"bucket": "photos", "monthly_usd": 5,
          "warn_at_pct": 90}]})"));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok.value()[0].monthly, usd_micro(25'000'000));
  EXPECT_EQ(ok.value()[0].bucket, std::nullopt);  // the whole account
  EXPECT_EQ(ok.value()[1].warn_at_pct, 90u);
  EXPECT_EQ(budgets_to_json(ok.value())["budgets"][0]["bucket"], nullptr);
  auto field_of = [](const char* body) {
    auto r = budgets_from_json(json::parse(body));
    return r.ok() ? std::string("(accepted)") : r.error().field;
  };
  EXPECT_EQ(field_of(R"({"budgets": [{"monthly_usd": -5}]})"), "budgets[0].monthly_usd");
  EXPECT_EQ(field_of(R"({"budgets": [{"monthly_usd": 0}]})"), "budgets[0].monthly_usd");
  EXPECT_EQ(field_of(R"({"budgets": [{}]})"), "budgets[0].monthly_usd");
  EXPECT_EQ(field_of(R"({"budgets": [{"monthly_usd": 1, "warn_at_pct": 0}]})"),
            "budgets[0].warn_at_pct");
  EXPECT_EQ(field_of(R"({"budgets": [{"monthly_usd": 1, "bucket": 7}]})"), "budgets[0].bucket");
  EXPECT_EQ(field_of(R"({"budgets": [{"monthly_usd": 1}, {"monthly_usd": 2}]})"),
            "budgets[1].bucket");
  EXPECT_EQ(field_of(R"({"budgets": [{"monthly_usd": 1, "limit": 2}]})"), "budgets[0].limit");
  EXPECT_EQ(field_of(R"({"budgets": {}})"), "budgets");
  EXPECT_EQ(field_of(R"({})"), "budgets");
  EXPECT_EQ(field_of(R"({"budgets": []})"), "(accepted)");
}

TEST(Budget, ReadsBackTheFormItWrites) {
  // What PUT answers and D1 keeps carries monthly_micro_usd; reading it back must work (it did
  // not, and every cost view failed once a budget was saved).
  auto first = budgets_from_json(json::parse(
      R"({"budgets": [{"monthly_usd": "25.00"}, {"bucket": "photos", "monthly_usd": 5}]})"));
  ASSERT_TRUE(first.ok());
  json written = budgets_to_json(first.value());
  auto again = budgets_from_json(written);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(budgets_to_json(again.value()), written);
  auto disagree = budgets_from_json(
      json::parse(R"({"budgets": [{"monthly_usd": "25.00", "monthly_micro_usd": 24000000}]})"));
  ASSERT_FALSE(disagree.ok());
  EXPECT_EQ(disagree.error().field, "budgets[0].monthly_micro_usd");
  auto as_text = budgets_from_json(
      json::parse(R"({"budgets": [{"monthly_usd": "25.00", "monthly_micro_usd": "25000000"}]})"));
  ASSERT_FALSE(as_text.ok());
  EXPECT_EQ(as_text.error().field, "budgets[0].monthly_micro_usd");
}

TEST(Budget, ReadsBackASubCentAmountAnsweredRoundedToTheCent) {
  // monthly_usd is answered rounded to the cent; the stored form must still read back, exact.
  auto first = budgets_from_json(json::parse(
      R"({"budgets": [{"monthly_usd": "12345.678901"}, {"bucket": "b", "monthly_usd": "0.000001"}]})"));
  ASSERT_TRUE(first.ok()) << first.error().message;
  json written = budgets_to_json(first.value());
  EXPECT_EQ(written["budgets"][0]["monthly_usd"], "12345.68");
  EXPECT_EQ(written["budgets"][1]["monthly_usd"], "0.00");
  auto again = budgets_from_json(written);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(budgets_to_json(again.value()), written);
  EXPECT_EQ(again.value()[0].monthly.micro_usd(), 12'345'678'901);
  // A rounded amount other than the stored one's is still refused.
  auto off = budgets_from_json(json::parse(
      R"({"budgets": [{"monthly_usd": "12345.69", "monthly_micro_usd": 12345678901}]})"));
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(off.error().field, "budgets[0].monthly_micro_usd");
  // Only a whole-cent monthly_usd stands for a rounded amount.
  auto sub = budgets_from_json(
      json::parse(R"({"budgets": [{"monthly_usd": "1.001", "monthly_micro_usd": 1000500}]})"));
  ASSERT_FALSE(sub.ok());
}

std::vector<UsageRow> gets_per_day(std::vector<uint64_t> counts, uint32_t first_day = 1) {
  std::vector<UsageRow> rows;
  for (size_t i = 0; i < counts.size(); ++i) {
    rows.push_back(row({2026, 6, first_day + static_cast<uint32_t>(i)},
                       {.bucket = "api", .class_b = counts[i]}));
  }
  return rows;
}

TEST(Anomaly, AFiftyPercentRiseOverTheBaselineIsAnAnomaly) {
  // Seven days of 1M GETs ($0.36 a day at list price), then the checked day.
  std::vector<uint64_t> base(7, 1'000'000);
  auto check = [&](uint64_t today) {
    auto counts = base;
    counts.push_back(today);
    return check_anomaly(default_price_list(), gets_per_day(counts), {2026, 6, 8}, {});
  };
  AnomalyReport doubled = check(2'000'000);
  EXPECT_EQ(doubled.baseline.total, usd_micro(360'000));
  EXPECT_EQ(doubled.today.total, usd_micro(720'000));
  EXPECT_EQ(doubled.verdict, "anomaly");
  EXPECT_EQ(doubled.rise_permille, 1000);
  EXPECT_EQ(doubled.reason_line, Line::kClassB);
  EXPECT_EQ(doubled.reason_change, usd_micro(360'000));
  EXPECT_EQ(doubled.top_bucket, "api");
  // 1,500,001 GETs = $0.54000036 -> 540,000 micro: exactly +50%, not more: normal.
  EXPECT_EQ(check(1'500'001).verdict, "normal");
  // 1,500,002 GETs -> 540,001 micro: just over +50%.
  EXPECT_EQ(check(1'500'002).verdict, "anomaly");
  EXPECT_EQ(check(1'400'000).verdict, "normal");
}

TEST(Anomaly, MinimumIncreaseBaselineGapsAndNoBaseline) {
  // A tiny baseline doubling by less than the minimum increase is not an anomaly.
  auto rows = gets_per_day({1000, 1000, 1000, 3000});
  AnomalyOptions options{.baseline_days = 3, .rise_pct = 50, .min_increase = usd_micro(10'000)};
  EXPECT_EQ(check_anomaly(default_price_list(), rows, {2026, 6, 4}, options).verdict, "normal");
  options.min_increase = usd_micro(0);
  EXPECT_EQ(check_anomaly(default_price_list(), rows, {2026, 6, 4}, options).verdict, "anomaly");
  // Days without rows are missing data: the mean is over days that have rows.
  auto gappy = gets_per_day({1'000'000});     // June 1
  auto today = gets_per_day({1'400'000}, 8);  // June 8
  gappy.insert(gappy.end(), today.begin(), today.end());
  AnomalyReport g = check_anomaly(default_price_list(), gappy, {2026, 6, 8}, {});
  EXPECT_EQ(g.baseline_days_with_data, 1u);
  EXPECT_EQ(g.verdict, "normal");
  // No baseline at all.
  EXPECT_EQ(check_anomaly(default_price_list(), today, {2026, 6, 8}, {}).verdict, "no_baseline");
}

TEST(Anomaly, TheBaselineReachesIntoThePreviousMonth) {
  std::vector<UsageRow> rows;
  for (uint32_t d = 25; d <= 31; ++d) rows.push_back(row({2026, 5, d}, {.class_b = 1'000'000}));
  rows.push_back(row({2026, 6, 1}, {.class_b = 2'000'000}));
  AnomalyReport r = check_anomaly(default_price_list(), rows, {2026, 6, 1}, {});
  EXPECT_EQ(r.baseline_days_with_data, 7u);
  EXPECT_EQ(r.verdict, "anomaly");
}

TEST(WhatIf, HotDataCostsMoreInInfrequentAccessColdDataLess) {
  // Hot: 1,000 GB, 1M GETs and 10 GB read a day for June. Standard: 990 * 0.015 = $14.85 +
  // (30M - 10M) GETs = 20 * 0.36 = $7.20 -> $22.05. Infrequent Access: 1,000 * 0.01 = $10 +
  // 30 * 0.90 = $27 + 300 GB * 0.01 = $3 -> $40.00.
  std::vector<UsageRow> hot;
  add_days(hot, 1, 30, {.peak_bytes = 1000 * GB, .class_b = 1'000'000, .retrieved = 10 * GB});
  MonthInput in = june(30, hot);
  EXPECT_EQ(report_of(in).to_date.total, usd_micro(22'050'000));
  in.price_as = StorageClass::kInfrequentAccess;
  EXPECT_EQ(report_of(in).to_date.total, usd_micro(40'000'000));
  // Cold: the same 1,000 GB with 10,000 GETs and 5 GB read in the month: Standard $14.85;
  // Infrequent Access $10 + 1 * $0.90 + 5 * $0.01 = $10.95.
  std::vector<UsageRow> cold;
  add_days(cold, 1, 30, {.peak_bytes = 1000 * GB});
  cold[0].class_b_requests = 10'000;
  cold[0].retrieved_bytes = 5 * GB;
  MonthInput c = june(30, cold);
  EXPECT_EQ(report_of(c).to_date.total, usd_micro(14'850'000));
  c.price_as = StorageClass::kInfrequentAccess;
  EXPECT_EQ(report_of(c).to_date.total, usd_micro(10'950'000));
}

// ---- the rules that were in the bindings and the shim (issue #14) ----

TEST(PeriodReport, DailyComparesTheDayWithTheDayBefore) {
  std::vector<UsageRow> rows = steady_logs(9);
  add_days(rows, 10, 10, {.peak_bytes = 300 * GB, .class_a = 200'000, .class_b = 500'000});
  MonthInput in = june(10, rows);
  MonthReport rep = report_of(in);
  PeriodCostReport p = period_cost_report(rep, in, PeriodKind::kDaily, std::nullopt);
  ASSERT_TRUE(p.period_cost.has_value());
  EXPECT_EQ(*p.period_cost, rep.trend[9].list_cost);
  ASSERT_TRUE(p.change.has_value());
  EXPECT_EQ(p.change->previous, rep.trend[8].list_cost);
  EXPECT_EQ(p.change->delta, rep.trend[9].list_cost - rep.trend[8].list_cost);
  // 100,000 more PUTs at $4.50 a million: $0.45 more than a day of $0.15 + $0.45 + $0.18.
  EXPECT_EQ(p.change->delta, usd_micro(450'000));
  ASSERT_TRUE(p.change->delta_pct.has_value());
  EXPECT_DOUBLE_EQ(*p.change->delta_pct,
                   450'000.0 * 100.0 / static_cast<double>(rep.trend[8].list_cost.micro_usd()));
  EXPECT_EQ(p.usage.class_a_requests, 200'000u);  // the day only
  EXPECT_EQ(p.usage.storage_peak_bytes_last_day, 300 * GB);
}

TEST(PeriodReport, WeeklyNeedsTwoWeeksOfTheMonthAndMonthlyTheCallersTotal) {
  MonthInput in = june(10, steady_logs(10));
  MonthReport rep = report_of(in);
  PeriodCostReport week = period_cost_report(rep, in, PeriodKind::kWeekly, std::nullopt);
  EXPECT_FALSE(week.change.has_value());  // 10 days: no full week before
  EXPECT_EQ(week.usage.class_a_requests, 7 * 100'000u);
  ASSERT_TRUE(week.period_cost.has_value());
  EXPECT_EQ(*week.period_cost, usd_micro(7 * rep.trend[0].list_cost.micro_usd()));
  PeriodCostReport month = period_cost_report(rep, in, PeriodKind::kMonthly, usd_micro(0));
  ASSERT_TRUE(month.change.has_value());
  EXPECT_FALSE(month.change->delta_pct.has_value());  // no % of nothing
  EXPECT_EQ(month.change->delta, rep.to_date.total);
  EXPECT_FALSE(month.period_cost.has_value());
}

TEST(PeriodReport, TopFiveByCostLargestFirst) {
  std::vector<Share> shares;
  for (int i = 0; i < 7; ++i) shares.push_back({.key = std::to_string(i), .total = usd_micro(i)});
  std::vector<Share> top = top_shares(shares, kReportTopCount);
  ASSERT_EQ(top.size(), 5u);
  EXPECT_EQ(top.front().key, "6");
  EXPECT_EQ(top.back().key, "2");
}

TEST(Window, BillingMonthToDateAndNotInTheFuture) {
  TimePoint now = from_epoch_ms(1'781'611'200'000);  // 2026-06-16T12:00:00Z
  auto current = billing_month(std::nullopt, now);
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current.value().first, (CivilDate{2026, 6, 1}));
  EXPECT_EQ(current.value().as_of, (CivilDate{2026, 6, 16}));
  EXPECT_EQ(to_epoch_ms(current.value().end), 1'781'654'400'000);  // 2026-06-17T00:00:00Z
  auto past = billing_month(YearMonth{2026, 2}, now);
  ASSERT_TRUE(past.ok());
  EXPECT_EQ(past.value().as_of, (CivilDate{2026, 2, 28}));
  auto future = billing_month(YearMonth{2026, 7}, now);
  ASSERT_FALSE(future.ok());
  EXPECT_EQ(future.error().code, "invalid_query");
  EXPECT_EQ(future.error().field, "month");
}

TEST(Window, AnomalyReadsTheFourteenDaysBefore) {
  DayWindow w = anomaly_usage_window({2026, 3, 5});
  EXPECT_EQ(w.first, (CivilDate{2026, 2, 19}));
  EXPECT_EQ(w.last, (CivilDate{2026, 3, 5}));
  EXPECT_EQ(to_epoch_ms(w.end) - to_epoch_ms(w.start), 15 * 86'400'000LL);
}

TEST(PriceUpdate, PastMonthsKeepTheirPricesUnlessSentBackUnchanged) {
  PriceList base = default_price_list();
  CivilDate today{2026, 6, 16};
  PriceList future = base;
  future.effective_from = {2026, 6, 1};
  EXPECT_EQ(decide_price_update(future, base, today).value(), PriceUpdate::kStore);
  EXPECT_EQ(decide_price_update(base, base, today).value(), PriceUpdate::kUnchanged);
  PriceList changed = base;
  changed.classes[0].class_a_per_million = usd_micro(5'000'000);
  auto refused = decide_price_update(changed, base, today);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "effective_from");
  EXPECT_EQ(refused.error().message,
            "effective_from must not be before 2026-06-01: past months keep the prices they were "
            "billed at");
}

TEST(BudgetRules, OneBudgetPerScopeAndAnAmountAboveZero) {
  std::vector<Budget> earlier = {{.bucket = std::nullopt, .monthly = usd_micro(1)}};
  EXPECT_FALSE(check_budget({.bucket = "a", .monthly = usd_micro(1)}, earlier, "budgets[1]"));
  auto dup = check_budget({.bucket = std::nullopt, .monthly = usd_micro(1)}, earlier, "budgets[1]");
  ASSERT_TRUE(dup.has_value());
  EXPECT_EQ(dup->message, "budgets[1] has the same scope as budgets[0]");
  auto zero = check_budget({.bucket = "a", .monthly = Money{}}, {}, "budgets[0]");
  ASSERT_TRUE(zero.has_value());
  EXPECT_EQ(zero->field, "budgets[0].monthly_usd");
  auto long_name =
      check_budget({.bucket = std::string(64, 'x'), .monthly = usd_micro(1)}, {}, "budgets[0]");
  ASSERT_TRUE(long_name.has_value());
  EXPECT_EQ(long_name->field, "budgets[0].bucket");
  // A bucket is named; the whole account is no bucket at all (nullopt), never an empty name.
  auto unnamed = check_budget({.bucket = std::string(), .monthly = usd_micro(1)}, {}, "budgets[0]");
  ASSERT_TRUE(unnamed.has_value());
  EXPECT_EQ(unnamed->field, "budgets[0].bucket");
}

TEST(UsageRules, OperationsGoToTheirClassAndUnknownOnesAreRefused) {
  UsageRow r;
  EXPECT_FALSE(add_operation(r, "PutObject", 3, "ops.PutObject"));
  EXPECT_FALSE(add_operation(r, "get", 4, "ops.get"));
  EXPECT_EQ(r.class_a_requests, 3u);
  EXPECT_EQ(r.class_b_requests, 4u);
  auto unknown = add_operation(r, "Frobnicate", 1, "ops.Frobnicate");
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->field, "ops.Frobnicate");
  auto too_many = add_operation(r, "put", kMaxUsageFigure, "ops.put");
  ASSERT_TRUE(too_many.has_value());
  EXPECT_EQ(too_many->message, "ops.put makes the row's count larger than 2^53");
}

TEST(WhatIfSaving, PositiveWhenTheOtherClassIsCheaper) {
  Saving cheaper = class_saving(usd_micro(10), usd_micro(30), usd_micro(4), usd_micro(12));
  EXPECT_EQ(cheaper.to_date, usd_micro(6));
  EXPECT_EQ(cheaper.month, usd_micro(18));
  EXPECT_EQ(saving_verdict_name(cheaper.verdict), "cheaper");
  EXPECT_EQ(class_saving(usd_micro(1), usd_micro(1), usd_micro(2), usd_micro(3)).verdict,
            SavingVerdict::kMoreExpensive);
  EXPECT_EQ(class_saving(usd_micro(1), usd_micro(3), usd_micro(2), usd_micro(3)).verdict,
            SavingVerdict::kSame);
  EXPECT_EQ(breakdown_by_name(kDefaultBreakdown), "bucket");
  EXPECT_EQ(parse_breakdown_by(breakdown_by_name(BreakdownBy::kStorageClass)),
            BreakdownBy::kStorageClass);
}

}  // namespace
}  // namespace r2w::cost
