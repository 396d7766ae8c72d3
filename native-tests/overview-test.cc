#include "core/metrics/overview.h"

#include <gtest/gtest.h>

#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/codec/metrics.h"

namespace r2w::metrics {
namespace {

// 2023-11-14T22:00:00Z, an hour boundary: the 1h plan at kNow covers [kNow - 59 min, kNow + 1 min).
constexpr int64_t kNow = 1'700'000'000'000 - 1'700'000'000'000 % 3'600'000;

Row row(Operation op, int64_t start_ms, uint64_t calls, uint64_t errors, double latency_ms) {
  Row r{.series = {.bucket = "b", .prefix = "p", .user = ""},
        .operation = op,
        .level = Level::kMinute,
        .period_start = from_epoch_ms(start_ms)};
  r.figures.calls = calls;
  r.figures.errors = errors;
  r.figures.bytes_up = op == Operation::kPut ? calls * 100 : 0;
  r.figures.bytes_down = op == Operation::kGet ? calls * 10 : 0;
  if (calls > 0) {
    EXPECT_TRUE(r.figures.latency.add(latency_ms, calls).ok());
  }
  return r;
}

HistoryPlan hour_plan() { return plan_history("1h", from_epoch_ms(kNow)).value(); }

TEST(ChangePct, IsThePercentOfThePreviousValue) {
  EXPECT_DOUBLE_EQ(*change_pct(150.0, 100.0), 50.0);
  EXPECT_DOUBLE_EQ(*change_pct(50.0, 100.0), -50.0);
  EXPECT_DOUBLE_EQ(*change_pct(0.0, 4.0), -100.0);
}

TEST(ChangePct, HasNoValueWithoutABaseline) {
  EXPECT_FALSE(change_pct(5.0, 0.0));
  EXPECT_FALSE(change_pct(5.0, std::nullopt));
  EXPECT_FALSE(change_pct(std::nullopt, 5.0));
}

// The figures as the engine answers them (wasm-bindings/codec/metrics.h).
Json overview_json(const std::vector<Row>& rows, const HistoryPlan& plan,
                   const OverviewThresholds& thresholds) {
  return codec::overview_to_json(overview(rows, plan, thresholds));
}

TEST(Overview, SplitsRowsIntoTheRangeAndThePeriodBeforeIt) {
  HistoryPlan plan = hour_plan();
  const int64_t from = to_epoch_ms(plan.from);
  std::vector<Row> rows = {
      row(Operation::kPut, from, 30, 3, 20),              // current
      row(Operation::kGet, from + 60'000, 10, 0, 20),     // current
      row(Operation::kPut, from - 60'000, 20, 0, 10),     // previous (last minute before)
      row(Operation::kPut, from - 3'600'000, 5, 5, 10),   // previous (its first minute)
      row(Operation::kPut, from - 3'600'001, 99, 99, 1),  // before both: ignored
  };
  auto j = overview_json(rows, plan, {});
  EXPECT_EQ(j["range"], "1h");
  EXPECT_EQ(j["previous"]["to_ms"], from);
  EXPECT_EQ(j["previous"]["from_ms"], from - 3'600'000);
  const auto& f = j["figures"];
  EXPECT_EQ(f["calls"]["value"], 40.0);
  EXPECT_EQ(f["calls"]["previous"], 25.0);
  EXPECT_DOUBLE_EQ(f["calls"]["change_pct"].get<double>(), 60.0);
  EXPECT_EQ(f["uploads"]["value"], 30.0);
  EXPECT_EQ(f["uploads"]["previous"], 25.0);
  EXPECT_EQ(f["downloads"]["value"], 10.0);
  EXPECT_TRUE(f["downloads"]["change_pct"].is_null());  // no downloads before: no baseline
  EXPECT_EQ(f["bytes_up"]["value"], 3000.0);
  EXPECT_DOUBLE_EQ(f["error_rate_pct"]["value"].get<double>(), 7.5);      // 3 of 40
  EXPECT_DOUBLE_EQ(f["error_rate_pct"]["previous"].get<double>(), 20.0);  // 5 of 25
  EXPECT_DOUBLE_EQ(f["avg_ms"]["value"].get<double>(), 20.0);
  EXPECT_DOUBLE_EQ(f["avg_ms"]["change_pct"].get<double>(), 100.0);
  EXPECT_NEAR(f["p95_ms"]["value"].get<double>(), 20.0, 0.2);  // the sketch: within 1%
  EXPECT_FALSE(f["calls"].contains("threshold"));
  EXPECT_TRUE(f["avg_ms"]["threshold"].is_null());
  EXPECT_EQ(f["avg_ms"]["over_threshold"], false);
}

TEST(Overview, WarnsOnlyAboveAThreshold) {
  HistoryPlan plan = hour_plan();
  const int64_t from = to_epoch_ms(plan.from);
  std::vector<Row> rows = {row(Operation::kGet, from, 10, 1, 2000)};  // 10% errors, 2,000 ms
  auto at = overview_json(rows, plan, {.error_rate_pct = 10.0, .response_ms = 2000.0});
  EXPECT_EQ(at["figures"]["error_rate_pct"]["over_threshold"], false);  // equal is not above
  EXPECT_EQ(at["figures"]["avg_ms"]["over_threshold"], false);
  auto above = overview_json(rows, plan, {.error_rate_pct = 9.9, .response_ms = 1999.0});
  EXPECT_EQ(above["figures"]["error_rate_pct"]["over_threshold"], true);
  EXPECT_EQ(above["figures"]["error_rate_pct"]["threshold"], 9.9);
  EXPECT_EQ(above["figures"]["avg_ms"]["over_threshold"], true);
  EXPECT_EQ(above["figures"]["p95_ms"]["over_threshold"], true);
}

TEST(Overview, AnEmptyRangeHasCountsOfZeroAndNoRatesOrLatencies) {
  auto j = overview_json({}, hour_plan(), {.error_rate_pct = 5.0, .response_ms = 100.0});
  const auto& f = j["figures"];
  EXPECT_EQ(f["calls"]["value"], 0.0);
  EXPECT_TRUE(f["calls"]["change_pct"].is_null());
  EXPECT_TRUE(f["error_rate_pct"]["value"].is_null());
  EXPECT_TRUE(f["p95_ms"]["value"].is_null());
  EXPECT_EQ(f["p95_ms"]["over_threshold"], false);
}

}  // namespace
}  // namespace r2w::metrics
