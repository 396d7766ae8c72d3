#include "core/alerts/payloads.h"

#include <algorithm>

#include "core/alerts/text.h"

namespace r2w::alerts {

using json = r2w::Json;

namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool is_resolved_kind(const std::string& kind) { return kind == "resolved"; }

std::string link_of(const AlertState& a, const Settings& s) {
  if (s.dashboard_url.empty()) return "";
  std::string_view base = s.dashboard_url;
  while (base.ends_with('/')) base.remove_suffix(1);  // "https://x/" links to https://x/alerts/..
  return std::string(base) + "/alerts/" + a.alert_id;
}

std::string summary_of(const AlertState& a) {
  std::string where;
  if (!a.scope.bucket.empty()) where += " bucket " + a.scope.bucket;
  if (!a.scope.prefix.empty()) where += " prefix " + a.scope.prefix;
  if (!a.scope.user.empty()) where += " user " + a.scope.user;
  return a.rule_name + (where.empty() ? "" : " (" + where.substr(1) + ")");
}

std::string description_of(const AlertState& a) {
  std::string d = a.detail;
  if (a.type != RuleType::kHealthStatus || a.rule_id != "test") {
    d += (d.empty() ? "" : "; ") + std::string("value ") + format_number(a.value) + ", threshold " +
         format_number(a.threshold);
  }
  return d;
}

json labels_json(const AlertState& a) {
  json l = json::object();
  for (const auto& [k, v] : a.labels) l[k] = v;
  return l;
}

std::string kind_title(const std::string& kind) {
  if (kind == "resolved") return "RESOLVED";
  if (kind == "escalation") return "ESCALATED";
  if (kind == "acknowledged") return "ACKNOWLEDGED";
  if (kind == "test") return "TEST";
  return "FIRING";
}

std::string ends_at(const AlertState& a, const std::string& kind, TimePoint now) {
  if (is_resolved_kind(kind)) return format_iso8601(a.resolved_at.value_or(now));
  return "0001-01-01T00:00:00Z";
}

json webhook_alert(const AlertState& a, const std::string& kind, const Settings& s, TimePoint now) {
  return {{"status", is_resolved_kind(kind) ? "resolved" : "firing"},
          {"labels", labels_json(a)},
          {"annotations", {{"summary", summary_of(a)}, {"description", description_of(a)}}},
          {"startsAt", format_iso8601(a.fired_at.value_or(a.pending_since.value_or(now)))},
          {"endsAt", ends_at(a, kind, now)},
          {"generatorURL", link_of(a, s)},
          {"fingerprint", a.fingerprint},
          {"id", a.alert_id},
          {"name", a.rule_name},
          {"type", rule_type_name(a.type)},
          {"severity", severity_name(a.severity)},
          {"value", a.value},
          {"threshold", a.threshold},
          {"details", a.detail},
          {"escalation_level", a.escalation_level},
          {"acknowledged", a.acknowledged_at.has_value()},
          {"dashboard_url", link_of(a, s)}};
}

json common_labels(const std::vector<const AlertState*>& alerts) {
  json common = json::object();
  if (alerts.empty()) return common;
  for (const auto& label : alerts[0]->labels) {
    bool all = std::all_of(alerts.begin(), alerts.end(), [&](const AlertState* a) {
      auto it = a->labels.find(label.first);
      return it != a->labels.end() && it->second == label.second;
    });
    if (all) common[label.first] = label.second;
  }
  return common;
}

json webhook(const Channel& c, const std::string& kind,
             const std::vector<const AlertState*>& alerts, const Settings& s, TimePoint now) {
  json list = json::array();
  for (const AlertState* a : alerts) list.push_back(webhook_alert(*a, kind, s, now));
  return {{"version", "4"},
          {"groupKey", c.name + ":" + kind},
          {"truncatedAlerts", 0},
          {"status", is_resolved_kind(kind) ? "resolved" : "firing"},
          {"receiver", c.name},
          {"groupLabels", json::object()},
          {"commonLabels", common_labels(alerts)},
          {"commonAnnotations", json::object()},
          {"externalURL", s.dashboard_url},
          {"alerts", list},
          {"r2watch", {{"kind", kind}, {"sent_at", format_iso8601(now)}}}};
}

json slack(const std::string& kind, const std::vector<const AlertState*>& alerts, const Settings& s,
           TimePoint now) {
  json attachments = json::array();
  for (const AlertState* a : alerts) {
    json fields = json::array();
    fields.push_back(
        {{"title", "Severity"}, {"value", severity_name(a->severity)}, {"short", true}});
    fields.push_back({{"title", "Value"}, {"value", format_number(a->value)}, {"short", true}});
    if (!a->scope.bucket.empty()) {
      fields.push_back({{"title", "Bucket"}, {"value", a->scope.bucket}, {"short", true}});
    }
    if (!a->scope.user.empty()) {
      fields.push_back({{"title", "User"}, {"value", a->scope.user}, {"short", true}});
    }
    json att = {{"color", slack_color(a->severity, is_resolved_kind(kind))},
                {"title", "[" + kind_title(kind) + "] [" + upper(severity_name(a->severity)) +
                              "] " + summary_of(*a)},
                {"text", description_of(*a)},
                {"fields", fields},
                {"footer", "r2watch · " + a->alert_id},
                {"ts", to_epoch_ms(now) / 1000}};
    std::string link = link_of(*a, s);
    if (!link.empty()) att["title_link"] = link;
    attachments.push_back(att);
  }
  std::string text = "[" + kind_title(kind) + ":" + std::to_string(alerts.size()) + "] r2watch " +
                     (alerts.size() == 1 ? summary_of(*alerts[0]) : "alerts");
  return {{"text", text}, {"attachments", attachments}};
}

json pagerduty(const std::string& kind, const AlertState& a, const Settings& s, TimePoint now) {
  std::string action = is_resolved_kind(kind)   ? "resolve"
                       : kind == "acknowledged" ? "acknowledge"
                                                : "trigger";
  json body = {{"event_action", action}, {"dedup_key", a.fingerprint}, {"client", "r2watch"}};
  if (action == "trigger") {
    json details = labels_json(a);
    details["value"] = a.value;
    details["threshold"] = a.threshold;
    details["details"] = a.detail;
    details["alert_id"] = a.alert_id;
    details["escalation_level"] = a.escalation_level;
    body["payload"] = {{"summary", summary_of(a) + ": " + description_of(a)},
                       {"source", a.scope.bucket.empty() ? "r2watch" : a.scope.bucket},
                       {"severity", pagerduty_severity(a.severity)},
                       {"timestamp", format_iso8601(a.fired_at.value_or(now))},
                       {"component", "r2"},
                       {"group", rule_type_name(a.type)},
                       {"class", a.rule_id},
                       {"custom_details", details}};
    std::string link = link_of(a, s);
    if (!link.empty()) body["links"] = json::array({{{"href", link}, {"text", "r2watch alert"}}});
  }
  return body;
}

json alertmanager(const std::string& kind, const std::vector<const AlertState*>& alerts,
                  const Settings& s, TimePoint now) {
  json list = json::array();
  for (const AlertState* a : alerts) {
    json item = {
        {"labels", labels_json(*a)},
        {"annotations", {{"summary", summary_of(*a)}, {"description", description_of(*a)}}},
        {"startsAt", format_iso8601(a->fired_at.value_or(now))}};
    // A firing alert stays active in Alertmanager until the next repeat would refresh it.
    item["endsAt"] = is_resolved_kind(kind)
                         ? format_iso8601(a->resolved_at.value_or(now))
                         : format_iso8601(now + s.repeat_interval + Duration(15 * 60'000));
    std::string link = link_of(*a, s);
    if (!link.empty()) item["generatorURL"] = link;
    list.push_back(item);
  }
  return list;
}

json email(const Channel& c, const std::string& kind, const std::vector<const AlertState*>& alerts,
           const Settings& s, TimePoint now) {
  std::string subject = "[r2watch] [" + kind_title(kind) + "] " +
                        (alerts.size() == 1 ? "[" + upper(severity_name(alerts[0]->severity)) +
                                                  "] " + summary_of(*alerts[0])
                                            : std::to_string(alerts.size()) + " alerts");
  std::string text, html = "<html><body><h2>" + html_escape(subject) + "</h2><ul>";
  for (const AlertState* a : alerts) {
    std::string line =
        "[" + upper(severity_name(a->severity)) + "] " + summary_of(*a) + ": " + description_of(*a);
    std::string link = link_of(*a, s);
    text += "- " + line + (link.empty() ? "" : "\n  " + link) + "\n";
    html += "<li>" + html_escape(line);
    if (!link.empty()) html += " (<a href=\"" + html_escape(link) + "\">open</a>)";
    html += "</li>";
  }
  html += "</ul></body></html>";
  // A channel without recipients or sender of its own takes the Worker's (EMAIL_TO, EMAIL_FROM).
  const std::vector<std::string>& recipients = c.to.empty() ? s.email_defaults.to : c.to;
  const std::string& sender = c.from.empty() ? s.email_defaults.from : c.from;
  std::string to;
  for (const std::string& t : recipients) to += (to.empty() ? "" : ", ") + t;
  std::string boundary = "r2watch-" + fnv1a_hex(subject + std::to_string(to_epoch_ms(now)));
  std::string id = fnv1a_hex(subject + to + std::to_string(to_epoch_ms(now)));
  std::string domain =
      sender.substr(sender.find('@') == std::string::npos ? 0 : sender.find('@') + 1);
  // Both parts base64 (CRLF lines in the text, lines of 76): no line of the message exceeds
  // RFC 5322's limit however long an alert's text, and UTF-8 passes any relay unchanged.
  std::string text_crlf;
  for (char ch : text) text_crlf += ch == '\n' ? std::string("\r\n") : std::string(1, ch);
  std::string raw = "From: " + sender + "\r\nTo: " + to +
                    "\r\nSubject: " + encode_header_value(subject) + "\r\nMessage-ID: <" + id +
                    "@" + domain + ">\r\nDate: " + format_rfc5322(now) +
                    "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"" +
                    boundary + "\"\r\n\r\n--" + boundary +
                    "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    "Content-Transfer-Encoding: base64\r\n\r\n" +
                    base64(text_crlf, Wrap::kMimeLines) + "\r\n--" + boundary +
                    "\r\nContent-Type: text/html; charset=utf-8\r\n"
                    "Content-Transfer-Encoding: base64\r\n\r\n" +
                    base64(html, Wrap::kMimeLines) + "\r\n--" + boundary + "--\r\n";
  return {{"from", sender}, {"to", recipients}, {"subject", subject},
          {"text", text},   {"html", html},     {"raw", raw}};
}

// GitHub: the requests of one notice about one alert, in order. "{issue}" in a path stands for
// the number of the issue opened for this alert on this channel (the Worker keeps it from the
// answer of the request marked "opens_issue").
json github(const Channel& c, const std::string& kind, const AlertState& a, const Settings& s,
            TimePoint now) {
  std::string repo = "/repos/" + c.repository;
  std::string link = link_of(a, s);
  auto post = [](std::string path, json body) {
    return json{{"method", "POST"}, {"path", std::move(path)}, {"body", std::move(body)}};
  };
  // Escalation reaches channels that have not heard of the alert yet: they open its issue.
  if (kind == "firing" || kind == "test" || kind == "escalation") {
    std::string body = "**" + upper(severity_name(a.severity)) + "**: " + description_of(a) +
                       "\n\n| | |\n|---|---|\n| rule | `" + a.rule_id + "` (" +
                       std::string(rule_type_name(a.type)) + ") |\n| fired | " +
                       format_iso8601(a.fired_at.value_or(now)) + " |\n";
    if (!a.scope.bucket.empty()) body += "| bucket | `" + a.scope.bucket + "` |\n";
    if (!a.scope.prefix.empty()) body += "| prefix | `" + a.scope.prefix + "` |\n";
    if (!a.scope.user.empty()) body += "| user | `" + a.scope.user + "` |\n";
    if (!link.empty()) body += "\n[Open in r2watch](" + link + ")\n";
    body +=
        "\nr2watch comments here when the alert repeats or escalates, and closes this issue "
        "when it resolves.\n\n<!-- r2watch:" +
        a.fingerprint + ":" + a.alert_id + " -->";
    json labels = github_labels(c, a.severity);
    if (kind == "test") labels.push_back("test");
    json open = post(repo + "/issues",
                     {{"title", "[r2watch] [" + kind_title(kind) + "] [" +
                                    upper(severity_name(a.severity)) + "] " + summary_of(a)},
                      {"body", body},
                      {"labels", labels}});
    open["opens_issue"] = true;
    return {{"requests", json::array({open})}};
  }
  std::string comment;
  if (kind == "resolved") {
    comment = "**Resolved** at " + format_iso8601(a.resolved_at.value_or(now));
    if (a.resolved_by == "r2watch")
      comment += ": the condition cleared.";
    else if (a.resolved_by == "rule")
      comment += ": the rule was disabled or removed.";
    else if (!a.resolved_by.empty())
      comment += " by " + a.resolved_by + ".";
    else
      comment += ".";
    if (!a.resolve_note.empty()) comment += "\n\n> " + a.resolve_note;
  } else if (kind == "acknowledged") {
    comment = "**Acknowledged** by " + a.acknowledged_by +
              (a.ack_note.empty() ? std::string(".") : ": " + a.ack_note);
  } else {
    comment = "**Still firing** at " + format_iso8601(now) + ": " + description_of(a);
  }
  json requests = json::array({post(repo + "/issues/{issue}/comments", {{"body", comment}})});
  if (kind == "resolved") {
    requests.push_back({{"method", "PATCH"},
                        {"path", repo + "/issues/{issue}"},
                        {"body", {{"state", "closed"}, {"state_reason", "completed"}}}});
  }
  return {{"requests", requests}};
}

}  // namespace

std::string_view slack_color(Severity s, bool resolved) {
  if (resolved) return "#2eb886";
  switch (s) {
    case Severity::kCritical:
      return "#a30200";
    case Severity::kHigh:
      return "#e01e5a";
    case Severity::kMedium:
      return "#ecb22e";
    case Severity::kLow:
      return "#439fe0";
  }
  return "#439fe0";
}

std::string_view pagerduty_severity(Severity s) {
  switch (s) {
    case Severity::kCritical:
      return "critical";
    case Severity::kHigh:
      return "error";
    case Severity::kMedium:
      return "warning";
    case Severity::kLow:
      return "info";
  }
  return "info";
}

json build_body(const Channel& channel, const std::string& kind,
                const std::vector<const AlertState*>& alerts, const Settings& settings,
                TimePoint now) {
  switch (channel.type) {
    case ChannelType::kWebhook:
      return webhook(channel, kind, alerts, settings, now);
    case ChannelType::kSlack:
      return slack(kind, alerts, settings, now);
    case ChannelType::kPagerDuty:
      return pagerduty(kind, *alerts.front(), settings, now);
    case ChannelType::kEmail:
      return email(channel, kind, alerts, settings, now);
    case ChannelType::kAlertmanager:
      return alertmanager(kind, alerts, settings, now);
    case ChannelType::kGithub:
      return github(channel, kind, *alerts.front(), settings, now);
  }
  return json::object();
}

}  // namespace r2w::alerts
