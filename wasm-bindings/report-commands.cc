// Commands of the reports: which periods are due, a period from its label, a report of one
// period built from the figures the Worker gathered (with the bodies of its deliveries), and
// report subscriptions. The one JSON codec of this domain: core/reports/ takes and returns
// plain structs.
#include <optional>
#include <set>
#include <string>

#include "core/common/civil-date.h"
#include "core/cost/money.h"
#include "core/cost/price-list.h"
#include "core/reports/period.h"
#include "core/reports/render.h"
#include "core/reports/report.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/commands.h"
#include "wasm-bindings/engine.h"

namespace r2w::bindings {

using json = r2w::Json;
namespace rep = r2w::reports;

namespace {

// Rows in any one list of a report's input: far above a year of daily rows for a few
// hundred buckets and prefixes, and bounded so the wasm build cannot be made to allocate
// without limit.
constexpr size_t kMaxRows = 200'000;
// Channels in one subscription and subscriptions in all.
constexpr size_t kMaxChannels = 32;

const json& member(const json& in, std::string_view name) {
  static const json kNull;
  if (!in.is_object()) return kNull;
  auto it = in.find(std::string(name));
  return it == in.end() ? kNull : *it;
}

// A list member: absent or null is empty; anything but an array of objects is refused.
Result<const json*> list(const json& in, std::string_view name) {
  static const json kEmpty = json::array();
  const json& v = member(in, name);
  if (v.is_null()) return &kEmpty;
  std::string f(name);
  if (!v.is_array()) return invalid_field(f, f + " must be an array");
  if (v.size() > kMaxRows) return invalid_field(f, f + " has too many rows");
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_object()) {
      return invalid_field(f + "[" + std::to_string(i) + "]", "must be an object");
    }
  }
  return &v;
}

// Field readers on one row; the first error wins and names "<list>[i].<field>".
class Row {
 public:
  Row(const json& row, std::string path) : row_(row), path_(std::move(path)) {}
  std::string str(std::string_view name) {
    const json& v = member(row_, name);
    if (v.is_string()) return v.get<std::string>();
    if (!v.is_null()) fail(name, "must be a string");
    return "";
  }
  uint64_t u64(std::string_view name) {
    const json& v = member(row_, name);
    if (v.is_number_unsigned()) return v.get<uint64_t>();
    if (v.is_number_integer() && v.get<int64_t>() >= 0)
      return static_cast<uint64_t>(v.get<int64_t>());
    if (!v.is_null()) fail(name, "must be a whole number");
    return 0;
  }
  std::optional<TimePoint> time(std::string_view name) {
    const json& v = member(row_, name);
    if (v.is_null()) return std::nullopt;
    if (!v.is_number_integer()) {
      fail(name, "must be a time in epoch milliseconds or null");
      return std::nullopt;
    }
    return from_epoch_ms(v.get<int64_t>());
  }
  int64_t money(std::string_view name) {
    const json& v = member(row_, name);
    if (v.is_number_integer()) return v.get<int64_t>();
    if (!v.is_null()) fail(name, "must be whole micro-dollars");
    return 0;
  }
  void fail(std::string_view name, std::string message) {
    if (!error_) error_ = invalid_field(path_ + "." + std::string(name), message);
  }
  const std::optional<Error>& error() const { return error_; }

 private:
  const json& row_;
  std::string path_;
  std::optional<Error> error_;
};

json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }
json opt_ms(const std::optional<Duration>& v) { return v ? json(v->count()) : json(nullptr); }

json period_json(const rep::Period& p) {
  return {{"type", rep::report_type_name(p.type)},
          {"period", p.label},
          {"first_day", format_date(p.first)},
          {"last_day", format_date(p.last)},
          {"days", p.days},
          {"from_ms", to_epoch_ms(p.start)},
          {"to_ms", to_epoch_ms(p.end)},
          {"r2_key", rep::report_object_key(p)}};
}

Result<rep::Period> period_from(const json& in) {
  const json& type = member(in, "type");
  if (!type.is_string()) return invalid_field("type", "type must be daily, weekly or monthly");
  auto t = rep::parse_report_type(type.get<std::string>());
  if (!t) return invalid_field("type", "type must be daily, weekly or monthly");
  const json& label = member(in, "period");
  if (!label.is_string()) return invalid_field("period", "period is required");
  return rep::parse_period(*t, label.get<std::string>(), "period");
}

json ranked_json(const std::vector<rep::Ranked>& list, const char* key) {
  json out = json::array();
  for (const auto& r : list) out.push_back({{key, r.key}, {"count", r.count}});
  return out;
}

json line_json(const rep::OperationLine& l) {
  json j = {{"calls", l.calls},
            {"errors", l.errors},
            {"error_rate_pct", l.error_rate_pct},
            {"p50_ms", opt(l.latency.p50_ms)},
            {"p95_ms", opt(l.latency.p95_ms)},
            {"p99_ms", opt(l.latency.p99_ms)}};
  if (!l.bucket.empty() || !l.operation.empty()) {
    j["bucket"] = l.bucket;
    j["operation"] = l.operation;
  }
  return j;
}

json durations_json(const rep::Durations& d) {
  return {{"count", d.count}, {"median_ms", opt_ms(d.median)}, {"max_ms", opt_ms(d.max)}};
}

json report_sections_json(const rep::Report& r) {
  json perf = line_json(r.performance.total);
  json lines = json::array();
  for (const auto& l : r.performance.by_bucket_operation) lines.push_back(line_json(l));
  perf["by_bucket_operation"] = std::move(lines);

  json errors = {{"total", r.errors.total},
                 {"status_codes", ranked_json(r.errors.status_codes, "status")},
                 {"buckets", ranked_json(r.errors.buckets, "bucket")},
                 {"operations", ranked_json(r.errors.operations, "operation")}};

  json top = json::array();
  for (const auto& a : r.alerts.top) {
    top.push_back(
        {{"id", a.id},
         {"name", a.name},
         {"type", a.type},
         {"severity", a.severity},
         {"bucket", a.bucket},
         {"fired_at_ms", to_epoch_ms(a.fired_at)},
         {"acknowledged_at_ms",
          a.acknowledged_at ? json(to_epoch_ms(*a.acknowledged_at)) : json(nullptr)},
         {"resolved_at_ms", a.resolved_at ? json(to_epoch_ms(*a.resolved_at)) : json(nullptr)}});
  }
  json alerts = {{"fired", r.alerts.fired},
                 {"by_severity", ranked_json(r.alerts.by_severity, "severity")},
                 {"still_open", r.alerts.still_open},
                 {"time_to_acknowledge", durations_json(r.alerts.acknowledge)},
                 {"time_to_resolve", durations_json(r.alerts.resolve)},
                 {"top", std::move(top)}};

  json buckets = json::array();
  for (const auto& g : r.storage.buckets) {
    buckets.push_back({{"bucket", g.bucket},
                       {"start_bytes", g.start_bytes},
                       {"end_bytes", g.end_bytes},
                       {"growth_bytes", g.growth_bytes},
                       {"growth_pct", opt(g.growth_pct)},
                       {"pending_uploads", g.pending_uploads}});
  }
  json prefixes = json::array();
  for (const auto& p : r.storage.largest_prefixes) {
    prefixes.push_back({{"bucket", p.bucket}, {"prefix", p.prefix}, {"bytes", p.bytes}});
  }
  json storage = {
      {"start_bytes", r.storage.start_bytes},         {"end_bytes", r.storage.end_bytes},
      {"growth_bytes", r.storage.growth_bytes},       {"growth_pct", opt(r.storage.growth_pct)},
      {"pending_uploads", r.storage.pending_uploads}, {"buckets", std::move(buckets)},
      {"largest_prefixes", std::move(prefixes)}};

  json recs = json::array();
  for (const auto& x : r.recommendations) {
    json j = {
        {"kind", rep::recommendation_kind_name(x.kind)}, {"bucket", x.bucket}, {"text", x.text}};
    if (!x.prefix.empty()) j["prefix"] = x.prefix;
    if (x.monthly_saving) {
      j["monthly_saving_micro_usd"] = x.monthly_saving->micro_usd();
      j["monthly_saving_usd"] = cost::format_usd(*x.monthly_saving);
    }
    if (x.pending_uploads) j["pending_uploads"] = x.pending_uploads;
    if (!x.budget_status.empty()) j["budget_status"] = x.budget_status;
    recs.push_back(std::move(j));
  }
  return {{"performance", std::move(perf)},
          {"errors", std::move(errors)},
          {"alerts", std::move(alerts)},
          {"storage", std::move(storage)},
          {"recommendations", std::move(recs)}};
}

// The report's input lists; each error names the row and field.
Status read_lists(const json& in, rep::ReportInput& out) {
  auto ops = list(in, "operations");
  if (!ops.ok()) return ops.error();
  for (size_t i = 0; i < ops.value()->size(); ++i) {
    auto row = metrics::row_from_json((*ops.value())[i]);
    if (!row.ok()) return prefixed(row.error(), "operations[" + std::to_string(i) + "]");
    out.operations.push_back(std::move(row).value());
  }
  auto statuses = list(in, "statuses");
  if (!statuses.ok()) return statuses.error();
  for (size_t i = 0; i < statuses.value()->size(); ++i) {
    Row r((*statuses.value())[i], "statuses[" + std::to_string(i) + "]");
    rep::StatusCount s{.bucket = r.str("bucket")};
    uint64_t status = r.u64("status");
    if (status > 999) r.fail("status", "must be an HTTP status");
    s.status = static_cast<uint32_t>(status);
    s.requests = r.u64("requests");
    if (r.error()) return *r.error();
    out.statuses.push_back(std::move(s));
  }
  auto alerts = list(in, "alerts");
  if (!alerts.ok()) return alerts.error();
  for (size_t i = 0; i < alerts.value()->size(); ++i) {
    Row r((*alerts.value())[i], "alerts[" + std::to_string(i) + "]");
    rep::AlertRecord a{.id = r.str("id"),
                       .name = r.str("name"),
                       .type = r.str("type"),
                       .severity = r.str("severity"),
                       .bucket = r.str("bucket")};
    auto fired = r.time("fired_at_ms");
    if (!fired) r.fail("fired_at_ms", "is required");
    a.acknowledged_at = r.time("acknowledged_at_ms");
    a.resolved_at = r.time("resolved_at_ms");
    if (r.error()) return *r.error();
    a.fired_at = *fired;
    out.alerts.push_back(std::move(a));
  }
  auto storage = list(in, "storage");
  if (!storage.ok()) return storage.error();
  for (size_t i = 0; i < storage.value()->size(); ++i) {
    Row r((*storage.value())[i], "storage[" + std::to_string(i) + "]");
    auto day = parse_date(r.str("day"));
    if (!day) r.fail("day", "must be a day as YYYY-MM-DD");
    rep::StorageDay d{
        .bucket = r.str("bucket"), .prefix = r.str("prefix"), .bytes = r.u64("bytes")};
    if (r.error()) return *r.error();
    d.day = *day;
    out.storage.push_back(std::move(d));
  }
  auto pending = list(in, "pending_uploads");
  if (!pending.ok()) return pending.error();
  for (size_t i = 0; i < pending.value()->size(); ++i) {
    Row r((*pending.value())[i], "pending_uploads[" + std::to_string(i) + "]");
    rep::PendingUploads p{.bucket = r.str("bucket"), .uploads = r.u64("uploads")};
    if (r.error()) return *r.error();
    out.pending_uploads.push_back(std::move(p));
  }
  // The cost engine's budget status answer, as it is.
  auto budgets = list(in, "budgets");
  if (!budgets.ok()) return budgets.error();
  for (size_t i = 0; i < budgets.value()->size(); ++i) {
    Row r((*budgets.value())[i], "budgets[" + std::to_string(i) + "]");
    rep::BudgetStanding b{.bucket = r.str("bucket"), .status = r.str("status")};
    b.budget = cost::Money::micro_usd(r.money("monthly_micro_usd"));
    b.spent = cost::Money::micro_usd(r.money("spent_micro_usd"));
    b.forecast = cost::Money::micro_usd(r.money("forecast_micro_usd"));
    if (r.error()) return *r.error();
    out.budgets.push_back(std::move(b));
  }
  if (member(in, "pricing").is_array()) {
    auto versions = cost::price_versions_from_json(member(in, "pricing"), "pricing");
    if (!versions.ok()) return versions.error();
    out.prices = cost::price_list_for(versions.value(), month_of(out.period.last));
  } else {
    out.prices = cost::default_price_list();
  }
  return Ok{};
}

// A channel a report can go to: a configured alert channel of type email, slack, github or
// webhook, or the built-in "email" (EMAIL_TO / EMAIL_FROM) when no channel has that name.
struct Target {
  std::string name;
  std::string type;
  std::vector<std::string> to;
  std::string from;
  std::string repository;
};

bool report_channel_type(const std::string& type) {
  return type == "email" || type == "slack" || type == "github" || type == "webhook";
}

std::vector<std::string> strings_of(const json& v) {
  std::vector<std::string> out;
  if (!v.is_array()) return out;
  for (const json& s : v) {
    if (s.is_string()) out.push_back(s.get<std::string>());
  }
  return out;
}

// {"channels": [the alert settings' channels], "email": {"to": [...], "from"}} -> targets.
std::vector<Target> targets_of(const json& in) {
  std::vector<Target> out;
  bool has_email = false;
  const json& channels = member(in, "channels");
  if (channels.is_array()) {
    for (const json& c : channels) {
      if (!member(c, "name").is_string() || !member(c, "type").is_string()) continue;
      Target t{.name = member(c, "name").get<std::string>(),
               .type = member(c, "type").get<std::string>(),
               .to = strings_of(member(c, "to"))};
      if (member(c, "from").is_string()) t.from = member(c, "from").get<std::string>();
      if (member(c, "repository").is_string())
        t.repository = member(c, "repository").get<std::string>();
      has_email = has_email || t.name == "email";
      out.push_back(std::move(t));
    }
  }
  if (!has_email) {
    const json& e = member(in, "email");
    Target t{.name = "email", .type = "email", .to = strings_of(member(e, "to"))};
    if (member(e, "from").is_string()) t.from = member(e, "from").get<std::string>();
    out.push_back(std::move(t));
  }
  return out;
}

// {"subscriptions": [{"report_type", "channels": [name, ...]}]} against the targets: every
// report type at most once, every channel known and able to take a report.
Result<json> subscriptions_from(const json& request, const std::vector<Target>& targets) {
  const json& subs = member(request, "subscriptions");
  if (!subs.is_array()) return invalid_field("subscriptions", "subscriptions must be an array");
  if (subs.size() > 3) return invalid_field("subscriptions", "one subscription per report type");
  json out = json::array();
  std::set<std::string> types;
  for (size_t i = 0; i < subs.size(); ++i) {
    std::string p = "subscriptions[" + std::to_string(i) + "]";
    const json& s = subs[i];
    if (!s.is_object()) return invalid_field(p, p + " must be an object");
    for (const auto& [k, v] : s.items()) {
      if (k != "report_type" && k != "channels")
        return invalid_field(p + "." + k, "unknown field " + k);
    }
    const json& type = member(s, "report_type");
    if (!type.is_string() || !rep::parse_report_type(type.get<std::string>())) {
      return invalid_field(p + ".report_type", "report_type must be daily, weekly or monthly");
    }
    if (!types.insert(type.get<std::string>()).second) {
      return invalid_field(p + ".report_type",
                           "report_type " + type.get<std::string>() + " is subscribed twice");
    }
    const json& channels = member(s, "channels");
    if (!channels.is_array() || channels.size() > kMaxChannels) {
      return invalid_field(p + ".channels", "channels must be an array of channel names");
    }
    json names = json::array();
    for (size_t j = 0; j < channels.size(); ++j) {
      std::string f = p + ".channels[" + std::to_string(j) + "]";
      if (!channels[j].is_string()) return invalid_field(f, "must be a channel name");
      std::string name = channels[j].get<std::string>();
      const Target* t = nullptr;
      for (const Target& x : targets) {
        if (x.name == name) t = &x;
      }
      if (!t) return invalid_field(f, "no channel is named " + name);
      if (!report_channel_type(t->type)) {
        return invalid_field(f,
                             "channel " + name + " is of type " + t->type +
                                 ", which takes no reports (email, slack, github or webhook do)");
      }
      names.push_back(name);
    }
    out.push_back({{"report_type", type}, {"channels", names}});
  }
  return out;
}

// {"type": "daily"|"weekly"|"monthly", "period"?: label} -> the period ({type, period,
// first_day, last_day, days, from_ms, to_ms, r2_key}); without "period", the last one that
// has ended at `now`.
Result<json> report_period(Engine&, const json& in, TimePoint now) {
  FieldReader r(in);
  std::string type, label;
  r.read_string("type", type);
  r.read_string("period", label);
  if (auto err = r.finish()) return *err;
  auto t = rep::parse_report_type(type);
  if (!t) return invalid_field("type", "type must be daily, weekly or monthly");
  if (label.empty()) return period_json(rep::closed_period(*t, now));
  auto p = rep::parse_period(*t, label, "period");
  if (!p.ok()) return p.error();
  return period_json(p.value());
}

// {} -> {"periods": [period, ...]}: the reports a daily run at `now` makes (daily always,
// weekly on Mondays, monthly on the 1st), each of the period just ended.
Result<json> report_due(Engine&, const json& in, TimePoint now) {
  FieldReader r(in);
  if (auto err = r.finish()) return *err;
  json list = json::array();
  for (const rep::Period& p : rep::due_periods(now)) list.push_back(period_json(p));
  return json{{"periods", list}};
}

// {"request": {"subscriptions": [...]}, "channels": [alert channels], "email": {"to", "from"}}
// -> {"subscriptions": [...]} normalized, or an error naming the field.
Result<json> report_subscriptions_validate(Engine&, const json& in, TimePoint) {
  auto subs = subscriptions_from(member(in, "request"), targets_of(in));
  if (!subs.ok()) return subs.error();
  return json{{"subscriptions", subs.value()}};
}

// A report of one period. Input: {"type", "period", "cost"?: <cost_report answer>,
// "operations": [storage_metrics rows], "statuses": [{bucket, status, requests}],
// "alerts": [{id, name, type, severity, bucket, fired_at_ms, acknowledged_at_ms,
// resolved_at_ms}], "storage": [{day, bucket, prefix ("" = the bucket), bytes}],
// "pending_uploads": [{bucket, uploads}], "budgets": <cost_budget_status budgets>,
// "pricing": [price-list versions], "delivery"?: {"subscriptions", "channels", "email":
// {"to", "from"}, "dashboard_url"}}.
// Answer: {"report": {the cost report's fields, type, period, first_day, last_day, from_ms,
// to_ms, r2_key, performance, errors, alerts, storage, recommendations}, "usage_snapshot":
// {...}, "notifications": [{key, channel, channel_type, kind: "report", alert_ids, body}]}.
// A notification's key is the same for the same period and channel, so storing it with
// INSERT OR IGNORE never delivers a re-run twice.
Result<json> report_build(Engine&, const json& in, TimePoint now) {
  static const std::set<std::string> kFields = {"type",     "period",  "cost",    "operations",
                                                "statuses", "alerts",  "storage", "pending_uploads",
                                                "budgets",  "pricing", "delivery"};
  if (!in.is_object()) return invalid_field("", "the input must be an object");
  for (const auto& [k, v] : in.items()) {
    if (!kFields.count(k)) return invalid_field(k, "unknown field " + k);
  }
  auto period = period_from(in);
  if (!period.ok()) return period.error();
  rep::ReportInput input{.period = period.value()};
  if (auto s = read_lists(in, input); !s.ok()) return s.error();
  rep::Report report = rep::build_report(input);

  const json& cost = member(in, "cost");
  if (!cost.is_null() && !cost.is_object()) return invalid_field("cost", "cost must be an object");
  json out = cost.is_object() ? cost : json::object();
  json p = period_json(report.period);
  for (auto& [k, v] : p.items()) out[k] = v;
  // (The sections live in a named value: iterating a temporary's items() would dangle.)
  json sections = report_sections_json(report);
  for (auto& [k, v] : sections.items()) out[k] = v;

  rep::CostHeadline headline{.month = format_year_month(month_of(report.period.last))};
  const json& total = member(member(cost, "cost"), "total_micro_usd");
  if (total.is_number_integer())
    headline.month_to_date = cost::Money::micro_usd(total.get<int64_t>());
  for (const char* k : {"period_cost_micro_usd", "day_cost_micro_usd"}) {
    const json& v = member(cost, k);
    if (v.is_number_integer() && !headline.period_cost)
      headline.period_cost = cost::Money::micro_usd(v.get<int64_t>());
  }
  const json& change = member(member(cost, "change"), "delta_pct");
  if (change.is_number()) headline.change_pct = change.get<double>();

  json snapshot = {{"generated_at_ms", to_epoch_ms(now)},
                   {"period", report.period.label},
                   {"type", rep::report_type_name(report.period.type)},
                   {"storage", out["storage"]},
                   {"performance",
                    {{"calls", report.performance.total.calls},
                     {"errors", report.performance.total.errors},
                     {"p95_ms", opt(report.performance.total.latency.p95_ms)}}},
                   {"cost",
                    {{"month", headline.month},
                     {"month_to_date_micro_usd", headline.month_to_date.micro_usd()}}}};

  json notifications = json::array();
  const json& delivery = member(in, "delivery");
  if (delivery.is_object()) {
    std::vector<Target> targets = targets_of(delivery);
    auto subs = subscriptions_from(delivery, targets);
    if (!subs.ok()) return prefixed(subs.error(), "delivery");
    std::string link;
    if (member(delivery, "dashboard_url").is_string()) {
      std::string base = member(delivery, "dashboard_url").get<std::string>();
      while (!base.empty() && base.back() == '/') base.pop_back();
      if (!base.empty())
        link = base + "/reports/" + std::string(rep::report_type_name(report.period.type)) + "/" +
               report.period.label;
    }
    rep::Rendered rendered = rep::render_report(report, headline, link);
    std::string id = "report:" + std::string(rep::report_type_name(report.period.type)) + ":" +
                     report.period.label;
    for (const json& s : subs.value()) {
      if (s["report_type"] != rep::report_type_name(report.period.type)) continue;
      for (const json& name : s["channels"]) {
        const Target* t = nullptr;
        for (const Target& x : targets) {
          if (x.name == name) t = &x;
        }
        json body;
        if (t->type == "email") {
          body = rep::email_body(rendered, t->from, t->to, now);
        } else if (t->type == "slack") {
          body = rep::slack_body(rendered);
        } else if (t->type == "github") {
          body = rep::github_body(rendered, t->repository, report.period.type);
        } else {
          body = {{"kind", "report"}, {"subject", rendered.subject}, {"report", out}};
        }
        notifications.push_back({{"key", id + ":" + t->name},
                                 {"channel", t->name},
                                 {"channel_type", t->type},
                                 {"kind", "report"},
                                 {"alert_ids", json::array({id})},
                                 {"body", std::move(body)}});
      }
    }
  }
  return json{{"report", std::move(out)},
              {"usage_snapshot", std::move(snapshot)},
              {"notifications", std::move(notifications)}};
}

}  // namespace

std::span<const CommandEntry> report_commands() {
  static constexpr CommandEntry kCommands[] = {
      {"report_period", &report_period},
      {"report_due", &report_due},
      {"report_build", &report_build},
      {"report_subscriptions_validate", &report_subscriptions_validate},
  };
  return kCommands;
}

}  // namespace r2w::bindings
