#include "wasm-bindings/codec/health.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>

namespace r2w::codec {

namespace {

using health::MonitorConfig;
namespace f = health::config_field;

constexpr int kStateSchemaVersion = 1;

// The monitor config's JSON names in one schema version.
struct ConfigNames {
  std::string_view check_interval, timeout, failure_threshold, recovery_timeout,
      slow_response_threshold, enabled, test_operations, alert_on_failure, alert_on_recovery,
      retention_days;
  std::array<std::string_view, 10> all() const {
    return {check_interval,          timeout,       failure_threshold, recovery_timeout,
            slow_response_threshold, enabled,       test_operations,   alert_on_failure,
            alert_on_recovery,       retention_days};
  }
};

constexpr ConfigNames kNames = {
    f::kCheckInterval,         f::kTimeout,      f::kFailureThreshold, f::kRecoveryTimeout,
    f::kSlowResponseThreshold, f::kEnabled,      f::kTestOperations,   f::kAlertOnFailure,
    f::kAlertOnRecovery,       f::kRetentionDays};
// Version 1 (until issue #14): camelCase, units not in the names.
constexpr ConfigNames kVersion1Names = {
    "checkInterval",         "timeout",      "failureThreshold", "recoveryTimeout",
    "slowResponseThreshold", "enabled",      "testOperations",   "alertOnFailure",
    "alertOnRecovery",       "retentionDays"};

void read_ms(FieldReader& r, std::string_view name, Duration& out) {
  int64_t ms = out.count();
  r.read_whole(name, ms, "a whole number of milliseconds");
  out = Duration(ms);
}

void read_count(FieldReader& r, std::string_view name, uint32_t& out) {
  int64_t n = out;
  r.read_whole(name, n);
  if (n < 0 || n > UINT32_MAX) {
    r.fail(name, "must be a whole number");
    return;
  }
  out = static_cast<uint32_t>(n);
}

void read_operations(FieldReader& r, std::string_view name, std::vector<Operation>& out) {
  const Json* list = r.read_json(name);
  if (!list) return;
  if (!list->is_array()) {
    r.fail(name, "must be an array of operation names (get, put, delete, list, head)");
    return;
  }
  std::array<bool, kAllOperations.size()> chosen{};
  for (const Json& item : *list) {
    std::optional<Operation> op =
        item.is_string() ? parse_operation(item.get<std::string>()) : std::nullopt;
    if (!op) {
      r.fail(name, "may only hold get, put, delete, list and head");
      return;
    }
    if (chosen[static_cast<size_t>(*op)]) {
      r.fail(name, "names " + std::string(operation_name(*op)) + " twice");
      return;
    }
    chosen[static_cast<size_t>(*op)] = true;
  }
  out.clear();
  for (Operation op : kAllOperations) {
    if (chosen[static_cast<size_t>(op)]) out.push_back(op);
  }
}

enum class Form : uint8_t { kApi, kStoredVersion1, kStoredVersion2 };

// Reads the flat config object in one form with a FieldReader that names every bad field;
// the core adds its range checks and makes one Error of them all.
Result<MonitorConfig> read_config(const Json& in, const MonitorConfig& base, Form form) {
  const ConfigNames& n = form == Form::kStoredVersion1 ? kVersion1Names : kNames;
  MonitorConfig c = base;
  FieldReader r(in, "", {.problems = FieldProblems::kEvery});
  read_ms(r, n.check_interval, c.check_interval);
  read_ms(r, n.timeout, c.timeout);
  read_count(r, n.failure_threshold, c.failure_threshold);
  read_ms(r, n.recovery_timeout, c.recovery_timeout);
  read_ms(r, n.slow_response_threshold, c.slow_response_threshold);
  r.read_bool(n.enabled, c.enabled);
  read_operations(r, n.test_operations, c.test_operations);
  r.read_bool(n.alert_on_failure, c.alert_on_failure);
  r.read_bool(n.alert_on_recovery, c.alert_on_recovery);
  read_count(r, n.retention_days, c.retention_days);
  if (form == Form::kStoredVersion2) {
    int64_t version = kMonitorConfigVersion;
    r.read_whole("version", version);
    if (version != kMonitorConfigVersion) {
      r.fail("version", "must be 1 (absent) or " + std::to_string(kMonitorConfigVersion));
    }
  }
  if (form == Form::kApi) {
    // The names of schema version 1, sent to the API, are refused naming the new one.
    const std::array<std::string_view, 10> known = kNames.all();
    const std::array<std::string_view, 10> old = kVersion1Names.all();
    for (const auto& item : in.items()) {
      auto renamed = std::find(old.begin(), old.end(), item.key());
      size_t i = renamed - old.begin();
      if (renamed != old.end() && old[i] != known[i] && r.has(item.key())) {
        r.fail(item.key(), "was renamed to " + std::string(known[i]));
      }
    }
  }
  std::vector<FieldProblem> p = r.finish_problems();
  health::check_config(c, p);
  if (p.empty()) return c;
  return health::config_error(std::move(p));
}

Json names_json(const std::vector<Operation>& ops) {
  Json out = Json::array();
  for (Operation op : ops) out.push_back(operation_name(op));
  return out;
}

}  // namespace

Json config_to_json(const MonitorConfig& c) {
  return {
      {f::kCheckInterval, c.check_interval.count()},
      {f::kTimeout, c.timeout.count()},
      {f::kFailureThreshold, c.failure_threshold},
      {f::kRecoveryTimeout, c.recovery_timeout.count()},
      {f::kSlowResponseThreshold, c.slow_response_threshold.count()},
      {f::kEnabled, c.enabled},
      {f::kTestOperations, names_json(c.test_operations)},
      {f::kAlertOnFailure, c.alert_on_failure},
      {f::kAlertOnRecovery, c.alert_on_recovery},
      {f::kRetentionDays, c.retention_days},
  };
}

Result<MonitorConfig> config_from_json(const Json& in, const MonitorConfig& base) {
  if (!in.is_object()) return invalid_field("", "the health check config must be a JSON object");
  if (in.contains("config")) {
    // What GET /api/health/config answers, sent back: {"config": {...}, "monitoring"}.
    FieldReader r(in);
    const Json* config = r.read_json("config");
    std::optional<std::string> monitoring;
    r.read_optional_string("monitoring", monitoring);
    if (auto e = r.finish()) return *e;
    auto c = config_from_json(*config, base);
    if (!c.ok()) {
      Error e = c.error();
      e.field = "config." + e.field;
      for (FieldProblem& problem : e.problems) problem.field = "config." + problem.field;
      return e;
    }
    const char* want = c.value().enabled ? "running" : "stopped";
    if (monitoring && *monitoring != want) {
      return invalid_field("monitoring",
                           std::string("monitoring must agree with enabled (") + want + ")");
    }
    return c;
  }
  return read_config(in, base, Form::kApi);
}

Result<MonitorConfig> stored_config_from_json(const Json& in) {
  if (!in.is_object()) return invalid_field("", "the health check config must be a JSON object");
  return read_config(in, MonitorConfig{},
                     in.contains("version") ? Form::kStoredVersion2 : Form::kStoredVersion1);
}

Json plan_to_json(const health::ProbePlan& plan) {
  Json steps = Json::array();
  for (const health::ProbeStep& s : plan.steps) {
    Json step = {{"operation", operation_name(s.operation)}};
    if (!s.key.empty()) step["key"] = s.key;
    if (s.operation == Operation::kList) {
      step["prefix"] = s.prefix;
      step["limit"] = s.limit;
    }
    if (!s.body.empty()) step["body"] = s.body;
    steps.push_back(std::move(step));
  }
  return {{"round_id", plan.round_id},
          {"object_key", plan.object_key},
          {"missing_key", plan.missing_key},
          {"timeout_ms", plan.timeout.count()},
          {"steps", steps},
          {"cleanup",
           {{"keys", plan.cleanup_keys},
            {"prefix", health::kProbePrefix},
            {"stale_after_ms", plan.stale_after.count()},
            {"list_limit", health::kCleanupListLimit}}}};
}

Json result_to_json(const health::ProbeResult& r) {
  return {{"operation", operation_name(r.operation)},
          {"ok", r.ok()},
          {"status", health::probe_status_name(r.status)},
          {"response_time_ms", r.response_time.count()},
          {"error", r.error.empty() ? Json(nullptr) : Json(r.error)},
          {"checked_at_ms", to_epoch_ms(r.at)}};
}

Json summary_to_json(const health::RoundSummary& s) {
  return {{"at_ms", to_epoch_ms(s.at)},
          {"probes", s.probes},
          {"attempted", s.attempted},
          {"failed", s.failed},
          {"slow", s.slow},
          {"refused", s.refused},
          {"failing_operations", names_json(s.failing)},
          {"slow_operations", names_json(s.slow_operations)},
          {"breaker_state", breaker::state_name(s.breaker_state)},
          {"error_rate_pct", s.error_rate_pct ? Json(*s.error_rate_pct) : Json(nullptr)},
          {"max_response_time_ms", s.max_response_time.count()}};
}

Json tally_to_json(const health::TallyPeriods& t) {
  return {{"hour_ms", t.hour.count()},
          {"day_ms", t.day.count()},
          {"hours_from_ms", to_epoch_ms(t.hours_from)},
          {"hours_until_ms", to_epoch_ms(t.hours_until)},
          {"days_from_ms", to_epoch_ms(t.days_from)},
          {"days_until_ms", to_epoch_ms(t.days_until)}};
}

Result<health::RoundSummary> summary_from_json(const Json& j) {
  health::RoundSummary s;
  FieldReader r(j);
  r.read_time("at_ms", s.at);
  r.read_uint("probes", s.probes, 0, 1000);
  r.read_uint("attempted", s.attempted, 0, 1000);
  r.read_uint("failed", s.failed, 0, 1000);
  r.read_uint("slow", s.slow, 0, 1000);
  r.read_uint("refused", s.refused, 0, 1000);
  std::string state = "closed";
  r.read_string("breaker_state", state);
  r.read_duration("max_response_time_ms", s.max_response_time, Duration(0), Duration(kMaxEpochMs));
  const Json* rate = r.read_json("error_rate_pct");
  auto read_ops = [&](std::string_view name, std::vector<Operation>& out) {
    const Json* list = r.read_json(name);
    if (!list) return;
    if (!list->is_array()) return r.fail(name, "must be an array");
    for (const Json& item : *list) {
      auto op = item.is_string() ? parse_operation(item.get<std::string>()) : std::nullopt;
      if (!op) return r.fail(name, "holds an unknown operation");
      out.push_back(*op);
    }
  };
  read_ops("failing_operations", s.failing);
  read_ops("slow_operations", s.slow_operations);
  if (auto e = r.finish()) return *e;
  auto parsed_state = breaker::parse_state(state);
  if (!parsed_state) return invalid_field("breaker_state", "breaker_state is not a state name");
  s.breaker_state = *parsed_state;
  if (rate && rate->is_number()) s.error_rate_pct = rate->get<double>();
  return s;
}

Json event_to_json(const health::HealthEvent& e) {
  return {{"type", health::event_type_name(e.type)},
          {"severity", health::severity_name(e.severity)},
          {"action", health::alert_action_name(e.action)},
          {"at_ms", to_epoch_ms(e.at)},
          {"message", e.message}};
}

Json state_to_json(const health::MonitorState& s) {
  Json conditions = Json::object();
  for (size_t i = 0; i < health::kConditionCount; ++i) {
    const health::ConditionState& c = s.conditions[i];
    conditions[std::string(health::event_type_name(health::kConditionTypes[i]))] = {
        {"active", c.active},
        {"rounds_holding", c.rounds_holding},
        {"rounds_not_holding", c.rounds_not_holding},
        {"since_ms", c.since ? Json(to_epoch_ms(*c.since)) : Json(nullptr)}};
  }
  auto ms = [](const std::optional<TimePoint>& t) {
    return t ? Json(to_epoch_ms(*t)) : Json(nullptr);
  };
  return {{"schema_version", kStateSchemaVersion},
          {"conditions", conditions},
          {"rounds", s.rounds},
          {"last_round_at_ms", ms(s.last_round_at)},
          {"last_scheduled_round_at_ms", ms(s.last_scheduled_round_at)},
          {"last_round", s.last_round ? summary_to_json(*s.last_round) : Json(nullptr)}};
}

Result<health::MonitorState> monitor_state_from_json(const Json& j) {
  health::MonitorState s;
  if (j.is_null() || (j.is_object() && j.empty())) return s;
  if (!j.is_object()) return invalid_field("state", "state must be an object");
  // Any field that does not read is named, whatever its problem.
  auto bad = [](std::string field) {
    return Error{.code = "invalid_field",
                 .message = "health monitor state field " + field + " is missing or malformed",
                 .field = "state." + field};
  };
  FieldReader r(j);
  int64_t version = 0;
  r.read_whole("schema_version", version);
  if (!r.ok() || version != kStateSchemaVersion) return bad("schema_version");
  int64_t rounds = 0;
  r.read_whole("rounds", rounds);
  if (!r.ok() || rounds < 0) return bad("rounds");
  s.rounds = static_cast<uint64_t>(rounds);
  r.read_time("last_round_at_ms", s.last_round_at);
  if (!r.ok()) return bad("last_round_at_ms");
  r.read_time("last_scheduled_round_at_ms", s.last_scheduled_round_at);
  if (!r.ok()) return bad("last_scheduled_round_at_ms");
  if (const Json* cs = r.read_json("conditions")) {
    if (!cs->is_object()) return bad("conditions");
    FieldReader names(*cs);
    for (size_t i = 0; i < health::kConditionCount; ++i) {
      std::string name(health::event_type_name(health::kConditionTypes[i]));
      const Json* c = names.read_json(name);
      if (!c) continue;
      health::ConditionState& out = s.conditions[i];
      FieldReader cr(*c, "conditions." + name);
      cr.read_bool("active", out.active);
      cr.read_uint("rounds_holding", out.rounds_holding, 0, UINT32_MAX);
      cr.read_uint("rounds_not_holding", out.rounds_not_holding, 0, UINT32_MAX);
      cr.read_time("since_ms", out.since);
      if (auto e = cr.finish()) {
        std::string since = "conditions." + name + ".since_ms";
        return bad(e->field == since ? since : "conditions." + name);
      }
    }
  }
  if (const Json* last = r.read_json("last_round"); last && !last->is_null()) {
    auto round = summary_from_json(*last);
    if (!round.ok()) return bad("last_round");
    s.last_round = round.value();
  }
  if (auto e = r.finish()) return bad(e->field);
  return s;
}

Json verdict_to_json(const health::Verdict& v) {
  Json components = Json::object();
  Json reasons = Json::array();
  for (const health::Component& c : v.components) {
    components[c.name] = {{"status", health::level_name(c.level)},
                          {"reason", c.reason.empty() ? Json(nullptr) : Json(c.reason)}};
    if (!c.reason.empty()) reasons.push_back(c.name + ": " + c.reason);
  }
  return {{"status", health::level_name(v.overall)},
          {"http_status", health::verdict_http_status(v)},
          {"components", components},
          {"reasons", reasons}};
}

}  // namespace r2w::codec
