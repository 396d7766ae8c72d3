#include "core/faults/fault-plan.h"

#include <gtest/gtest.h>

namespace r2w::faults {
namespace {

using json = r2w::Json;

TEST(FaultPlan, SetsOneOperation) {
  FaultPlan plan;
  auto r = plan.apply(json::parse(R"({"operation": "put", "error_rate": 1.0, "latency_ms": 0})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), std::vector<std::string>{"put"});
  EXPECT_TRUE(plan.should_fail(Operation::kPut, 0.999));
  EXPECT_FALSE(plan.should_fail(Operation::kGet, 0.0));
  EXPECT_TRUE(plan.active());
}

TEST(FaultPlan, ErrorRateIsAStrictUpperBoundOnTheDraw) {
  FaultPlan plan;
  ASSERT_TRUE(plan.apply(json::parse(R"({"operation": "get", "error_rate": 0.25})")).ok());
  EXPECT_TRUE(plan.should_fail(Operation::kGet, 0.2499));
  EXPECT_FALSE(plan.should_fail(Operation::kGet, 0.25));
}

TEST(FaultPlan, AllSetsEveryOperationAndClearEmpties) {
  FaultPlan plan;
  auto r = plan.apply(json::parse(R"({"operation": "all", "latency_ms": 250})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().size(), 5u);
  EXPECT_EQ(plan.fault(Operation::kHead).added_latency, Duration(250));
  EXPECT_EQ(plan.to_json().size(), 5u);
  plan.clear();
  EXPECT_FALSE(plan.active());
  EXPECT_TRUE(plan.to_json().empty());
}

TEST(FaultPlan, RefusesBadInputAndChangesNothing) {
  FaultPlan plan;
  ASSERT_TRUE(plan.apply(json::parse(R"({"operation": "get", "error_rate": 0.5})")).ok());
  struct Case {
    const char* body;
    const char* field;
  };
  for (const Case& c :
       {Case{R"({"error_rate": 1})", "operation"}, Case{R"({"operation": "copy"})", "operation"},
        Case{R"({"operation": 3})", "operation"},
        Case{R"({"operation": "get", "error_rate": 1.5})", "error_rate"},
        Case{R"({"operation": "get", "error_rate": -0.1})", "error_rate"},
        Case{R"({"operation": "get", "latency_ms": -1})", "latency_ms"},
        Case{R"({"operation": "get", "latency_ms": 30001})", "latency_ms"},
        Case{R"({"operation": "get", "rate": 1})", "rate"}}) {
    auto r = plan.apply(json::parse(c.body));
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().field, c.field) << c.body;
    EXPECT_EQ(plan.fault(Operation::kGet).error_rate, 0.5) << c.body;
  }
}

TEST(FaultPlan, RestoresWhatItSaved) {
  FaultPlan plan;
  ASSERT_TRUE(plan.apply(json::parse(R"({"operation": "list", "error_rate": 0.3,
                                         "latency_ms": 40})"))
                  .ok());
  FaultPlan back;
  ASSERT_TRUE(back.restore(plan.to_json()).ok());
  EXPECT_EQ(back.to_json(), plan.to_json());
  EXPECT_FALSE(back.restore(json::parse(R"({"copy": {"error_rate": 1}})")).ok());
  EXPECT_FALSE(back.restore(json::parse(R"({"get": {"error_rate": 2}})")).ok());
  EXPECT_EQ(back.to_json(), plan.to_json());
}

TEST(FaultPlan, TakesBackWhatGetAnswered) {
  FaultPlan plan;
  ASSERT_TRUE(plan.apply(json::parse(R"({"operation": "put", "error_rate": 0.25})")).ok());
  json answered = {{"faults", plan.to_json()}};
  auto same = plan.apply(answered);
  ASSERT_TRUE(same.ok()) << same.error().message;
  EXPECT_TRUE(same.value().empty());
  EXPECT_EQ(plan.to_json(), answered["faults"]);
  auto bad = plan.apply(json::parse(R"({"faults": {"put": {"error_rate": 2}}})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "faults.put.error_rate");
  EXPECT_EQ(plan.to_json(), answered["faults"]);
  auto cleared = plan.apply(json::parse(R"({"faults": {}})"));
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(cleared.value(), std::vector<std::string>{"put"});
  EXPECT_FALSE(plan.active());
}

TEST(FaultPlan, D1FaultDelaysAndFailsBeforeOrAfter) {
  FaultPlan plan;
  auto r = plan.apply(json::parse(R"({"target": "d1", "latency_ms": 30, "error_rate": 0.5})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value(), std::vector<std::string>{"d1"});
  EXPECT_EQ(plan.d1().fault.added_latency, Duration(30));
  EXPECT_EQ(plan.d1_outcome(0.49), D1Outcome::kFailBefore);
  EXPECT_EQ(plan.d1_outcome(0.5), D1Outcome::kRun);
  // R2 operations are untouched by a D1 fault.
  EXPECT_FALSE(plan.should_fail(Operation::kGet, 0.0));
  EXPECT_EQ(plan.fault(Operation::kGet).added_latency, Duration(0));
  ASSERT_TRUE(
      plan.apply(json::parse(R"({"target": "d1", "error_rate": 1, "fail": "after"})")).ok());
  EXPECT_EQ(plan.d1_outcome(0.0), D1Outcome::kFailAfter);
  EXPECT_EQ(plan.to_json()["d1"]["fail"], "after");
  EXPECT_TRUE(plan.active());
  plan.clear();
  EXPECT_EQ(plan.d1_outcome(0.0), D1Outcome::kRun);
  EXPECT_FALSE(plan.active());
}

TEST(FaultPlan, D1AndClockRefuseBadInputAndChangeNothing) {
  FaultPlan plan;
  ASSERT_TRUE(plan.apply(json::parse(R"({"target": "d1", "latency_ms": 5})")).ok());
  struct Case {
    const char* body;
    const char* field;
  };
  for (const Case& c : {Case{R"({"target": "kv", "latency_ms": 1})", "target"},
                        Case{R"({"target": "d1", "latency_ms": 30001})", "latency_ms"},
                        Case{R"({"target": "d1", "error_rate": 2})", "error_rate"},
                        Case{R"({"target": "d1", "fail": "during"})", "fail"},
                        Case{R"({"target": "d1", "operation": "get"})", "operation"},
                        Case{R"({"target": "clock", "skew_ms": -1})", "skew_ms"},
                        Case{R"({"target": "clock", "skew_ms": 86400001})", "skew_ms"}}) {
    auto r = plan.apply(json::parse(c.body));
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().field, c.field) << c.body;
    EXPECT_EQ(plan.d1().fault.added_latency, Duration(5)) << c.body;
    EXPECT_EQ(plan.clock_skew(), Duration(0)) << c.body;
  }
}

TEST(FaultPlan, ClockSkewIsSavedAndRestoredWithD1) {
  FaultPlan plan;
  ASSERT_TRUE(plan.apply(json::parse(R"({"target": "clock", "skew_ms": 61000})")).ok());
  ASSERT_TRUE(
      plan.apply(json::parse(R"({"target": "d1", "error_rate": 0.1, "fail": "after"})")).ok());
  EXPECT_EQ(plan.clock_skew(), Duration(61'000));
  FaultPlan back;
  ASSERT_TRUE(back.restore(plan.to_json()).ok());
  EXPECT_EQ(back.to_json(), plan.to_json());
  EXPECT_EQ(back.clock_skew(), Duration(61'000));
  EXPECT_EQ(back.d1_outcome(0.05), D1Outcome::kFailAfter);
  auto whole = back.apply(json::parse(R"({"faults": {}})"));
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole.value(), (std::vector<std::string>{"d1", "clock"}));
}

}  // namespace
}  // namespace r2w::faults
