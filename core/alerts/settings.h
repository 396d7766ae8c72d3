#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/alerts/rule.h"
#include "core/alerts/target.h"
#include "core/common/result.h"
#include "core/common/time.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::alerts {

inline constexpr std::string_view kPagerDutyEventsUrl = "https://events.pagerduty.com/v2/enqueue";
inline constexpr std::string_view kGithubApiUrl = "https://api.github.com";

enum class ChannelType : uint8_t { kWebhook, kSlack, kPagerDuty, kEmail, kAlertmanager, kGithub };
std::string_view channel_type_name(ChannelType t);
std::optional<ChannelType> parse_channel_type(std::string_view name);

// Where notifications go. The target URL is either given (`url`, stored in D1, never answered
// in full) or, better, the name of a Worker secret that holds it (`url_secret`). PagerDuty's
// routing key is always a secret (`routing_key_secret`); its URL defaults to the Events API v2.
struct Channel {
  std::string name;  // [a-z0-9_-]
  ChannelType type = ChannelType::kWebhook;
  std::string url;
  std::string url_secret;
  std::string routing_key_secret;  // pagerduty
  std::vector<std::string> to;     // email recipients
  std::string from;                // email sender
  // github: issues in `repository` ("owner/name") through the REST API at `url` (the channel's
  // `api_url`, default kGithubApiUrl) with the token held by the Worker secret `token_secret`;
  // an issue's labels are those of its severity (default: "r2watch" and "severity:<name>").
  std::string repository;
  std::string token_secret;
  std::map<Severity, std::vector<std::string>> labels_by_severity;
  Severity min_severity = Severity::kLow;
  // 0: notified when an alert fires; n > 0: when an unacknowledged alert escalates to level n.
  uint32_t escalation_level = 0;
  bool enabled = true;
};

// A critical alert for a bucket mutes lower ones for the same bucket: alerts of
// `target_severities` are muted while an alert of `source_severity` fires with equal values of
// the `equal` labels.
struct InhibitRule {
  Severity source_severity = Severity::kCritical;
  std::vector<Severity> target_severities = {Severity::kMedium};
  std::vector<std::string> equal = {"bucket"};
};

// The Worker's EMAIL_TO / EMAIL_FROM variables: the recipients and sender of an email channel
// that names none of its own. Given by the environment, never stored with the settings.
struct EmailDefaults {
  std::vector<std::string> to;
  std::string from;
};
// EMAIL_TO (addresses separated by commas, at most 20) and EMAIL_FROM, checked; an empty
// variable leaves its part empty. Errors name the variable.
Result<EmailDefaults> email_defaults_from_vars(std::string_view to, std::string_view from);

struct Settings {
  std::vector<Channel> channels;
  // Where an email channel has no `to` (or `from`) of its own (not stored; see EmailDefaults).
  EmailDefaults email_defaults;
  // Level n+1 is reached `escalation_after[n]` after the alert fired while unacknowledged
  // (ascending). Default: none (no escalation).
  std::vector<Duration> escalation_after;
  // At most this many notices of one rule type an hour (a notice is one alert in one
  // notification round); further ones wait for the hour to make room. Default 5.
  uint32_t max_notices_per_type_per_hour = 5;
  // A firing alert is notified again after this long; a condition that resolves and fires
  // again within it is flapping and not notified again. Default 4 h.
  Duration repeat_interval = Duration(4LL * 3'600'000);
  std::vector<InhibitRule> inhibit = {InhibitRule{}};
  // Delivery attempts of one notification before it is given up. Default 6.
  uint32_t max_attempts = 6;
  // Backoff after the n-th failure: base * 2^(n-1), at most max. Defaults 60 s and 1 h.
  Duration backoff_base = Duration(60'000);
  Duration backoff_max = Duration(3'600'000);
  // Link in notifications ("" = none); the alert's page is dashboard_url + "/alerts/<id>".
  std::string dashboard_url;
};

// How an inline channel url is checked while reading settings (see check_target): as in
// production (https to public addresses only), as in development (plain loopback http too), or
// not at all for settings read back from storage: they were checked when stored, and every
// target is checked again when sent, so a url refused by a newer check never makes the stored
// settings unreadable (which would stop every channel's delivery).
enum class InlineUrlCheck : uint8_t { kProduction, kDevelopment, kNone };
// `email_defaults`: the environment's; an email channel may then leave out `to` and `from`
// (stored as [] and "": the defaults are used when it is sent). Settings being stored
// (url_check other than kNone) are refused when neither the channel nor the defaults name them.
Result<Settings> settings_from_json(const r2w::Json& j,
                                    InlineUrlCheck url_check = InlineUrlCheck::kProduction,
                                    const EmailDefaults& email_defaults = {});
// `masked`: an inline url shows only its scheme, host and last 4 characters.
r2w::Json settings_to_json(const Settings& s, bool masked);
std::string mask_url(std::string_view url);
// A settings update holds what GET answered: a channel's `url` in `request` equal to the
// masked form of the `current` (stored) channel of that name's url is replaced by that stored
// url, so sending back a masked URL keeps the real one. Any other masked URL in the request is
// refused (channels[i].url). Only requests are checked: stored settings always load.
std::optional<Error> restore_masked_urls(r2w::Json& request, const r2w::Json& current);
// A GitHub repository written as owner/name (owner: 1-39 of letters, digits and inner hyphens;
// name: 1-100 of letters, digits, '.', '-', '_', not "." or "..").
bool is_github_repository(std::string_view repository);
// The labels of an issue for an alert of `severity` on a github channel.
std::vector<std::string> github_labels(const Channel& c, Severity severity);

// The delay before the next attempt after `failures` failed attempts (failures >= 1).
Duration backoff(const Settings& s, uint32_t failures);

// Whether a notification may be sent to a URL: check_target in core/alerts/target.h.

// A silence or maintenance window: alerts whose labels match every matcher are not notified
// from starts_at until ends_at (resolved notices still go out).
struct Matcher {
  std::string name;
  std::string value;
  bool equal = true;  // "=" or "!="
};
struct Silence {
  std::string id;
  std::string kind = "silence";  // or "maintenance"
  TimePoint starts_at;
  TimePoint ends_at;
  std::vector<Matcher> matchers;
  std::string comment;
  std::string created_by;
};
// A new silence: starts_at_ms defaults to now, ends_at_ms must be after it; at least one matcher.
Result<Silence> silence_from_json(const r2w::Json& j, std::string_view id, TimePoint now);
Result<std::vector<Silence>> silences_from_json(const r2w::Json& j, std::string_view field);
r2w::Json silence_to_json(const Silence& s, TimePoint now);
bool matches(const Silence& s, const std::map<std::string, std::string>& labels, TimePoint now);

}  // namespace r2w::alerts
