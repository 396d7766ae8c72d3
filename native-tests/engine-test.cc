#include "wasm-bindings/engine.h"

#include <gtest/gtest.h>

#include "native-tests/test-clock.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::bindings {
namespace {

using json = r2w::Json;

class EngineTest : public ::testing::Test {
 protected:
  json call_ok(std::string_view command, std::string_view input) {
    bool ok = engine.call(command, input, clock.now());
    EXPECT_TRUE(ok) << engine.output();
    return json::parse(engine.output());
  }
  json call_err(std::string_view command, std::string_view input) {
    bool ok = engine.call(command, input, clock.now());
    EXPECT_FALSE(ok) << engine.output();
    return json::parse(engine.output())["error"];
  }
  testing::FakeClock clock;
  Engine engine{clock.now()};
  uint32_t series0 = engine.series({.bucket = "b", .prefix = "p", .user = ""});
};

TEST_F(EngineTest, UnknownCommandIsAnError) {
  EXPECT_EQ(call_err("breaker_explode", "{}")["code"], "unknown_command");
}

TEST_F(EngineTest, MalformedOrNonObjectInputIsInvalidJson) {
  EXPECT_EQ(call_err("breaker_configure", "{\"wait_in_open_ms\": ")["code"], "invalid_json");
  EXPECT_EQ(call_err("breaker_configure", "[]")["code"], "invalid_json");
  EXPECT_EQ(call_err("breaker_configure", std::string_view("\xff\xfe", 2))["code"], "invalid_json");
}

TEST_F(EngineTest, WrongTypesNameTheFieldAndChangeNothing) {
  json before = call_ok("breaker_status", "");
  json err = call_err("breaker_configure", R"({"minimum_calls": 2, "wait_in_open_ms": "soon"})");
  EXPECT_EQ(err["field"], "wait_in_open_ms");
  EXPECT_EQ(call_ok("breaker_status", "{}"), before);
}

TEST_F(EngineTest, RecordReportsPendingTransitionsUntilTaken) {
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(engine.acquire(clock.now()));
    EXPECT_EQ(engine.record(0, Operation::kPut, false, Duration(5), 0, 0, clock.now()), 0u);
  }
  ASSERT_TRUE(engine.acquire(clock.now()));
  EXPECT_EQ(engine.record(0, Operation::kPut, false, Duration(5), 0, 0, clock.now()), 1u);
  EXPECT_FALSE(engine.acquire(clock.now()));
  EXPECT_EQ(engine.retry_after(), Duration(60'000));
  json taken = call_ok("breaker_take_transitions", "{}");
  ASSERT_EQ(taken["transitions"].size(), 1u);
  EXPECT_EQ(taken["transitions"][0]["to"], "open");
  EXPECT_EQ(taken["snapshot"]["state"], "open");
  EXPECT_EQ(call_ok("breaker_take_transitions", "{}")["transitions"].size(), 0u);
}

TEST_F(EngineTest, SnapshotRestoresIntoAFreshEngine) {
  call_ok("breaker_configure", R"({"wait_in_open_ms": 5000})");
  call_ok("breaker_command", R"({"action": "force_open"})");
  json saved = call_ok("breaker_snapshot", "{}");
  Engine fresh(clock.now());
  ASSERT_TRUE(fresh.call("breaker_restore", saved.dump(), clock.now())) << fresh.output();
  json status = json::parse(fresh.output());
  EXPECT_EQ(status["state"], "forced_open");
  EXPECT_EQ(status["options"]["wait_in_open_ms"], 5000);
}

TEST_F(EngineTest, RestoreRefusesBadOptionsWithAQualifiedField) {
  json err = call_err("breaker_restore", R"({"options": {"ema_alpha": 7}})");
  EXPECT_EQ(err["field"], "options.ema_alpha");
}

TEST_F(EngineTest, CommandActionMustBeKnown) {
  EXPECT_EQ(call_err("breaker_command", R"({"action": "explode"})")["field"], "action");
  EXPECT_EQ(call_err("breaker_command", R"({"action": 1})")["field"], "action");
}

TEST_F(EngineTest, AnAlertRuleTakesBackWhatGetAnswered) {
  json rule = call_ok("alert_rule_create",
                      R"({"request": {"id": "r1", "name": "x", "type": "error_rate",
                          "threshold": 5}, "id": "gen"})")["rule"];
  json answered = {{"rule", rule}};
  json in = {{"current", rule}, {"request", answered}};
  EXPECT_EQ(call_ok("alert_rule_update", in.dump())["rule"], rule);
  answered["rule"]["id"] = "r2";
  in["request"] = answered;
  EXPECT_EQ(call_err("alert_rule_update", in.dump())["field"], "id");
}

TEST_F(EngineTest, FaultsAreSetReadAndCleared) {
  call_ok("faults_set", R"({"operation": "get", "error_rate": 1})");
  EXPECT_TRUE(engine.faults().should_fail(Operation::kGet, 0.5));
  EXPECT_EQ(call_ok("faults_get", "{}")["faults"]["get"]["error_rate"], 1);
  call_ok("faults_clear", "{}");
  EXPECT_FALSE(engine.faults().active());
}

TEST_F(EngineTest, HealthVerdictCarriesFiguresPerOperation) {
  ASSERT_TRUE(engine.acquire(clock.now()));
  engine.record(0, Operation::kGet, true, Duration(30), 0, 100, clock.now());
  ASSERT_TRUE(engine.acquire(clock.now()));
  engine.record(0, Operation::kGet, false, Duration(10), 0, 0, clock.now());
  json v = call_ok("health_verdict", R"({"database_ok": true, "database_latency_ms": 2,
                                        "analytics_bound": true})");
  EXPECT_EQ(v["status"], "healthy");
  EXPECT_EQ(v["operations"]["calls"], 2);
  EXPECT_EQ(v["operations"]["error_rate_pct"], 50.0);
  EXPECT_EQ(v["operations"]["by_operation"]["get"]["bytes"], 100);
  EXPECT_EQ(v["operations"]["avg_response_ms"], 20.0);
  EXPECT_EQ(call_err("health_verdict", R"({"database_ok": "yes"})")["field"], "database_ok");
}

}  // namespace
}  // namespace r2w::bindings
