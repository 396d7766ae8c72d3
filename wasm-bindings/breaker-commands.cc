// Commands of the breaker, the injected faults and the health verdict.
#include <nlohmann/json.hpp>
#include <string>

#include "core/common/json-fields.h"
#include "core/health/health-verdict.h"
#include "wasm-bindings/commands.h"
#include "wasm-bindings/engine.h"
#include "wasm-bindings/ops-codec.h"

namespace r2w::bindings {

using nlohmann::json;

namespace {

json status_with_options(Engine& e, TimePoint now) {
  json out = status_to_json(e.breaker().status(now));
  out["options"] = options_to_json(e.breaker().options());
  return out;
}

json persisted(Engine& e) {
  return {{"options", options_to_json(e.breaker().options())},
          {"snapshot", e.breaker().snapshot()}};
}

json operation_figures(Engine& e) {
  json ops = json::object();
  uint64_t calls = 0, errors = 0;
  double latency_sum = 0;
  for (Operation op : kAllOperations) {
    const OperationCounters& c = e.counters()[static_cast<size_t>(op)];
    calls += c.calls;
    errors += c.errors;
    latency_sum += c.latency_sum_ms;
    ops[std::string(operation_name(op))] = {
        {"calls", c.calls},
        {"errors", c.errors},
        {"bytes", c.bytes},
        {"avg_response_ms", c.calls ? json(c.latency_sum_ms / c.calls) : json(nullptr)}};
  }
  return {{"by_operation", ops},
          {"calls", calls},
          {"errors", errors},
          {"error_rate_pct", calls ? json(errors * 100.0 / calls) : json(nullptr)},
          {"avg_response_ms", calls ? json(latency_sum / calls) : json(nullptr)}};
}

Result<json> breaker_status(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  if (auto err = r.finish()) return *err;
  return status_with_options(e, now);
}

Result<json> breaker_configure(Engine& e, const json& in, TimePoint now) {
  auto options = breaker::options_from_json(in, e.breaker().options());
  if (!options.ok()) return options.error();
  e.breaker().reconfigure(options.value(), now);
  return status_with_options(e, now);
}

Result<json> breaker_command(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  std::string action;
  r.read_string("action", action);
  if (auto err = r.finish()) return *err;
  if (action == "reset") {
    e.breaker().reset(now);
  } else if (action == "force_open") {
    e.breaker().force_open(now);
  } else if (action == "disable") {
    e.breaker().disable(now);
  } else {
    return invalid_field("action", "action must be one of reset, force_open, disable");
  }
  return status_with_options(e, now);
}

// The transitions since the last take, with what must be persisted alongside them.
Result<json> breaker_take_transitions(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  if (auto err = r.finish()) return *err;
  json list = json::array();
  for (const auto& t : e.breaker().take_transitions()) list.push_back(transition_to_json(t));
  json out = persisted(e);
  out["transitions"] = std::move(list);
  out["status"] = status_to_json(e.breaker().status(now));
  return out;
}

Result<json> breaker_snapshot(Engine& e, const json& in, TimePoint) {
  FieldReader r(in);
  if (auto err = r.finish()) return *err;
  return persisted(e);
}

// Loads what breaker_snapshot wrote: {"options": {...}, "snapshot": {...}}.
Result<json> breaker_restore(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  bool has_options = r.has("options");
  bool has_snapshot = r.has("snapshot");
  if (auto err = r.finish()) return *err;
  breaker::Options options;
  if (has_options) {
    auto parsed = breaker::options_from_json(in["options"], breaker::Options{});
    if (!parsed.ok()) return prefixed(parsed.error(), "options");
    options = parsed.value();
  }
  if (!has_snapshot) {
    e.breaker().reconfigure(options, now);
    return status_with_options(e, now);
  }
  auto restored = breaker::CircuitBreaker::restore(options, in["snapshot"]);
  if (!restored.ok()) return prefixed(restored.error(), "snapshot");
  e.breaker() = std::move(restored).value();
  return status_with_options(e, now);
}

// Replays a scripted sequence against a fresh breaker and reports every step: the golden
// cases use it to pin the breaker's behaviour in both builds.
// {"options": {...}, "steps": [{"at_ms": n, "call": "success"|"failure", "latency_ms": n} |
//  {"at_ms": n, "action": "reset"|"force_open"|"disable"|"status"}]}
Result<json> breaker_simulate(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  bool has_options = r.has("options");
  bool has_steps = r.has("steps");
  if (auto err = r.finish()) return *err;
  if (!has_steps || !in["steps"].is_array()) {
    return invalid_field("steps", "steps must be an array");
  }
  breaker::Options options;
  if (has_options) {
    auto parsed = breaker::options_from_json(in["options"], options);
    if (!parsed.ok()) return prefixed(parsed.error(), "options");
    options = parsed.value();
  }
  auto created = breaker::CircuitBreaker::create(options, TimePoint{});
  if (!created.ok()) return created.error();
  breaker::CircuitBreaker b = std::move(created).value();
  json trace = json::array();
  json transitions = json::array();
  for (size_t i = 0; i < in["steps"].size(); ++i) {
    const json& step = in["steps"][i];
    std::string prefix = "steps[" + std::to_string(i) + "]";
    FieldReader sr(step, prefix);
    Duration at(0), latency(0);
    std::string call, action;
    sr.read_duration("at_ms", at, Duration(0), Duration(INT64_C(1) << 50));
    sr.read_string("call", call);
    sr.read_string("action", action);
    sr.read_duration("latency_ms", latency, Duration(0), Duration(86'400'000));
    if (auto err = sr.finish()) return *err;
    TimePoint now = TimePoint(at);
    json row = {{"at_ms", at.count()}};
    if (!call.empty()) {
      if (call != "success" && call != "failure") {
        return invalid_field(prefix + ".call", prefix + ".call must be success or failure");
      }
      breaker::Permission p = b.try_acquire(now);
      row["permitted"] = p.permitted;
      if (p.permitted) {
        b.record(now, {.success = call == "success", .latency = latency});
      } else {
        row["retry_after_ms"] = p.retry_after.count();
      }
    } else if (action == "reset") {
      b.reset(now);
    } else if (action == "force_open") {
      b.force_open(now);
    } else if (action == "disable") {
      b.disable(now);
    } else if (action == "status") {
      row["status"] = status_to_json(b.status(now));
    } else {
      return invalid_field(prefix, prefix +
                                       " needs call (success|failure) or action "
                                       "(reset|force_open|disable|status)");
    }
    row["state"] = breaker::state_name(b.state());
    trace.push_back(std::move(row));
    for (const auto& t : b.take_transitions()) transitions.push_back(transition_to_json(t));
  }
  return json{{"steps", trace}, {"transitions", transitions}};
}

Result<json> faults_set(Engine& e, const json& in, TimePoint) {
  auto changed = e.fault_plan().apply(in);
  if (!changed.ok()) return changed.error();
  return json{{"faults", e.fault_plan().to_json()}, {"changed", changed.value()}};
}

Result<json> faults_get(Engine& e, const json& in, TimePoint) {
  FieldReader r(in);
  if (auto err = r.finish()) return *err;
  return json{{"faults", e.fault_plan().to_json()}};
}

Result<json> faults_clear(Engine& e, const json& in, TimePoint) {
  FieldReader r(in);
  if (auto err = r.finish()) return *err;
  e.fault_plan().clear();
  return json{{"faults", e.fault_plan().to_json()}};
}

Result<json> faults_restore(Engine& e, const json& in, TimePoint) {
  Status s = e.fault_plan().restore(in);
  if (!s.ok()) return s.error();
  return json{{"faults", e.fault_plan().to_json()}};
}

// {"database_ok": bool, "database_latency_ms": n, "database_error": "", "analytics_bound":
// bool, "probe_round": summary|null} -> the overall verdict, its components, and the figures
// it was made on. `probe_round` is the last probe round's summary (health_round_evaluate).
Result<json> health_verdict(Engine& e, const json& in, TimePoint now) {
  health::Observations obs{.breaker = e.breaker().status(now), .now = now};
  FieldReader r(in);
  r.read_bool("database_ok", obs.database_ok);
  r.read_duration("database_latency_ms", obs.database_latency, Duration(0), Duration(86'400'000));
  r.read_string("database_error", obs.database_error);
  r.read_bool("analytics_bound", obs.analytics_bound);
  bool has_round = r.has("probe_round");
  bool has_jobs = r.has("jobs");
  if (auto err = r.finish()) return *err;
  if (has_jobs && !in["jobs"].is_null()) {
    auto jobs = job_statuses_from_json(in["jobs"], now);
    if (!jobs.ok()) return jobs.error();
    obs.jobs = jobs.value();
  }
  if (has_round && !in["probe_round"].is_null()) {
    auto round = health::summary_from_json(in["probe_round"]);
    if (!round.ok()) return prefixed(round.error(), "probe_round");
    obs.last_round = round.value();
  }
  health::VerdictOptions options{.degraded_response = e.breaker().options().slow_call_duration};
  json out = health::verdict_to_json(health::judge(obs, options));
  out["breaker"] = status_to_json(obs.breaker);
  out["operations"] = operation_figures(e);
  out["probe_round"] = obs.last_round ? health::summary_to_json(*obs.last_round) : json(nullptr);
  return out;
}

}  // namespace

std::span<const CommandEntry> breaker_commands() {
  static constexpr CommandEntry kCommands[] = {
      {"breaker_status", &breaker_status},
      {"breaker_configure", &breaker_configure},
      {"breaker_command", &breaker_command},
      {"breaker_take_transitions", &breaker_take_transitions},
      {"breaker_snapshot", &breaker_snapshot},
      {"breaker_restore", &breaker_restore},
      {"breaker_simulate", &breaker_simulate},
      {"faults_set", &faults_set},
      {"faults_get", &faults_get},
      {"faults_clear", &faults_clear},
      {"faults_restore", &faults_restore},
      {"health_verdict", &health_verdict},
  };
  return kCommands;
}

}  // namespace r2w::bindings
