#include "core/health/monitor-config.h"

#include <gtest/gtest.h>

#include <string>

#include "wasm-bindings/codec/health.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::health {
namespace {

using json = Json;
using codec::config_from_json;
using codec::config_to_json;
using codec::stored_config_from_json;

Json parse(const std::string& text) { return parse_json(text).value(); }

Result<MonitorConfig> update(const std::string& text) {
  return config_from_json(parse(text), MonitorConfig{});
}

// The first problem's field, or "" when the update is valid.
std::string bad_field(const std::string& text) {
  auto r = update(text);
  return r.ok() ? "" : r.error().field;
}

TEST(MonitorConfig, DefaultsAreTheDocumentedOnesAndValid) {
  MonitorConfig c;
  EXPECT_TRUE(c.problems().empty());
  json j = config_to_json(c);
  EXPECT_EQ(j["check_interval_ms"], 30000);
  EXPECT_EQ(j["timeout_ms"], 5000);
  EXPECT_EQ(j["failure_threshold"], 3);
  EXPECT_EQ(j["recovery_timeout_ms"], 60000);
  EXPECT_EQ(j["slow_response_threshold_ms"], 2000);
  EXPECT_EQ(j["enabled"], true);
  EXPECT_EQ(j["test_operations"], json({"get", "put", "delete", "list", "head"}));
  EXPECT_EQ(j["alert_on_failure"], true);
  EXPECT_EQ(j["alert_on_recovery"], true);
  EXPECT_EQ(j["retention_days"], 30);
}

TEST(MonitorConfig, RoundTripsThroughJson) {
  auto r = update(R"({"check_interval_ms": 60000, "timeout_ms": 3000, "failure_threshold": 5,
      "recovery_timeout_ms": 120000, "slow_response_threshold_ms": 1000, "enabled": false,
      "test_operations": ["head", "get"], "alert_on_failure": false, "alert_on_recovery": false,
      "retention_days": 7})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto again = config_from_json(config_to_json(r.value()), MonitorConfig{});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(config_to_json(again.value()), config_to_json(r.value()));
  // Operations keep the canonical order whatever order they came in.
  EXPECT_EQ(config_to_json(r.value())["test_operations"], json({"get", "head"}));
}

TEST(MonitorConfig, WhatGetAnswersIsTakenBack) {
  MonitorConfig base;
  base.timeout = Duration(4000);
  base.enabled = false;
  json answered = {{"config", config_to_json(base)}, {"monitoring", "stopped"}};
  auto r = config_from_json(answered, MonitorConfig{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(config_to_json(r.value()), config_to_json(base));
  answered["monitoring"] = "running";
  EXPECT_EQ(config_from_json(answered, MonitorConfig{}).error().field, "monitoring");
  EXPECT_EQ(bad_field(R"({"config": {"timeout_ms": 1}})"), "config.timeout_ms");
  EXPECT_EQ(bad_field(R"({"config": {}, "breaker": {}})"), "breaker");
}

TEST(MonitorConfig, APartialUpdateKeepsTheOtherFields) {
  MonitorConfig base;
  base.timeout = Duration(4000);
  auto r = config_from_json(json{{"failure_threshold", 7}}, base);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().failure_threshold, 7u);
  EXPECT_EQ(r.value().timeout, Duration(4000));
}

struct Bound {
  const char* field;
  int64_t min;
  int64_t max;
};

// Every numeric field, on both sides of both ends of its range.
TEST(MonitorConfig, EveryNumericFieldIsCheckedOnBothSidesOfItsRange) {
  // slow_response_threshold_ms's upper end is tested with the timeout at its maximum.
  const Bound bounds[] = {{"check_interval_ms", 10000, 86400000},
                          {"timeout_ms", 100, 60000},
                          {"failure_threshold", 1, 100},
                          {"recovery_timeout_ms", 1000, 86400000},
                          {"retention_days", 1, 3650}};
  for (const Bound& b : bounds) {
    SCOPED_TRACE(b.field);
    // A timeout of 100 needs a smaller slow threshold to stay consistent.
    json extra = std::string(b.field) == "timeout_ms" ? json{{"slow_response_threshold_ms", 50}}
                                                      : json::object();
    for (int64_t v : {b.min, b.max}) {
      json in = extra;
      in[b.field] = v;
      EXPECT_TRUE(config_from_json(in, MonitorConfig{}).ok()) << v;
    }
    for (int64_t v : {b.min - 1, b.max + 1}) {
      json in = extra;
      in[b.field] = v;
      auto r = config_from_json(in, MonitorConfig{});
      ASSERT_FALSE(r.ok()) << v;
      EXPECT_EQ(r.error().field, b.field);
      EXPECT_EQ(r.error().code, "invalid_field");
    }
  }
  EXPECT_EQ(bad_field(R"({"slow_response_threshold_ms": 0})"), "slow_response_threshold_ms");
  EXPECT_EQ(bad_field(R"({"slow_response_threshold_ms": 1})"), "");
  EXPECT_EQ(bad_field(R"({"timeout_ms": 60000, "slow_response_threshold_ms": 59999})"), "");
  EXPECT_EQ(bad_field(R"({"timeout_ms": 60000, "slow_response_threshold_ms": 60000})"),
            "slow_response_threshold_ms");
}

TEST(MonitorConfig, SlowThresholdMustStayBelowTheTimeout) {
  EXPECT_EQ(bad_field(R"({"slow_response_threshold_ms": 4999})"), "");
  EXPECT_EQ(bad_field(R"({"slow_response_threshold_ms": 5000})"), "slow_response_threshold_ms");
  EXPECT_EQ(bad_field(R"({"timeout_ms": 2000})"), "slow_response_threshold_ms");
  EXPECT_EQ(bad_field(R"({"timeout_ms": 2001})"), "");
}

TEST(MonitorConfig, WrongTypesAreRefusedForEveryField) {
  for (const char* field :
       {"check_interval_ms", "timeout_ms", "failure_threshold", "recovery_timeout_ms",
        "slow_response_threshold_ms", "retention_days"}) {
    for (json bad : {json("100"), json(1.5), json(true), json(nullptr)}) {
      EXPECT_EQ(bad_field(json{{field, bad}}.dump()), field) << bad.dump();
    }
  }
  for (const char* field : {"enabled", "alert_on_failure", "alert_on_recovery"}) {
    for (json bad : {json("true"), json(1), json(nullptr)}) {
      EXPECT_EQ(bad_field(json{{field, bad}}.dump()), field) << bad.dump();
    }
    EXPECT_EQ(bad_field(json{{field, false}}.dump()), "");
  }
  EXPECT_EQ(bad_field(R"({"failure_threshold": -1})"), "failure_threshold");
  EXPECT_EQ(bad_field(R"({"timeout_ms": 3000.0})"), "");
}

TEST(MonitorConfig, TestOperationsMustBeKnownDistinctAndNotEmpty) {
  EXPECT_EQ(bad_field(R"({"test_operations": ["get"]})"), "");
  EXPECT_EQ(bad_field(R"({"test_operations": []})"), "test_operations");
  EXPECT_EQ(bad_field(R"({"test_operations": ["get", "copy"]})"), "test_operations");
  EXPECT_EQ(bad_field(R"({"test_operations": ["get", "get"]})"), "test_operations");
  EXPECT_EQ(bad_field(R"({"test_operations": "get"})"), "test_operations");
  EXPECT_EQ(bad_field(R"({"test_operations": [1]})"), "test_operations");
}

TEST(MonitorConfig, UnknownFieldsAreRefused) {
  EXPECT_EQ(bad_field(R"({"check_intervall_ms": 60000})"), "check_intervall_ms");
}

TEST(MonitorConfig, EveryBadFieldIsNamedAtOnce) {
  auto r = update(R"({"timeout_ms": 0, "failure_threshold": "three", "test_operations": [],
                      "colour": "red"})");
  ASSERT_FALSE(r.ok());
  std::vector<std::string> fields;
  for (const FieldProblem& p : r.error().problems) fields.push_back(p.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"colour", "failure_threshold", "timeout_ms",
                                              "test_operations"}));
  for (const std::string& f : fields) {
    EXPECT_NE(r.error().message.find(f), std::string::npos) << r.error().message;
  }
  EXPECT_NE(r.error().message.find("4 fields are invalid"), std::string::npos);
}

TEST(MonitorConfig, TheCoreValidatesTheStructNamingTheApiField) {
  MonitorConfig c;
  EXPECT_FALSE(validate(c).has_value());
  c.check_interval = Duration(9'999);
  c.timeout = Duration(2'000);
  auto e = validate(c);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->field, "check_interval_ms");
  ASSERT_EQ(e->problems.size(), 2u);
  EXPECT_EQ(e->problems[1].field, "slow_response_threshold_ms");
  EXPECT_EQ(e->problems[1].message,
            "slow_response_threshold_ms must be less than timeout_ms (2000 ms)");
  EXPECT_EQ(retention_cutoff(c, from_epoch_ms(40 * 86'400'000LL)),
            from_epoch_ms(10 * 86'400'000LL));
}

// The API takes only the new names; an old name is refused naming the new one.
TEST(MonitorConfig, OldNamesAreRefusedNamingTheNewOne) {
  const std::pair<const char*, const char*> renamed[] = {
      {"checkInterval", "check_interval_ms"},
      {"timeout", "timeout_ms"},
      {"failureThreshold", "failure_threshold"},
      {"recoveryTimeout", "recovery_timeout_ms"},
      {"slowResponseThreshold", "slow_response_threshold_ms"},
      {"testOperations", "test_operations"},
      {"alertOnFailure", "alert_on_failure"},
      {"alertOnRecovery", "alert_on_recovery"},
      {"retentionDays", "retention_days"}};
  for (const auto& [old_name, new_name] : renamed) {
    auto r = config_from_json(json{{old_name, 1}}, MonitorConfig{});
    ASSERT_FALSE(r.ok()) << old_name;
    EXPECT_EQ(r.error().field, old_name);
    EXPECT_EQ(r.error().message, std::string(old_name) + " was renamed to " + new_name);
  }
  EXPECT_EQ(bad_field(R"({"config": {"checkInterval": 60000}})"), "config.checkInterval");
}

// A config stored before the rename (no "version": version 1, the old names) still loads; one
// of version 2 has the new names; the codec writes only the new ones.
TEST(MonitorConfig, StoredConfigsOfEveryVersionLoad) {
  auto v1 = stored_config_from_json(parse(R"({"checkInterval": 60000, "timeout": 3000,
      "failureThreshold": 5, "recoveryTimeout": 120000, "slowResponseThreshold": 1000,
      "enabled": false, "testOperations": ["head", "get"], "alertOnFailure": false,
      "alertOnRecovery": false, "retentionDays": 7})"));
  ASSERT_TRUE(v1.ok()) << v1.error().message;
  EXPECT_EQ(v1.value().check_interval, Duration(60'000));
  EXPECT_EQ(v1.value().timeout, Duration(3'000));
  EXPECT_EQ(v1.value().failure_threshold, 5u);
  EXPECT_EQ(v1.value().retention_days, 7u);
  json v2 = config_to_json(v1.value());
  EXPECT_FALSE(v2.contains("checkInterval"));
  v2["version"] = 2;
  auto back = stored_config_from_json(v2);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(config_to_json(back.value()), config_to_json(v1.value()));
  // Each version reads only its own names.
  EXPECT_EQ(stored_config_from_json(json{{"check_interval_ms", 60000}}).error().field,
            "check_interval_ms");
  EXPECT_EQ(stored_config_from_json(json{{"version", 2}, {"checkInterval", 60000}}).error().field,
            "checkInterval");
  EXPECT_EQ(stored_config_from_json(json{{"version", 3}}).error().field, "version");
  EXPECT_EQ(stored_config_from_json(json{{"failureThreshold", 0}}).error().field,
            "failure_threshold");
}

TEST(MonitorConfig, MapsOntoTheBreakerOptions) {
  MonitorConfig c;
  c.failure_threshold = 5;
  c.recovery_timeout = Duration(90'000);
  c.slow_response_threshold = Duration(1'500);
  breaker::Options base;
  base.minimum_calls = 20;
  breaker::Options o = breaker_options_for(c, base);
  EXPECT_EQ(o.consecutive_failure_threshold, 5u);
  EXPECT_EQ(o.wait_in_open, Duration(90'000));
  EXPECT_EQ(o.slow_call_duration, Duration(1'500));
  EXPECT_EQ(o.minimum_calls, 20u);  // untouched
  EXPECT_FALSE(o.validate().has_value());
}

}  // namespace
}  // namespace r2w::health
