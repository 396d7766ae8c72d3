#include "core/faults/fault-plan.h"

#include <gtest/gtest.h>

#include "wasm-bindings/codec/faults.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::faults {
namespace {

using json = Json;

Result<std::vector<std::string>> apply_body(FaultPlan& plan, const Json& body) {
  auto change = codec::fault_change_from_json(body);
  if (!change.ok()) return change.error();
  return plan.apply(change.value());
}

Json to_json(const FaultPlan& plan) { return codec::fault_plan_to_json(plan.state()); }

Status restore(FaultPlan& plan, const Json& j) {
  auto state = codec::fault_state_from_json(j);
  if (!state.ok()) return state.error();
  plan.restore(state.value());
  return Ok{};
}

TEST(FaultPlan, SetsOneOperation) {
  FaultPlan plan;
  auto r =
      apply_body(plan, json::parse(R"({"operation": "put", "error_rate": 1.0, "latency_ms": 0})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), std::vector<std::string>{"put"});
  EXPECT_TRUE(plan.should_fail(Operation::kPut, 0.999));
  EXPECT_FALSE(plan.should_fail(Operation::kGet, 0.0));
  EXPECT_TRUE(plan.active());
}

TEST(FaultPlan, ErrorRateIsAStrictUpperBoundOnTheDraw) {
  FaultPlan plan;
  ASSERT_TRUE(apply_body(plan, json::parse(R"({"operation": "get", "error_rate": 0.25})")).ok());
  EXPECT_TRUE(plan.should_fail(Operation::kGet, 0.2499));
  EXPECT_FALSE(plan.should_fail(Operation::kGet, 0.25));
}

TEST(FaultPlan, AllSetsEveryOperationAndClearEmpties) {
  FaultPlan plan;
  auto r = apply_body(plan, json::parse(R"({"operation": "all", "latency_ms": 250})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().size(), 5u);
  EXPECT_EQ(plan.fault(Operation::kHead).added_latency, Duration(250));
  EXPECT_EQ(to_json(plan).size(), 5u);
  plan.clear();
  EXPECT_FALSE(plan.active());
  EXPECT_TRUE(to_json(plan).empty());
}

TEST(FaultPlan, RefusesBadInputAndChangesNothing) {
  FaultPlan plan;
  ASSERT_TRUE(apply_body(plan, json::parse(R"({"operation": "get", "error_rate": 0.5})")).ok());
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
    auto r = apply_body(plan, json::parse(c.body));
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().field, c.field) << c.body;
    EXPECT_EQ(plan.fault(Operation::kGet).error_rate, 0.5) << c.body;
  }
}

TEST(FaultPlan, RestoresWhatItSaved) {
  FaultPlan plan;
  ASSERT_TRUE(apply_body(plan, json::parse(R"({"operation": "list", "error_rate": 0.3,
                                         "latency_ms": 40})"))
                  .ok());
  FaultPlan back;
  ASSERT_TRUE(restore(back, to_json(plan)).ok());
  EXPECT_EQ(to_json(back), to_json(plan));
  EXPECT_FALSE(restore(back, json::parse(R"({"copy": {"error_rate": 1}})")).ok());
  EXPECT_FALSE(restore(back, json::parse(R"({"get": {"error_rate": 2}})")).ok());
  EXPECT_EQ(to_json(back), to_json(plan));
}

TEST(FaultPlan, TakesBackWhatGetAnswered) {
  FaultPlan plan;
  ASSERT_TRUE(apply_body(plan, json::parse(R"({"operation": "put", "error_rate": 0.25})")).ok());
  json answered = {{"faults", to_json(plan)}};
  auto same = apply_body(plan, answered);
  ASSERT_TRUE(same.ok()) << same.error().message;
  EXPECT_TRUE(same.value().empty());
  EXPECT_EQ(to_json(plan), answered["faults"]);
  auto bad = apply_body(plan, json::parse(R"({"faults": {"put": {"error_rate": 2}}})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "faults.put.error_rate");
  EXPECT_EQ(to_json(plan), answered["faults"]);
  auto cleared = apply_body(plan, json::parse(R"({"faults": {}})"));
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(cleared.value(), std::vector<std::string>{"put"});
  EXPECT_FALSE(plan.active());
}

TEST(FaultPlan, D1FaultDelaysAndFailsBeforeOrAfter) {
  FaultPlan plan;
  auto r =
      apply_body(plan, json::parse(R"({"target": "d1", "latency_ms": 30, "error_rate": 0.5})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value(), std::vector<std::string>{"d1"});
  EXPECT_EQ(plan.d1().fault.added_latency, Duration(30));
  EXPECT_EQ(plan.d1_outcome(0.49), D1Outcome::kFailBefore);
  EXPECT_EQ(plan.d1_outcome(0.5), D1Outcome::kRun);
  // R2 operations are untouched by a D1 fault.
  EXPECT_FALSE(plan.should_fail(Operation::kGet, 0.0));
  EXPECT_EQ(plan.fault(Operation::kGet).added_latency, Duration(0));
  ASSERT_TRUE(
      apply_body(plan, json::parse(R"({"target": "d1", "error_rate": 1, "fail": "after"})")).ok());
  EXPECT_EQ(plan.d1_outcome(0.0), D1Outcome::kFailAfter);
  EXPECT_EQ(to_json(plan)["d1"]["fail"], "after");
  EXPECT_TRUE(plan.active());
  plan.clear();
  EXPECT_EQ(plan.d1_outcome(0.0), D1Outcome::kRun);
  EXPECT_FALSE(plan.active());
}

TEST(FaultPlan, D1AndClockRefuseBadInputAndChangeNothing) {
  FaultPlan plan;
  ASSERT_TRUE(apply_body(plan, json::parse(R"({"target": "d1", "latency_ms": 5})")).ok());
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
    auto r = apply_body(plan, json::parse(c.body));
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().field, c.field) << c.body;
    EXPECT_EQ(plan.d1().fault.added_latency, Duration(5)) << c.body;
    EXPECT_EQ(plan.clock_skew(), Duration(0)) << c.body;
  }
}

TEST(FaultPlan, ClockSkewIsSavedAndRestoredWithD1) {
  FaultPlan plan;
  ASSERT_TRUE(apply_body(plan, json::parse(R"({"target": "clock", "skew_ms": 61000})")).ok());
  ASSERT_TRUE(
      apply_body(plan, json::parse(R"({"target": "d1", "error_rate": 0.1, "fail": "after"})"))
          .ok());
  EXPECT_EQ(plan.clock_skew(), Duration(61'000));
  FaultPlan back;
  ASSERT_TRUE(restore(back, to_json(plan)).ok());
  EXPECT_EQ(to_json(back), to_json(plan));
  EXPECT_EQ(back.clock_skew(), Duration(61'000));
  EXPECT_EQ(back.d1_outcome(0.05), D1Outcome::kFailAfter);
  auto whole = apply_body(back, json::parse(R"({"faults": {}})"));
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole.value(), (std::vector<std::string>{"d1", "clock"}));
}

TEST(FaultPlan, StoredPlanCarriesItsVersionAndAnUnknownVersionIsRefused) {
  FaultPlan plan;
  ASSERT_TRUE(apply_body(plan, json::parse(R"({"operation": "get", "error_rate": 0.5})")).ok());
  Json stored = codec::fault_state_to_json(plan.state());
  EXPECT_EQ(stored["version"], 1);
  EXPECT_EQ(stored["faults"], to_json(plan));
  FaultPlan back;
  ASSERT_TRUE(restore(back, stored).ok());
  EXPECT_EQ(to_json(back), to_json(plan));
  FaultPlan old;
  // A plan stored before versions is version 1.
  ASSERT_TRUE(restore(old, json::parse(R"({"get": {"error_rate": 0.5, "latency_ms": 0}})")).ok());
  EXPECT_EQ(to_json(old), to_json(plan));
  auto refused =
      restore(old, json::parse(R"({"version": 2, "faults": {"put": {"error_rate": 1}}})"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "version");
  EXPECT_EQ(refused.error().message,
            "fault plan version 2 is not supported (this build reads versions 1 to 1)");
  EXPECT_EQ(to_json(old), to_json(plan));  // nothing changed
  auto whole = apply_body(old, json::parse(R"({"faults": {}, "version": 3})"));
  ASSERT_FALSE(whole.ok());
  EXPECT_EQ(whole.error().field, "version");
}

}  // namespace
}  // namespace r2w::faults
