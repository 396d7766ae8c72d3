// Commands of the breaker, the injected faults and the health verdict.
#include <algorithm>
#include <string>

#include "core/health/health-verdict.h"
#include "wasm-bindings/codec/breaker.h"
#include "wasm-bindings/codec/faults.h"
#include "wasm-bindings/codec/health.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/codec/ops.h"
#include "wasm-bindings/commands.h"
#include "wasm-bindings/engine.h"

namespace r2w::bindings {

using json = Json;
using codec::options_to_json;
using codec::status_to_json;
using codec::transition_to_json;

namespace {

json status_with_options(Engine& e, TimePoint now) {
  json out = status_to_json(e.breaker().status(now));
  out["options"] = options_to_json(e.breaker().options());
  return out;
}

json persisted(Engine& e) {
  return {{"options", options_to_json(e.breaker().options())},
          {"snapshot", codec::snapshot_to_json(e.breaker().snapshot())}};
}

// A breaker continued from a saved snapshot (codec::snapshot_from_json's form) with `options`.
Result<breaker::CircuitBreaker> restored_breaker(const breaker::Options& options,
                                                 const json& snapshot) {
  auto snap = codec::snapshot_from_json(snapshot);
  if (!snap.ok()) return prefixed(snap.error(), "snapshot");
  auto restored = breaker::CircuitBreaker::restore(options, snap.value());
  if (!restored.ok()) return prefixed(restored.error(), "snapshot");
  return restored;
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
  auto options = codec::options_from_json(in, e.breaker().options());
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

// The "options" member of a saved breaker (the defaults when it has none).
Result<breaker::Options> options_member(const json& in, bool present) {
  if (!present) return breaker::Options{};
  auto parsed = codec::options_from_json(in["options"], breaker::Options{});
  if (!parsed.ok()) return prefixed(parsed.error(), "options");
  return parsed.value();
}

// Loads what breaker_snapshot wrote: {"options": {...}, "snapshot": {...}}.
Result<json> breaker_restore(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  bool has_options = r.has("options");
  bool has_snapshot = r.has("snapshot");
  if (auto err = r.finish()) return *err;
  auto read = options_member(in, has_options);
  if (!read.ok()) return read.error();
  const breaker::Options options = read.value();
  if (!has_snapshot) {
    e.breaker().reconfigure(options, now);
    return status_with_options(e, now);
  }
  auto restored = restored_breaker(options, in["snapshot"]);
  if (!restored.ok()) return restored.error();
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
  auto options = options_member(in, has_options);
  if (!options.ok()) return options.error();
  auto created = breaker::CircuitBreaker::create(options.value(), TimePoint{});
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

// ---- the shared breaker (one per bucket, in a Durable Object) and each isolate's link to it --

// At most this many runs in one report (SyncPolicy::max_pending_runs is at most 10,000).
constexpr size_t kMaxReportedRuns = 10'000;

json shared_state_to_json(const breaker::SharedState& s) {
  return {{"state", breaker::state_name(s.state)},
          {"since_ms", to_epoch_ms(s.since)},
          {"generation", s.generation}};
}

Result<breaker::SharedState> shared_state_from_json(const json& in, const std::string& prefix) {
  if (!in.is_object()) return invalid_field(prefix, prefix + " must be an object");
  FieldReader r(in, prefix);
  std::string state;
  r.read_string("state", state);
  bool has_since = r.has("since_ms");
  bool has_generation = r.has("generation");
  if (auto err = r.finish()) return *err;
  auto parsed = breaker::parse_state(state);
  if (!parsed) return invalid_field(prefix + ".state", prefix + ".state is not a breaker state");
  if (!has_since || !in["since_ms"].is_number_integer()) {
    return invalid_field(prefix + ".since_ms", prefix + ".since_ms must be a time in ms");
  }
  if (!has_generation || !in["generation"].is_number_unsigned()) {
    return invalid_field(prefix + ".generation",
                         prefix + ".generation must be a non-negative integer");
  }
  return breaker::SharedState{.state = *parsed,
                              .since = from_epoch_ms(in["since_ms"].get<int64_t>()),
                              .generation = in["generation"].get<uint64_t>()};
}

// Runs of calls as [[at_ms (the last), ok (1|0), mean latency_ms, count], ...].
json report_to_json(const breaker::Report& r) {
  json calls = json::array();
  for (const auto& c : r.calls) {
    calls.push_back(
        {to_epoch_ms(c.at), c.outcome.success ? 1 : 0, c.outcome.latency.count(), c.count});
  }
  return {{"calls", std::move(calls)},
          {"dropped_calls", r.dropped_calls},
          {"local_state", breaker::state_name(r.local_state)},
          {"local_since_ms", to_epoch_ms(r.local_since)}};
}

Result<breaker::Report> report_from_json(const json& in) {
  if (!in.is_object()) return invalid_field("report", "report must be an object");
  FieldReader r(in, "report");
  bool has_calls = r.has("calls");
  uint32_t dropped = 0;
  r.read_uint("dropped_calls", dropped, 0, UINT32_MAX);
  std::string state = "closed";
  r.read_string("local_state", state);
  bool has_since = r.has("local_since_ms");
  if (auto err = r.finish()) return *err;
  breaker::Report report{.dropped_calls = dropped};
  auto parsed = breaker::parse_state(state);
  if (!parsed)
    return invalid_field("report.local_state", "report.local_state is not a breaker state");
  report.local_state = *parsed;
  if (has_since) {
    if (!in["local_since_ms"].is_number_integer()) {
      return invalid_field("report.local_since_ms", "report.local_since_ms must be a time in ms");
    }
    report.local_since = from_epoch_ms(in["local_since_ms"].get<int64_t>());
  }
  if (!has_calls) return report;
  const json& calls = in["calls"];
  if (!calls.is_array() || calls.size() > kMaxReportedRuns) {
    return invalid_field("report.calls", "report.calls must be an array of at most 10000 runs");
  }
  report.calls.reserve(calls.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    const json& c = calls[i];
    if (!c.is_array() || c.size() != 4 || !c[0].is_number_integer() || !c[1].is_number_unsigned() ||
        c[1].get<uint64_t>() > 1 || !c[2].is_number_unsigned() ||
        c[2].get<uint64_t>() > 86'400'000 || !c[3].is_number_unsigned() ||
        c[3].get<uint64_t>() < 1 || c[3].get<uint64_t>() > breaker::kMaxRunCalls) {
      std::string field = "report.calls[" + std::to_string(i) + "]";
      return invalid_field(field,
                           field + " must be [at_ms, ok (1 or 0), latency_ms, count (1..1000000)]");
    }
    report.calls.push_back(breaker::ReportedCall{
        .at = from_epoch_ms(c[0].get<int64_t>()),
        .outcome = {.success = c[1].get<uint64_t>() == 1,
                    .latency = Duration(static_cast<int64_t>(c[2].get<uint64_t>()))},
        .count = static_cast<uint32_t>(c[3].get<uint64_t>())});
  }
  return report;
}

json optional_time(const std::optional<TimePoint>& t) {
  return t ? json(to_epoch_ms(*t)) : json(nullptr);
}

json sync_status_to_json(const breaker::IsolateSync& s) {
  return {{"standing", breaker::sync_standing_name(s.standing())},
          {"reason", s.standing_reason()},
          {"known_generation", s.known_generation()},
          {"shared", s.last_shared() ? shared_state_to_json(*s.last_shared()) : json(nullptr)},
          {"last_ok_ms", optional_time(s.last_ok())},
          {"last_failure_ms", optional_time(s.last_failure())},
          {"last_error", s.last_error().empty() ? json(nullptr) : json(s.last_error())},
          {"pending_runs", s.pending_runs()},
          {"dropped_calls", s.dropped_calls()},
          {"next_sync_ms", to_epoch_ms(s.next_sync_at())},
          {"refresh_interval_ms", s.policy().refresh_interval.count()},
          {"call_timeout_ms", s.policy().call_timeout.count()}};
}

Result<breaker::IsolateSync*> need_sync(Engine& e) {
  if (!e.sync()) {
    return Error{.code = "not_enabled",
                 .message = "the shared breaker link is not enabled (breaker_sync_enable)"};
  }
  return &*e.sync();
}

Result<breaker::SharedBreaker*> need_shared(Engine& e) {
  if (!e.shared()) {
    return Error{.code = "not_loaded",
                 .message = "this engine holds no shared breaker (breaker_shared_load)"};
  }
  return &*e.shared();
}

// {"refresh_interval_ms"?, "retry_after_failure_ms"?, "call_timeout_ms"?, "run_span_ms"?,
// "max_pending_runs"?}: from now on every
// recorded call is also held for the shared breaker.
Result<json> breaker_sync_enable(Engine& e, const json& in, TimePoint) {
  breaker::SyncPolicy policy;
  FieldReader r(in);
  r.read_duration("refresh_interval_ms", policy.refresh_interval, Duration(0), Duration(INT32_MAX));
  r.read_duration("retry_after_failure_ms", policy.retry_after_failure, Duration(0),
                  Duration(INT32_MAX));
  r.read_duration("call_timeout_ms", policy.call_timeout, Duration(0), Duration(INT32_MAX));
  r.read_duration("run_span_ms", policy.run_span, Duration(0), Duration(INT32_MAX));
  r.read_uint("max_pending_runs", policy.max_pending_runs, 0, UINT32_MAX);
  if (auto err = r.finish()) return *err;
  if (auto err = policy.validate()) return *err;
  e.sync().emplace(policy);
  return sync_status_to_json(*e.sync());
}

// The report to send to the shared breaker now (its calls leave the queue).
Result<json> breaker_sync_take(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  if (auto err = r.finish()) return *err;
  auto sync = need_sync(e);
  if (!sync.ok()) return sync.error();
  breaker::Report report = sync.value()->take_report(e.breaker(), now);
  return json{{"report", report_to_json(report)},
              {"next_sync_ms", to_epoch_ms(sync.value()->next_sync_at())}};
}

// {"shared": {state, since_ms, generation}} as the shared breaker answered: adopted by the
// local breaker (a transition to persist when "adopted").
Result<json> breaker_sync_answer(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  bool has_shared = r.has("shared");
  if (auto err = r.finish()) return *err;
  if (!has_shared) return invalid_field("shared", "shared is required");
  auto shared = shared_state_from_json(in["shared"], "shared");
  if (!shared.ok()) return shared.error();
  auto sync = need_sync(e);
  if (!sync.ok()) return sync.error();
  breaker::Adoption a = sync.value()->on_answer(e.breaker(), shared.value(), now);
  return json{{"adoption", breaker::adoption_name(a)},
              {"state", breaker::state_name(e.breaker().state())},
              {"pending_transitions", e.breaker().pending_transitions()},
              {"next_sync_ms", to_epoch_ms(sync.value()->next_sync_at())}};
}

// {"error": "..."}: the shared breaker could not be reached.
Result<json> breaker_sync_failed(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  std::string error;
  r.read_string("error", error);
  if (auto err = r.finish()) return *err;
  auto sync = need_sync(e);
  if (!sync.ok()) return sync.error();
  sync.value()->on_failure(error.substr(0, 300), now);
  return sync_status_to_json(*sync.value());
}

Result<json> breaker_sync_status(Engine& e, const json& in, TimePoint) {
  FieldReader r(in);
  if (auto err = r.finish()) return *err;
  if (!e.sync()) return json{{"standing", "off"}};
  return sync_status_to_json(*e.sync());
}

json shared_view(breaker::SharedBreaker& s, TimePoint now) {
  json out = shared_state_to_json(s.state(now));
  out["status"] = status_to_json(s.breaker().status(now));
  out["options"] = options_to_json(s.breaker().options());
  return out;
}

// {"options"?, "snapshot"?, "generation"?}: what breaker_shared_save wrote, or only options
// (a new shared breaker, whose generation starts at `now` in ms).
Result<json> breaker_shared_load(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  bool has_options = r.has("options");
  bool has_snapshot = r.has("snapshot");
  bool has_generation = r.has("generation");
  if (auto err = r.finish()) return *err;
  auto read = options_member(in, has_options);
  if (!read.ok()) return read.error();
  const breaker::Options options = read.value();
  if (has_snapshot) {
    if (!has_generation || !in["generation"].is_number_unsigned()) {
      return invalid_field("generation", "generation must be a non-negative integer");
    }
    auto restored = restored_breaker(options, in["snapshot"]);
    if (!restored.ok()) return restored.error();
    e.shared().emplace(std::move(restored).value(), in["generation"].get<uint64_t>());
  } else {
    auto created = breaker::SharedBreaker::create(options, now);
    if (!created.ok()) return created.error();
    e.shared().emplace(std::move(created).value());
  }
  return shared_view(*e.shared(), now);
}

// {"report": {...}} from an isolate -> the shared state after it, and whether it changed.
Result<json> breaker_shared_report(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  bool has_report = r.has("report");
  if (auto err = r.finish()) return *err;
  if (!has_report) return invalid_field("report", "report is required");
  auto report = report_from_json(in["report"]);
  if (!report.ok()) return report.error();
  auto shared = need_shared(e);
  if (!shared.ok()) return shared.error();
  return json{{"shared", shared_state_to_json(shared.value()->apply(report.value(), now))},
              {"pending_transitions", shared.value()->breaker().pending_transitions()}};
}

Result<json> breaker_shared_state(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  if (auto err = r.finish()) return *err;
  auto shared = need_shared(e);
  if (!shared.ok()) return shared.error();
  return shared_view(*shared.value(), now);
}

Result<json> breaker_shared_command(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  std::string action;
  r.read_string("action", action);
  if (auto err = r.finish()) return *err;
  auto shared = need_shared(e);
  if (!shared.ok()) return shared.error();
  if (action == "reset") {
    shared.value()->reset(now);
  } else if (action == "force_open") {
    shared.value()->force_open(now);
  } else if (action == "disable") {
    shared.value()->disable(now);
  } else {
    return invalid_field("action", "action must be one of reset, force_open, disable");
  }
  return shared_view(*shared.value(), now);
}

// The same options fields as breaker_configure, merged over the shared breaker's.
Result<json> breaker_shared_configure(Engine& e, const json& in, TimePoint now) {
  auto shared = need_shared(e);
  if (!shared.ok()) return shared.error();
  auto options = codec::options_from_json(in, shared.value()->breaker().options());
  if (!options.ok()) return options.error();
  shared.value()->reconfigure(options.value(), now);
  return shared_view(*shared.value(), now);
}

// What to keep in the object's storage, and the transitions since the last save.
Result<json> breaker_shared_save(Engine& e, const json& in, TimePoint) {
  FieldReader r(in);
  if (auto err = r.finish()) return *err;
  auto shared = need_shared(e);
  if (!shared.ok()) return shared.error();
  breaker::CircuitBreaker& b = shared.value()->breaker();
  json list = json::array();
  for (const auto& t : b.take_transitions()) list.push_back(transition_to_json(t));
  return json{{"options", options_to_json(b.options())},
              {"snapshot", codec::snapshot_to_json(b.snapshot())},
              {"generation", shared.value()->generation()},
              {"transitions", std::move(list)}};
}

Result<json> faults_set(Engine& e, const json& in, TimePoint) {
  auto change = codec::fault_change_from_json(in);
  if (!change.ok()) return change.error();
  auto changed = e.fault_plan().apply(change.value());
  json out = codec::fault_state_to_json(e.fault_plan().state());
  out["changed"] = changed;
  return out;
}

Result<json> faults_get(Engine& e, const json& in, TimePoint) {
  FieldReader r(in);
  if (auto err = r.finish()) return *err;
  return codec::fault_state_to_json(e.fault_plan().state());
}

Result<json> faults_clear(Engine& e, const json& in, TimePoint) {
  FieldReader r(in);
  if (auto err = r.finish()) return *err;
  e.fault_plan().clear();
  return codec::fault_state_to_json(e.fault_plan().state());
}

Result<json> faults_restore(Engine& e, const json& in, TimePoint) {
  auto plan = codec::fault_state_from_json(in);
  if (!plan.ok()) return plan.error();
  e.fault_plan().restore(plan.value());
  return codec::fault_state_to_json(e.fault_plan().state());
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
    auto jobs = codec::job_statuses_from_json(in["jobs"], now);
    if (!jobs.ok()) return jobs.error();
    obs.jobs = jobs.value();
  }
  if (has_round && !in["probe_round"].is_null()) {
    auto round = codec::summary_from_json(in["probe_round"]);
    if (!round.ok()) return prefixed(round.error(), "probe_round");
    obs.last_round = round.value();
  }
  health::VerdictOptions options{.degraded_response = e.breaker().options().slow_call_duration};
  health::Verdict verdict = health::judge(obs, options);
  // Where isolates share one breaker: an unreachable shared breaker leaves each isolate on its
  // own (still protected, but deciding alone), which is degraded.
  if (e.sync()) {
    bool unreachable = e.sync()->standing() == breaker::SyncStanding::kUnreachable;
    health::Component c{.name = "shared_breaker",
                        .level = unreachable ? health::Level::kDegraded : health::Level::kHealthy,
                        .reason = e.sync()->standing_reason()};
    verdict.overall = std::max(verdict.overall, c.level);
    verdict.components.push_back(std::move(c));
  }
  json out = codec::verdict_to_json(verdict);
  if (e.sync()) out["shared_breaker"] = sync_status_to_json(*e.sync());
  out["breaker"] = status_to_json(obs.breaker);
  out["operations"] = operation_figures(e);
  out["probe_round"] = obs.last_round ? codec::summary_to_json(*obs.last_round) : json(nullptr);
  return out;
}

}  // namespace

std::span<const CommandEntry> breaker_commands() {
  static constexpr CommandEntry kCommands[] = {
      {"breaker_status", &breaker_status},
      {"breaker_configure", &breaker_configure},
      {"breaker_command", &breaker_command},
      {"breaker_take_transitions", &breaker_take_transitions},
#ifdef R2W_TEST_COMMANDS  // only tests call it (testdata/golden/test-only-commands.txt)
      {"breaker_snapshot", &breaker_snapshot},
#endif
      {"breaker_restore", &breaker_restore},
      {"breaker_simulate", &breaker_simulate},
      {"breaker_sync_enable", &breaker_sync_enable},
      {"breaker_sync_take", &breaker_sync_take},
      {"breaker_sync_answer", &breaker_sync_answer},
      {"breaker_sync_failed", &breaker_sync_failed},
      {"breaker_sync_status", &breaker_sync_status},
      {"breaker_shared_load", &breaker_shared_load},
      {"breaker_shared_report", &breaker_shared_report},
      {"breaker_shared_state", &breaker_shared_state},
      {"breaker_shared_command", &breaker_shared_command},
      {"breaker_shared_configure", &breaker_shared_configure},
      {"breaker_shared_save", &breaker_shared_save},
      {"faults_set", &faults_set},
      {"faults_get", &faults_get},
      {"faults_clear", &faults_clear},
      {"faults_restore", &faults_restore},
      {"health_verdict", &health_verdict},
  };
  return kCommands;
}

}  // namespace r2w::bindings
