#include "core/alerts/payloads.h"

#include <algorithm>

#include "core/alerts/text.h"

namespace r2w::alerts {

namespace {

EmailMessage email(const Channel& c, const std::string& kind,
                   const std::vector<const AlertState*>& alerts, const Settings& s, TimePoint now) {
  std::string subject = "[r2watch] [" + kind_title(kind) + "] " +
                        (alerts.size() == 1 ? "[" + upper(severity_name(alerts[0]->severity)) +
                                                  "] " + summary_of(*alerts[0])
                                            : std::to_string(alerts.size()) + " alerts");
  std::string text, html = "<html><body><h2>" + html_escape(subject) + "</h2><ul>";
  for (const AlertState* a : alerts) {
    std::string line =
        "[" + upper(severity_name(a->severity)) + "] " + summary_of(*a) + ": " + description_of(*a);
    std::string link = link_of(*a, s.dashboard_url);
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
  return EmailMessage{
      .from = sender, .to = recipients, .subject = subject, .text = text, .html = html, .raw = raw};
}

// GitHub: the requests of one notice about one alert, in order. "{issue}" in a path stands for
// the number of the issue opened for this alert on this channel (the Worker keeps it from the
// answer of the request that opens it).
std::vector<GithubRequest> github(const Channel& c, const std::string& kind, const AlertState& a,
                                  const Settings& s, TimePoint now) {
  std::string repo = "/repos/" + c.repository;
  std::string link = link_of(a, s.dashboard_url);
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
    std::vector<std::string> labels = github_labels(c, a.severity);
    if (kind == "test") labels.push_back("test");
    return {GithubRequest{.action = GithubAction::kOpenIssue,
                          .path = repo + "/issues",
                          .title = "[r2watch] [" + kind_title(kind) + "] [" +
                                   upper(severity_name(a.severity)) + "] " + summary_of(a),
                          .body = body,
                          .labels = labels}};
  }
  std::string comment;
  if (kind == "resolved") {
    comment = "**Resolved** at " + format_iso8601(a.resolved_at.value_or(now));
    switch (a.resolved_by.resolver) {
      case Resolver::kConditionCleared:
        comment += ": the condition cleared.";
        break;
      case Resolver::kRuleGone:
        comment += ": the rule was disabled or removed.";
        break;
      case Resolver::kPerson:
        comment += " by " + a.resolved_by.person + ".";
        break;
      case Resolver::kNobody:
        comment += ".";
        break;
    }
    if (!a.resolve_note.empty()) comment += "\n\n> " + a.resolve_note;
  } else if (kind == "acknowledged") {
    comment = "**Acknowledged** by " + a.acknowledged_by +
              (a.ack_note.empty() ? std::string(".") : ": " + a.ack_note);
  } else {
    comment = "**Still firing** at " + format_iso8601(now) + ": " + description_of(a);
  }
  std::vector<GithubRequest> requests = {GithubRequest{.action = GithubAction::kComment,
                                                       .path = repo + "/issues/{issue}/comments",
                                                       .body = comment}};
  if (kind == "resolved") {
    requests.push_back(
        GithubRequest{.action = GithubAction::kCloseIssue, .path = repo + "/issues/{issue}"});
  }
  return requests;
}

}  // namespace

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool is_resolved_kind(std::string_view kind) { return kind == "resolved"; }

std::string link_of(const AlertState& a, std::string_view dashboard_url) {
  if (dashboard_url.empty()) return "";
  std::string_view base = dashboard_url;
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

std::string kind_title(std::string_view kind) {
  if (kind == "resolved") return "RESOLVED";
  if (kind == "escalation") return "ESCALATED";
  if (kind == "acknowledged") return "ACKNOWLEDGED";
  if (kind == "test") return "TEST";
  return "FIRING";
}

TimePoint starts_at(const AlertState& a, TimePoint now) {
  return a.fired_at.value_or(a.pending_since.value_or(now));
}

std::string ends_at_text(const AlertState& a, std::string_view kind, TimePoint now) {
  if (is_resolved_kind(kind)) return format_iso8601(a.resolved_at.value_or(now));
  return "0001-01-01T00:00:00Z";
}

TimePoint alertmanager_ends_at(const AlertState& a, std::string_view kind, Duration repeat_interval,
                               TimePoint now) {
  return is_resolved_kind(kind) ? a.resolved_at.value_or(now)
                                : now + repeat_interval + Duration(15 * 60'000);
}

std::string slack_title(std::string_view kind, const AlertState& a) {
  return "[" + kind_title(kind) + "] [" + upper(severity_name(a.severity)) + "] " + summary_of(a);
}

std::string slack_text(std::string_view kind, const std::vector<AlertState>& alerts) {
  return "[" + kind_title(kind) + ":" + std::to_string(alerts.size()) + "] r2watch " +
         (alerts.size() == 1 ? summary_of(alerts[0]) : "alerts");
}

std::string_view pagerduty_action(std::string_view kind) {
  return is_resolved_kind(kind) ? "resolve" : kind == "acknowledged" ? "acknowledge" : "trigger";
}

std::string_view slack_color(Severity s, Resolution resolution) {
  if (resolution == Resolution::kResolved) return "#2eb886";
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

NotificationBody build_body(const Channel& channel, const std::string& kind,
                            const std::vector<const AlertState*>& alerts, const Settings& settings,
                            TimePoint now) {
  NotificationBody b;
  b.type = channel.type;
  b.channel = channel.name;
  b.kind = kind;
  b.now = now;
  b.dashboard_url = settings.dashboard_url;
  b.repeat_interval = settings.repeat_interval;
  // PagerDuty and GitHub: one alert per notification.
  if (channel.type == ChannelType::kPagerDuty || channel.type == ChannelType::kGithub) {
    b.alerts.push_back(*alerts.front());
  } else {
    b.alerts.reserve(alerts.size());
    for (const AlertState* a : alerts) b.alerts.push_back(*a);
  }
  if (channel.type == ChannelType::kEmail) b.email = email(channel, kind, alerts, settings, now);
  if (channel.type == ChannelType::kGithub) {
    b.github = github(channel, kind, *alerts.front(), settings, now);
  }
  return b;
}

}  // namespace r2w::alerts
