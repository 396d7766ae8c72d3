// Commands of the health monitor: its config, probe rounds (plan, judgement, events), cleanup,
// retention, history and metrics queries, and alerts. The Worker keeps config and state in D1
// and hands them in; the only engine state touched is the breaker (config applies to it).
#include <optional>
#include <string>
#include <vector>

#include "core/health/health-events.h"
#include "core/health/monitor-config.h"
#include "core/health/probe-round.h"
#include "core/health/queries.h"
#include "wasm-bindings/codec/breaker.h"
#include "wasm-bindings/codec/health.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/commands.h"
#include "wasm-bindings/engine.h"

namespace r2w::bindings {

using json = Json;

namespace {

constexpr int64_t kMaxEpochMs = INT64_C(1) << 50;

Error invalid_query(std::string field, std::string message) {
  return Error{.code = "invalid_query", .message = std::move(message), .field = std::move(field)};
}

// A config stored earlier (or absent: the defaults), in any schema version (see
// codec::stored_config_from_json). A stored config that no longer validates is refused naming
// the field under `name`.
Result<health::MonitorConfig> config_input(const json& in, const char* name) {
  if (!in.contains(name) || in[name].is_null()) return health::MonitorConfig{};
  auto c = codec::stored_config_from_json(in[name]);
  if (!c.ok()) return prefixed(c.error(), name);
  return c;
}

Result<health::MonitorState> state_input(const json& in) {
  if (!in.contains("state")) return health::MonitorState{};
  return codec::monitor_state_from_json(in["state"]);
}

Result<health::Trigger> trigger_input(const json& in) {
  if (!in.contains("trigger")) return health::Trigger::kManual;
  if (in["trigger"] == "scheduled") return health::Trigger::kScheduled;
  if (in["trigger"] == "manual") return health::Trigger::kManual;
  return invalid_field("trigger", "trigger must be \"scheduled\" or \"manual\"");
}

// A whole number sent as query-string text (or absent: `fallback`), in [min, max].
Result<int64_t> query_number(const json& in, const char* name, int64_t min, int64_t max,
                             std::optional<int64_t> fallback) {
  if (!in.contains(name) || in[name].is_null()) {
    if (fallback) return *fallback;
    return invalid_query(name, std::string(name) + " is required");
  }
  const json& v = in[name];
  std::string text = v.is_string() ? v.get<std::string>() : "";
  bool digits = !text.empty() && text.size() <= 16 &&
                text.find_first_not_of("0123456789") == std::string::npos;
  int64_t n = 0;
  for (char ch : digits ? text : std::string()) n = n * 10 + (ch - '0');
  if (!digits || n < min || n > max) {
    return invalid_query(name, std::string(name) + " must be a whole number from " +
                                   std::to_string(min) + " to " + std::to_string(max));
  }
  return n;
}

std::optional<Error> only_fields(const json& in, std::initializer_list<const char*> names,
                                 const char* code) {
  for (const auto& item : in.items()) {
    bool known = false;
    for (const char* n : names) known = known || item.key() == n;
    if (!known) {
      return Error{.code = code, .message = "unknown parameter " + item.key(), .field = item.key()};
    }
  }
  return std::nullopt;
}

Result<std::vector<health::ProbeObservation>> observations_input(const json& in, TimePoint now) {
  if (!in.contains("probes") || !in["probes"].is_array()) {
    return invalid_field("probes", "probes must be an array");
  }
  std::vector<health::ProbeObservation> out;
  for (size_t i = 0; i < in["probes"].size(); ++i) {
    std::string prefix = "probes[" + std::to_string(i) + "]";
    const json& p = in["probes"][i];
    FieldReader r(p, prefix);
    std::string operation, outcome;
    Duration latency(0), at(to_epoch_ms(now));
    health::ProbeObservation o{.operation = Operation::kGet};
    r.read_string("operation", operation);
    r.read_string("outcome", outcome);
    r.read_bool("found", o.found);
    r.read_duration("latency_ms", latency, Duration(0), Duration(86'400'000));
    r.read_string("error", o.error);
    r.read_duration("at_ms", at, Duration(0), Duration(kMaxEpochMs));
    if (auto e = r.finish()) return *e;
    auto op = parse_operation(operation);
    if (!op) return invalid_field(prefix + ".operation", prefix + ".operation is not an operation");
    auto oc = health::parse_probe_outcome(outcome);
    if (!oc) {
      return invalid_field(prefix + ".outcome",
                           prefix + ".outcome must be ok, error, timeout or refused");
    }
    o.operation = *op;
    o.outcome = *oc;
    o.latency = latency;
    o.at = TimePoint(at);
    out.push_back(std::move(o));
  }
  return out;
}

health::EventOptions event_options(const health::MonitorConfig& c) {
  return health::EventOptions{.alert_on_failure = c.alert_on_failure,
                              .alert_on_recovery = c.alert_on_recovery};
}

// {"current": config|null, "update": {...}} -> the merged config and the breaker options it
// implies. Changes nothing: `health_config_apply` does, once the config is stored.
Result<json> health_config_update(Engine& e, const json& in, TimePoint) {
  if (auto err = only_fields(in, {"current", "update"}, "invalid_field")) return *err;
  auto current = config_input(in, "current");
  if (!current.ok()) return current.error();
  health::MonitorConfig merged = current.value();
  if (in.contains("update")) {
    auto updated = codec::config_from_json(in["update"], current.value());
    if (!updated.ok()) return updated.error();
    merged = updated.value();
  }
  breaker::Options options = health::breaker_options_for(merged, e.breaker().options());
  if (auto err = options.validate()) return *err;
  return json{{"config", codec::config_to_json(merged)},
              {"breaker_options", codec::options_to_json(options)}};
}

// {"config": {...}} -> applies failure_threshold, recovery_timeout_ms and
// slow_response_threshold_ms to the breaker at once.
Result<json> health_config_apply(Engine& e, const json& in, TimePoint now) {
  if (auto err = only_fields(in, {"config"}, "invalid_field")) return *err;
  auto config = config_input(in, "config");
  if (!config.ok()) return config.error();
  breaker::Options options = health::breaker_options_for(config.value(), e.breaker().options());
  if (auto err = options.validate()) return *err;
  json out = codec::status_to_json(e.breaker().reconfigure(options, now));
  out["options"] = codec::options_to_json(options);
  return out;
}

// {"config", "state", "trigger", "nonce"} -> whether the round runs and, if so, its steps.
Result<json> health_probe_plan(Engine&, const json& in, TimePoint now) {
  if (auto err = only_fields(in, {"config", "state", "trigger", "nonce"}, "invalid_field")) {
    return *err;
  }
  auto config = config_input(in, "config");
  if (!config.ok()) return config.error();
  auto state = state_input(in);
  if (!state.ok()) return state.error();
  auto trigger = trigger_input(in);
  if (!trigger.ok()) return trigger.error();
  bool scheduled = trigger.value() == health::Trigger::kScheduled;
  health::RunDecision d =
      health::should_run_scheduled(config.value(), state.value().last_scheduled_round_at, now);
  json next = d.next_at ? json(d.next_at->time_since_epoch().count()) : json(nullptr);
  if (scheduled && !d.run) {
    return json{{"run", false}, {"reason", d.reason}, {"next_round_ms", next}};
  }
  std::string nonce =
      in.contains("nonce") && in["nonce"].is_string() ? in["nonce"].get<std::string>() : "";
  auto plan = health::plan_round(config.value(), nonce, now);
  if (!plan.ok()) return plan.error();
  json out = codec::plan_to_json(plan.value());
  out["run"] = true;
  // A scheduled round is followed by the next check_interval_ms later; a manual one leaves the
  // schedule as it was.
  out["next_round_ms"] = scheduled ? next : json(nullptr);
  return out;
}

// {"config", "state", "trigger", "round_id", "probes": [{operation, outcome, found,
// latency_ms, error, at_ms}]} -> the judged checks, the round's summary, the events it raises
// or clears, the next state, and the hours and days whose aggregates the Worker recomputes
// (`tally`, null without checks). The breaker's state is `breaker_state` (the Worker reads it
// from the request path's engine, r2watch.wasm: this one may be the console's), else this
// engine's now.
Result<json> health_round_evaluate(Engine& e, const json& in, TimePoint now) {
  if (auto err = only_fields(
          in, {"config", "state", "trigger", "round_id", "probes", "started_ms", "breaker_state"},
          "invalid_field")) {
    return *err;
  }
  breaker::State breaker_state = e.breaker().status(now).state;
  if (in.contains("breaker_state")) {
    auto parsed = in["breaker_state"].is_string()
                      ? breaker::parse_state(in["breaker_state"].get<std::string>())
                      : std::nullopt;
    if (!parsed) return invalid_field("breaker_state", "breaker_state must be the breaker's state");
    breaker_state = *parsed;
  }
  auto config = config_input(in, "config");
  if (!config.ok()) return config.error();
  auto state = state_input(in);
  if (!state.ok()) return state.error();
  auto trigger = trigger_input(in);
  if (!trigger.ok()) return trigger.error();
  auto observations = observations_input(in, now);
  if (!observations.ok()) return observations.error();
  TimePoint started = now;
  if (in.contains("started_ms")) {
    if (!in["started_ms"].is_number_integer()) {
      return invalid_field("started_ms", "started_ms must be a whole number");
    }
    started = from_epoch_ms(in["started_ms"].get<int64_t>());
  }
  auto results = health::classify_round(observations.value(), config.value());
  health::RoundSummary summary = health::summarize(results, breaker_state, started);
  health::DerivedEvents derived = health::derive_events(
      state.value(), summary, now, trigger.value(), event_options(config.value()));
  std::optional<health::TallyPeriods> tally = health::tally_periods(results);
  json checks = json::array();
  for (const auto& r : results) checks.push_back(codec::result_to_json(r));
  json events = json::array();
  for (const auto& ev : derived.events) events.push_back(codec::event_to_json(ev));
  return json{{"round_id", in.contains("round_id") ? in["round_id"] : json(nullptr)},
              {"trigger", trigger.value() == health::Trigger::kScheduled ? "scheduled" : "manual"},
              {"checks", checks},
              {"summary", codec::summary_to_json(summary)},
              {"events", events},
              {"ignored", derived.ignored},
              {"tally", tally ? codec::tally_to_json(*tally) : json(nullptr)},
              {"state", codec::state_to_json(derived.next)}};
}

// {"keys": [...], "stale_after_ms": n} -> the probe objects to delete.
Result<json> health_cleanup(Engine&, const json& in, TimePoint now) {
  FieldReader r(in);
  Duration stale_after(0);
  r.read_duration("stale_after_ms", stale_after, Duration(0), Duration(86'400'000));
  bool has_keys = r.has("keys");
  if (auto err = r.finish()) return *err;
  std::vector<std::string> keys;
  if (has_keys) {
    if (!in["keys"].is_array()) return invalid_field("keys", "keys must be an array");
    for (const json& k : in["keys"]) {
      if (!k.is_string()) return invalid_field("keys", "keys must hold strings");
      keys.push_back(k.get<std::string>());
    }
  }
  return json{{"delete", health::stale_probe_keys(keys, now, stale_after)}};
}

// {"config"} -> probe results checked before `delete_before_ms` are past retention.
Result<json> health_retention(Engine&, const json& in, TimePoint now) {
  if (auto err = only_fields(in, {"config"}, "invalid_field")) return *err;
  auto config = config_input(in, "config");
  if (!config.ok()) return config.error();
  return json{{"retention_days", config.value().retention_days},
              {"delete_before_ms", to_epoch_ms(health::retention_cutoff(config.value(), now))}};
}

// Query-string text {limit, offset, operation, from_ms, to_ms} -> checked values.
Result<json> health_history_query(Engine&, const json& in, TimePoint) {
  if (auto err =
          only_fields(in, {"limit", "offset", "operation", "from_ms", "to_ms"}, "invalid_query")) {
    return *err;
  }
  const health::PageLimits& page = health::kPageLimits;
  auto limit = query_number(in, "limit", 1, page.max_limit, page.default_limit);
  if (!limit.ok()) return limit.error();
  auto offset = query_number(in, "offset", 0, page.max_offset, 0);
  if (!offset.ok()) return offset.error();
  auto from = query_number(in, "from_ms", 0, kMaxEpochMs, 0);
  if (!from.ok()) return from.error();
  auto to = query_number(in, "to_ms", 0, kMaxEpochMs, kMaxEpochMs);
  if (!to.ok()) return to.error();
  if (from.value() > to.value()) return invalid_query("from_ms", "from_ms must not be after to_ms");
  json out = {{"limit", limit.value()},
              {"offset", offset.value()},
              {"from_ms", from.value()},
              {"to_ms", to.value()},
              {"operation", nullptr}};
  if (in.contains("operation")) {
    auto op = in["operation"].is_string() ? parse_operation(in["operation"].get<std::string>())
                                          : std::nullopt;
    if (!op) {
      return invalid_query("operation", "operation must be one of get, put, delete, list, head");
    }
    out["operation"] = operation_name(*op);
  }
  return out;
}

// Query-string text {hours} -> the time range of GET /api/health/metrics.
Result<json> health_metrics_query(Engine&, const json& in, TimePoint now) {
  if (auto err = only_fields(in, {"hours"}, "invalid_query")) return *err;
  auto hours = query_number(in, "hours", 1, health::kMaxMetricsHours, health::kDefaultMetricsHours);
  if (!hours.ok()) return hours.error();
  health::TimeRange range = health::last_hours(hours.value(), now);
  return json{{"hours", hours.value()},
              {"since_ms", to_epoch_ms(range.since)},
              {"until_ms", to_epoch_ms(range.until)}};
}

// {"checks": [[operation, ok (0|1), response_time_ms], ...]} -> per operation: checks,
// success and error rates, average and p95 response time.
Result<json> health_metrics(Engine&, const json& in, TimePoint) {
  if (auto err = only_fields(in, {"checks"}, "invalid_field")) return *err;
  if (!in.contains("checks") || !in["checks"].is_array()) {
    return invalid_field("checks", "checks must be an array");
  }
  std::vector<health::StoredCheck> checks;
  checks.reserve(in["checks"].size());
  for (const json& row : in["checks"]) {
    std::optional<Operation> op;
    if (row.is_array() && row.size() == 3 && row[0].is_string() && row[1].is_number_integer() &&
        row[2].is_number_integer()) {
      op = parse_operation(row[0].get<std::string>());
    }
    if (!op) return invalid_field("checks", "each check must be [operation, ok, response_time_ms]");
    checks.push_back({.operation = *op,
                      .ok = row[1].get<int64_t>() != 0,
                      .response_time = Duration(row[2].get<int64_t>())});
  }
  json ops = json::object();
  auto opt = [](const auto& v) { return v ? json(*v) : json(nullptr); };
  for (const auto& s : health::operation_stats(checks)) {
    ops[std::string(operation_name(s.operation))] = {{"checks", s.checks},
                                                     {"successes", s.successes},
                                                     {"success_rate_pct", opt(s.success_rate_pct)},
                                                     {"error_rate_pct", opt(s.error_rate_pct)},
                                                     {"avg_response_ms", opt(s.avg_response_ms)},
                                                     {"p95_response_ms", opt(s.p95_response_ms)}};
  }
  return json{{"operations", ops}, {"checks", checks.size()}};
}

// Query-string text {status, limit, offset} -> checked values for GET /api/health/alerts.
Result<json> health_alerts_query(Engine&, const json& in, TimePoint) {
  if (auto err = only_fields(in, {"status", "limit", "offset"}, "invalid_query")) return *err;
  const health::PageLimits& page = health::kPageLimits;
  auto limit = query_number(in, "limit", 1, page.max_limit, page.default_limit);
  if (!limit.ok()) return limit.error();
  auto offset = query_number(in, "offset", 0, page.max_offset, 0);
  if (!offset.ok()) return offset.error();
  json status = nullptr;
  if (in.contains("status")) {
    if (in["status"] != "active" && in["status"] != "resolved") {
      return invalid_query("status", "status must be active or resolved");
    }
    status = in["status"];
  }
  return json{{"status", status}, {"limit", limit.value()}, {"offset", offset.value()}};
}

// Query-string text {limit} -> how many of the breaker's latest transitions GET
// /api/health/circuit-breaker/events lists (`limit`), and how many GET
// /api/health/circuit-breaker shows (`recent_limit`).
Result<json> health_breaker_events_query(Engine&, const json& in, TimePoint) {
  if (auto err = only_fields(in, {"limit"}, "invalid_query")) return *err;
  const health::PageLimits& page = health::kPageLimits;
  auto limit = query_number(in, "limit", 1, page.max_limit, page.default_limit);
  if (!limit.ok()) return limit.error();
  return json{{"limit", limit.value()}, {"recent_limit", health::kRecentBreakerTransitions}};
}

// {"id": text from the path, "note": "..."} -> checked values for resolving an alert.
Result<json> health_alert_resolve(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  std::string id_text, note;
  r.read_string("id", id_text);
  r.read_string("note", note);
  if (auto err = r.finish()) return *err;
  auto id = query_number(json{{"id", id_text}}, "id", 1, INT64_C(1) << 53, std::nullopt);
  if (!id.ok()) return Error{.code = "not_found", .message = "no alert with id " + id_text};
  size_t first = note.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || note.size() > 2'000) {
    return invalid_field("note", "note must say how the alert was resolved (1 to 2000 characters)");
  }
  return json{{"id", id.value()}, {"note", note}};
}

// Replays probe rounds through judgement and event derivation, for the golden cases:
// {"config": {...}, "rounds": [{"at_ms", "breaker_state", "scheduled", "probes": [...]}]}.
Result<json> health_events_simulate(Engine&, const json& in, TimePoint) {
  if (auto err = only_fields(in, {"config", "rounds"}, "invalid_field")) return *err;
  auto config = config_input(in, "config");
  if (!config.ok()) return config.error();
  if (!in.contains("rounds") || !in["rounds"].is_array()) {
    return invalid_field("rounds", "rounds must be an array");
  }
  health::MonitorState state;
  json trace = json::array();
  for (size_t i = 0; i < in["rounds"].size(); ++i) {
    const json& round = in["rounds"][i];
    std::string prefix = "rounds[" + std::to_string(i) + "]";
    if (!round.is_object()) return invalid_field(prefix, prefix + " must be an object");
    FieldReader r(round, prefix);
    Duration at(0);
    std::string breaker_state = "closed";
    bool scheduled = true;
    r.read_duration("at_ms", at, Duration(0), Duration(kMaxEpochMs));
    r.read_string("breaker_state", breaker_state);
    r.read_bool("scheduled", scheduled);
    r.has("probes");
    if (auto err = r.finish()) return *err;
    auto bstate = breaker::parse_state(breaker_state);
    if (!bstate) return invalid_field(prefix + ".breaker_state", prefix + ".breaker_state");
    TimePoint now(at);
    auto observations = observations_input(round, now);
    if (!observations.ok()) return prefixed(observations.error(), prefix);
    auto results = health::classify_round(observations.value(), config.value());
    health::RoundSummary summary = health::summarize(results, *bstate, now);
    health::DerivedEvents d = health::derive_events(
        state, summary, now, scheduled ? health::Trigger::kScheduled : health::Trigger::kManual,
        event_options(config.value()));
    state = d.next;
    json statuses = json::array();
    for (const auto& res : results) statuses.push_back(health::probe_status_name(res.status));
    json events = json::array();
    for (const auto& ev : d.events) events.push_back(codec::event_to_json(ev));
    trace.push_back({{"at_ms", at.count()},
                     {"statuses", statuses},
                     {"error_rate_pct", codec::summary_to_json(summary)["error_rate_pct"]},
                     {"events", events}});
  }
  return json{{"rounds", trace}, {"state", codec::state_to_json(state)}};
}

}  // namespace

// The commands that read or change the request path's breaker options, so they run in the
// engine that holds it (r2watch.wasm, wasm-bindings/modules.cc).
std::span<const CommandEntry> health_breaker_commands() {
  static constexpr CommandEntry kCommands[] = {
      {"health_config_update", &health_config_update},
      {"health_config_apply", &health_config_apply},
  };
  return kCommands;
}

std::span<const CommandEntry> health_commands() {
  static constexpr CommandEntry kCommands[] = {
      {"health_probe_plan", &health_probe_plan},
      {"health_round_evaluate", &health_round_evaluate},
      {"health_cleanup", &health_cleanup},
#ifdef R2W_TEST_COMMANDS  // only tests call it (testdata/golden/test-only-commands.txt)
      {"health_retention", &health_retention},
#endif
      {"health_history_query", &health_history_query},
      {"health_metrics_query", &health_metrics_query},
      {"health_metrics", &health_metrics},
      {"health_alerts_query", &health_alerts_query},
      {"health_breaker_events_query", &health_breaker_events_query},
      {"health_alert_resolve", &health_alert_resolve},
#ifdef R2W_TEST_COMMANDS  // only tests call it (testdata/golden/test-only-commands.txt)
      {"health_events_simulate", &health_events_simulate},
#endif
  };
  return kCommands;
}

}  // namespace r2w::bindings
