#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.h"
#include "core/common/time.h"
#include "core/health/probe-round.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::health {

// Health events for alerting, derived from consecutive probe rounds. The first four are
// conditions that hold for a while (one active alert each while they hold); the recovery is a
// moment.
enum class EventType : uint8_t {
  kCircuitBreakerOpen,  // the breaker is OPEN or FORCED_OPEN after the round
  kHighErrorRate,       // probe error rate above `high_error_rate_pct`
  kSlowResponse,        // at least one probe slower than slowResponseThreshold
  kServiceDegraded,     // `degraded_failing_operations` or more operations failing
  kServiceRecovered,    // every condition has cleared
};
inline constexpr size_t kConditionCount = 4;
std::string_view event_type_name(EventType type);

enum class Severity : uint8_t { kLow, kMedium, kHigh, kCritical };
std::string_view severity_name(Severity severity);
Severity severity_of(EventType type);

// What the Worker does with an event in `service_alerts`.
enum class AlertAction : uint8_t {
  kOpen,     // insert an active alert of this type (at most one active per type)
  kResolve,  // resolve the active alert of this type, with the event's message as the note
  kRecord,   // insert an alert that is resolved at once (a recovery, for the record)
  kNone,     // alerting is off for this event (alertOnFailure / alertOnRecovery)
};
std::string_view alert_action_name(AlertAction action);

struct HealthEvent {
  EventType type;
  Severity severity;
  AlertAction action;
  TimePoint at;
  std::string message;
};

// Thresholds of event derivation, with defaults.
struct EventOptions {
  // high_error_rate holds when the round's error rate is above this (equal is not above).
  double high_error_rate_pct = 20;
  // service_degraded holds when at least this many operations fail (or are refused).
  uint32_t degraded_failing_operations = 2;
  // A condition is raised after holding in this many rounds in a row, and cleared after not
  // holding in this many rounds in a row. Default 1 each (raise and clear at once).
  uint32_t raise_after_rounds = 1;
  uint32_t clear_after_rounds = 1;
  bool alert_on_failure = true;
  bool alert_on_recovery = true;
};

struct ConditionState {
  bool active = false;
  uint32_t rounds_holding = 0;      // rounds in a row in which the condition held
  uint32_t rounds_not_holding = 0;  // rounds in a row in which it did not
  std::optional<TimePoint> since;   // when it was raised, while active
};

// Everything event derivation carries from one round to the next, stored in D1 between rounds
// (with a schema version).
struct MonitorState {
  std::array<ConditionState, kConditionCount> conditions{};
  uint64_t rounds = 0;
  std::optional<TimePoint> last_round_at;
  std::optional<TimePoint> last_scheduled_round_at;
  std::optional<RoundSummary> last_round;
};

r2w::Json state_to_json(const MonitorState& state);
// Reads `state_to_json` output; null or an empty object is a fresh state.
Result<MonitorState> state_from_json(const r2w::Json& j);

struct DerivedEvents {
  MonitorState next;
  std::vector<HealthEvent> events;
  // True when the round was older than the last one judged (two rounds raced): it changes
  // nothing and raises nothing.
  bool ignored = false;
};

// Pure: previous state + this round's summary + now -> the next state and the events.
// A condition whose figure is unknown this round (nothing reached R2, so there is no error
// rate) neither advances nor resets its counts. `scheduled` marks a cron round (its time gates
// the next one, see should_run_scheduled).
DerivedEvents derive_events(const MonitorState& previous, const RoundSummary& round, TimePoint now,
                            bool scheduled, const EventOptions& options);

r2w::Json event_to_json(const HealthEvent& e);

}  // namespace r2w::health
