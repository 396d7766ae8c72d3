#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/alerts/figures.h"
#include "core/alerts/rule.h"
#include "core/alerts/settings.h"
#include "core/common/result.h"
#include "core/common/time.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::alerts {

// inactive -> pending (condition true, `for` not yet elapsed) -> firing -> resolved.
enum class Status : uint8_t { kInactive, kPending, kFiring, kResolved };
std::string_view status_name(Status s);
std::optional<Status> parse_status(std::string_view name);

// What the receivers were last told about an alert.
enum class Heard : uint8_t { kNothing, kFiring, kResolved };

// One alert: a rule over one scope, identified by its fingerprint (rule + scope). The state is
// a value the Worker keeps in D1 between rounds (schema-versioned JSON); an episode (from
// pending to resolved) has its own `alert_id`.
struct AlertState {
  std::string fingerprint;
  std::string alert_id;
  std::string rule_id;
  std::string rule_name;
  RuleType type = RuleType::kErrorRate;
  Severity severity = Severity::kMedium;
  Scope scope;
  std::map<std::string, std::string> labels;
  Status status = Status::kInactive;
  double value = 0;
  double threshold = 0;
  std::string detail;
  std::optional<TimePoint> pending_since;
  std::optional<TimePoint> fired_at;
  std::optional<TimePoint> resolved_at;
  std::optional<TimePoint> acknowledged_at;
  std::string acknowledged_by;
  std::string ack_note;
  std::string resolved_by;  // "r2watch" (condition cleared), "rule" (rule gone), or a person
  std::string resolve_note;
  // Resolved by hand while the condition held: not raised again until the condition clears.
  bool manually_resolved = false;
  Heard heard = Heard::kNothing;
  std::optional<TimePoint> last_firing_notice;  // across episodes: flapping and repeats
  int32_t notified_level = -1;                  // highest escalation level told of this episode
  uint32_t escalation_level = 0;
  uint64_t notices = 0;  // notices so far: part of each notification's idempotency key
  std::string muted_by;  // why a due notice was held back: silence:<id>, inhibited, ...
  TimePoint updated_at;
};

inline constexpr int kAlertStateSchema = 1;
r2w::Json state_to_json(const AlertState& s);
Result<AlertState> state_from_json(const r2w::Json& j);
Result<std::vector<AlertState>> states_from_json(const r2w::Json& j, std::string_view field);

// Notices of one rule type in the last hour, for suppression (a versioned value kept by the
// Worker between rounds).
struct Ledger {
  std::map<std::string, std::vector<TimePoint>> notices_by_type;
};
r2w::Json ledger_to_json(const Ledger& l);
Result<Ledger> ledger_from_json(const r2w::Json& j);

// A message to send: built here, sent by the Worker. `key` is the idempotency key: the same
// state change always gives the same key, so a job run twice stores and sends it once.
struct Notification {
  std::string key;
  std::string channel;  // a channel name, or "user:<id>" for a quota user's notice
  ChannelType type = ChannelType::kWebhook;
  std::string kind;  // firing, escalation, repeat, resolved, acknowledged, user, test
  std::vector<std::string> alert_ids;
  r2w::Json body;            // the JSON body, or the email {from, to, subject, text, html, raw}
  std::string path;          // appended to the channel's URL (alertmanager: /api/v2/alerts)
  std::string secret_field;  // body field the Worker fills with the routing key (pagerduty)
};
r2w::Json notification_to_json(Notification n);

// An automated response for the Worker (or the engine) to carry out.
struct Action {
  std::string type;  // force_breaker_open
  std::string alert_id;
  std::string rule_id;
};

struct CheckInput {
  std::vector<Rule> rules;
  std::vector<Series> series;
  std::vector<AlertState> states;
  std::vector<Silence> silences;
  Settings settings;
  Ledger ledger;
  std::map<std::string, std::string> user_emails;  // quota users' addresses
  TimePoint now;
};

struct CheckResult {
  std::vector<AlertState> changed;   // states to store (new or different)
  std::vector<std::string> dropped;  // fingerprints whose state carries nothing any more
  std::vector<Notification> notifications;
  std::vector<Action> actions;
  Ledger ledger;
  uint32_t rules_evaluated = 0;
  uint32_t series_matched = 0;
  uint32_t firing = 0;
  uint32_t pending = 0;
};

// One evaluation round. Pure: the same input gives the same output.
CheckResult check(const CheckInput& in);

// Acknowledge / resolve by hand, with a note. Refused (code "conflict") when the alert is not
// firing (ack) or neither pending nor firing (resolve). Both stop escalation; resolve tells the
// channels that heard of the alert, ack tells PagerDuty.
struct ManualResult {
  AlertState state;
  std::vector<Notification> notifications;
};
Result<ManualResult> acknowledge(AlertState s, const std::string& by, const std::string& note,
                                 const std::vector<Rule>& rules, const Settings& settings,
                                 TimePoint now);
Result<ManualResult> resolve_by_hand(AlertState s, const std::string& by, const std::string& note,
                                     const std::vector<Rule>& rules, const Settings& settings,
                                     TimePoint now);

// A test notification to one channel (a made-up alert, kind "test").
Result<Notification> test_notification(const Settings& settings, const std::string& channel,
                                       TimePoint now);

// The history-row view of a state (what GET /api/alerts lists).
r2w::Json alert_view(const AlertState& s);

}  // namespace r2w::alerts
