#pragma once

#include <string>
#include <vector>

#include "core/alerts/alert.h"
#include "core/alerts/settings.h"

namespace r2w::alerts {

// Bodies of one notification to one channel, for the alerts in it (all of one kind):
// - webhook: Alertmanager's webhook payload (version 4: status, receiver, groupLabels,
//   commonLabels, commonAnnotations, externalURL, alerts[{status, labels, annotations,
//   startsAt, endsAt, generatorURL, fingerprint}]) with r2watch's fields added to each alert
//   (id, name, type, severity, value, threshold, details, escalation_level, acknowledged);
// - slack: an incoming-webhook message, one attachment per alert coloured by severity;
// - pagerduty: one Events API v2 event (trigger / acknowledge / resolve; dedup_key is the
//   alert's fingerprint); the Worker adds routing_key;
// - email: {from, to, subject, text, html, raw} (raw: the MIME message, multipart/alternative);
// - alertmanager: the alert list of POST /api/v2/alerts;
// - github: {"requests": [{method, path, body, opens_issue?}]} for the REST API: firing, test
//   and escalation (to a channel of that level) open an issue labelled by severity; repeat and
//   acknowledged comment on it; resolved comments with who resolved it and the note, then closes
//   it. "{issue}" in a path is the number of the alert's issue on this channel (the Worker keeps
//   it).
// The content is decided here (texts, links, times, the email's MIME message, GitHub's requests);
// the codec (wasm-bindings/codec/alerts-bodies.cc) writes the JSON of each shape.
NotificationBody build_body(const Channel& channel, const std::string& kind,
                            const std::vector<const AlertState*>& alerts, const Settings& settings,
                            TimePoint now);

// The texts of an alert in every body.
std::string summary_of(const AlertState& a);      // "Rule (bucket photos)"
std::string description_of(const AlertState& a);  // detail; value and threshold
std::string kind_title(std::string_view kind);    // FIRING, RESOLVED, ESCALATED, ...
std::string upper(std::string_view s);
bool is_resolved_kind(std::string_view kind);
// The alert's page on the dashboard ("" without a dashboard_url).
std::string link_of(const AlertState& a, std::string_view dashboard_url);
// Alertmanager's startsAt (webhook) and endsAt.
TimePoint starts_at(const AlertState& a, TimePoint now);
std::string ends_at_text(const AlertState& a, std::string_view kind, TimePoint now);
// Alertmanager API: a firing alert stays active until the next repeat would refresh it.
TimePoint alertmanager_ends_at(const AlertState& a, std::string_view kind, Duration repeat_interval,
                               TimePoint now);
// Slack: one attachment's title, and the message's text.
std::string slack_title(std::string_view kind, const AlertState& a);
std::string slack_text(std::string_view kind, const std::vector<AlertState>& alerts);
// PagerDuty's event_action: trigger, acknowledge or resolve.
std::string_view pagerduty_action(std::string_view kind);

// Slack colour of a severity ("#2eb886" for resolved).
enum class Resolution : uint8_t { kOpen, kResolved };
std::string_view slack_color(Severity s, Resolution resolution);
// PagerDuty severity of ours: critical -> critical, high -> error, medium -> warning, low -> info.
std::string_view pagerduty_severity(Severity s);

}  // namespace r2w::alerts
