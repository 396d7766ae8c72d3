#include "wasm-bindings/codec/reports.h"

#include <cmath>
#include <set>

#include "core/common/civil-date.h"
#include "core/cost/money.h"
#include "core/cost/price-list.h"
#include "wasm-bindings/codec/cost.h"
#include "wasm-bindings/codec/metrics.h"
#include "wasm-bindings/commands.h"

namespace r2w::codec {

namespace rep = r2w::reports;

namespace {

// Rows in any one list of a report's input: far above a year of daily rows for a few
// hundred buckets and prefixes, and bounded so the wasm build cannot be made to allocate
// without limit.
constexpr size_t kMaxRows = 200'000;

}  // namespace

namespace {

// What the report's input is read with: its fields are checked by report_build; here a null
// member is as absent.
constexpr FieldReaderOptions kInputFields = {.nulls = FieldNulls::kAbsent,
                                             .unknowns = FieldUnknowns::kIgnored};

// A list member: absent or null is empty; anything but an array of objects is refused.
Result<const Json*> list(FieldReader& in, std::string_view name) {
  static const Json kEmpty = Json::array();
  const Json* found = in.read_json(name);
  if (!found) return &kEmpty;
  const Json& v = *found;
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

// A row of a list: its empty (null) columns read as absent, and columns the report does not
// use are ignored (D1 rows, other commands' answers). The first error names
// "<list>[i].<field>".
FieldReader row_reader(const Json& row, std::string path) {
  return FieldReader(row, std::move(path),
                     {.nulls = FieldNulls::kAbsent, .unknowns = FieldUnknowns::kIgnored});
}

std::string text(FieldReader& r, std::string_view name) {
  std::string out;
  r.read_string(name, out);
  return out;
}

uint64_t count(FieldReader& r, std::string_view name) {
  int64_t n = 0;
  r.read_whole(name, n);
  if (n >= 0) return static_cast<uint64_t>(n);
  r.fail(name, "must be a whole number");
  return 0;
}

int64_t micro_usd(FieldReader& r, std::string_view name) {
  int64_t n = 0;
  r.read_whole(name, n, "whole micro-dollars");
  return n;
}

Json opt(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }
Json opt_ms(const std::optional<Duration>& v) { return v ? Json(v->count()) : Json(nullptr); }

Json ranked_json(const std::vector<rep::Ranked>& list, const char* key) {
  Json out = Json::array();
  for (const auto& r : list) out.push_back({{key, r.key}, {"count", r.count}});
  return out;
}

Json line_json(const rep::OperationLine& l) {
  Json j = {{"calls", l.calls},
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

Json durations_json(const rep::Durations& d) {
  return {{"count", d.count}, {"median_ms", opt_ms(d.median)}, {"max_ms", opt_ms(d.max)}};
}

}  // namespace

Json period_json(const rep::Period& p) {
  return {{"type", rep::report_type_name(p.type)},
          {"period", p.label},
          {"first_day", format_date(p.first)},
          {"last_day", format_date(p.last)},
          {"days", p.days},
          {"from_ms", to_epoch_ms(p.start)},
          {"to_ms", to_epoch_ms(p.end)},
          {"r2_key", rep::report_object_key(p)}};
}

Result<rep::Period> period_from_json(const Json& in) {
  FieldReader r(in, "", kInputFields);
  std::string type, label;
  r.read_string("type", type);
  if (!r.ok()) return *r.finish();
  auto t = rep::parse_report_type(type);
  if (!t) return invalid_field("type", "type must be daily, weekly or monthly");
  r.require("period");
  r.read_string("period", label);
  if (auto e = r.finish()) return *e;
  return rep::parse_period(*t, label, "period");
}

Json report_sections_json(const rep::Report& r) {
  Json perf = line_json(r.performance.total);
  Json lines = Json::array();
  for (const auto& l : r.performance.by_bucket_operation) lines.push_back(line_json(l));
  perf["by_bucket_operation"] = std::move(lines);

  Json errors = {{"total", r.errors.total},
                 {"status_codes", ranked_json(r.errors.status_codes, "status")},
                 {"buckets", ranked_json(r.errors.buckets, "bucket")},
                 {"operations", ranked_json(r.errors.operations, "operation")}};

  Json top = Json::array();
  for (const auto& a : r.alerts.top) {
    top.push_back(
        {{"id", a.id},
         {"name", a.name},
         {"type", a.type},
         {"severity", a.severity},
         {"bucket", a.bucket},
         {"fired_at_ms", to_epoch_ms(a.fired_at)},
         {"acknowledged_at_ms",
          a.acknowledged_at ? Json(to_epoch_ms(*a.acknowledged_at)) : Json(nullptr)},
         {"resolved_at_ms", a.resolved_at ? Json(to_epoch_ms(*a.resolved_at)) : Json(nullptr)}});
  }
  Json alerts = {{"fired", r.alerts.fired},
                 {"by_severity", ranked_json(r.alerts.by_severity, "severity")},
                 {"still_open", r.alerts.still_open},
                 {"time_to_acknowledge", durations_json(r.alerts.acknowledge)},
                 {"time_to_resolve", durations_json(r.alerts.resolve)},
                 {"top", std::move(top)}};

  Json buckets = Json::array();
  for (const auto& g : r.storage.buckets) {
    buckets.push_back({{"bucket", g.bucket},
                       {"start_bytes", g.start_bytes},
                       {"end_bytes", g.end_bytes},
                       {"growth_bytes", g.growth_bytes},
                       {"growth_pct", opt(g.growth_pct)},
                       {"pending_uploads", g.pending_uploads}});
  }
  Json prefixes = Json::array();
  for (const auto& p : r.storage.largest_prefixes) {
    prefixes.push_back({{"bucket", p.bucket}, {"prefix", p.prefix}, {"bytes", p.bytes}});
  }
  Json storage = {
      {"start_bytes", r.storage.start_bytes},         {"end_bytes", r.storage.end_bytes},
      {"growth_bytes", r.storage.growth_bytes},       {"growth_pct", opt(r.storage.growth_pct)},
      {"pending_uploads", r.storage.pending_uploads}, {"buckets", std::move(buckets)},
      {"largest_prefixes", std::move(prefixes)}};

  Json recs = Json::array();
  for (const auto& x : r.recommendations) {
    Json j = {
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
Status report_lists_from_json(const Json& input, rep::ReportInput& out) {
  FieldReader in(input, "", kInputFields);
  auto ops = list(in, "operations");
  if (!ops.ok()) return ops.error();
  for (size_t i = 0; i < ops.value()->size(); ++i) {
    auto row = codec::row_from_json((*ops.value())[i]);
    if (!row.ok()) return bindings::prefixed(row.error(), "operations[" + std::to_string(i) + "]");
    out.operations.push_back(std::move(row).value());
  }
  auto statuses = list(in, "statuses");
  if (!statuses.ok()) return statuses.error();
  for (size_t i = 0; i < statuses.value()->size(); ++i) {
    FieldReader r = row_reader((*statuses.value())[i], "statuses[" + std::to_string(i) + "]");
    rep::StatusCount s{.bucket = text(r, "bucket")};
    uint64_t status = count(r, "status");
    if (status > 999) r.fail("status", "must be an HTTP status");
    s.status = static_cast<uint32_t>(status);
    s.requests = count(r, "requests");
    if (auto e = r.finish()) return *e;
    out.statuses.push_back(std::move(s));
  }
  auto alerts = list(in, "alerts");
  if (!alerts.ok()) return alerts.error();
  for (size_t i = 0; i < alerts.value()->size(); ++i) {
    FieldReader r = row_reader((*alerts.value())[i], "alerts[" + std::to_string(i) + "]");
    rep::AlertRecord a{.id = text(r, "id"),
                       .name = text(r, "name"),
                       .type = text(r, "type"),
                       .severity = text(r, "severity"),
                       .bucket = text(r, "bucket")};
    r.require("fired_at_ms");
    r.read_time("fired_at_ms", a.fired_at);
    r.read_time("acknowledged_at_ms", a.acknowledged_at);
    r.read_time("resolved_at_ms", a.resolved_at);
    if (auto e = r.finish()) return *e;
    out.alerts.push_back(std::move(a));
  }
  auto storage = list(in, "storage");
  if (!storage.ok()) return storage.error();
  for (size_t i = 0; i < storage.value()->size(); ++i) {
    FieldReader r = row_reader((*storage.value())[i], "storage[" + std::to_string(i) + "]");
    auto day = parse_date(text(r, "day"));
    if (!day) r.fail("day", "must be a day as YYYY-MM-DD");
    rep::StorageDay d{
        .bucket = text(r, "bucket"), .prefix = text(r, "prefix"), .bytes = count(r, "bytes")};
    if (auto e = r.finish()) return *e;
    d.day = *day;
    out.storage.push_back(std::move(d));
  }
  auto pending = list(in, "pending_uploads");
  if (!pending.ok()) return pending.error();
  for (size_t i = 0; i < pending.value()->size(); ++i) {
    FieldReader r = row_reader((*pending.value())[i], "pending_uploads[" + std::to_string(i) + "]");
    rep::PendingUploads p{.bucket = text(r, "bucket"), .uploads = count(r, "uploads")};
    if (auto e = r.finish()) return *e;
    out.pending_uploads.push_back(std::move(p));
  }
  // The cost engine's budget status answer, as it is.
  auto budgets = list(in, "budgets");
  if (!budgets.ok()) return budgets.error();
  for (size_t i = 0; i < budgets.value()->size(); ++i) {
    FieldReader r = row_reader((*budgets.value())[i], "budgets[" + std::to_string(i) + "]");
    rep::BudgetStanding b{.bucket = text(r, "bucket"), .status = text(r, "status")};
    b.budget = cost::Money::micro_usd(micro_usd(r, "monthly_micro_usd"));
    b.spent = cost::Money::micro_usd(micro_usd(r, "spent_micro_usd"));
    b.forecast = cost::Money::micro_usd(micro_usd(r, "forecast_micro_usd"));
    if (auto e = r.finish()) return *e;
    out.budgets.push_back(std::move(b));
  }
  if (const Json* pricing = in.read_json("pricing"); pricing && pricing->is_array()) {
    auto versions = price_versions_from_json(*pricing, "pricing");
    if (!versions.ok()) return versions.error();
    out.prices = cost::price_list_for(versions.value(), month_of(out.period.last));
  } else {
    out.prices = cost::default_price_list();
  }
  return Ok{};
}

Json usage_snapshot_json(const rep::Report& report, const rep::CostHeadline& headline,
                         const Json& storage, TimePoint now) {
  return {{"generated_at_ms", to_epoch_ms(now)},
          {"period", report.period.label},
          {"type", rep::report_type_name(report.period.type)},
          {"storage", storage},
          {"performance",
           {{"calls", report.performance.total.calls},
            {"errors", report.performance.total.errors},
            {"p95_ms", opt(report.performance.total.latency.p95_ms)}}},
          {"cost",
           {{"month", headline.month},
            {"month_to_date_micro_usd", headline.month_to_date.micro_usd()}}}};
}

std::vector<rep::Target> targets_from_json(const Json& in) {
  // The alert channels as the alert settings hold them (already checked there): a channel
  // without a name and type, or with a field of another type, is left out; non-strings in a
  // `to` list are skipped.
  auto strings_of = [](const Json* v) {
    std::vector<std::string> out;
    if (!v || !v->is_array()) return out;
    for (const Json& s : *v) {
      if (s.is_string()) out.push_back(s.get<std::string>());
    }
    return out;
  };
  FieldReader r(in, "", kInputFields);
  std::vector<rep::Target> channels;
  if (const Json* list = r.read_json("channels"); list && list->is_array()) {
    for (const Json& c : *list) {
      FieldReader cr(c, "", kInputFields);
      rep::Target t;
      std::optional<std::string> from, repository;
      cr.require("name");
      cr.require("type");
      cr.read_string("name", t.name);
      cr.read_string("type", t.type);
      cr.read_optional_string("from", from);
      cr.read_optional_string("repository", repository);
      t.to = strings_of(cr.read_json("to"));
      if (cr.finish()) continue;
      if (from) t.from = *from;
      if (repository) t.repository = *repository;
      channels.push_back(std::move(t));
    }
  }
  std::vector<std::string> to;
  std::optional<std::string> from;
  if (const Json* e = r.read_json("email")) {
    FieldReader er(*e, "email", kInputFields);
    er.read_optional_string("from", from);
    to = strings_of(er.read_json("to"));
  }
  return rep::report_targets(std::move(channels), std::move(to), from.value_or(""));
}

Result<std::vector<rep::Subscription>> subscriptions_from_json(
    const Json& request, const std::vector<rep::Target>& targets) {
  // `request` is a PUT body or a report's delivery (with its channels, email and link beside).
  FieldReader body(request, "", {.unknowns = FieldUnknowns::kIgnored});
  const Json* list = body.read_json("subscriptions");
  if (!list || !list->is_array()) {
    return invalid_field("subscriptions", "subscriptions must be an array");
  }
  if (auto err = body.finish()) return *err;
  const Json& subs = *list;
  if (subs.size() > rep::kMaxSubscriptions) {
    return invalid_field("subscriptions", "one subscription per report type");
  }
  std::vector<rep::Subscription> out;
  for (size_t i = 0; i < subs.size(); ++i) {
    std::string p = "subscriptions[" + std::to_string(i) + "]";
    FieldReader r(subs[i], p);
    const Json* type = r.read_json("report_type");
    const Json* channels_in = r.read_json("channels");
    if (auto err = r.finish()) return *err;
    rep::Subscription sub;
    if (!type || !type->is_string()) {
      return invalid_field(p + ".report_type", "report_type must be daily, weekly or monthly");
    }
    sub.report_type = type->get<std::string>();
    static const Json kNone;
    const Json& channels = channels_in ? *channels_in : kNone;
    if (!channels.is_array() || channels.size() > rep::kMaxSubscriptionChannels) {
      // The report type's own errors come first.
      if (auto err = rep::check_subscription(sub, i, out, targets)) return *err;
      return invalid_field(p + ".channels", "channels must be an array of channel names");
    }
    for (size_t j = 0; j < channels.size(); ++j) {
      if (!channels[j].is_string()) {
        sub.channels.resize(j);  // the names before it are checked first
        if (auto err = rep::check_subscription(sub, i, out, targets)) return *err;
        return invalid_field(p + ".channels[" + std::to_string(j) + "]", "must be a channel name");
      }
      sub.channels.push_back(channels[j].get<std::string>());
    }
    if (auto err = rep::check_subscription(sub, i, out, targets)) return *err;
    out.push_back(std::move(sub));
  }
  return out;
}

Json subscriptions_json(const std::vector<rep::Subscription>& subs) {
  Json out = Json::array();
  for (const rep::Subscription& s : subs) {
    Json names = Json::array();
    for (const std::string& c : s.channels) names.push_back(c);
    out.push_back({{"report_type", s.report_type}, {"channels", names}});
  }
  return out;
}

rep::CostHeadline cost_headline_from_json(const Json& cost, YearMonth month) {
  // The cost_report answer as it is (or null): a figure that is not there, or not a whole
  // number, is left out of the headline.
  rep::CostHeadline headline{.month = format_year_month(month)};
  FieldReader r(cost, "cost", kInputFields);
  auto money = [](const Json* parent, std::string_view name) -> std::optional<cost::Money> {
    if (!parent) return std::nullopt;
    FieldReader fr(*parent, "", kInputFields);
    int64_t micro_usd = 0;
    fr.require(name);
    fr.read_whole(name, micro_usd);
    if (fr.finish()) return std::nullopt;
    return cost::Money::micro_usd(micro_usd);
  };
  if (auto total = money(r.read_json("cost"), "total_micro_usd")) headline.month_to_date = *total;
  for (const char* k : {"period_cost_micro_usd", "day_cost_micro_usd"}) {
    if (!headline.period_cost) headline.period_cost = money(&cost, k);
  }
  if (const Json* change = r.read_json("change")) {
    FieldReader cr(*change, "change", kInputFields);
    const Json* delta = cr.read_json("delta_pct");
    if (delta && delta->is_number() && std::isfinite(delta->get<double>())) {
      headline.change_pct = delta->get<double>();
    }
  }
  return headline;
}

Json slack_blocks_json(const std::vector<rep::SlackBlock>& blocks) {
  Json out = Json::array();
  for (const rep::SlackBlock& b : blocks) {
    switch (b.kind) {
      case rep::SlackBlock::Kind::kHeader:
        out.push_back({{"type", "header"}, {"text", {{"type", "plain_text"}, {"text", b.text}}}});
        break;
      case rep::SlackBlock::Kind::kContext:
        out.push_back({{"type", "context"},
                       {"elements", Json::array({{{"type", "mrkdwn"}, {"text", b.text}}})}});
        break;
      case rep::SlackBlock::Kind::kSection:
        out.push_back({{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", b.text}}}});
        break;
    }
  }
  return out;
}

Json email_body(const rep::Rendered& r, const std::string& from, const std::vector<std::string>& to,
                TimePoint now) {
  return {{"from", from},   {"to", to},       {"subject", r.subject},
          {"text", r.text}, {"html", r.html}, {"raw", rep::mime(r, from, to, now)}};
}

Json slack_body(const rep::Rendered& r) {
  return {{"text", r.subject}, {"blocks", slack_blocks_json(r.slack_blocks)}};
}

Json github_body(const rep::Rendered& r, const std::string& repository, rep::ReportType type) {
  Json labels = Json::array();
  for (const std::string& l : rep::github_labels(type)) labels.push_back(l);
  return {{"requests",
           Json::array({{{"method", "POST"},
                         {"path", "/repos/" + repository + "/issues"},
                         {"body", {{"title", r.title}, {"body", r.markdown}, {"labels", labels}}},
                         {"opens_issue", true}}})}};
}

}  // namespace r2w::codec
