#include "core/reports/render.h"

#include "core/alerts/text.h"

namespace r2w::reports {

using alerts::format_bytes;
using alerts::format_number;
using alerts::html_escape;
using json = r2w::Json;

namespace {

std::string usd(cost::Money m) { return "$" + cost::format_usd(m); }

std::string ms(const std::optional<double>& v) {
  return v ? format_number(*v) + " ms" : std::string("-");
}

std::string signed_pct(const std::optional<double>& v) {
  if (!v) return "n/a";
  return (*v >= 0 ? "+" : "") + format_number(*v) + "%";
}

std::string signed_bytes(int64_t b) {
  return (b < 0 ? "-" : "+") + format_bytes(static_cast<double>(b < 0 ? -b : b));
}

std::string duration(const std::optional<Duration>& d) {
  return d ? alerts::format_duration(*d) : std::string("-");
}

std::string title_of(ReportType t) {
  switch (t) {
    case ReportType::kDaily:
      return "Daily";
    case ReportType::kWeekly:
      return "Weekly";
    case ReportType::kMonthly:
      return "Monthly";
  }
  return "Daily";
}

std::string ranked_line(const std::vector<Ranked>& list) {
  if (list.empty()) return "none";
  std::string out;
  for (const Ranked& r : list)
    out += (out.empty() ? "" : ", ") + r.key + " (" + std::to_string(r.count) + ")";
  return out;
}

// A section: a heading and its lines, written once for every format.
struct Section {
  std::string heading;
  std::vector<std::string> lines;
};

std::vector<Section> sections_of(const Report& r, const CostHeadline& c) {
  std::vector<Section> out;
  Section cost{"Cost", {}};
  cost.lines.push_back("Month " + c.month + " to " + format_date(r.period.last) + ": " +
                       usd(c.month_to_date));
  if (c.period_cost) {
    cost.lines.push_back("This period at list price: " + usd(*c.period_cost) +
                         (c.change_pct ? " (" + signed_pct(c.change_pct) + " on the period before)"
                                       : std::string()));
  }
  out.push_back(cost);

  const Performance& p = r.performance;
  Section perf{"Performance", {}};
  perf.lines.push_back(std::to_string(p.total.calls) + " calls, error rate " +
                       format_number(p.total.error_rate_pct) + "%, p50 " +
                       ms(p.total.latency.p50_ms) + ", p95 " + ms(p.total.latency.p95_ms) +
                       ", p99 " + ms(p.total.latency.p99_ms));
  for (size_t i = 0; i < p.by_bucket_operation.size() && i < 10; ++i) {
    const OperationLine& l = p.by_bucket_operation[i];
    perf.lines.push_back(l.bucket + " " + l.operation + ": " + std::to_string(l.calls) +
                         " calls, " + format_number(l.error_rate_pct) + "% errors, p95 " +
                         ms(l.latency.p95_ms) + ", p99 " + ms(l.latency.p99_ms));
  }
  out.push_back(perf);

  Section err{"Errors", {}};
  err.lines.push_back(std::to_string(r.errors.total) + " failed calls");
  err.lines.push_back("Status codes: " + ranked_line(r.errors.status_codes));
  err.lines.push_back("Buckets: " + ranked_line(r.errors.buckets));
  err.lines.push_back("Operations: " + ranked_line(r.errors.operations));
  out.push_back(err);

  const AlertSummary& a = r.alerts;
  Section al{"Alerts", {}};
  al.lines.push_back(std::to_string(a.fired) + " fired (" + ranked_line(a.by_severity) + "), " +
                     std::to_string(a.still_open) + " still open");
  al.lines.push_back("Time to acknowledge: median " + duration(a.acknowledge.median) +
                     ", longest " + duration(a.acknowledge.max) + " (" +
                     std::to_string(a.acknowledge.count) + ")");
  al.lines.push_back("Time to resolve: median " + duration(a.resolve.median) + ", longest " +
                     duration(a.resolve.max) + " (" + std::to_string(a.resolve.count) + ")");
  for (const AlertRecord& x : a.top) al.lines.push_back("[" + x.severity + "] " + x.name);
  out.push_back(al);

  const StorageSummary& s = r.storage;
  Section st{"Storage", {}};
  st.lines.push_back(format_bytes(static_cast<double>(s.end_bytes)) + " stored, " +
                     signed_bytes(s.growth_bytes) + " (" + signed_pct(s.growth_pct) + ")" +
                     (s.pending_uploads
                          ? ", " + std::to_string(s.pending_uploads) + " pending multipart uploads"
                          : std::string()));
  for (const BucketGrowth& g : s.buckets) {
    st.lines.push_back(g.bucket + ": " + format_bytes(static_cast<double>(g.end_bytes)) + " (" +
                       signed_bytes(g.growth_bytes) + ")");
  }
  for (const PrefixSize& x : s.largest_prefixes) {
    st.lines.push_back(x.bucket + "/" + x.prefix +
                       "/: " + format_bytes(static_cast<double>(x.bytes)));
  }
  out.push_back(st);

  Section rec{"Recommendations", {}};
  for (const Recommendation& x : r.recommendations) rec.lines.push_back(x.text);
  if (rec.lines.empty()) rec.lines.push_back("None this period.");
  out.push_back(rec);
  return out;
}

std::string mime(const Rendered& r, const std::string& from, const std::vector<std::string>& to,
                 TimePoint now) {
  std::string to_line;
  for (const std::string& t : to) to_line += (to_line.empty() ? "" : ", ") + t;
  std::string stamp = std::to_string(to_epoch_ms(now));
  std::string boundary = "r2watch-" + alerts::fnv1a_hex(r.subject + stamp);
  std::string id = alerts::fnv1a_hex(r.subject + to_line + stamp);
  std::string domain = from.substr(from.find('@') == std::string::npos ? 0 : from.find('@') + 1);
  std::string text_crlf;
  for (char ch : r.text) text_crlf += ch == '\n' ? std::string("\r\n") : std::string(1, ch);
  auto part = [&](std::string_view type, std::string_view body) {
    return "--" + boundary + "\r\nContent-Type: " + std::string(type) +
           "; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
           alerts::base64(body, alerts::Wrap::kMimeLines) + "\r\n";
  };
  return "From: " + from + "\r\nTo: " + to_line +
         "\r\nSubject: " + alerts::encode_header_value(r.subject) + "\r\nMessage-ID: <" + id + "@" +
         domain + ">\r\nDate: " + alerts::format_rfc5322(now) +
         "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"" + boundary +
         "\"\r\n\r\n" + part("text/plain", text_crlf) + part("text/html", r.html) + "--" +
         boundary + "--\r\n";
}

}  // namespace

Rendered render_report(const Report& r, const CostHeadline& cost, std::string_view link) {
  Rendered out;
  out.subject = "[r2watch] " + title_of(r.period.type) + " report " + r.period.label;
  std::string range = format_date(r.period.first) +
                      (r.period.days > 1 ? " to " + format_date(r.period.last) : std::string());
  out.text = out.subject + "\n" + range + "\n";
  out.html =
      "<html><body><h2>" + html_escape(out.subject) + "</h2><p>" + html_escape(range) + "</p>";
  out.markdown = "Report of " + range + " (UTC).\n";
  out.slack_blocks = json::array();
  out.slack_blocks.push_back(
      {{"type", "header"}, {"text", {{"type", "plain_text"}, {"text", out.subject.substr(10)}}}});
  out.slack_blocks.push_back(
      {{"type", "context"}, {"elements", json::array({{{"type", "mrkdwn"}, {"text", range}}})}});
  for (const Section& s : sections_of(r, cost)) {
    out.text += "\n" + s.heading + "\n";
    out.html += "<h3>" + html_escape(s.heading) + "</h3><ul>";
    out.markdown += "\n### " + s.heading + "\n\n";
    std::string mrkdwn = "*" + s.heading + "*";
    for (const std::string& l : s.lines) {
      out.text += "- " + l + "\n";
      out.html += "<li>" + html_escape(l) + "</li>";
      out.markdown += "- " + l + "\n";
      mrkdwn += "\n• " + l;
    }
    out.html += "</ul>";
    // Slack refuses a section text over 3,000 characters.
    if (mrkdwn.size() > 2900) mrkdwn = mrkdwn.substr(0, 2900) + "…";
    out.slack_blocks.push_back(
        {{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", mrkdwn}}}});
  }
  if (!link.empty()) {
    out.text += "\n" + std::string(link) + "\n";
    out.html += "<p><a href=\"" + html_escape(link) + "\">Open in r2watch</a></p>";
    out.markdown += "\n[Open in r2watch](" + std::string(link) + ")\n";
    out.slack_blocks.push_back(
        {{"type", "section"},
         {"text", {{"type", "mrkdwn"}, {"text", "<" + std::string(link) + "|Open in r2watch>"}}}});
  }
  out.html += "</body></html>";
  return out;
}

json email_body(const Rendered& r, const std::string& from, const std::vector<std::string>& to,
                TimePoint now) {
  return {{"from", from},   {"to", to},       {"subject", r.subject},
          {"text", r.text}, {"html", r.html}, {"raw", mime(r, from, to, now)}};
}

json slack_body(const Rendered& r) { return {{"text", r.subject}, {"blocks", r.slack_blocks}}; }

json github_body(const Rendered& r, const std::string& repository, ReportType type) {
  return {
      {"requests",
       json::array(
           {{{"method", "POST"},
             {"path", "/repos/" + repository + "/issues"},
             {"body",
              {{"title", r.subject.substr(10)},
               {"body", r.markdown},
               {"labels", json::array({"r2watch-report", std::string(report_type_name(type))})}}},
             {"opens_issue", true}}})}};
}

}  // namespace r2w::reports
