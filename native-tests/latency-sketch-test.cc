#include "core/metrics/latency-sketch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

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

double exact_quantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(std::floor(q * static_cast<double>(values.size() - 1)))];
}

TEST(LatencySketch, MultiplierIsEnoughForOnePercent) {
  double gamma = (1 + LatencySketch::kRelativeAccuracy) / (1 - LatencySketch::kRelativeAccuracy);
  EXPECT_GE(LatencySketch::kMultiplier, 1 / std::log(gamma));
}

TEST(LatencySketch, EveryBinIsNarrowEnough) {
  double gamma = (1 + LatencySketch::kRelativeAccuracy) / (1 - LatencySketch::kRelativeAccuracy);
  for (int32_t i = LatencySketch::index_of(LatencySketch::kMinTrackableMs);
       i <= LatencySketch::index_of(LatencySketch::kMaxTrackableMs); ++i) {
    double lo = LatencySketch::lower_bound(i), hi = LatencySketch::lower_bound(i + 1);
    ASSERT_LE(hi / lo, gamma * (1 + 1e-12)) << i;
    // The representative lies inside its bin (bounds themselves may round to a neighbour).
    ASSERT_EQ(LatencySketch::index_of(LatencySketch::representative(i)), i) << i;
  }
}

TEST(LatencySketch, EmptyHasNoQuantiles) {
  LatencySketch s;
  EXPECT_FALSE(s.quantile(0.5).has_value());
  EXPECT_FALSE(s.min().has_value());
  EXPECT_EQ(s.count(), 0u);
}

TEST(LatencySketch, RefusesUntrackableValues) {
  LatencySketch s;
  for (double bad : {-1.0, std::nan(""), static_cast<double>(INFINITY)}) {
    Status st = s.add(bad);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, "untrackable_value");
  }
  EXPECT_EQ(s.count(), 0u);
}

TEST(LatencySketch, ZeroAndTinyValuesCountAsZero) {
  LatencySketch s;
  ASSERT_TRUE(s.add(0).ok());
  ASSERT_TRUE(s.add(0.0001).ok());
  ASSERT_TRUE(s.add(10).ok());
  EXPECT_EQ(*s.quantile(0), 0.0);
  EXPECT_EQ(*s.quantile(0.5), 0.0);
  EXPECT_NEAR(*s.quantile(1), 10, 0.1);
}

TEST(LatencySketch, QuantilesOfOneValueAreThatValue) {
  LatencySketch s;
  ASSERT_TRUE(s.add(123, 5).ok());
  EXPECT_EQ(*s.quantile(0.5), 123);  // clamped to [min, max]
  EXPECT_EQ(s.count(), 5u);
  EXPECT_EQ(s.sum(), 615);
}

struct Distribution {
  const char* name;
  std::function<double(std::mt19937_64&)> draw;
};

std::vector<Distribution> distributions() {
  return {
      {"uniform 1..5000 ms", [](auto& g) { return std::uniform_real_distribution<>(1, 5000)(g); }},
      {"exponential mean 80 ms",
       [](auto& g) { return std::exponential_distribution<>(1.0 / 80)(g); }},
      {"lognormal", [](auto& g) { return std::lognormal_distribution<>(3.5, 1.2)(g); }},
      {"pareto",
       [](auto& g) {
         return 5.0 / std::pow(std::uniform_real_distribution<>(1e-9, 1)(g), 1 / 1.5);
       }},
      {"integer ms (Date.now)",
       [](auto& g) { return std::floor(std::gamma_distribution<>(2, 30)(g)); }},
  };
}

TEST(LatencySketch, QuantilesAreWithinOnePercentOfExact) {
  for (const auto& dist : distributions()) {
    for (size_t n : {1u, 10u, 100u, 1'000u, 100'000u}) {
      std::mt19937_64 gen(42 + n);
      std::vector<double> values;
      LatencySketch s;
      for (size_t i = 0; i < n; ++i) {
        double v = dist.draw(gen);
        values.push_back(v);
        ASSERT_TRUE(s.add(v).ok());
      }
      for (double q : {0.0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0}) {
        double exact = exact_quantile(values, q);
        double est = *s.quantile(q);
        if (exact < LatencySketch::kMinTrackableMs) {
          EXPECT_EQ(est, 0) << dist.name << " n=" << n << " q=" << q;
        } else {
          EXPECT_LE(std::abs(est - exact), 0.01 * exact + 1e-9)
              << dist.name << " n=" << n << " q=" << q << " exact=" << exact << " est=" << est;
        }
      }
    }
  }
}

TEST(LatencySketch, MergedSketchEqualsSketchOfAllValues) {
  std::mt19937_64 gen(7);
  std::lognormal_distribution<> dist(4, 1);
  LatencySketch all, a, b, c;
  for (int i = 0; i < 30'000; ++i) {
    double v = dist(gen);
    ASSERT_TRUE(all.add(v).ok());
    ASSERT_TRUE((i % 3 == 0 ? a : i % 3 == 1 ? b : c).add(v).ok());
  }
  LatencySketch merged = a;
  merged.merge(b);
  merged.merge(c);
  EXPECT_EQ(merged.count(), all.count());
  for (double q : {0.5, 0.95, 0.99}) EXPECT_EQ(*merged.quantile(q), *all.quantile(q));
  EXPECT_EQ(merged.parts().bins, all.parts().bins);
  // Merge order does not matter.
  LatencySketch other = c;
  other.merge(a);
  other.merge(b);
  EXPECT_EQ(other.parts().bins, merged.parts().bins);
}

TEST(LatencySketch, SerializationRoundTripKeepsEveryAnswer) {
  for (const auto& dist : distributions()) {
    std::mt19937_64 gen(99);
    LatencySketch s;
    for (int i = 0; i < 5'000; ++i) ASSERT_TRUE(s.add(dist.draw(gen)).ok());
    auto back = codec::sketch_from_json(Json::parse(codec::sketch_to_json(s).dump()));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_TRUE(back.value() == s) << dist.name;
    for (double q : {0.5, 0.99}) EXPECT_EQ(*back.value().quantile(q), *s.quantile(q));
  }
}

TEST(LatencySketch, StoredFormCarriesItsVersion) {
  LatencySketch s;
  ASSERT_TRUE(s.add(12).ok());
  Json j = codec::sketch_to_json(s);
  EXPECT_EQ(j["version"], 1);
  j = without_version(j);  // stored before versions: version 1
  auto old = codec::sketch_from_json(j);
  ASSERT_TRUE(old.ok());
  EXPECT_TRUE(old.value() == s);
  j["version"] = 7;
  auto refused = codec::sketch_from_json(j);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "version");
  EXPECT_EQ(refused.error().message,
            "latency sketch version 7 is not supported (this build reads versions 1 to 1)");
}

TEST(LatencySketch, FromJsonRefusesMalformedInput) {
  for (const char* bad : {R"([])", R"({"zero": -1, "bins": [], "sum": 0})",
                          R"({"zero": 0, "bins": [[5, 1], [5, 1]], "sum": 1, "min": 1, "max": 1})",
                          R"({"zero": 0, "bins": [[99999, 1]], "sum": 1, "min": 1, "max": 1})",
                          R"({"zero": 0, "bins": [[5, 0]], "sum": 1, "min": 1, "max": 1})",
                          R"({"zero": 1, "bins": [], "sum": 0})",
                          R"({"zero": 0, "bins": [[5, 1]], "sum": 1, "min": 3, "max": 1})"}) {
    EXPECT_FALSE(codec::sketch_from_json(Json::parse(bad)).ok()) << bad;
  }
}

}  // namespace
}  // namespace r2w::metrics
