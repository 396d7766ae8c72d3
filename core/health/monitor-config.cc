#include "core/health/monitor-config.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>

namespace r2w::health {

namespace {

using json = r2w::Json;

constexpr std::array<std::string_view, 10> kFieldNames = {
    "checkInterval",         "timeout",      "failureThreshold", "recoveryTimeout",
    "slowResponseThreshold", "enabled",      "testOperations",   "alertOnFailure",
    "alertOnRecovery",       "retentionDays"};

// Collects one problem per field instead of stopping at the first.
class Problems {
 public:
  void add(std::string_view field, std::string message) {
    for (const FieldProblem& p : list_) {
      if (p.field == field) return;  // one problem per field is enough
    }
    list_.push_back({std::string(field), std::string(field) + " " + message});
  }
  bool has(std::string_view field) const {
    return std::any_of(list_.begin(), list_.end(),
                       [&](const FieldProblem& p) { return p.field == field; });
  }
  std::vector<FieldProblem>& list() { return list_; }

 private:
  std::vector<FieldProblem> list_;
};

std::optional<int64_t> whole_number(const json& v) {
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

std::string range_text(int64_t min, int64_t max, std::string_view unit) {
  std::string u = unit.empty() ? "" : " " + std::string(unit);
  return "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max) + u;
}

void read_ms(const json& in, std::string_view name, Duration& out, Problems& p) {
  auto it = in.find(std::string(name));
  if (it == in.end()) return;
  auto n = whole_number(*it);
  if (!n) {
    p.add(name, "must be a whole number of milliseconds");
    return;
  }
  out = Duration(*n);
}

void read_count(const json& in, std::string_view name, uint32_t& out, Problems& p) {
  auto it = in.find(std::string(name));
  if (it == in.end()) return;
  auto n = whole_number(*it);
  if (!n || *n < 0 || *n > UINT32_MAX) {
    p.add(name, "must be a whole number");
    return;
  }
  out = static_cast<uint32_t>(*n);
}

void read_flag(const json& in, std::string_view name, bool& out, Problems& p) {
  auto it = in.find(std::string(name));
  if (it == in.end()) return;
  if (!it->is_boolean()) {
    p.add(name, "must be true or false");
    return;
  }
  out = it->get<bool>();
}

void read_operations(const json& in, std::vector<Operation>& out, Problems& p) {
  constexpr std::string_view kName = "testOperations";
  auto it = in.find(std::string(kName));
  if (it == in.end()) return;
  if (!it->is_array()) {
    p.add(kName, "must be an array of operation names (get, put, delete, list, head)");
    return;
  }
  std::array<bool, kAllOperations.size()> chosen{};
  for (const json& item : *it) {
    std::optional<Operation> op =
        item.is_string() ? parse_operation(item.get<std::string>()) : std::nullopt;
    if (!op) {
      p.add(kName, "may only hold get, put, delete, list and head");
      return;
    }
    if (chosen[static_cast<size_t>(*op)]) {
      p.add(kName, "names " + std::string(operation_name(*op)) + " twice");
      return;
    }
    chosen[static_cast<size_t>(*op)] = true;
  }
  out.clear();
  for (Operation op : kAllOperations) {
    if (chosen[static_cast<size_t>(op)]) out.push_back(op);
  }
}

void check_ms(Problems& p, std::string_view name, Duration v, int64_t min, int64_t max) {
  if (p.has(name)) return;
  if (v.count() < min || v.count() > max) p.add(name, range_text(min, max, "ms"));
}

void check_count(Problems& p, std::string_view name, uint32_t v, int64_t min, int64_t max) {
  if (p.has(name)) return;
  if (v < min || v > max) p.add(name, range_text(min, max, ""));
}

constexpr int64_t kOneDayMs = 86'400'000;

void check_ranges(const MonitorConfig& c, Problems& p) {
  check_ms(p, "checkInterval", c.check_interval, 10'000, kOneDayMs);
  check_ms(p, "timeout", c.timeout, 100, 60'000);
  check_count(p, "failureThreshold", c.failure_threshold, 1, 100);
  check_ms(p, "recoveryTimeout", c.recovery_timeout, 1'000, kOneDayMs);
  check_ms(p, "slowResponseThreshold", c.slow_response_threshold, 1, 60'000);
  check_count(p, "retentionDays", c.retention_days, 1, 3'650);
  if (!p.has("testOperations") && c.test_operations.empty()) {
    p.add("testOperations", "must name at least one operation");
  }
  // A probe that is cut off at `timeout` could never be slow otherwise.
  if (!p.has("slowResponseThreshold") && !p.has("timeout") &&
      c.slow_response_threshold >= c.timeout) {
    p.add("slowResponseThreshold",
          "must be less than timeout (" + std::to_string(c.timeout.count()) + " ms)");
  }
}

}  // namespace

bool MonitorConfig::probes(Operation op) const {
  return std::find(test_operations.begin(), test_operations.end(), op) != test_operations.end();
}

std::vector<FieldProblem> MonitorConfig::problems() const {
  Problems p;
  check_ranges(*this, p);
  return std::move(p.list());
}

json config_to_json(const MonitorConfig& c) {
  json ops = json::array();
  for (Operation op : c.test_operations) ops.push_back(operation_name(op));
  return {
      {"checkInterval", c.check_interval.count()},
      {"timeout", c.timeout.count()},
      {"failureThreshold", c.failure_threshold},
      {"recoveryTimeout", c.recovery_timeout.count()},
      {"slowResponseThreshold", c.slow_response_threshold.count()},
      {"enabled", c.enabled},
      {"testOperations", ops},
      {"alertOnFailure", c.alert_on_failure},
      {"alertOnRecovery", c.alert_on_recovery},
      {"retentionDays", c.retention_days},
  };
}

Result<MonitorConfig> config_from_json(const json& in, const MonitorConfig& base) {
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
  MonitorConfig c = base;
  Problems p;
  for (const auto& item : in.items()) {
    if (std::find(kFieldNames.begin(), kFieldNames.end(), item.key()) == kFieldNames.end()) {
      p.add(item.key(), "is not a known field");
    }
  }
  read_ms(in, "checkInterval", c.check_interval, p);
  read_ms(in, "timeout", c.timeout, p);
  read_count(in, "failureThreshold", c.failure_threshold, p);
  read_ms(in, "recoveryTimeout", c.recovery_timeout, p);
  read_ms(in, "slowResponseThreshold", c.slow_response_threshold, p);
  read_flag(in, "enabled", c.enabled, p);
  read_operations(in, c.test_operations, p);
  read_flag(in, "alertOnFailure", c.alert_on_failure, p);
  read_flag(in, "alertOnRecovery", c.alert_on_recovery, p);
  read_count(in, "retentionDays", c.retention_days, p);
  check_ranges(c, p);
  if (p.list().empty()) return c;
  std::vector<FieldProblem>& list = p.list();
  std::string message =
      list.size() == 1 ? list[0].message : std::to_string(list.size()) + " fields are invalid: ";
  if (list.size() > 1) {
    for (size_t i = 0; i < list.size(); ++i) message += (i ? "; " : "") + list[i].message;
  }
  return Error{.code = "invalid_field",
               .message = std::move(message),
               .field = list[0].field,
               .problems = std::move(list)};
}

breaker::Options breaker_options_for(const MonitorConfig& c, const breaker::Options& base) {
  breaker::Options o = base;
  o.consecutive_failure_threshold = c.failure_threshold;
  o.wait_in_open = c.recovery_timeout;
  o.slow_call_duration = c.slow_response_threshold;
  return o;
}

}  // namespace r2w::health
