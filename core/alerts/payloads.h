#pragma once

#include <string>
#include <vector>

#include "core/alerts/evaluate.h"
#include "core/alerts/settings.h"
#include "wasm-bindings/codec/json.h"

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
r2w::Json build_body(const Channel& channel, const std::string& kind,
                     const std::vector<const AlertState*>& alerts, const Settings& settings,
                     TimePoint now);

// Slack colour of a severity ("#2eb886" for resolved).
std::string_view slack_color(Severity s, bool resolved);
// PagerDuty severity of ours: critical -> critical, high -> error, medium -> warning, low -> info.
std::string_view pagerduty_severity(Severity s);

}  // namespace r2w::alerts
