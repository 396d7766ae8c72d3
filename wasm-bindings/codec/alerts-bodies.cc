// The JSON of notifications (each channel type's body, from the core's NotificationBody) and
// the figures a round reads.
#include <algorithm>
#include <cmath>
#include <optional>

#include "core/alerts/payloads.h"
#include "core/alerts/text.h"
#include "core/metrics/rollup.h"
#include "wasm-bindings/codec/alerts.h"
#include "wasm-bindings/codec/metrics.h"

namespace r2w::codec {

using alerts::AlertState;
using alerts::NotificationBody;

namespace {

Json labels_json(const AlertState& a) {
  Json l = Json::object();
  for (const auto& [k, v] : a.labels) l[k] = v;
  return l;
}

Json annotations(const AlertState& a) {
  return {{"summary", alerts::summary_of(a)}, {"description", alerts::description_of(a)}};
}

Json webhook_alert(const AlertState& a, const NotificationBody& b) {
  std::string link = alerts::link_of(a, b.dashboard_url);
  return {{"status", alerts::is_resolved_kind(b.kind) ? "resolved" : "firing"},
          {"labels", labels_json(a)},
          {"annotations", annotations(a)},
          {"startsAt", alerts::format_iso8601(alerts::starts_at(a, b.now))},
          {"endsAt", alerts::ends_at_text(a, b.kind, b.now)},
          {"generatorURL", link},
          {"fingerprint", a.fingerprint},
          {"id", a.alert_id},
          {"name", a.rule_name},
          {"type", alerts::rule_type_name(a.type)},
          {"severity", alerts::severity_name(a.severity)},
          {"value", a.value},
          {"threshold", a.threshold},
          {"details", a.detail},
          {"escalation_level", a.escalation_level},
          {"acknowledged", a.acknowledged_at.has_value()},
          {"dashboard_url", link}};
}

Json common_labels(const std::vector<AlertState>& alerts) {
  Json common = Json::object();
  if (alerts.empty()) return common;
  for (const auto& label : alerts[0].labels) {
    bool all = std::all_of(alerts.begin(), alerts.end(), [&](const AlertState& a) {
      auto it = a.labels.find(label.first);
      return it != a.labels.end() && it->second == label.second;
    });
    if (all) common[label.first] = label.second;
  }
  return common;
}

Json webhook(const NotificationBody& b) {
  Json list = Json::array();
  for (const AlertState& a : b.alerts) list.push_back(webhook_alert(a, b));
  return {{"version", "4"},
          {"groupKey", b.channel + ":" + b.kind},
          {"truncatedAlerts", 0},
          {"status", alerts::is_resolved_kind(b.kind) ? "resolved" : "firing"},
          {"receiver", b.channel},
          {"groupLabels", Json::object()},
          {"commonLabels", common_labels(b.alerts)},
          {"commonAnnotations", Json::object()},
          {"externalURL", b.dashboard_url},
          {"alerts", list},
          {"r2watch", {{"kind", b.kind}, {"sent_at", alerts::format_iso8601(b.now)}}}};
}

Json slack(const NotificationBody& b) {
  Json attachments = Json::array();
  for (const AlertState& a : b.alerts) {
    Json fields = Json::array();
    fields.push_back(
        {{"title", "Severity"}, {"value", alerts::severity_name(a.severity)}, {"short", true}});
    fields.push_back(
        {{"title", "Value"}, {"value", alerts::format_number(a.value)}, {"short", true}});
    if (!a.scope.bucket.empty()) {
      fields.push_back({{"title", "Bucket"}, {"value", a.scope.bucket}, {"short", true}});
    }
    if (!a.scope.user.empty()) {
      fields.push_back({{"title", "User"}, {"value", a.scope.user}, {"short", true}});
    }
    Json att = {{"color", alerts::slack_color(a.severity, alerts::is_resolved_kind(b.kind)
                                                              ? alerts::Resolution::kResolved
                                                              : alerts::Resolution::kOpen)},
                {"title", alerts::slack_title(b.kind, a)},
                {"text", alerts::description_of(a)},
                {"fields", fields},
                {"footer", "r2watch · " + a.alert_id},
                {"ts", to_epoch_ms(b.now) / 1000}};
    std::string link = alerts::link_of(a, b.dashboard_url);
    if (!link.empty()) att["title_link"] = link;
    attachments.push_back(att);
  }
  return {{"text", alerts::slack_text(b.kind, b.alerts)}, {"attachments", attachments}};
}

Json pagerduty(const NotificationBody& b) {
  const AlertState& a = b.alerts.front();
  std::string_view action = alerts::pagerduty_action(b.kind);
  Json body = {{"event_action", action}, {"dedup_key", a.fingerprint}, {"client", "r2watch"}};
  if (action == "trigger") {
    Json details = labels_json(a);
    details["value"] = a.value;
    details["threshold"] = a.threshold;
    details["details"] = a.detail;
    details["alert_id"] = a.alert_id;
    details["escalation_level"] = a.escalation_level;
    body["payload"] = {{"summary", alerts::summary_of(a) + ": " + alerts::description_of(a)},
                       {"source", a.scope.bucket.empty() ? "r2watch" : a.scope.bucket},
                       {"severity", alerts::pagerduty_severity(a.severity)},
                       {"timestamp", alerts::format_iso8601(a.fired_at.value_or(b.now))},
                       {"component", "r2"},
                       {"group", alerts::rule_type_name(a.type)},
                       {"class", a.rule_id},
                       {"custom_details", details}};
    std::string link = alerts::link_of(a, b.dashboard_url);
    if (!link.empty()) body["links"] = Json::array({{{"href", link}, {"text", "r2watch alert"}}});
  }
  return body;
}

Json alertmanager(const NotificationBody& b) {
  Json list = Json::array();
  for (const AlertState& a : b.alerts) {
    Json item = {{"labels", labels_json(a)},
                 {"annotations", annotations(a)},
                 {"startsAt", alerts::format_iso8601(a.fired_at.value_or(b.now))}};
    item["endsAt"] =
        alerts::format_iso8601(alerts::alertmanager_ends_at(a, b.kind, b.repeat_interval, b.now));
    std::string link = alerts::link_of(a, b.dashboard_url);
    if (!link.empty()) item["generatorURL"] = link;
    list.push_back(item);
  }
  return list;
}

Json email(const alerts::EmailMessage& m) {
  return {{"from", m.from}, {"to", m.to},     {"subject", m.subject},
          {"text", m.text}, {"html", m.html}, {"raw", m.raw}};
}

Json github(const std::vector<alerts::GithubRequest>& list) {
  Json requests = Json::array();
  for (const alerts::GithubRequest& r : list) {
    switch (r.action) {
      case alerts::GithubAction::kOpenIssue:
        requests.push_back({{"method", "POST"},
                            {"path", r.path},
                            {"body", {{"title", r.title}, {"body", r.body}, {"labels", r.labels}}},
                            {"opens_issue", true}});
        break;
      case alerts::GithubAction::kComment:
        requests.push_back({{"method", "POST"}, {"path", r.path}, {"body", {{"body", r.body}}}});
        break;
      case alerts::GithubAction::kCloseIssue:
        requests.push_back({{"method", "PATCH"},
                            {"path", r.path},
                            {"body", {{"state", "closed"}, {"state_reason", "completed"}}}});
        break;
    }
  }
  return {{"requests", requests}};
}

}  // namespace

Json body_to_json(const NotificationBody& b) {
  Json out;
  switch (b.type) {
    case alerts::ChannelType::kWebhook:
      out = webhook(b);
      break;
    case alerts::ChannelType::kSlack:
      out = slack(b);
      break;
    case alerts::ChannelType::kPagerDuty:
      out = pagerduty(b);
      break;
    case alerts::ChannelType::kEmail:
      out = b.email ? email(*b.email) : Json::object();
      break;
    case alerts::ChannelType::kAlertmanager:
      out = alertmanager(b);
      break;
    case alerts::ChannelType::kGithub:
      out = github(b.github);
      break;
  }
  if (b.user) out["user"] = *b.user;
  return out;
}

Json notification_to_json(const alerts::Notification& n) {
  Json out = Json::object();
  out["key"] = n.key;
  out["channel"] = n.channel;
  out["channel_type"] = alerts::channel_type_name(n.type);
  out["kind"] = n.kind;
  out["alert_ids"] = n.alert_ids;
  out["body"] = body_to_json(n.body);
  if (!n.path.empty()) out["path"] = n.path;
  if (!n.secret_field.empty()) out["secret_field"] = n.secret_field;
  return out;
}

// ---- figures ----

namespace {

bool is_count(const Json& v) { return v.is_number_integer() && v.get<int64_t>() >= 0; }
bool is_number(const Json& v) { return v.is_number() && std::isfinite(v.get<double>()); }

std::string str(const Json& o, const char* name) {
  if (!o.is_object()) return "";
  auto it = o.find(name);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Error bad(const std::string& field, const std::string& what) {
  return invalid_field(field, field + " " + what);
}

// `path` under `o` (absent or null: unset); anything but a finite number is refused.
Result<std::optional<double>> number_at(const Json& o, std::initializer_list<const char*> path,
                                        const std::string& field) {
  const Json* v = &o;
  for (const char* p : path) {
    if (!v->is_object() || !v->contains(p)) return std::optional<double>();
    v = &(*v)[p];
  }
  if (v->is_null()) return std::optional<double>();
  if (!is_number(*v)) return invalid_field(field, field + " must be a number");
  return std::optional<double>(v->get<double>());
}

Status operations(const Json& list, alerts::Figures& out) {
  if (!list.is_array()) return bad("operations", "must be an array");
  std::vector<alerts::OperationWindow> windows;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = "operations[" + std::to_string(i) + "]";
    const Json& w = list[i];
    if (!w.is_object() || !w.contains("window_ms") || !is_count(w["window_ms"])) {
      return bad(p + ".window_ms", "must be a positive whole number of ms");
    }
    alerts::OperationWindow window{.window = Duration(w["window_ms"].get<int64_t>())};
    if (!w.contains("rows") || !w["rows"].is_array()) return bad(p + ".rows", "must be an array");
    const Json& rows = w["rows"];
    window.rows.reserve(rows.size());
    for (size_t k = 0; k < rows.size(); ++k) {
      auto row = codec::row_from_json(rows[k]);
      if (!row.ok()) {
        Error e = row.error();
        std::string rp = p + ".rows[" + std::to_string(k) + "]";
        e.field = e.field.empty() ? rp : rp + "." + e.field;
        e.message = rp + ": " + e.message;
        return e;
      }
      window.rows.push_back(std::move(row).value());
    }
    windows.push_back(std::move(window));
  }
  out.operations = std::move(windows);
  return Ok{};
}

Status cost(const Json& c, alerts::Figures& out) {
  if (!c.is_object()) return bad("cost", "must be an object");
  alerts::CostFigures f;
  if (c.contains("bill") && !c["bill"].is_null()) {
    const Json& bill = c["bill"];
    f.has_bill = true;
    auto mtd = number_at(bill, {"month_to_date", "total_micro_usd"},
                         "cost.bill.month_to_date.total_micro_usd");
    if (!mtd.ok()) return mtd.error();
    auto forecast = number_at(bill, {"forecast", "expected", "total_micro_usd"},
                              "cost.bill.forecast.expected.total_micro_usd");
    if (!forecast.ok()) return forecast.error();
    f.month = str(bill, "month");
    f.month_to_date_micro_usd = mtd.value();
    f.forecast_micro_usd = forecast.value();
    if (bill.contains("by_bucket") && bill["by_bucket"].is_array()) {
      for (size_t i = 0; i < bill["by_bucket"].size(); ++i) {
        const Json& b = bill["by_bucket"][i];
        std::string field = "cost.bill.by_bucket[" + std::to_string(i) + "].total_micro_usd";
        auto total = number_at(b, {"total_micro_usd"}, field);
        if (!total.ok()) return total.error();
        f.by_bucket.push_back({.bucket = str(b, "bucket"), .total_micro_usd = total.value()});
      }
    }
  }
  if (c.contains("anomaly") && !c["anomaly"].is_null()) {
    const Json& a = c["anomaly"];
    f.has_anomaly = true;
    f.anomaly_verdict = str(a, "verdict");
    f.anomaly_date = str(a, "date");
    if (f.anomaly_verdict != "no_baseline") {
      auto rise = number_at(a, {"rise_pct"}, "cost.anomaly.rise_pct");
      if (!rise.ok()) return rise.error();
      f.rise_pct = rise.value();
    }
  }
  out.cost = std::move(f);
  return Ok{};
}

Status growth(const Json& list, alerts::Figures& out) {
  if (!list.is_array()) return bad("growth", "must be an array");
  std::vector<alerts::GrowthFigure> figures;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = "growth[" + std::to_string(i) + "]";
    const Json& g = list[i];
    if (!g.is_object() || !g.contains("bucket") || !g["bucket"].is_string()) {
      return bad(p + ".bucket", "must be a bucket name");
    }
    // storage_growth's answer: {"latest", "changes": {"30d": {"bytes_pct", ...}}} (absent
    // when there is no snapshot 30 days older: no figure yet).
    auto pct = number_at(g, {"growth", "changes", "30d", "bytes_pct"},
                         p + ".growth.changes.30d.bytes_pct");
    if (!pct.ok()) return pct.error();
    figures.push_back({.bucket = g["bucket"].get<std::string>(), .bytes_pct_30d = pct.value()});
  }
  out.growth = std::move(figures);
  return Ok{};
}

Status quotas(const Json& list, alerts::Figures& out) {
  if (!list.is_array()) return bad("quotas", "must be an array");
  std::vector<alerts::QuotaFigure> figures;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = "quotas[" + std::to_string(i) + "]";
    const Json& q = list[i];
    if (!q.is_object() || !q.contains("user") || !q["user"].is_string()) {
      return bad(p + ".user", "must be a user id");
    }
    if (!q.contains("used_bytes") || !is_count(q["used_bytes"])) {
      return bad(p + ".used_bytes", "must be a non-negative whole number");
    }
    if (!q.contains("quota_bytes") || !is_count(q["quota_bytes"])) {
      return bad(p + ".quota_bytes", "must be a positive whole number");
    }
    figures.push_back({.user = q["user"].get<std::string>(),
                       .bucket = str(q, "bucket"),
                       .email = str(q, "email"),
                       .used_bytes = q["used_bytes"].get<uint64_t>(),
                       .quota_bytes = q["quota_bytes"].get<uint64_t>()});
  }
  out.quotas = std::move(figures);
  return Ok{};
}

Status failed_access(const Json& list, alerts::Figures& out) {
  if (!list.is_array()) return bad("failed_access", "must be an array");
  std::vector<alerts::FailedAccessFigure> figures;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = "failed_access[" + std::to_string(i) + "]";
    const Json& e = list[i];
    if (!e.is_object() || !e.contains("at_ms") || !is_count(e["at_ms"])) {
      return bad(p + ".at_ms", "must be a time in ms");
    }
    alerts::FailedAccessFigure f{.user = str(e, "user"),
                                 .bucket = str(e, "bucket"),
                                 .at = from_epoch_ms(e["at_ms"].get<int64_t>())};
    if (e.contains("count")) {
      if (!is_count(e["count"])) return bad(p + ".count", "must be a non-negative whole number");
      f.count = e["count"].get<uint64_t>();
    }
    if (e.contains("window_ms")) {
      if (!is_count(e["window_ms"]) ||
          e["window_ms"].get<uint64_t>() >
              static_cast<uint64_t>(alerts::kMaxFailedAccessCounterWindow.count())) {
        return bad(p + ".window_ms", "must be a whole number of ms from 1 to 86400000");
      }
      f.window = Duration(e["window_ms"].get<int64_t>());
    }
    figures.push_back(std::move(f));
  }
  out.failed_access = std::move(figures);
  return Ok{};
}

Status requests(const Json& list, alerts::Figures& out) {
  if (!list.is_array()) return bad("requests", "must be an array");
  std::vector<alerts::RequestCounter> counters;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = "requests[" + std::to_string(i) + "]";
    const Json& r = list[i];
    if (!r.is_object() || !r.contains("user") || !r["user"].is_string()) {
      return bad(p + ".user", "must be a user id");
    }
    if (!r.contains("window_start_ms") || !is_count(r["window_start_ms"])) {
      return bad(p + ".window_start_ms", "must be a time in ms");
    }
    if (!r.contains("count") || !is_count(r["count"])) {
      return bad(p + ".count", "must be a non-negative whole number");
    }
    counters.push_back({.user = r["user"].get<std::string>(),
                        .window_start = from_epoch_ms(r["window_start_ms"].get<int64_t>()),
                        .count = r["count"].get<uint64_t>()});
  }
  out.requests = std::move(counters);
  return Ok{};
}

Status uploads(const Json& list, alerts::Figures& out) {
  if (!list.is_array()) return bad("uploads", "must be an array");
  std::vector<alerts::UploadFigure> figures;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = "uploads[" + std::to_string(i) + "]";
    const Json& u = list[i];
    if (!u.is_object() || !u.contains("bucket") || !u["bucket"].is_string()) {
      return bad(p + ".bucket", "must be a bucket name");
    }
    if (!u.contains("bytes") || !is_count(u["bytes"]))
      return bad(p + ".bytes", "must be a size in bytes");
    alerts::UploadFigure f{.bucket = u["bucket"].get<std::string>(),
                           .key = str(u, "key"),
                           .bytes = u["bytes"].get<uint64_t>()};
    if (u.contains("at_ms") && !u["at_ms"].is_null()) {
      if (!is_count(u["at_ms"])) return bad(p + ".at_ms", "must be a time in ms");
      f.at = from_epoch_ms(u["at_ms"].get<int64_t>());
    }
    figures.push_back(std::move(f));
  }
  out.uploads = std::move(figures);
  return Ok{};
}

// One of a series key's own fields (metric, bucket, prefix, user, window_ms, natural) of `x`, a
// Series or a SeriesKey, at `p`: true when `k` named one (then `error` says whether it was
// refused); false for any other field.
template <class Key>
bool key_field(const std::string& p, const std::string& k, const Json& v, Key& x,
               std::optional<Error>& error) {
  if (k == "metric" || k == "bucket" || k == "prefix" || k == "user") {
    if (!v.is_string()) {
      error = bad(p + "." + k, "must be a string");
      return true;
    }
    std::string text = v.get<std::string>();
    if (k == "metric") x.metric = std::move(text);
    if (k == "bucket") x.scope.bucket = std::move(text);
    if (k == "prefix") x.scope.prefix = std::move(text);
    if (k == "user") x.scope.user = std::move(text);
  } else if (k == "window_ms") {
    if (!is_count(v))
      error = bad(p + ".window_ms", "must be a non-negative whole number");
    else
      x.window = Duration(v.get<int64_t>());
  } else if (k == "natural") {
    if (!v.is_boolean())
      error = bad(p + ".natural", "must be true or false");
    else
      x.natural = v.get<bool>();
  } else {
    return false;
  }
  return true;
}

Status direct(const Json& list, alerts::Figures& out) {
  if (!list.is_array()) return bad("series", "must be an array");
  std::vector<alerts::Series> series;
  series.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& s = list[i];
    std::string p = "series[" + std::to_string(i) + "]";
    if (!s.is_object()) return bad(p, "must be an object");
    alerts::Series x;
    for (const auto& item : s.items()) {
      const std::string& k = item.key();
      const Json& v = item.value();
      std::optional<Error> error;
      if (key_field(p, k, v, x, error)) {
        if (error) return *error;
      } else if (k == "detail") {
        if (!v.is_string()) return bad(p + ".detail", "must be a string");
        x.detail = v.get<std::string>();
      } else if (k == "value") {
        if (!is_number(v)) return bad(p + ".value", "must be a number");
        x.value = v.get<double>();
      } else if (k == "samples") {
        if (!is_count(v)) return bad(p + ".samples", "must be a non-negative whole number");
        x.samples = v.get<uint64_t>();
      } else {
        return bad(p + "." + k, "is not a known field");
      }
    }
    if (x.metric.empty()) return bad(p + ".metric", "is required");
    if (!s.contains("value")) return bad(p + ".value", "is required");
    series.push_back(std::move(x));
  }
  out.series = std::move(series);
  return Ok{};
}

}  // namespace

Result<std::vector<alerts::SeriesKey>> series_keys_from_json(const Json& list) {
  if (!list.is_array()) return bad("keys", "must be an array");
  if (list.size() > alerts::kMaxSeriesKeys) return bad("keys", "holds too many keys");
  std::vector<alerts::SeriesKey> keys;
  keys.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& s = list[i];
    std::string p = "keys[" + std::to_string(i) + "]";
    if (!s.is_object()) return bad(p, "must be an object");
    alerts::SeriesKey x;
    for (const auto& item : s.items()) {
      const std::string& k = item.key();
      const Json& v = item.value();
      std::optional<Error> error;
      if (!key_field(p, k, v, x, error)) return bad(p + "." + k, "is not a known field");
      if (error) return *error;
    }
    if (x.metric.empty()) return bad(p + ".metric", "is required");
    keys.push_back(std::move(x));
  }
  return keys;
}

Result<std::vector<std::pair<uint32_t, std::string>>> key_details_from_json(const Json& list,
                                                                            uint32_t key_count) {
  std::vector<std::pair<uint32_t, std::string>> out;
  if (list.is_null()) return out;
  if (!list.is_array()) return bad("details", "must be an array");
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& d = list[i];
    std::string p = "details[" + std::to_string(i) + "]";
    if (!d.is_array() || d.size() != 2 || !is_count(d[0]) || !d[1].is_string()) {
      return bad(p, "must be [key index, sentence]");
    }
    if (d[0].get<uint64_t>() >= key_count) return bad(p, "names no key of the table");
    out.emplace_back(static_cast<uint32_t>(d[0].get<uint64_t>()), d[1].get<std::string>());
  }
  return out;
}

Result<alerts::Figures> figures_from_json(const Json& in) {
  alerts::Figures out;
  if (in.is_null()) return out;
  if (!in.is_object()) return bad("figures", "must be an object");
  for (const auto& item : in.items()) {
    const std::string& k = item.key();
    const Json& v = item.value();
    Status s = Ok{};
    if (v.is_null()) continue;
    if (k == "operations") {
      s = operations(v, out);
    } else if (k == "cost") {
      s = cost(v, out);
    } else if (k == "growth") {
      s = growth(v, out);
    } else if (k == "quotas") {
      s = quotas(v, out);
    } else if (k == "failed_access") {
      s = failed_access(v, out);
    } else if (k == "requests") {
      s = requests(v, out);
    } else if (k == "uploads") {
      s = uploads(v, out);
    } else if (k == "series") {
      s = direct(v, out);
    } else if (k == "breaker") {
      out.breaker_state = str(v, "state");
    } else if (k == "health") {
      out.health_status = str(v, "status");
    } else if (k == "jobs") {
      if (!v.is_array()) return bad("jobs", "must be a list of job standings");
      std::vector<alerts::JobStanding> jobs;
      for (size_t i = 0; i < v.size(); ++i) {
        const Json& j = v[i];
        if (!j.is_object() || !j.contains("missed_runs") || !j["missed_runs"].is_number()) {
          return bad("jobs[" + std::to_string(i) + "].missed_runs", "must be a count");
        }
        jobs.push_back({.name = str(j, "name"),
                        .reason = str(j, "reason"),
                        .missed_runs = j["missed_runs"].get<double>()});
      }
      out.jobs = std::move(jobs);
    } else if (k == "database") {
      if (!v.is_object() || !v.contains("ok") || !v["ok"].is_boolean()) {
        return bad("database.ok", "must be true or false");
      }
      out.database =
          alerts::DatabaseFigure{.state = v["ok"].get<bool>() ? alerts::DatabaseState::kAnswers
                                                              : alerts::DatabaseState::kFailed,
                                 .error = str(v, "error")};
    } else {
      return bad(k, "is not a known source");
    }
    if (!s.ok()) return s.error();
  }
  return out;
}

}  // namespace r2w::codec
