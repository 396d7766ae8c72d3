#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/alerts/rule.h"
#include "core/alerts/settings.h"
#include "core/common/time.h"

namespace r2w::alerts {

// inactive -> pending (condition true, `for` not yet elapsed) -> firing -> resolved.
enum class Status : uint8_t { kInactive, kPending, kFiring, kResolved };
std::string_view status_name(Status s);
std::optional<Status> parse_status(std::string_view name);

// What the receivers were last told about an alert.
enum class Heard : uint8_t { kNothing, kFiring, kResolved };

// Why a due notice was held back (none: it was not).
enum class MuteReason : uint8_t {
  kNone,
  kSilence,      // a silence matched (silence_id)
  kMaintenance,  // a maintenance window matched (silence_id)
  kInhibited,    // a more severe alert fires with the same labels
  kFlapping,     // fired again within a repeat interval of the last firing notice
  kSuppressed,   // the rule type's hourly notice limit is reached
};
struct Mute {
  MuteReason reason = MuteReason::kNone;
  std::string silence_id;  // kSilence, kMaintenance
  bool operator==(const Mute&) const = default;
};
// "silence:<id>", "maintenance:<id>", "inhibited", "flapping", "suppressed"; "" for none.
std::string mute_text(const Mute& m);
// The reverse of mute_text ("" is none); unset for any other text.
std::optional<Mute> parse_mute(std::string_view text);

// Who resolved an alert: r2watch, because its condition cleared or because its rule was
// disabled or removed, or a person by hand. The API writes it as "r2watch", "rule" or the
// person's name ("" for nobody); a person may not be named "r2watch" or "rule".
enum class Resolver : uint8_t { kNobody, kConditionCleared, kRuleGone, kPerson };
struct ResolvedBy {
  Resolver resolver = Resolver::kNobody;
  std::string person;  // kPerson
  bool operator==(const ResolvedBy&) const = default;
};
std::string resolved_by_text(const ResolvedBy& r);
ResolvedBy parse_resolved_by(std::string_view text);
// Whether a person may act under this name (the texts of r2watch's own resolutions are not).
bool reserved_actor_name(std::string_view name);

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
  ResolvedBy resolved_by;
  std::string resolve_note;
  // Resolved by hand while the condition held: not raised again until the condition clears.
  bool manually_resolved = false;
  Heard heard = Heard::kNothing;
  std::optional<TimePoint> last_firing_notice;  // across episodes: flapping and repeats
  int32_t notified_level = -1;                  // highest escalation level told of this episode
  uint32_t escalation_level = 0;
  uint64_t notices = 0;  // notices so far: part of each notification's idempotency key
  Mute muted_by;         // why a due notice was held back
  TimePoint updated_at;
};
inline constexpr int kAlertStateSchema = 1;

// An email: the addresses, the subject, the text and HTML parts and the whole MIME message.
struct EmailMessage {
  std::string from;
  std::vector<std::string> to;
  std::string subject;
  std::string text;
  std::string html;
  std::string raw;
};

// One GitHub REST request of a notice.
enum class GithubAction : uint8_t {
  kOpenIssue,   // POST {repo}/issues {title, body, labels}; answers the issue's number
  kComment,     // POST {repo}/issues/{issue}/comments {body}
  kCloseIssue,  // PATCH {repo}/issues/{issue} {state: closed, state_reason: completed}
};
struct GithubRequest {
  GithubAction action = GithubAction::kComment;
  std::string path;  // "{issue}" stands for the alert's issue number on this channel
  std::string title;
  std::string body;
  std::vector<std::string> labels;
};

// What a notification says, decided by the core; the codec writes its JSON for the channel's
// type (see payloads.h for each shape).
struct NotificationBody {
  ChannelType type = ChannelType::kWebhook;
  std::string channel;  // the receiver's name
  std::string kind;
  std::vector<AlertState> alerts;  // as they were when the notification was built
  TimePoint now;
  std::string dashboard_url;
  Duration repeat_interval = Duration(0);
  std::optional<EmailMessage> email;  // email channels
  std::vector<GithubRequest> github;  // github channels
  // A quota user's own notice (an email with this text, naming the user).
  std::optional<std::string> user;
};

// A message to send: built here, sent by the Worker. `key` is the idempotency key: the same
// state change always gives the same key, so a job run twice stores and sends it once.
struct Notification {
  std::string key;
  std::string channel;  // a channel name, or "user:<id>" for a quota user's notice
  ChannelType type = ChannelType::kWebhook;
  std::string kind;  // firing, escalation, repeat, resolved, acknowledged, user, test
  std::vector<std::string> alert_ids;
  NotificationBody body;
  std::string path;          // appended to the channel's URL (alertmanager: /api/v2/alerts)
  std::string secret_field;  // body field the Worker fills with the routing key (pagerduty)
};

}  // namespace r2w::alerts
