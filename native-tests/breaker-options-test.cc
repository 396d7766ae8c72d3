#include "core/breaker/breaker-options.h"

#include <gtest/gtest.h>

namespace r2w::breaker {
namespace {

using json = r2w::Json;

TEST(BreakerOptions, DefaultsAreValidAndMatchThePlan) {
  Options o;
  EXPECT_FALSE(o.validate().has_value());
  EXPECT_EQ(o.consecutive_failure_threshold, 3u);
  EXPECT_EQ(o.slow_call_duration, Duration(2'000));
  EXPECT_EQ(o.wait_in_open, Duration(60'000));
  EXPECT_EQ(o.monitoring_window, Duration(300'000));
  EXPECT_EQ(o.window_type, WindowType::kTimeBased);
}

struct InvalidCase {
  const char* json;
  const char* field;
};

class InvalidOptions : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidOptions, AreRefusedNamingTheField) {
  auto r = options_from_json(json::parse(GetParam().json), Options{});
  ASSERT_FALSE(r.ok()) << GetParam().json;
  EXPECT_EQ(r.error().code, "invalid_field");
  EXPECT_EQ(r.error().field, GetParam().field) << r.error().message;
  EXPECT_NE(r.error().message.find(GetParam().field), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    EveryField, InvalidOptions,
    ::testing::Values(
        InvalidCase{R"({"window_type": "sliding"})", "window_type"},
        InvalidCase{R"({"window_type": 1})", "window_type"},
        InvalidCase{R"({"window_size_calls": 0})", "window_size_calls"},
        InvalidCase{R"({"window_size_calls": 10001})", "window_size_calls"},
        InvalidCase{R"({"monitoring_window_ms": 999})", "monitoring_window_ms"},
        InvalidCase{R"({"window_bucket_ms": 99})", "window_bucket_ms"},
        InvalidCase{R"({"window_bucket_ms": 7000})", "window_bucket_ms"},
        InvalidCase{R"({"monitoring_window_ms": 3600000, "window_bucket_ms": 100})",
                    "window_bucket_ms"},
        InvalidCase{R"({"minimum_calls": 0})", "minimum_calls"},
        InvalidCase{R"({"window_type": "count_based", "window_size_calls": 5,
                        "minimum_calls": 6})",
                    "minimum_calls"},
        InvalidCase{R"({"failure_rate_threshold_pct": 0})", "failure_rate_threshold_pct"},
        InvalidCase{R"({"failure_rate_threshold_pct": 100.5})", "failure_rate_threshold_pct"},
        InvalidCase{R"({"failure_rate_threshold_pct": "50"})", "failure_rate_threshold_pct"},
        InvalidCase{R"({"consecutive_failure_threshold": -1})", "consecutive_failure_threshold"},
        InvalidCase{R"({"consecutive_failure_threshold": 10001})", "consecutive_failure_threshold"},
        InvalidCase{R"({"slow_call_duration_ms": 0})", "slow_call_duration_ms"},
        InvalidCase{R"({"slow_call_rate_threshold_pct": 0})", "slow_call_rate_threshold_pct"},
        InvalidCase{R"({"wait_in_open_ms": 0})", "wait_in_open_ms"},
        InvalidCase{R"({"wait_in_open_ms": 1.5})", "wait_in_open_ms"},
        InvalidCase{R"({"permitted_calls_in_half_open": 0})", "permitted_calls_in_half_open"},
        InvalidCase{R"({"max_wait_in_half_open_ms": 86400001})", "max_wait_in_half_open_ms"},
        InvalidCase{R"({"ema_alpha": 0})", "ema_alpha"},
        InvalidCase{R"({"ema_alpha": 1.01})", "ema_alpha"},
        InvalidCase{R"({"failure_threshold": 3})", "failure_threshold"}));

TEST(BreakerOptions, AcceptsTheEdgesOfEveryRange) {
  auto r = options_from_json(json::parse(R"({
      "window_type": "count_based", "window_size_calls": 1, "minimum_calls": 1,
      "failure_rate_threshold_pct": 100, "consecutive_failure_threshold": 0,
      "slow_call_duration_ms": 1, "slow_call_rate_threshold_pct": 0.001,
      "wait_in_open_ms": 1, "permitted_calls_in_half_open": 1000,
      "max_wait_in_half_open_ms": 0, "ema_alpha": 1})"),
                             Options{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().window_type, WindowType::kCountBased);
  EXPECT_EQ(r.value().permitted_calls_in_half_open, 1000u);
}

TEST(BreakerOptions, MergesAPartialUpdateOverTheBase) {
  Options base;
  base.wait_in_open = Duration(5'000);
  auto r = options_from_json(json::parse(R"({"minimum_calls": 4})"), base);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().minimum_calls, 4u);
  EXPECT_EQ(r.value().wait_in_open, Duration(5'000));
}

TEST(BreakerOptions, RoundTripThroughJson) {
  Options o{.window_type = WindowType::kCountBased,
            .window_size_calls = 20,
            .minimum_calls = 5,
            .failure_rate_threshold_pct = 37.5,
            .ema_alpha = 0.5};
  auto back = options_from_json(options_to_json(o), Options{});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(options_to_json(back.value()), options_to_json(o));
}

TEST(BreakerOptions, SameWindowDependsOnlyOnTheWindowShape) {
  Options a, b;
  b.failure_rate_threshold_pct = 10;
  EXPECT_TRUE(a.same_window_as(b));
  b.window_bucket = Duration(10'000);
  EXPECT_FALSE(a.same_window_as(b));
  Options c{.window_type = WindowType::kCountBased};
  EXPECT_FALSE(a.same_window_as(c));
}

}  // namespace
}  // namespace r2w::breaker
