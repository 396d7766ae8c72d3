#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/alerts/alert.h"
#include "core/alerts/figures.h"
#include "core/alerts/rule.h"
#include "core/alerts/settings.h"
#include "core/common/result.h"
#include "core/common/time.h"

namespace r2w::alerts {

// Notices of one rule type in the last hour, for suppression (a versioned value kept by the
// Worker between rounds).
struct Ledger {
  std::map<std::string, std::vector<TimePoint>> notices_by_type;
};

// An automated response for the Worker (or the engine) to carry out.
enum class ActionType : uint8_t { kForceBreakerOpen };
std::string_view action_type_name(ActionType t);  // "force_breaker_open"
struct Action {
  ActionType type = ActionType::kForceBreakerOpen;
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

// What changed in a stored state: more than its figure (a transition, a notice, a mute, the
// rule's fields), or only its value and detail sentence (and so its updated_at).
enum class Change : uint8_t { kState, kValueOnly };

struct CheckResult {
  std::vector<AlertState> changed;   // states to store (new or different)
  std::vector<Change> changes;       // for each of `changed`, what changed
  std::vector<std::string> dropped;  // fingerprints whose state carries nothing any more
  std::vector<Notification> notifications;
  std::vector<Action> actions;
  Ledger ledger;
  bool ledger_changed = false;  // the round added or aged out a notice
  uint32_t rules_evaluated = 0;
  uint32_t series = 0;  // series with a figure this round
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

// Who may act on an alert by hand. An admin acts on any alert, for anyone ("by" defaults to the
// admin, or "operator" without a caller); a user only on alerts of their own scope (any other
// is not found, field "id") and only as themselves (naming someone else is refused, field
// "by"). The note is at most 2048 characters, "by" 1 to 256.
enum class CallerRole : uint8_t { kAdmin, kUser };
struct Caller {
  std::string user;  // "" when no caller was given
  CallerRole role = CallerRole::kAdmin;
};
std::optional<Error> check_visible(const AlertState& s, const Caller& caller);
struct ManualRequest {
  std::optional<std::string> by;
  std::string note;
};
// Who acts: the request's "by" checked for the caller.
Result<std::string> manual_actor(const Caller& caller, const ManualRequest& request);

// After a delivery attempt (1-based, at most kMaxDeliveryAttemptNumber): sent, to retry at a
// time (the settings' backoff), or given up after the settings' max_attempts.
inline constexpr uint32_t kMaxDeliveryAttemptNumber = 100;
enum class AttemptResult : uint8_t { kDelivered, kFailed };
enum class DeliveryStatus : uint8_t { kSent, kRetry, kFailed };
std::string_view delivery_status_name(DeliveryStatus s);
struct DeliveryOutcome {
  DeliveryStatus status = DeliveryStatus::kSent;
  std::optional<TimePoint> next_attempt_at;
};
Result<DeliveryOutcome> delivery_outcome(const Settings& settings, uint64_t attempt,
                                         AttemptResult result, TimePoint now);

// Delivery: which outbox rows a run sends (due by now, or claimed by a run that died more than
// kSendingLease ago), at most kDeliveryBatch a run, each attempt given kDeliveryTimeout.
inline constexpr Duration kSendingLease = Duration(5 * 60'000);
inline constexpr Duration kDeliveryTimeout = Duration(10'000);
inline constexpr uint32_t kDeliveryBatch = 50;
struct DeliveryPlan {
  TimePoint due_by;
  TimePoint lease_expired_before;
  Duration timeout = kDeliveryTimeout;
  uint32_t batch = kDeliveryBatch;
};
DeliveryPlan delivery_plan(TimePoint now);

// GET /api/alerts/notifications: the latest attempts and notifications, 1..1000 (default 50).
inline constexpr uint32_t kDefaultNotificationsLimit = 50;
inline constexpr uint32_t kMaxNotificationsLimit = 1000;
std::optional<Error> check_notifications_limit(int64_t n);

// GET /api/alerts: one page of the history, filtered.
inline constexpr uint32_t kDefaultAlertPageLimit = 50;
inline constexpr uint32_t kMaxAlertPageLimit = 500;
inline constexpr uint32_t kMaxAlertPageOffset = 1'000'000;
// The page limit (1..500) or offset (0..1,000,000) `n` named `name`, checked (invalid_query).
std::optional<Error> check_page(std::string_view name, int64_t n);

// GET /api/alerts/{id}: the alert with at most this many of its earlier episodes and of the
// notifications about it, latest first.
inline constexpr uint32_t kAlertDetailHistoryLimit = 50;
inline constexpr uint32_t kAlertDetailNotificationsLimit = 50;

// A number as a query string gives it: decimal digits only (at most 6; anything else reads as
// -1, which no check accepts).
int64_t query_number(std::string_view text);

// A test notification to one channel (a made-up alert, kind "test").
Result<Notification> test_notification(const Settings& settings, const std::string& channel,
                                       TimePoint now);

}  // namespace r2w::alerts
