#include "core/metrics/rollup.h"

#include <gtest/gtest.h>

#include <random>

#include "core/metrics/history.h"
#include "core/metrics/inventory.h"
#include "core/metrics/sampling.h"
#include "native-tests/test-clock.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/codec/metrics.h"

namespace r2w::metrics {
namespace {

Json without_version(const Json& j) {
  Json out = Json::object();
  for (const auto& [k, v] : j.items()) {
    if (k != "version") out[k] = v;
  }
  return out;
}

using codec::point_to_json;
using codec::read_plan_to_json;
using codec::row_from_json;
using codec::row_to_json;

constexpr int64_t kT0 = 1'700'000'040'000;  // a minute boundary (1,700,000,040,000 / 60,000)

TEST(Rollup, PeriodStartsAreUtcAligned) {
  EXPECT_EQ(to_epoch_ms(period_start(Level::kMinute, from_epoch_ms(kT0 + 59'999))), kT0);
  EXPECT_EQ(to_epoch_ms(period_start(Level::kMinute, from_epoch_ms(kT0 + 60'000))), kT0 + 60'000);
  EXPECT_EQ(to_epoch_ms(period_start(Level::kHour, from_epoch_ms(3'600'000 * 5 + 1))),
            3'600'000 * 5);
  EXPECT_EQ(to_epoch_ms(period_start(Level::kDay, from_epoch_ms(86'400'000 * 3 - 1))),
            86'400'000 * 2);
}

TEST(Rollup, DaysAreRolledUpOnceCompleteHoursThroughTheOpenOne) {
  constexpr int64_t kHour = 3'600'000, kDay = 24 * kHour;
  const int64_t day = 20'000 * kDay;
  TimePoint now = from_epoch_ms(day + 10 * kHour + 30 * 60'000);  // 10:30 of the day
  // Hours: from the last complete one through the open hour; complete up to 10:00.
  auto hours =
      plan_rollup(Level::kHour, from_epoch_ms(day + 9 * kHour), std::nullopt, std::nullopt, now);
  ASSERT_TRUE(hours.has_value());
  EXPECT_EQ(to_epoch_ms(hours->from), day + 9 * kHour);
  EXPECT_EQ(to_epoch_ms(hours->to), day + 11 * kHour);
  EXPECT_EQ(to_epoch_ms(hours->complete_before), day + 10 * kHour);
  // Days: the open day is nobody's to roll up (readers take its hours) ...
  EXPECT_FALSE(plan_rollup(Level::kDay, from_epoch_ms(day), std::nullopt,
                           from_epoch_ms(day + 10 * kHour), now)
                   .has_value());
  // ... and the day before, once its hours are complete, is rolled up whole, and no further.
  auto days = plan_rollup(Level::kDay, from_epoch_ms(day - kDay), std::nullopt,
                          from_epoch_ms(day + 10 * kHour), now);
  ASSERT_TRUE(days.has_value());
  EXPECT_EQ(to_epoch_ms(days->from), day - kDay);
  EXPECT_EQ(to_epoch_ms(days->to), day);
  EXPECT_EQ(to_epoch_ms(days->complete_before), day);
  // Hours not yet complete past the day's end: nothing.
  EXPECT_FALSE(plan_rollup(Level::kDay, from_epoch_ms(day - kDay), std::nullopt,
                           from_epoch_ms(day - kHour), now)
                   .has_value());
}

class AggregatorTest : public ::testing::Test {
 protected:
  testing::FakeClock clock{kT0};
  Aggregator agg{AggregatorOptions{.batch_size = 3}};
  uint32_t photos = agg.intern({.bucket = "b", .prefix = "photos", .user = ""});
};

TEST_F(AggregatorTest, CountsEveryCallAndByteExactly) {
  for (int i = 0; i < 10; ++i) {
    agg.record(photos, Operation::kPut, i != 3, Duration(10 + i), 100, 0, clock.now());
  }
  agg.record(photos, Operation::kGet, true, Duration(5), 0, 1'000, clock.now());
  auto batch = agg.take_batch(clock.now());
  ASSERT_EQ(batch.rows.size(), 2u);
  const Row& put = batch.rows[1].operation == Operation::kPut ? batch.rows[1] : batch.rows[0];
  EXPECT_EQ(put.figures.calls, 10u);
  EXPECT_EQ(put.figures.errors, 1u);
  EXPECT_EQ(put.figures.bytes_up, 1'000u);
  EXPECT_EQ(put.figures.latency.count(), 10u);
  EXPECT_EQ(to_epoch_ms(put.period_start), kT0);
}

TEST_F(AggregatorTest, UnknownSeriesIsRefused) {
  EXPECT_FALSE(agg.record(99, Operation::kGet, true, Duration(1), 0, 0, clock.now()));
}

TEST_F(AggregatorTest, UnconfirmedBatchIsOfferedAgainWhole) {
  agg.record(photos, Operation::kGet, true, Duration(5), 0, 10, clock.now());
  auto first = agg.take_batch(clock.now());
  // The write failed: nothing confirmed. The next batch carries the same cumulative row.
  auto second = agg.take_batch(clock.now());
  ASSERT_EQ(second.rows.size(), 1u);
  EXPECT_EQ(row_to_json(second.rows[0]), row_to_json(first.rows[0]));
  agg.confirm(first.token, clock.now());  // a stale token changes nothing
  EXPECT_EQ(agg.dirty_rows(), 1u);
  agg.confirm(second.token, clock.now());
  EXPECT_EQ(agg.dirty_rows(), 0u);
}

TEST_F(AggregatorTest, RowsCarryCumulativeFiguresSoRewritingNeverDoubleCounts) {
  agg.record(photos, Operation::kGet, true, Duration(5), 0, 10, clock.now());
  auto b1 = agg.take_batch(clock.now());
  agg.confirm(b1.token, clock.now());
  agg.record(photos, Operation::kGet, true, Duration(5), 0, 10, clock.now());
  auto b2 = agg.take_batch(clock.now());
  ASSERT_EQ(b2.rows.size(), 1u);
  EXPECT_EQ(b2.rows[0].figures.calls, 2u);  // the whole minute, to replace the stored row
  EXPECT_EQ(b2.rows[0].figures.bytes_down, 20u);
}

TEST_F(AggregatorTest, CallsDuringAFlushStayDirty) {
  agg.record(photos, Operation::kGet, true, Duration(5), 0, 10, clock.now());
  auto b = agg.take_batch(clock.now());
  agg.record(photos, Operation::kGet, true, Duration(5), 0, 10, clock.now());
  agg.confirm(b.token, clock.now());
  EXPECT_EQ(agg.dirty_rows(), 1u);
}

TEST_F(AggregatorTest, ClosedStoredMinutesLeaveMemory) {
  agg.record(photos, Operation::kGet, true, Duration(5), 0, 10, clock.now());
  auto b = agg.take_batch(clock.now());
  agg.confirm(b.token, clock.now());
  EXPECT_EQ(agg.rows_in_memory(), 1u);  // the minute is still open
  clock.advance(60'000);
  agg.record(photos, Operation::kGet, true, Duration(5), 0, 10, clock.now());
  auto b2 = agg.take_batch(clock.now());
  agg.confirm(b2.token, clock.now());
  EXPECT_EQ(agg.rows_in_memory(), 1u);  // only the new minute
}

TEST_F(AggregatorTest, BatchesAreBoundedOldestFirst) {
  for (int m = 0; m < 5; ++m) {
    agg.record(photos, Operation::kGet, true, Duration(1), 0, 0, clock.now());
    clock.advance(60'000);
  }
  auto b = agg.take_batch(clock.now());
  ASSERT_EQ(b.rows.size(), 3u);
  EXPECT_EQ(to_epoch_ms(b.rows[0].period_start), kT0);
  agg.confirm(b.token, clock.now());
  EXPECT_EQ(agg.take_batch(clock.now()).rows.size(), 2u);
}

TEST_F(AggregatorTest, FlushIsDueAfterTheIntervalOrAFullBatch) {
  Aggregator a{AggregatorOptions{.batch_size = 2, .flush_interval = Duration(10'000)}};
  uint32_t s = a.intern({.bucket = "b"});
  EXPECT_FALSE(a.flush_due(clock.now()));
  a.record(s, Operation::kGet, true, Duration(1), 0, 0, clock.now());
  EXPECT_TRUE(a.flush_due(clock.now()));  // never flushed yet
  a.confirm(a.take_batch(clock.now()).token, clock.now());
  a.record(s, Operation::kGet, true, Duration(1), 0, 0, clock.now());
  EXPECT_FALSE(a.flush_due(clock.advance(9'999)));
  EXPECT_TRUE(a.flush_due(clock.advance(1)));
  a.record(s, Operation::kPut, true, Duration(1), 0, 0, clock.now());
  a.take_batch(clock.now());
  a.record(s, Operation::kHead, true, Duration(1), 0, 0, clock.now());
  a.record(s, Operation::kList, true, Duration(1), 0, 0, clock.now());
  EXPECT_TRUE(a.flush_due(clock.now()));  // 4 dirty rows >= batch size 2
}

TEST_F(AggregatorTest, SeriesBeyondTheCapCountUnderOther) {
  Aggregator a{AggregatorOptions{.max_series = 2}};
  uint32_t s1 = a.intern({.bucket = "b", .prefix = "one"});
  uint32_t s2 = a.intern({.bucket = "b", .prefix = "two"});
  uint32_t s3 = a.intern({.bucket = "b", .prefix = "three"});
  uint32_t s4 = a.intern({.bucket = "b", .prefix = "four"});
  EXPECT_NE(s1, s2);
  EXPECT_EQ(s3, s4);
  EXPECT_EQ(a.series(s3)->prefix, "~other");
  EXPECT_EQ(a.intern({.bucket = "b", .prefix = "one"}), s1);
}

TEST(MergeRows, MinutesMergeIntoHoursExactly) {
  std::vector<Row> rows;
  LatencySketch all;
  for (int m = 0; m < 120; ++m) {
    Row r{.series = {.bucket = "b", .prefix = "p"},
          .operation = Operation::kGet,
          .period_start = from_epoch_ms(3'600'000 * 10 + m * 60'000)};
    r.figures.calls = 2;
    r.figures.errors = m % 2;
    r.figures.bytes_down = 7;
    ASSERT_TRUE(r.figures.latency.add(m + 1, 2).ok());
    ASSERT_TRUE(all.add(m + 1, 2).ok());
    rows.push_back(r);
  }
  auto hours = merge_rows(rows, Level::kHour);
  ASSERT_EQ(hours.size(), 2u);
  EXPECT_EQ(hours[0].figures.calls, 120u);
  EXPECT_EQ(hours[0].figures.errors, 30u);
  EXPECT_EQ(hours[1].figures.bytes_down, 420u);
  EXPECT_EQ(hours[0].level, Level::kHour);
  Figures total = hours[0].figures;
  total.merge(hours[1].figures);
  EXPECT_EQ(*total.latency.quantile(0.95), *all.quantile(0.95));
  auto days = merge_rows(hours, Level::kDay);
  ASSERT_EQ(days.size(), 1u);
  EXPECT_EQ(days[0].figures.calls, 240u);
}

TEST_F(AggregatorTest, AccountHourRowsAreTheWritersCumulativeHourWithoutUsersOrOwnKeys) {
  uint32_t docs = agg.intern({.bucket = "b", .prefix = "docs", .user = "u2"});
  uint32_t own = agg.intern({.bucket = "b", .prefix = std::string(kOwnPrefix), .user = "r2watch"});
  agg.record(photos, Operation::kGet, true, Duration(10), 0, 100, clock.now());
  agg.record(docs, Operation::kGet, false, Duration(30), 0, 50, clock.now());
  agg.record(own, Operation::kGet, true, Duration(99), 0, 7, clock.now());
  auto b1 = agg.take_batch(clock.now());
  // The bucket's row and every bucket's (kAllBuckets), sorted by bucket id (all first).
  ASSERT_EQ(b1.account_rows.size(), 2u);
  EXPECT_EQ(b1.account_rows[0].series.bucket, kAllBuckets);
  EXPECT_EQ(row_to_json(b1.account_rows[0])["calls"], 2);
  const Row& a = b1.account_rows[1];
  EXPECT_EQ(a.level, Level::kHour);
  EXPECT_EQ(a.series.bucket, "b");
  EXPECT_EQ(a.series.prefix, "");
  EXPECT_EQ(a.series.user, "");
  EXPECT_EQ(a.figures.calls, 2u);
  EXPECT_EQ(a.figures.errors, 1u);
  EXPECT_EQ(a.figures.bytes_down, 150u);
  EXPECT_EQ(a.figures.latency.count(), 2u);
  agg.confirm(b1.token, clock.now());
  // A later minute of the same hour: the row carries the whole hour again (replace semantics).
  clock.advance(60'000);
  agg.record(photos, Operation::kGet, true, Duration(10), 0, 100, clock.now());
  auto b2 = agg.take_batch(clock.now());
  ASSERT_EQ(b2.account_rows.size(), 2u);
  EXPECT_EQ(b2.account_rows[1].figures.calls, 3u);
  // Unconfirmed: offered again with the same figures.
  auto b3 = agg.take_batch(clock.now());
  EXPECT_EQ(row_to_json(b3.account_rows[0]), row_to_json(b2.account_rows[0]));
  agg.confirm(b3.token, clock.now());
  EXPECT_TRUE(agg.take_batch(clock.now()).account_rows.empty());
  // The closed, stored hour leaves memory.
  clock.advance(3'600'000);
  agg.record(photos, Operation::kGet, true, Duration(10), 0, 100, clock.now());
  auto b4 = agg.take_batch(clock.now());
  agg.confirm(b4.token, clock.now());
  EXPECT_EQ(agg.account_rows_in_memory(), 2u);
}

TEST(MergeRows, AccountRowsAreTheSumOfThePerUserRows) {
  std::vector<Row> rows;
  for (int u = 0; u < 4; ++u) {
    Row r{.series = {.bucket = "b", .prefix = u % 2 ? "x" : "y", .user = "u" + std::to_string(u)},
          .operation = Operation::kGet,
          .period_start = from_epoch_ms(kT0 + u * 60'000)};
    r.figures.calls = 2;
    r.figures.bytes_down = 10;
    ASSERT_TRUE(r.figures.latency.add(10 + u * 10).ok());
    rows.push_back(r);
  }
  Row own = rows[0];
  own.series.prefix = std::string(kOwnPrefix);
  rows.push_back(own);
  auto per_user = merge_rows(rows, Level::kHour);
  auto account = merge_account_rows(rows, Level::kHour);
  // b's row and every bucket's ("*" sorts first).
  ASSERT_EQ(account.size(), 2u);
  EXPECT_EQ(account[0].series.bucket, kAllBuckets);
  EXPECT_EQ(account[0].figures.calls, 8u);
  account.erase(account.begin());
  EXPECT_EQ(account[0].series.user, "");
  Figures sum;
  for (const Row& r : per_user) {
    if (r.series.prefix != kOwnPrefix) sum.merge(r.figures);
  }
  EXPECT_EQ(account[0].figures.calls, sum.calls);
  EXPECT_TRUE(account[0].figures.latency == sum.latency);
  EXPECT_EQ(account[0].figures.calls, 8u);
}

TEST(ReadPlan, CompleteDaysFromDayRowsCompleteHoursFromHourRowsTheRestLive) {
  const int64_t H = 3'600'000, D = 24 * H;
  const int64_t day0 = (kT0 / D) * D;
  auto from = from_epoch_ms(day0 - 2 * H), to = from_epoch_ms(day0 + 3 * D + 5 * H + 60'000);
  auto hours = from_epoch_ms(day0 + 3 * D + 4 * H), days = from_epoch_ms(day0 + 3 * D);
  auto p = plan_reads(from, to, hours, days, Scope::kAccount, Level::kDay);
  auto j = read_plan_to_json(p)["segments"];
  ASSERT_EQ(j.size(), 4u) << j.dump();
  EXPECT_EQ(j[0]["level"], "hour");  // the 2 hours before the first whole day
  EXPECT_EQ(j[0]["to_ms"], day0);
  EXPECT_EQ(j[1]["level"], "day");
  EXPECT_EQ(j[1]["to_ms"], day0 + 3 * D);
  EXPECT_EQ(j[2]["level"], "hour");
  EXPECT_EQ(j[2]["source"], "rollup");
  EXPECT_EQ(j[3]["level"], "hour");  // the account's live rows: no minute rows per user
  EXPECT_EQ(j[3]["source"], "live");
  // Per user, a window starting inside an hour reads that part from minute rows, and the
  // rest past the rollups from minute rows too.
  auto u = read_plan_to_json(plan_reads(from_epoch_ms(day0 + 30 * 60'000), to, hours, days,
                                        Scope::kPerUser, Level::kDay))["segments"];
  EXPECT_EQ(u[0]["level"], "minute");
  EXPECT_EQ(u[0]["to_ms"], day0 + H);
  EXPECT_EQ(u.back()["level"], "minute");
  EXPECT_EQ(u.back()["from_ms"], day0 + 3 * D + 4 * H);
  // The account's window starts at its hour.
  EXPECT_EQ(to_epoch_ms(plan_reads(from_epoch_ms(day0 + 30 * 60'000), to, hours, days,
                                   Scope::kAccount, Level::kDay)
                            .from),
            day0);
  // Nothing rolled up yet: everything live. Coarsest hour: no day rows.
  auto none = plan_reads(from, to, std::nullopt, std::nullopt, Scope::kAccount, Level::kDay);
  ASSERT_EQ(none.segments.size(), 1u);
  EXPECT_EQ(none.segments[0].source, Source::kLive);
  auto hourly = plan_reads(from, to, hours, days, Scope::kAccount, Level::kHour);
  for (const auto& s : hourly.segments) EXPECT_NE(s.level, Level::kDay);
  // Segments tile the window.
  TimePoint at = p.from;
  for (const auto& s : p.segments) {
    EXPECT_EQ(s.from, at);
    at = s.to;
  }
  EXPECT_EQ(at, to);
}

TEST(MergeRows, KeepsSeriesAndOperationsApart) {
  std::vector<Row> rows = {
      Row{.series = {.bucket = "a"}, .operation = Operation::kGet},
      Row{.series = {.bucket = "b"}, .operation = Operation::kGet},
      Row{.series = {.bucket = "a"}, .operation = Operation::kPut},
  };
  EXPECT_EQ(merge_rows(rows, Level::kDay).size(), 3u);
}

TEST(RowJson, RoundTripAndRefusals) {
  Row r{.series = {.bucket = "b", .prefix = "p", .user = "u"},
        .operation = Operation::kList,
        .level = Level::kHour,
        .period_start = from_epoch_ms(3'600'000)};
  r.figures.calls = 3;
  r.figures.errors = 1;
  ASSERT_TRUE(r.figures.latency.add(12).ok());
  auto back = row_from_json(row_to_json(r));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(row_to_json(back.value()), row_to_json(r));
  EXPECT_EQ(row_to_json(r)["r2_class"], "A");
  auto j = row_to_json(r);
  j["errors"] = 4;
  EXPECT_EQ(row_from_json(j).error().field, "errors");
  j = row_to_json(r);
  j["operation"] = "copy";
  EXPECT_EQ(row_from_json(j).error().field, "operation");
  j = row_to_json(r);
  j["latency"]["bins"] = "x";
  EXPECT_EQ(row_from_json(j).error().field, "latency.bins");
}

TEST(History, PlansFitTheRange) {
  auto now = from_epoch_ms(kT0 + 30'000);
  auto h1 = plan_history("1h", now).value();
  EXPECT_EQ(h1.level, Level::kMinute);
  EXPECT_EQ(to_epoch_ms(h1.to), kT0 + 60'000);
  EXPECT_EQ((h1.to - h1.from) / h1.step, 60);
  auto d1 = plan_history("24h", now).value();
  EXPECT_EQ(d1.level, Level::kHour);
  EXPECT_EQ((d1.to - d1.from) / d1.step, 24);
  auto d30 = plan_history("30d", now).value();
  EXPECT_EQ(d30.level, Level::kDay);
  EXPECT_EQ((d30.to - d30.from) / d30.step, 30);
  EXPECT_EQ(plan_history("2h", now).error().field, "range");
}

TEST(History, SeriesHasEveryStepAndMergesRowsInside) {
  auto plan = plan_history("1h", from_epoch_ms(kT0)).value();
  std::vector<Row> rows(3);
  rows[0].period_start = plan.from;
  rows[1].period_start = plan.from;
  rows[2].period_start = plan.to;  // outside
  for (auto& r : rows) {
    r.figures.calls = 1;
    ASSERT_TRUE(r.figures.latency.add(10).ok());
  }
  auto points = build_series(rows, plan);
  ASSERT_EQ(points.size(), 60u);
  EXPECT_EQ(points[0].figures.calls, 2u);
  auto j = point_to_json(points[1]);
  EXPECT_EQ(j["calls"], 0);
  EXPECT_TRUE(j["p95_ms"].is_null());
  EXPECT_EQ(point_to_json(points[0])["p50_ms"], 10.0);
}

TEST(UsageSummary, ClassesBandwidthAndRates) {
  std::array<OperationTotals, 5> t{};
  t[static_cast<size_t>(Operation::kPut)] = {.calls = 4, .errors = 1, .bytes_up = 1'000'000};
  t[static_cast<size_t>(Operation::kGet)] = {.calls = 6, .bytes_down = 3'000'000};
  t[static_cast<size_t>(Operation::kDelete)] = {.calls = 2};
  UsageSummary u = usage_summary(t, Duration(1'000));
  EXPECT_EQ(u.class_a_calls, 4u);
  EXPECT_EQ(u.class_b_calls, 6u);
  EXPECT_EQ(u.free_calls, 2u);
  EXPECT_EQ(u.all.calls, 12u);
  EXPECT_DOUBLE_EQ(u.avg_upload_mbps, 8.0);
  EXPECT_DOUBLE_EQ(*u.error_rate_pct, 100.0 / 12);
  EXPECT_FALSE(usage_summary({}, Duration(1'000)).error_rate_pct.has_value());
  EXPECT_FALSE(usage_period_length("year").has_value());
}

TEST(Sampling, WeightsAreUnbiased) {
  Settings s;
  std::mt19937_64 gen(1);
  std::uniform_real_distribution<> u(0, 1);
  double success = 0, errors = 0;
  constexpr int kN = 200'000;
  for (int i = 0; i < kN; ++i) {
    success += sample_weight(s, true, u(gen));
    errors += sample_weight(s, false, u(gen));
  }
  EXPECT_NEAR(success / kN, 1.0, 0.02);
  EXPECT_EQ(errors, kN);  // every error is kept with weight 1
  EXPECT_EQ(sample_weight(s, true, 0.0999), 10.0);
  EXPECT_EQ(sample_weight(s, true, 0.1), 0.0);
}

TEST(Sampling, VariablesAreValidatedNamingTheVariable) {
  auto vars = [](const Json& j) {
    auto v = codec::settings_vars_from_json(j);
    return v.ok() ? settings_from_vars(v.value()) : Result<Settings>(v.error());
  };
  auto s = vars({{"SUCCESS_SAMPLING_RATE", "0.5"}, {"FLUSH_INTERVAL", "2000"}, {"BATCH_SIZE", ""}});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.value().success_sampling_rate, 0.5);
  EXPECT_EQ(s.value().aggregator.flush_interval, Duration(2'000));
  EXPECT_EQ(s.value().aggregator.batch_size, 50u);
  for (auto [name, value] :
       {std::pair{"SUCCESS_SAMPLING_RATE", "0"}, std::pair{"ERROR_SAMPLING_RATE", "1.5"},
        std::pair{"FLUSH_INTERVAL", "soon"}, std::pair{"BATCH_SIZE", "0"},
        std::pair{"RAW_METRICS_RETENTION_DAYS", "2.5"},
        std::pair{"AGGREGATED_METRICS_RETENTION_DAYS", "10"}}) {
    auto r = vars({{name, value}});
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().field, name);
  }
}

TEST(Retention, CutoffsFollowTheSettings) {
  Settings s;
  auto c = retention_cutoffs(s, from_epoch_ms(100LL * 86'400'000));
  EXPECT_EQ(to_epoch_ms(c.minute_rows_before), 70LL * 86'400'000);
  EXPECT_EQ(to_epoch_ms(c.aggregated_rows_before), -265LL * 86'400'000);
}

TEST(Inventory, CountsUsersObjectsByTheirOwnPrefixAndByUser) {
  Inventory inv;
  inv.add_page({{.key = "users/alice/photos/a.jpg", .size = 500},
                {.key = "users/alice/docs/x.txt", .size = 20},
                {.key = "users/bob/photos/b.jpg", .size = 700},
                {.key = "users/bob/top.txt", .size = 5},
                {.key = "loose/file.bin", .size = 1}});
  // The prefix as each user sees it, not one "users" row.
  EXPECT_FALSE(inv.by_prefix.contains("users"));
  EXPECT_EQ(inv.by_prefix["photos"].objects, 2u);
  EXPECT_EQ(inv.by_prefix["photos"].bytes, 1'200u);
  EXPECT_EQ(inv.by_prefix["docs"].bytes, 20u);
  EXPECT_EQ(inv.by_prefix["(root)"].bytes, 5u);
  EXPECT_EQ(inv.by_prefix["loose"].bytes, 1u);
  EXPECT_EQ(inv.by_user["alice"].bytes, 520u);
  EXPECT_EQ(inv.by_user["bob"].objects, 2u);
  EXPECT_EQ(inv.by_user_prefix["alice"]["photos"].bytes, 500u);
  EXPECT_EQ(inv.by_user_prefix["bob"]["(root)"].bytes, 5u);
  EXPECT_FALSE(inv.by_user.contains("loose"));
  // Costs still see the bucket's top-level prefixes.
  EXPECT_EQ(inv.by_prefix_class["users"]["standard"].bytes, 1'225u);
  auto back = codec::inventory_from_json(codec::inventory_to_json(inv));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(codec::inventory_to_json(back.value()), codec::inventory_to_json(inv));
  EXPECT_EQ(split_user_key("users/alice/a/b")->key, "a/b");
  EXPECT_FALSE(split_user_key("users//a").has_value());
  EXPECT_FALSE(split_user_key("photos/a").has_value());
}

TEST(Inventory, CountsByPrefixTypeAndKeepsTheLargest) {
  Inventory inv;
  inv.add_page({{.key = "photos/a.jpg", .size = 500, .content_type = "image/jpeg"},
                {.key = "photos/b.jpg", .size = 700, .content_type = "image/jpeg"},
                {.key = "readme.txt", .size = 10},
                {.key = ".r2watch/health/probe", .size = 99}});
  EXPECT_EQ(inv.total.objects, 3u);
  EXPECT_EQ(inv.total.bytes, 1'210u);
  EXPECT_EQ(inv.by_prefix["photos"].bytes, 1'200u);
  EXPECT_EQ(inv.by_prefix["(root)"].objects, 1u);
  EXPECT_EQ(inv.by_content_type["unknown"].objects, 1u);
  EXPECT_EQ(inv.largest.front().first, "photos/b.jpg");
  auto back = codec::inventory_from_json(codec::inventory_to_json(inv));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(codec::inventory_to_json(back.value()), codec::inventory_to_json(inv));
  EXPECT_EQ(
      codec::listed_objects_from_json(Json::parse(R"([{"key": "x", "size": -1}])")).error().field,
      "objects[0].size");
}

TEST(Inventory, StateCarriesItsVersionAndAnUnknownVersionIsRefused) {
  Inventory inv{.started = from_epoch_ms(1'000)};
  inv.add_page({{.key = "a/b", .size = 3}});
  Json state = codec::inventory_to_json(inv);
  EXPECT_EQ(state["version"], 1);
  state = without_version(state);  // stored before versions: version 1
  ASSERT_TRUE(codec::inventory_from_json(state).ok());
  state["version"] = 2;
  auto refused = codec::inventory_from_json(state);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "version");
  EXPECT_NE(refused.error().message.find("version 2 is not supported"), std::string::npos);
}

TEST(Inventory, GrowthAgainstOlderSnapshots) {
  constexpr int64_t kDay = 86'400'000;
  auto g = storage_growth({{.taken_at = from_epoch_ms(17 * kDay), .objects = 15, .bytes = 2000},
                           {.taken_at = from_epoch_ms(10 * kDay), .objects = 10, .bytes = 1000},
                           {.taken_at = from_epoch_ms(16 * kDay), .objects = 12, .bytes = 1500}});
  ASSERT_TRUE(g.latest.has_value());
  EXPECT_EQ(g.latest->bytes, 2000u);
  ASSERT_EQ(g.changes.size(), 3u);
  EXPECT_EQ(g.changes[0].first, "1d");
  EXPECT_EQ(g.changes[0].second->bytes_delta, 500);
  EXPECT_EQ(to_epoch_ms(g.changes[1].second->since), 10 * kDay);
  EXPECT_DOUBLE_EQ(*g.changes[1].second->bytes_pct, 100.0);
  EXPECT_FALSE(g.changes[2].second.has_value());
  EXPECT_FALSE(storage_growth({}).latest.has_value());
}

}  // namespace
}  // namespace r2w::metrics
