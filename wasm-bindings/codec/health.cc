#include "wasm-bindings/codec/health.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>

namespace r2w::codec {

namespace {

using health::add_problem;
using health::has_problem;
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

std::optional<int64_t> whole_number(const Json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    return u > static_cast<uint64_t>(INT64_MAX) ? std::nullopt
                                                : std::optional<int64_t>(static_cast<int64_t>(u));
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9e15) {
      return static_cast<int64_t>(d);
    }
  }
  return std::nullopt;
}

// Each reader reports a problem under the name it was read by, at most one per field.
using Problems = std::vector<FieldProblem>;

void read_ms(const Json& in, std::string_view name, Duration& out, Problems& p) {
  auto it = in.find(std::string(name));
  if (it == in.end()) return;
  auto n = whole_number(*it);
  if (!n) {
    add_problem(p, name, "must be a whole number of milliseconds");
    return;
  }
  out = Duration(*n);
}

void read_count(const Json& in, std::string_view name, uint32_t& out, Problems& p) {
  auto it = in.find(std::string(name));
  if (it == in.end()) return;
  auto n = whole_number(*it);
  if (!n || *n < 0 || *n > UINT32_MAX) {
    add_problem(p, name, "must be a whole number");
    return;
  }
  out = static_cast<uint32_t>(*n);
}

void read_flag(const Json& in, std::string_view name, bool& out, Problems& p) {
  auto it = in.find(std::string(name));
  if (it == in.end()) return;
  if (!it->is_boolean()) {
    add_problem(p, name, "must be true or false");
    return;
  }
  out = it->get<bool>();
}

void read_operations(const Json& in, std::string_view name, std::vector<Operation>& out,
                     Problems& p) {
  auto it = in.find(std::string(name));
  if (it == in.end()) return;
  if (!it->is_array()) {
    add_problem(p, name, "must be an array of operation names (get, put, delete, list, head)");
    return;
  }
  std::array<bool, kAllOperations.size()> chosen{};
  for (const Json& item : *it) {
    std::optional<Operation> op =
        item.is_string() ? parse_operation(item.get<std::string>()) : std::nullopt;
    if (!op) {
      add_problem(p, name, "may only hold get, put, delete, list and head");
      return;
    }
    if (chosen[static_cast<size_t>(*op)]) {
      add_problem(p, name, "names " + std::string(operation_name(*op)) + " twice");
      return;
    }
    chosen[static_cast<size_t>(*op)] = true;
  }
  out.clear();
  for (Operation op : kAllOperations) {
    if (chosen[static_cast<size_t>(op)]) out.push_back(op);
  }
}

void read_fields(const Json& in, const ConfigNames& n, MonitorConfig& c, Problems& p) {
  read_ms(in, n.check_interval, c.check_interval, p);
  read_ms(in, n.timeout, c.timeout, p);
  read_count(in, n.failure_threshold, c.failure_threshold, p);
  read_ms(in, n.recovery_timeout, c.recovery_timeout, p);
  read_ms(in, n.slow_response_threshold, c.slow_response_threshold, p);
  read_flag(in, n.enabled, c.enabled, p);
  read_operations(in, n.test_operations, c.test_operations, p);
  read_flag(in, n.alert_on_failure, c.alert_on_failure, p);
  read_flag(in, n.alert_on_recovery, c.alert_on_recovery, p);
  read_count(in, n.retention_days, c.retention_days, p);
}

enum class Form : uint8_t { kApi, kStoredVersion1, kStoredVersion2 };

// Reads the flat config object in one form; every bad field becomes a problem.
Result<MonitorConfig> read_config(const Json& in, const MonitorConfig& base, Form form) {
  const ConfigNames& names = form == Form::kStoredVersion1 ? kVersion1Names : kNames;
  const std::array<std::string_view, 10> known = names.all();
  const std::array<std::string_view, 10> old = kVersion1Names.all();
  MonitorConfig c = base;
  Problems p;
  for (const auto& item : in.items()) {
    const std::string& key = item.key();
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    if (form == Form::kStoredVersion2 && key == "version") continue;
    auto renamed = std::find(old.begin(), old.end(), key);
    if (form == Form::kApi && renamed != old.end()) {
      add_problem(p, key, "was renamed to " + std::string(known[renamed - old.begin()]));
    } else {
      add_problem(p, key, "is not a known field");
    }
  }
  read_fields(in, names, c, p);
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
    for (const auto& item : in.items()) {
      if (item.key() != "config" && item.key() != "monitoring") {
        return invalid_field(item.key(), item.key() + " is not a known field");
      }
    }
    auto c = config_from_json(in["config"], base);
    if (!c.ok()) {
      Error e = c.error();
      e.field = "config." + e.field;
      for (FieldProblem& problem : e.problems) problem.field = "config." + problem.field;
      return e;
    }
    if (in.contains("monitoring")) {
      const char* want = c.value().enabled ? "running" : "stopped";
      if (in["monitoring"] != want) {
        return invalid_field("monitoring",
                             std::string("monitoring must agree with enabled (") + want + ")");
      }
    }
    return c;
  }
  return read_config(in, base, Form::kApi);
}

Result<MonitorConfig> stored_config_from_json(const Json& in) {
  if (!in.is_object()) return invalid_field("", "the health check config must be a JSON object");
  auto version = in.find("version");
  if (version == in.end()) return read_config(in, MonitorConfig{}, Form::kStoredVersion1);
  if (*version != kMonitorConfigVersion) {
    return invalid_field("version",
                         "version must be 1 (absent) or " + std::to_string(kMonitorConfigVersion));
  }
  return read_config(in, MonitorConfig{}, Form::kStoredVersion2);
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
            {"stale_after_ms", plan.stale_after.count()}}}};
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
  Duration at(0);
  r.read_duration("at_ms", at, Duration(0), Duration(INT64_C(1) << 50));
  r.read_uint("probes", s.probes, 0, 1000);
  r.read_uint("attempted", s.attempted, 0, 1000);
  r.read_uint("failed", s.failed, 0, 1000);
  r.read_uint("slow", s.slow, 0, 1000);
  r.read_uint("refused", s.refused, 0, 1000);
  std::string state = "closed";
  r.read_string("breaker_state", state);
  r.read_duration("max_response_time_ms", s.max_response_time, Duration(0),
                  Duration(INT64_C(1) << 50));
  bool has_rate = r.has("error_rate_pct");
  bool has_failing = r.has("failing_operations");
  bool has_slow = r.has("slow_operations");
  if (auto e = r.finish()) return *e;
  s.at = TimePoint(at);
  auto parsed_state = breaker::parse_state(state);
  if (!parsed_state) return invalid_field("breaker_state", "breaker_state is not a state name");
  s.breaker_state = *parsed_state;
  if (has_rate && j["error_rate_pct"].is_number()) {
    s.error_rate_pct = j["error_rate_pct"].get<double>();
  }
  auto read_ops = [&](bool has, const char* name,
                      std::vector<Operation>& out) -> std::optional<Error> {
    if (!has) return std::nullopt;
    if (!j[name].is_array()) return invalid_field(name, std::string(name) + " must be an array");
    for (const Json& item : j[name]) {
      auto op = item.is_string() ? parse_operation(item.get<std::string>()) : std::nullopt;
      if (!op) return invalid_field(name, std::string(name) + " holds an unknown operation");
      out.push_back(*op);
    }
    return std::nullopt;
  };
  if (auto e = read_ops(has_failing, "failing_operations", s.failing)) return *e;
  if (auto e = read_ops(has_slow, "slow_operations", s.slow_operations)) return *e;
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
  auto bad = [](std::string field) {
    return Error{.code = "invalid_field",
                 .message = "health monitor state field " + field + " is missing or malformed",
                 .field = "state." + field};
  };
  if (!j.contains("schema_version") || j["schema_version"] != kStateSchemaVersion) {
    return bad("schema_version");
  }
  auto read_time = [&](const char* name, std::optional<TimePoint>& out) -> bool {
    if (!j.contains(name) || j[name].is_null()) return true;
    if (!j[name].is_number_integer()) return false;
    out = from_epoch_ms(j[name].get<int64_t>());
    return true;
  };
  if (!read_time("last_round_at_ms", s.last_round_at)) return bad("last_round_at_ms");
  if (!read_time("last_scheduled_round_at_ms", s.last_scheduled_round_at)) {
    return bad("last_scheduled_round_at_ms");
  }
  if (j.contains("rounds")) {
    if (!j["rounds"].is_number_unsigned()) return bad("rounds");
    s.rounds = j["rounds"].get<uint64_t>();
  }
  if (j.contains("conditions")) {
    const Json& cs = j["conditions"];
    if (!cs.is_object()) return bad("conditions");
    for (size_t i = 0; i < health::kConditionCount; ++i) {
      std::string name(health::event_type_name(health::kConditionTypes[i]));
      if (!cs.contains(name)) continue;
      const Json& c = cs[name];
      health::ConditionState& out = s.conditions[i];
      FieldReader r(c, "conditions." + name);
      r.read_bool("active", out.active);
      r.read_uint("rounds_holding", out.rounds_holding, 0, UINT32_MAX);
      r.read_uint("rounds_not_holding", out.rounds_not_holding, 0, UINT32_MAX);
      bool has_since = r.has("since_ms");
      if (auto e = r.finish()) return bad("conditions." + name);
      if (has_since && !c["since_ms"].is_null()) {
        if (!c["since_ms"].is_number_integer()) return bad("conditions." + name + ".since_ms");
        out.since = from_epoch_ms(c["since_ms"].get<int64_t>());
      }
    }
  }
  if (j.contains("last_round") && !j["last_round"].is_null()) {
    auto round = summary_from_json(j["last_round"]);
    if (!round.ok()) return bad("last_round");
    s.last_round = round.value();
  }
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
  return {
      {"status", health::level_name(v.overall)}, {"components", components}, {"reasons", reasons}};
}

}  // namespace r2w::codec
