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

Error invalid_query(std::string field, std::string message) {
  return Error{.code = "invalid_query", .message = std::move(message), .field = std::move(field)};
}

// The query-string parameters' reader: every problem is an "invalid_query" (HTTP 400).
constexpr FieldReaderOptions kQuery = {.code = "invalid_query"};

// A config stored earlier (or absent or null: the defaults), in any schema version (see
// codec::stored_config_from_json). A stored config that no longer validates is refused naming
// the field under `name`.
Result<health::MonitorConfig> config_input(const json* in, const char* name) {
  if (!in || in->is_null()) return health::MonitorConfig{};
  auto c = codec::stored_config_from_json(*in);
  if (!c.ok()) return prefixed(c.error(), name);
  return c;
}

Result<health::MonitorState> state_input(const json* in) {
  if (!in) return health::MonitorState{};
  return codec::monitor_state_from_json(*in);
}

Result<health::Trigger> trigger_input(const std::optional<std::string>& trigger) {
  if (!trigger || *trigger == "manual") return health::Trigger::kManual;
  if (*trigger == "scheduled") return health::Trigger::kScheduled;
  return invalid_field("trigger", "trigger must be \"scheduled\" or \"manual\"");
}

Result<std::vector<health::ProbeObservation>> observations_input(const json* probes,
                                                                 TimePoint now) {
  if (!probes || !probes->is_array()) return invalid_field("probes", "probes must be an array");
  std::vector<health::ProbeObservation> out;
  for (size_t i = 0; i < probes->size(); ++i) {
    std::string prefix = "probes[" + std::to_string(i) + "]";
    const json& p = (*probes)[i];
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
  FieldReader r(in);
  const json* current_json = r.read_json("current");
  const json* update = r.read_json("update");
  if (auto err = r.finish()) return *err;
  auto current = config_input(current_json, "current");
  if (!current.ok()) return current.error();
  health::MonitorConfig merged = current.value();
  if (update) {
    auto updated = codec::config_from_json(*update, current.value());
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
  FieldReader r(in);
  const json* config_json = r.read_json("config");
  if (auto err = r.finish()) return *err;
  auto config = config_input(config_json, "config");
  if (!config.ok()) return config.error();
  breaker::Options options = health::breaker_options_for(config.value(), e.breaker().options());
  if (auto err = options.validate()) return *err;
  json out = codec::status_to_json(e.breaker().reconfigure(options, now));
  out["options"] = codec::options_to_json(options);
  return out;
}

// {"config", "state", "trigger", "nonce"} -> whether the round runs and, if so, its steps.
Result<json> health_probe_plan(Engine&, const json& in, TimePoint now) {
  FieldReader r(in);
  const json* config_json = r.read_json("config");
  const json* state_json = r.read_json("state");
  std::optional<std::string> trigger_name;
  r.read_optional_string("trigger", trigger_name);
  std::string nonce;
  r.read_string("nonce", nonce);
  if (auto err = r.finish()) return *err;
  auto config = config_input(config_json, "config");
  if (!config.ok()) return config.error();
  auto state = state_input(state_json);
  if (!state.ok()) return state.error();
  auto trigger = trigger_input(trigger_name);
  if (!trigger.ok()) return trigger.error();
  bool scheduled = trigger.value() == health::Trigger::kScheduled;
  health::RunDecision d =
      health::should_run_scheduled(config.value(), state.value().last_scheduled_round_at, now);
  json next = d.next_at ? json(d.next_at->time_since_epoch().count()) : json(nullptr);
  if (scheduled && !d.run) {
    return json{{"run", false}, {"reason", d.reason}, {"next_round_ms", next}};
  }
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
  FieldReader r(in);
  const json* config_json = r.read_json("config");
  const json* state_json = r.read_json("state");
  std::optional<std::string> trigger_name;
  r.read_optional_string("trigger", trigger_name);
  const json* round_id = r.read_json("round_id");
  const json* probes = r.read_json("probes");
  int64_t started_ms = to_epoch_ms(now);
  r.read_whole("started_ms", started_ms);
  std::optional<std::string> breaker_name;
  r.read_optional_string("breaker_state", breaker_name);
  if (auto err = r.finish()) return *err;
  breaker::State breaker_state = e.breaker().status(now).state;
  if (breaker_name) {
    auto parsed = breaker::parse_state(*breaker_name);
    if (!parsed) return invalid_field("breaker_state", "breaker_state must be the breaker's state");
    breaker_state = *parsed;
  }
  auto config = config_input(config_json, "config");
  if (!config.ok()) return config.error();
  auto state = state_input(state_json);
  if (!state.ok()) return state.error();
  auto trigger = trigger_input(trigger_name);
  if (!trigger.ok()) return trigger.error();
  auto observations = observations_input(probes, now);
  if (!observations.ok()) return observations.error();
  TimePoint started = from_epoch_ms(started_ms);
  auto results = health::classify_round(observations.value(), config.value());
  health::RoundSummary summary = health::summarize(results, breaker_state, started);
  health::DerivedEvents derived = health::derive_events(
      state.value(), summary, now, trigger.value(), event_options(config.value()));
  std::optional<health::TallyPeriods> tally = health::tally_periods(results);
  json checks = json::array();
  for (const auto& r : results) checks.push_back(codec::result_to_json(r));
  json events = json::array();
  for (const auto& ev : derived.events) events.push_back(codec::event_to_json(ev));
  return json{{"round_id", round_id ? *round_id : json(nullptr)},
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
  std::vector<std::string> keys;
  r.read_strings("keys", keys, health::kMaxCleanupKeys);
  if (auto err = r.finish()) return *err;
  return json{{"delete", health::stale_probe_keys(keys, now, stale_after)}};
}

// {"config"} -> probe results checked before `delete_before_ms` are past retention.
Result<json> health_retention(Engine&, const json& in, TimePoint now) {
  FieldReader r(in);
  const json* config_json = r.read_json("config");
  if (auto err = r.finish()) return *err;
  auto config = config_input(config_json, "config");
  if (!config.ok()) return config.error();
  return json{{"retention_days", config.value().retention_days},
              {"delete_before_ms", to_epoch_ms(health::retention_cutoff(config.value(), now))}};
}

// Query-string text {limit, offset, operation, from_ms, to_ms} -> checked values.
Result<json> health_history_query(Engine&, const json& in, TimePoint) {
  const health::PageLimits& page = health::kPageLimits;
  FieldReader r(in, "", kQuery);
  int64_t limit = page.default_limit, offset = 0, from = 0, to = kMaxEpochMs;
  r.read_query_int("limit", limit, 1, page.max_limit);
  r.read_query_int("offset", offset, 0, page.max_offset);
  r.read_query_int("from_ms", from, 0, kMaxEpochMs);
  r.read_query_int("to_ms", to, 0, kMaxEpochMs);
  std::optional<std::string> operation;
  r.read_optional_string("operation", operation);
  if (auto err = r.finish()) return *err;
  if (from > to) return invalid_query("from_ms", "from_ms must not be after to_ms");
  json out = {{"limit", limit},
              {"offset", offset},
              {"from_ms", from},
              {"to_ms", to},
              {"operation", nullptr}};
  if (operation) {
    auto op = parse_operation(*operation);
    if (!op) {
      return invalid_query("operation", "operation must be one of get, put, delete, list, head");
    }
    out["operation"] = operation_name(*op);
  }
  return out;
}

// Query-string text {hours} -> the time range of GET /api/health/metrics.
Result<json> health_metrics_query(Engine&, const json& in, TimePoint now) {
  FieldReader r(in, "", kQuery);
  int64_t hours = health::kDefaultMetricsHours;
  r.read_query_int("hours", hours, 1, health::kMaxMetricsHours);
  if (auto err = r.finish()) return *err;
  health::TimeRange range = health::last_hours(hours, now);
  return json{{"hours", hours},
              {"since_ms", to_epoch_ms(range.since)},
              {"until_ms", to_epoch_ms(range.until)}};
}

// {"checks": [[operation, ok (0|1), response_time_ms], ...]} -> per operation: checks,
// success and error rates, average and p95 response time.
Result<json> health_metrics(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  const json* rows = r.read_json("checks");
  if (auto err = r.finish()) return *err;
  if (!rows || !rows->is_array()) return invalid_field("checks", "checks must be an array");
  std::vector<health::StoredCheck> checks;
  checks.reserve(rows->size());
  // [operation, ok (0|1), response_time_ms] rows, as D1 answers `.raw()`.
  for (const json& row : *rows) {
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
  const health::PageLimits& page = health::kPageLimits;
  FieldReader r(in, "", kQuery);
  int64_t limit = page.default_limit, offset = 0;
  r.read_query_int("limit", limit, 1, page.max_limit);
  r.read_query_int("offset", offset, 0, page.max_offset);
  std::optional<std::string> status;
  r.read_optional_string("status", status);
  if (auto err = r.finish()) return *err;
  if (status && *status != "active" && *status != "resolved") {
    return invalid_query("status", "status must be active or resolved");
  }
  return json{{"status", json(status)}, {"limit", limit}, {"offset", offset}};
}

// Query-string text {limit} -> how many of the breaker's latest transitions GET
// /api/health/circuit-breaker/events lists (`limit`), and how many GET
// /api/health/circuit-breaker shows (`recent_limit`).
Result<json> health_breaker_events_query(Engine&, const json& in, TimePoint) {
  const health::PageLimits& page = health::kPageLimits;
  FieldReader r(in, "", kQuery);
  int64_t limit = page.default_limit;
  r.read_query_int("limit", limit, 1, page.max_limit);
  if (auto err = r.finish()) return *err;
  return json{{"limit", limit}, {"recent_limit", health::kRecentBreakerTransitions}};
}

// {"id": text from the path, "note": "..."} -> checked values for resolving an alert.
Result<json> health_alert_resolve(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  std::string id_text, note;
  r.read_string("id", id_text);
  r.read_string("note", note);
  if (auto err = r.finish()) return *err;
  int64_t id = 0;
  const json id_json = {{"id", id_text}};
  FieldReader id_reader(id_json);
  id_reader.read_query_int("id", id, 1, INT64_C(1) << 53);
  if (!id_reader.ok()) {
    return Error{.code = "not_found", .message = "no alert with id " + id_text};
  }
  size_t first = note.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || note.size() > 2'000) {
    return invalid_field("note", "note must say how the alert was resolved (1 to 2000 characters)");
  }
  return json{{"id", id}, {"note", note}};
}

// Replays probe rounds through judgement and event derivation, for the golden cases:
// {"config": {...}, "rounds": [{"at_ms", "breaker_state", "scheduled", "probes": [...]}]}.
Result<json> health_events_simulate(Engine&, const json& in, TimePoint) {
  FieldReader in_reader(in);
  const json* config_json = in_reader.read_json("config");
  const json* rounds = in_reader.read_json("rounds");
  if (auto err = in_reader.finish()) return *err;
  auto config = config_input(config_json, "config");
  if (!config.ok()) return config.error();
  if (!rounds || !rounds->is_array()) return invalid_field("rounds", "rounds must be an array");
  health::MonitorState state;
  json trace = json::array();
  for (size_t i = 0; i < rounds->size(); ++i) {
    const json& round = (*rounds)[i];
    std::string prefix = "rounds[" + std::to_string(i) + "]";
    if (!round.is_object()) return invalid_field(prefix, prefix + " must be an object");
    FieldReader r(round, prefix);
    Duration at(0);
    std::string breaker_state = "closed";
    bool scheduled = true;
    r.read_duration("at_ms", at, Duration(0), Duration(kMaxEpochMs));
    r.read_string("breaker_state", breaker_state);
    r.read_bool("scheduled", scheduled);
    const json* probes = r.read_json("probes");
    if (auto err = r.finish()) return *err;
    auto bstate = breaker::parse_state(breaker_state);
    if (!bstate) return invalid_field(prefix + ".breaker_state", prefix + ".breaker_state");
    TimePoint now(at);
    auto observations = observations_input(probes, now);
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
