#include "core/health/health-events.h"

#include <algorithm>

#include "core/common/format.h"

namespace r2w::health {

namespace {

constexpr const std::array<EventType, kConditionCount>& kConditions = kConditionTypes;

std::string one_decimal(double v) { return format_fixed(v, 1); }

std::string join(const std::vector<Operation>& ops) {
  std::string out;
  for (Operation op : ops) out += (out.empty() ? "" : ", ") + std::string(operation_name(op));
  return out;
}

std::string duration_text(Duration d) {
  int64_t s = std::max<int64_t>(0, d.count() / 1000);
  if (s < 120) return std::to_string(s) + " s";
  if (s < 7200) return std::to_string(s / 60) + " min";
  return std::to_string(s / 3600) + " h";
}

// Whether each condition holds this round; absent when the round cannot tell.
std::optional<bool> holds(EventType type, const RoundSummary& r, const EventOptions& o) {
  switch (type) {
    case EventType::kCircuitBreakerOpen:
      return r.breaker_state == breaker::State::kOpen ||
             r.breaker_state == breaker::State::kForcedOpen;
    case EventType::kHighErrorRate:
      if (!r.error_rate_pct) return std::nullopt;
      return *r.error_rate_pct > o.high_error_rate_pct;
    case EventType::kSlowResponse:
      if (r.attempted == 0) return std::nullopt;
      return r.slow > 0;
    case EventType::kServiceDegraded:
      if (r.attempted == 0) return std::nullopt;
      return r.failing.size() >= o.degraded_failing_operations;
    case EventType::kServiceRecovered:
      break;
  }
  return std::nullopt;
}

std::string raised_message(EventType type, const RoundSummary& r, const EventOptions& o) {
  switch (type) {
    case EventType::kCircuitBreakerOpen:
      return std::string("circuit breaker is ") +
             std::string(breaker::state_name(r.breaker_state)) + ": R2 calls are refused (" +
             std::to_string(r.refused) + " of " + std::to_string(r.probes) + " probes refused)";
    case EventType::kHighErrorRate:
      return "probe error rate " + one_decimal(r.error_rate_pct.value_or(0)) + "% is above " +
             one_decimal(o.high_error_rate_pct) + "% (" + std::to_string(r.failed) + " of " +
             std::to_string(r.attempted) + " probes failed: " + join(r.failing) + ")";
    case EventType::kSlowResponse:
      return "slow responses from " + join(r.slow_operations) + " (slowest " +
             std::to_string(r.max_response_time.count()) + " ms)";
    case EventType::kServiceDegraded:
      return std::to_string(r.failing.size()) + " operations failing: " + join(r.failing);
    case EventType::kServiceRecovered:
      break;
  }
  return "";
}

}  // namespace

std::string_view event_type_name(EventType type) {
  switch (type) {
    case EventType::kCircuitBreakerOpen:
      return "circuit_breaker_open";
    case EventType::kHighErrorRate:
      return "high_error_rate";
    case EventType::kSlowResponse:
      return "slow_response";
    case EventType::kServiceDegraded:
      return "service_degraded";
    case EventType::kServiceRecovered:
      return "service_recovered";
  }
  return "unknown";
}

std::string_view severity_name(Severity severity) {
  switch (severity) {
    case Severity::kLow:
      return "low";
    case Severity::kMedium:
      return "medium";
    case Severity::kHigh:
      return "high";
    case Severity::kCritical:
      return "critical";
  }
  return "unknown";
}

Severity severity_of(EventType type) {
  switch (type) {
    case EventType::kCircuitBreakerOpen:
      return Severity::kCritical;
    case EventType::kServiceDegraded:
      return Severity::kHigh;
    case EventType::kHighErrorRate:
      return Severity::kMedium;
    case EventType::kSlowResponse:
    case EventType::kServiceRecovered:
      return Severity::kLow;
  }
  return Severity::kLow;
}

std::string_view alert_action_name(AlertAction action) {
  switch (action) {
    case AlertAction::kOpen:
      return "open";
    case AlertAction::kResolve:
      return "resolve";
    case AlertAction::kRecord:
      return "record";
    case AlertAction::kNone:
      return "none";
  }
  return "unknown";
}

DerivedEvents derive_events(const MonitorState& previous, const RoundSummary& round, TimePoint now,
                            Trigger trigger, const EventOptions& options) {
  DerivedEvents out{.next = previous};
  if (previous.last_round_at && round.at < *previous.last_round_at) {
    out.ignored = true;
    return out;
  }
  MonitorState& next = out.next;
  bool any_cleared = false;
  std::optional<TimePoint> earliest_since;
  for (size_t i = 0; i < kConditionCount; ++i) {
    EventType type = kConditions[i];
    ConditionState& c = next.conditions[i];
    std::optional<bool> h = holds(type, round, options);
    if (!h) continue;
    if (*h) {
      c.rounds_holding++;
      c.rounds_not_holding = 0;
      if (!c.active && c.rounds_holding >= options.raise_after_rounds) {
        c.active = true;
        c.since = now;
        out.events.push_back(
            {.type = type,
             .severity = severity_of(type),
             .action = options.alert_on_failure ? AlertAction::kOpen : AlertAction::kNone,
             .at = now,
             .message = raised_message(type, round, options)});
      }
    } else {
      c.rounds_not_holding++;
      c.rounds_holding = 0;
      if (c.active && c.rounds_not_holding >= options.clear_after_rounds) {
        Duration held = c.since ? now - *c.since : Duration(0);
        if (c.since && (!earliest_since || *c.since < *earliest_since)) earliest_since = c.since;
        c.active = false;
        c.since.reset();
        any_cleared = true;
        // Resolved even when alerting is off now: an alert opened earlier must not stay open.
        out.events.push_back({.type = type,
                              .severity = severity_of(type),
                              .action = AlertAction::kResolve,
                              .at = now,
                              .message = std::string(event_type_name(type)) + " cleared after " +
                                         duration_text(held)});
      }
    }
  }
  bool none_active = std::none_of(next.conditions.begin(), next.conditions.end(),
                                  [](const ConditionState& c) { return c.active; });
  if (any_cleared && none_active) {
    Duration down = earliest_since ? now - *earliest_since : Duration(0);
    out.events.push_back(
        {.type = EventType::kServiceRecovered,
         .severity = severity_of(EventType::kServiceRecovered),
         .action = options.alert_on_recovery ? AlertAction::kRecord : AlertAction::kNone,
         .at = now,
         .message =
             "R2 recovered: every health condition has cleared after " + duration_text(down)});
  }
  next.rounds++;
  next.last_round_at = round.at;
  if (trigger == Trigger::kScheduled) next.last_scheduled_round_at = round.at;
  next.last_round = round;
  return out;
}

}  // namespace r2w::health
