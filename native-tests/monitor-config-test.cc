#include "core/health/monitor-config.h"

#include <gtest/gtest.h>

#include <string>

namespace r2w::health {
namespace {

using json = r2w::Json;

Result<MonitorConfig> update(const std::string& text) {
  return config_from_json(json::parse(text), MonitorConfig{});
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
  EXPECT_EQ(j["checkInterval"], 30000);
  EXPECT_EQ(j["timeout"], 5000);
  EXPECT_EQ(j["failureThreshold"], 3);
  EXPECT_EQ(j["recoveryTimeout"], 60000);
  EXPECT_EQ(j["slowResponseThreshold"], 2000);
  EXPECT_EQ(j["enabled"], true);
  EXPECT_EQ(j["testOperations"], json({"get", "put", "delete", "list", "head"}));
  EXPECT_EQ(j["alertOnFailure"], true);
  EXPECT_EQ(j["alertOnRecovery"], true);
  EXPECT_EQ(j["retentionDays"], 30);
}

TEST(MonitorConfig, RoundTripsThroughJson) {
  auto r = update(R"({"checkInterval": 60000, "timeout": 3000, "failureThreshold": 5,
      "recoveryTimeout": 120000, "slowResponseThreshold": 1000, "enabled": false,
      "testOperations": ["head", "get"], "alertOnFailure": false, "alertOnRecovery": false,
      "retentionDays": 7})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto again = config_from_json(config_to_json(r.value()), MonitorConfig{});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(config_to_json(again.value()), config_to_json(r.value()));
  // Operations keep the canonical order whatever order they came in.
  EXPECT_EQ(config_to_json(r.value())["testOperations"], json({"get", "head"}));
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
  EXPECT_EQ(bad_field(R"({"config": {"timeout": 1}})"), "config.timeout");
  EXPECT_EQ(bad_field(R"({"config": {}, "breaker": {}})"), "breaker");
}

TEST(MonitorConfig, APartialUpdateKeepsTheOtherFields) {
  MonitorConfig base;
  base.timeout = Duration(4000);
  auto r = config_from_json(json{{"failureThreshold", 7}}, base);
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
  // slowResponseThreshold's upper end is tested with the timeout at its maximum.
  const Bound bounds[] = {{"checkInterval", 10000, 86400000},
                          {"timeout", 100, 60000},
                          {"failureThreshold", 1, 100},
                          {"recoveryTimeout", 1000, 86400000},
                          {"retentionDays", 1, 3650}};
  for (const Bound& b : bounds) {
    SCOPED_TRACE(b.field);
    // A timeout of 100 needs a smaller slow threshold to stay consistent.
    json extra =
        std::string(b.field) == "timeout" ? json{{"slowResponseThreshold", 50}} : json::object();
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
  EXPECT_EQ(bad_field(R"({"slowResponseThreshold": 0})"), "slowResponseThreshold");
  EXPECT_EQ(bad_field(R"({"slowResponseThreshold": 1})"), "");
  EXPECT_EQ(bad_field(R"({"timeout": 60000, "slowResponseThreshold": 59999})"), "");
  EXPECT_EQ(bad_field(R"({"timeout": 60000, "slowResponseThreshold": 60000})"),
            "slowResponseThreshold");
}

TEST(MonitorConfig, SlowThresholdMustStayBelowTheTimeout) {
  EXPECT_EQ(bad_field(R"({"slowResponseThreshold": 4999})"), "");
  EXPECT_EQ(bad_field(R"({"slowResponseThreshold": 5000})"), "slowResponseThreshold");
  EXPECT_EQ(bad_field(R"({"timeout": 2000})"), "slowResponseThreshold");
  EXPECT_EQ(bad_field(R"({"timeout": 2001})"), "");
}

TEST(MonitorConfig, WrongTypesAreRefusedForEveryField) {
  for (const char* field : {"checkInterval", "timeout", "failureThreshold", "recoveryTimeout",
                            "slowResponseThreshold", "retentionDays"}) {
    for (json bad : {json("100"), json(1.5), json(true), json(nullptr)}) {
      EXPECT_EQ(bad_field(json{{field, bad}}.dump()), field) << bad.dump();
    }
  }
  for (const char* field : {"enabled", "alertOnFailure", "alertOnRecovery"}) {
    for (json bad : {json("true"), json(1), json(nullptr)}) {
      EXPECT_EQ(bad_field(json{{field, bad}}.dump()), field) << bad.dump();
    }
    EXPECT_EQ(bad_field(json{{field, false}}.dump()), "");
  }
  EXPECT_EQ(bad_field(R"({"failureThreshold": -1})"), "failureThreshold");
  EXPECT_EQ(bad_field(R"({"timeout": 3000.0})"), "");
}

TEST(MonitorConfig, TestOperationsMustBeKnownDistinctAndNotEmpty) {
  EXPECT_EQ(bad_field(R"({"testOperations": ["get"]})"), "");
  EXPECT_EQ(bad_field(R"({"testOperations": []})"), "testOperations");
  EXPECT_EQ(bad_field(R"({"testOperations": ["get", "copy"]})"), "testOperations");
  EXPECT_EQ(bad_field(R"({"testOperations": ["get", "get"]})"), "testOperations");
  EXPECT_EQ(bad_field(R"({"testOperations": "get"})"), "testOperations");
  EXPECT_EQ(bad_field(R"({"testOperations": [1]})"), "testOperations");
}

TEST(MonitorConfig, UnknownFieldsAreRefused) {
  EXPECT_EQ(bad_field(R"({"checkIntervall": 60000})"), "checkIntervall");
}

TEST(MonitorConfig, EveryBadFieldIsNamedAtOnce) {
  auto r = update(R"({"timeout": 0, "failureThreshold": "three", "testOperations": [],
                      "colour": "red"})");
  ASSERT_FALSE(r.ok());
  std::vector<std::string> fields;
  for (const FieldProblem& p : r.error().problems) fields.push_back(p.field);
  EXPECT_EQ(fields,
            (std::vector<std::string>{"colour", "failureThreshold", "timeout", "testOperations"}));
  for (const std::string& f : fields) {
    EXPECT_NE(r.error().message.find(f), std::string::npos) << r.error().message;
  }
  EXPECT_NE(r.error().message.find("4 fields are invalid"), std::string::npos);
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
