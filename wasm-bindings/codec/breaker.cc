#include "wasm-bindings/codec/breaker.h"

#include <cstdint>
#include <optional>
#include <string>

namespace r2w::codec {

namespace {

Error bad_snapshot(std::string field) {
  return Error{.code = "invalid_snapshot",
               .message = "breaker snapshot field " + field + " is missing or malformed",
               .field = std::move(field)};
}

Json totals_json(uint64_t calls, uint64_t failures, uint64_t slow_calls) {
  return {{"calls", calls}, {"failures", failures}, {"slow_calls", slow_calls}};
}

Json window_to_json(const breaker::WindowSnapshot& w) {
  Json j = Json::object();
  j["type"] = breaker::window_type_name(w.type);
  if (w.type == breaker::WindowType::kCountBased) {
    Json calls = Json::array();
    for (uint8_t f : w.calls) calls.push_back(f);
    j["calls"] = std::move(calls);
    return j;
  }
  Json buckets = Json::array();
  for (const auto& b : w.buckets) buckets.push_back({b.index, b.calls, b.failures, b.slow_calls});
  j["buckets"] = std::move(buckets);
  return j;
}

// A window of the wrong shape is not an error: it is dropped (nothing is returned).
std::optional<breaker::WindowSnapshot> window_from_json(const Json& j) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) return std::nullopt;
  auto type = breaker::parse_window_type(j["type"].get<std::string>());
  if (!type) return std::nullopt;
  breaker::WindowSnapshot w{.type = *type};
  if (*type == breaker::WindowType::kCountBased) {
    if (!j.contains("calls") || !j["calls"].is_array()) return std::nullopt;
    for (const Json& flag : j["calls"]) {
      if (!flag.is_number_unsigned() || flag.get<uint64_t>() > UINT8_MAX) return std::nullopt;
      w.calls.push_back(static_cast<uint8_t>(flag.get<uint64_t>()));
    }
    return w;
  }
  if (!j.contains("buckets") || !j["buckets"].is_array()) return std::nullopt;
  for (const Json& b : j["buckets"]) {
    bool shaped = b.is_array() && b.size() == 4 && b[0].is_number_integer();
    for (size_t i = 1; shaped && i < 4; ++i) shaped = b[i].is_number_unsigned();
    if (!shaped) return std::nullopt;
    w.buckets.push_back({.index = b[0].get<int64_t>(),
                         .calls = b[1].get<uint64_t>(),
                         .failures = b[2].get<uint64_t>(),
                         .slow_calls = b[3].get<uint64_t>()});
  }
  return w;
}

}  // namespace

Json options_to_json(const breaker::Options& o) {
  return {
      {"window_type", breaker::window_type_name(o.window_type)},
      {"window_size_calls", o.window_size_calls},
      {"monitoring_window_ms", o.monitoring_window.count()},
      {"window_bucket_ms", o.window_bucket.count()},
      {"minimum_calls", o.minimum_calls},
      {"failure_rate_threshold_pct", o.failure_rate_threshold_pct},
      {"consecutive_failure_threshold", o.consecutive_failure_threshold},
      {"slow_call_duration_ms", o.slow_call_duration.count()},
      {"slow_call_rate_threshold_pct", o.slow_call_rate_threshold_pct},
      {"wait_in_open_ms", o.wait_in_open.count()},
      {"permitted_calls_in_half_open", o.permitted_calls_in_half_open},
      {"max_wait_in_half_open_ms", o.max_wait_in_half_open.count()},
      {"ema_alpha", o.ema_alpha},
  };
}

Result<breaker::Options> options_from_json(const Json& j, const breaker::Options& base) {
  breaker::Options o = base;
  FieldReader r(j);
  std::string window_type(breaker::window_type_name(o.window_type));
  r.read_string("window_type", window_type);
  if (r.ok()) {
    if (auto type = breaker::parse_window_type(window_type)) {
      o.window_type = *type;
    } else {
      r.fail("window_type", "must be \"count_based\" or \"time_based\"");
    }
  }
  // Ranges are checked once, by the core (Options::validate); the reader only checks types.
  constexpr uint64_t kAnyCount = 4'000'000'000;
  constexpr Duration kAnyDuration = Duration(4'000'000'000'000);
  r.read_uint("window_size_calls", o.window_size_calls, 0, kAnyCount);
  r.read_duration("monitoring_window_ms", o.monitoring_window, Duration(0), kAnyDuration);
  r.read_duration("window_bucket_ms", o.window_bucket, Duration(0), kAnyDuration);
  r.read_uint("minimum_calls", o.minimum_calls, 0, kAnyCount);
  r.read_number("failure_rate_threshold_pct", o.failure_rate_threshold_pct, -1e300, 1e300, false);
  r.read_uint("consecutive_failure_threshold", o.consecutive_failure_threshold, 0, kAnyCount);
  r.read_duration("slow_call_duration_ms", o.slow_call_duration, Duration(0), kAnyDuration);
  r.read_number("slow_call_rate_threshold_pct", o.slow_call_rate_threshold_pct, -1e300, 1e300,
                false);
  r.read_duration("wait_in_open_ms", o.wait_in_open, Duration(0), kAnyDuration);
  r.read_uint("permitted_calls_in_half_open", o.permitted_calls_in_half_open, 0, kAnyCount);
  r.read_duration("max_wait_in_half_open_ms", o.max_wait_in_half_open, Duration(0), kAnyDuration);
  r.read_number("ema_alpha", o.ema_alpha, -1e300, 1e300, false);
  if (auto e = r.finish()) return *e;
  if (auto e = o.validate()) return *e;
  return o;
}

Json figures_to_json(const breaker::WindowFigures& f) {
  auto opt = [](const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); };
  return {
      {"calls", f.calls},
      {"failures", f.failures},
      {"slow_calls", f.slow_calls},
      {"failure_rate_pct", opt(f.failure_rate_pct)},
      {"slow_call_rate_pct", opt(f.slow_call_rate_pct)},
      {"consecutive_failures", f.consecutive_failures},
      {"ema_response_ms", opt(f.ema_response_ms)},
  };
}

Json transition_to_json(const breaker::Transition& t) {
  return {
      {"from", breaker::state_name(t.from)},      {"to", breaker::state_name(t.to)},
      {"reason", breaker::reason_name(t.reason)}, {"at_ms", to_epoch_ms(t.at)},
      {"figures", figures_to_json(t.figures)},
  };
}

Json status_to_json(const breaker::Status& s) {
  Json totals = totals_json(s.totals.calls, s.totals.failures, s.totals.slow_calls);
  totals["not_permitted"] = s.totals.not_permitted;
  return {
      {"state", breaker::state_name(s.state)},
      {"since_ms", to_epoch_ms(s.since)},
      {"retry_after_ms", s.retry_after ? Json(s.retry_after->count()) : Json(nullptr)},
      {"window", figures_to_json(s.figures)},
      {"totals", totals},
      {"half_open_trials_in_flight", s.half_open_trials_in_flight},
  };
}

Json snapshot_to_json(const breaker::Snapshot& s) {
  Json totals = totals_json(s.totals.calls, s.totals.failures, s.totals.slow_calls);
  totals["not_permitted"] = s.totals.not_permitted;
  Json out = {
      {"schema_version", kBreakerSnapshotVersion},
      {"state", breaker::state_name(s.state)},
      {"since_ms", to_epoch_ms(s.since)},
      {"consecutive_failures", s.consecutive_failures},
      {"ema_response_ms", s.ema_response_ms ? Json(*s.ema_response_ms) : Json(nullptr)},
      {"totals", totals},
      {"half_open",
       {{"trials_done", s.trials_done},
        {"trial_failures", s.trial_failures},
        {"trial_slow_calls", s.trial_slow_calls}}},
  };
  if (s.window) out["window"] = window_to_json(*s.window);
  return out;
}

Result<breaker::Snapshot> snapshot_from_json(const Json& snap) {
  if (!snap.is_object()) return bad_snapshot("snapshot");
  if (!snap.contains("schema_version") || snap["schema_version"] != kBreakerSnapshotVersion) {
    return Error{.code = "invalid_snapshot",
                 .message = "breaker snapshot schema_version must be 1",
                 .field = "schema_version"};
  }
  auto get_u = [](const Json& obj, const char* key, uint64_t& out) {
    if (!obj.is_object() || !obj.contains(key) || !obj[key].is_number_unsigned()) return false;
    out = obj[key].get<uint64_t>();
    return true;
  };
  auto get_u32 = [&](const Json& obj, const char* key, uint32_t& out) {
    uint64_t v = 0;
    if (!get_u(obj, key, v) || v > UINT32_MAX) return false;
    out = static_cast<uint32_t>(v);
    return true;
  };
  breaker::Snapshot s;
  if (!snap.contains("state") || !snap["state"].is_string()) return bad_snapshot("state");
  auto state = breaker::parse_state(snap["state"].get<std::string>());
  if (!state) return bad_snapshot("state");
  s.state = *state;
  if (!snap.contains("since_ms") || !snap["since_ms"].is_number_integer()) {
    return bad_snapshot("since_ms");
  }
  s.since = from_epoch_ms(snap["since_ms"].get<int64_t>());
  if (!get_u32(snap, "consecutive_failures", s.consecutive_failures)) {
    return bad_snapshot("consecutive_failures");
  }
  if (!snap.contains("ema_response_ms")) return bad_snapshot("ema_response_ms");
  if (snap["ema_response_ms"].is_number()) {
    s.ema_response_ms = snap["ema_response_ms"].get<double>();
  } else if (!snap["ema_response_ms"].is_null()) {
    return bad_snapshot("ema_response_ms");
  }
  const Json none;
  const Json& totals = snap.contains("totals") ? snap["totals"] : none;
  if (!get_u(totals, "calls", s.totals.calls)) return bad_snapshot("totals.calls");
  if (!get_u(totals, "failures", s.totals.failures)) return bad_snapshot("totals.failures");
  if (!get_u(totals, "slow_calls", s.totals.slow_calls)) return bad_snapshot("totals.slow_calls");
  if (!get_u(totals, "not_permitted", s.totals.not_permitted)) {
    return bad_snapshot("totals.not_permitted");
  }
  const Json& half = snap.contains("half_open") ? snap["half_open"] : none;
  if (!get_u32(half, "trials_done", s.trials_done) ||
      !get_u32(half, "trial_failures", s.trial_failures) ||
      !get_u32(half, "trial_slow_calls", s.trial_slow_calls)) {
    return bad_snapshot("half_open");
  }
  if (snap.contains("window")) s.window = window_from_json(snap["window"]);
  return s;
}

}  // namespace r2w::codec
