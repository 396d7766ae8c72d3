#include "core/health/probe-round.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include "wasm-bindings/codec/json.h"

namespace r2w::health {

namespace {

using json = r2w::Json;

constexpr std::array<std::pair<ProbeStatus, std::string_view>, 6> kStatusNames = {{
    {ProbeStatus::kOk, "ok"},
    {ProbeStatus::kSlow, "slow"},
    {ProbeStatus::kUnexpected, "unexpected"},
    {ProbeStatus::kError, "error"},
    {ProbeStatus::kTimeout, "timeout"},
    {ProbeStatus::kCircuitOpen, "circuit_open"},
}};

// The order a round runs its probes in: the object must exist before HEAD and LIST, and DELETE
// removes it last.
constexpr std::array<Operation, 5> kRoundOrder = {
    Operation::kGet, Operation::kPut, Operation::kHead, Operation::kList, Operation::kDelete};

bool valid_nonce(std::string_view nonce) {
  if (nonce.empty() || nonce.size() > 64) return false;
  return std::all_of(nonce.begin(), nonce.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

std::string minutes_text(Duration d) {
  int64_t s = d.count() / 1000;
  if (s < 120) return std::to_string(s) + " s";
  return std::to_string(s / 60) + " min";
}

json names(const std::vector<Operation>& ops) {
  json out = json::array();
  for (Operation op : ops) out.push_back(operation_name(op));
  return out;
}

}  // namespace

Result<ProbePlan> plan_round(const MonitorConfig& config, std::string_view nonce, TimePoint now) {
  if (!valid_nonce(nonce)) {
    return invalid_field("nonce", "nonce must be 1 to 64 letters, digits, '-' or '_'");
  }
  ProbePlan plan;
  plan.round_id = std::to_string(to_epoch_ms(now)) + "-" + std::string(nonce);
  plan.object_key = std::string(kProbePrefix) + plan.round_id;
  plan.missing_key = std::string(kProbePrefix) + "missing-" + plan.round_id;
  plan.timeout = config.timeout;
  // Five probes at most, each cut off at the timeout, plus a minute of slack.
  plan.stale_after = config.timeout * 5 + Duration(60'000);
  bool put = config.probes(Operation::kPut);
  for (Operation op : kRoundOrder) {
    if (!config.probes(op)) continue;
    ProbeStep step{.operation = op};
    switch (op) {
      case Operation::kGet:
        step.key = plan.missing_key;
        break;
      case Operation::kPut:
        step.key = plan.object_key;
        step.body = "r2watch health probe " + plan.round_id;
        break;
      case Operation::kHead:
        step.key = put ? plan.object_key : plan.missing_key;
        break;
      case Operation::kList:
        step.prefix = std::string(kProbePrefix);
        step.limit = kProbeListLimit;
        break;
      case Operation::kDelete:
        step.key = plan.object_key;
        break;
    }
    plan.steps.push_back(std::move(step));
  }
  if (put) plan.cleanup_keys.push_back(plan.object_key);
  return plan;
}

json plan_to_json(const ProbePlan& plan) {
  json steps = json::array();
  for (const ProbeStep& s : plan.steps) {
    json step = {{"operation", operation_name(s.operation)}};
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
            {"prefix", kProbePrefix},
            {"stale_after_ms", plan.stale_after.count()}}}};
}

RunDecision should_run_scheduled(const MonitorConfig& config,
                                 std::optional<TimePoint> last_scheduled_round, TimePoint now) {
  if (!config.enabled) return {false, "monitoring is stopped", std::nullopt};
  if (last_scheduled_round && now - *last_scheduled_round < config.check_interval) {
    return {false,
            "the last scheduled round was " + minutes_text(now - *last_scheduled_round) +
                " ago, less than checkInterval (" + std::to_string(config.check_interval.count()) +
                " ms)",
            *last_scheduled_round + config.check_interval};
  }
  return {true, "", now + config.check_interval};
}

std::optional<ProbeOutcome> parse_probe_outcome(std::string_view name) {
  if (name == "ok") return ProbeOutcome::kOk;
  if (name == "error") return ProbeOutcome::kError;
  if (name == "timeout") return ProbeOutcome::kTimeout;
  if (name == "refused") return ProbeOutcome::kRefused;
  return std::nullopt;
}

std::string_view probe_status_name(ProbeStatus status) {
  for (const auto& [s, name] : kStatusNames) {
    if (s == status) return name;
  }
  return "unknown";
}

std::optional<ProbeStatus> parse_probe_status(std::string_view name) {
  for (const auto& [s, n] : kStatusNames) {
    if (n == name) return s;
  }
  return std::nullopt;
}

std::vector<ProbeResult> classify_round(const std::vector<ProbeObservation>& observations,
                                        const MonitorConfig& config) {
  std::vector<ProbeResult> results;
  std::optional<bool> put_succeeded;  // absent until PUT is seen (or when it is not probed)
  for (const ProbeObservation& o : observations) {
    ProbeResult r{.operation = o.operation,
                  .response_time = std::max(o.latency, Duration(0)),
                  .error = o.error,
                  .at = o.at};
    switch (o.outcome) {
      case ProbeOutcome::kRefused:
        r.status = ProbeStatus::kCircuitOpen;
        if (r.error.empty()) r.error = "the circuit breaker refused the call";
        break;
      case ProbeOutcome::kTimeout:
        r.status = ProbeStatus::kTimeout;
        if (r.error.empty()) {
          r.error = "no answer within " + std::to_string(config.timeout.count()) + " ms";
        }
        break;
      case ProbeOutcome::kError:
        r.status = ProbeStatus::kError;
        break;
      case ProbeOutcome::kOk: {
        r.status = r.response_time > config.slow_response_threshold ? ProbeStatus::kSlow
                                                                    : ProbeStatus::kOk;
        if (o.operation == Operation::kGet && o.found) {
          r.status = ProbeStatus::kUnexpected;
          r.error = "a key that was never written was found";
        } else if (o.operation == Operation::kHead) {
          bool expect = put_succeeded.value_or(false);
          if (o.found != expect) {
            r.status = ProbeStatus::kUnexpected;
            r.error = expect ? "the object written by this round's PUT was not found"
                             : "HEAD found an object that should not exist";
          }
        }
        break;
      }
    }
    if (o.operation == Operation::kPut) put_succeeded = r.ok();
    results.push_back(std::move(r));
  }
  return results;
}

RoundSummary summarize(const std::vector<ProbeResult>& results, breaker::State breaker_state,
                       TimePoint at) {
  RoundSummary s{.at = at, .breaker_state = breaker_state};
  std::array<bool, kAllOperations.size()> failing{}, slow{};
  for (const ProbeResult& r : results) {
    s.probes++;
    if (!r.attempted()) {
      s.refused++;
      continue;
    }
    s.attempted++;
    s.max_response_time = std::max(s.max_response_time, r.response_time);
    if (!r.ok()) {
      s.failed++;
      failing[static_cast<size_t>(r.operation)] = true;
    } else if (r.status == ProbeStatus::kSlow) {
      s.slow++;
      slow[static_cast<size_t>(r.operation)] = true;
    }
  }
  for (Operation op : kAllOperations) {
    if (failing[static_cast<size_t>(op)]) s.failing.push_back(op);
    if (slow[static_cast<size_t>(op)]) s.slow_operations.push_back(op);
  }
  if (s.attempted > 0) s.error_rate_pct = s.failed * 100.0 / s.attempted;
  return s;
}

json result_to_json(const ProbeResult& r) {
  return {{"operation", operation_name(r.operation)},
          {"ok", r.ok()},
          {"status", probe_status_name(r.status)},
          {"response_time_ms", r.response_time.count()},
          {"error", r.error.empty() ? json(nullptr) : json(r.error)},
          {"checked_at_ms", to_epoch_ms(r.at)}};
}

json summary_to_json(const RoundSummary& s) {
  return {{"at_ms", to_epoch_ms(s.at)},
          {"probes", s.probes},
          {"attempted", s.attempted},
          {"failed", s.failed},
          {"slow", s.slow},
          {"refused", s.refused},
          {"failing_operations", names(s.failing)},
          {"slow_operations", names(s.slow_operations)},
          {"breaker_state", breaker::state_name(s.breaker_state)},
          {"error_rate_pct", s.error_rate_pct ? json(*s.error_rate_pct) : json(nullptr)},
          {"max_response_time_ms", s.max_response_time.count()}};
}

Result<RoundSummary> summary_from_json(const json& j) {
  RoundSummary s;
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
  if (has_rate && j["error_rate_pct"].is_number())
    s.error_rate_pct = j["error_rate_pct"].get<double>();
  auto read_ops = [&](bool has, const char* name,
                      std::vector<Operation>& out) -> std::optional<Error> {
    if (!has) return std::nullopt;
    if (!j[name].is_array()) return invalid_field(name, std::string(name) + " must be an array");
    for (const json& item : j[name]) {
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

std::vector<std::string> stale_probe_keys(const std::vector<std::string>& keys, TimePoint now,
                                          Duration older_than) {
  std::vector<std::string> stale;
  for (const std::string& key : keys) {
    if (!key.starts_with(kProbePrefix)) continue;
    std::string_view rest = std::string_view(key).substr(kProbePrefix.size());
    if (rest.starts_with("missing-")) rest.remove_prefix(8);
    size_t digits = 0;
    int64_t created = 0;
    while (digits < rest.size() && digits < 16 && rest[digits] >= '0' && rest[digits] <= '9') {
      created = created * 10 + (rest[digits] - '0');
      digits++;
    }
    if (digits == 0 || digits >= rest.size() || rest[digits] != '-') continue;
    if (now - from_epoch_ms(created) > older_than) stale.push_back(key);
  }
  return stale;
}

std::optional<int64_t> nearest_rank_percentile(std::vector<int64_t> values, double pct) {
  if (values.empty() || !(pct > 0 && pct <= 100)) return std::nullopt;
  std::sort(values.begin(), values.end());
  // pct * n first: exact for whole percentages, so an exact rank is not pushed up by rounding.
  auto rank = static_cast<size_t>(std::ceil(pct * static_cast<double>(values.size()) / 100.0));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

std::vector<OperationStats> operation_stats(const std::vector<StoredCheck>& checks) {
  std::vector<OperationStats> out;
  for (Operation op : kAllOperations) {
    OperationStats s{.operation = op};
    std::vector<int64_t> times;
    double sum = 0;
    for (const StoredCheck& c : checks) {
      if (c.operation != op) continue;
      s.checks++;
      if (c.ok) s.successes++;
      times.push_back(c.response_time.count());
      sum += static_cast<double>(c.response_time.count());
    }
    if (s.checks > 0) {
      s.success_rate_pct = s.successes * 100.0 / s.checks;
      s.error_rate_pct = 100.0 - *s.success_rate_pct;
      s.avg_response_ms = sum / s.checks;
      s.p95_response_ms = nearest_rank_percentile(std::move(times), 95);
    }
    out.push_back(s);
  }
  return out;
}

}  // namespace r2w::health
