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
#include "wasm-bindings/codec/cost.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/codec/metrics.h"
#include "wasm-bindings/codec/reports.h"
#include "wasm-bindings/commands.h"
#include "wasm-bindings/engine.h"

namespace r2w::bindings {

namespace rep = r2w::reports;

namespace {

using codec::period_json;

// A period as the Worker makes its report at `now`: with `as_of_ms`, the moment the report
// stands at (rep::report_as_of).
Json period_at_json(const rep::Period& p, TimePoint now) {
  Json j = period_json(p);
  j["as_of_ms"] = to_epoch_ms(rep::report_as_of(p, now));
  return j;
}

// {"type": "daily"|"weekly"|"monthly", "period"?: label} -> the period ({type, period,
// first_day, last_day, days, from_ms, to_ms, r2_key, as_of_ms}); without "period", the last
// one that has ended at `now`.
Result<Json> report_period(Engine&, const Json& in, TimePoint now) {
  FieldReader r(in);
  std::string type, label;
  r.read_string("type", type);
  r.read_string("period", label);
  if (auto err = r.finish()) return *err;
  auto t = rep::parse_report_type(type);
  if (!t) return invalid_field("type", "type must be daily, weekly or monthly");
  if (label.empty()) return period_at_json(rep::closed_period(*t, now), now);
  auto p = rep::parse_period(*t, label, "period");
  if (!p.ok()) return p.error();
  return period_at_json(p.value(), now);
}

// {} -> {"periods": [period, ...]}: the reports a daily run at `now` makes (daily always,
// weekly on Mondays, monthly on the 1st), each of the period just ended.
Result<Json> report_due(Engine&, const Json& in, TimePoint now) {
  FieldReader r(in);
  if (auto err = r.finish()) return *err;
  Json list = Json::array();
  for (const rep::Period& p : rep::due_periods(now)) list.push_back(period_at_json(p, now));
  return Json{{"periods", list}};
}

// {"request": {"subscriptions": [...]}, "channels": [alert channels], "email": {"to", "from"}}
// -> {"subscriptions": [...]} normalized, or an error naming the field.
Result<Json> report_subscriptions_validate(Engine&, const Json& in, TimePoint) {
  FieldReader r(in);
  const Json* request = r.read_json("request");
  r.has("channels");  // read with "email" by targets_from_json
  r.has("email");
  if (auto err = r.finish()) return *err;
  static const Json kNone;
  auto subs =
      codec::subscriptions_from_json(request ? *request : kNone, codec::targets_from_json(in));
  if (!subs.ok()) return subs.error();
  return Json{{"subscriptions", codec::subscriptions_json(subs.value())}};
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
Result<Json> report_build(Engine&, const Json& in, TimePoint now) {
  FieldReader r(in);
  // The lists are read by codec::report_lists_from_json, the period by period_from_json.
  for (const char* name : {"type", "period", "operations", "statuses", "alerts", "storage",
                           "pending_uploads", "budgets", "pricing"}) {
    r.has(name);
  }
  const Json* cost_in = r.read_json("cost");
  const Json* delivery_in = r.read_json("delivery");
  if (auto err = r.finish()) return *err;
  auto period = codec::period_from_json(in);
  if (!period.ok()) return period.error();
  rep::ReportInput input{.period = period.value()};
  if (auto s = codec::report_lists_from_json(in, input); !s.ok()) return s.error();
  rep::Report report = rep::build_report(input);

  static const Json kNone;
  const Json& cost = cost_in ? *cost_in : kNone;
  if (!cost.is_null() && !cost.is_object()) return invalid_field("cost", "cost must be an object");
  Json out = cost.is_object() ? cost : Json::object();
  Json p = period_json(report.period);
  for (auto& [k, v] : p.items()) out[k] = v;
  // (The sections live in a named value: iterating a temporary's items() would dangle.)
  Json sections = codec::report_sections_json(report);
  for (auto& [k, v] : sections.items()) out[k] = v;

  rep::CostHeadline headline = codec::cost_headline_from_json(cost, month_of(report.period.last));

  Json snapshot = codec::usage_snapshot_json(report, headline, out["storage"], now);

  Json notifications = Json::array();
  const Json& delivery = delivery_in ? *delivery_in : kNone;
  if (delivery.is_object()) {
    std::vector<rep::Target> targets = codec::targets_from_json(delivery);
    auto subs = codec::subscriptions_from_json(delivery, targets);
    if (!subs.ok()) return prefixed(subs.error(), "delivery");
    std::string url;
    if (const Json* u = delivery.find_member("dashboard_url"); u && u->is_string()) {
      url = u->get<std::string>();
    }
    std::string link = rep::report_link(url, report.period);
    rep::Rendered rendered = rep::render_report(report, headline, link);
    std::string id = rep::report_notification_id(report.period);
    for (const rep::Target& t : rep::report_recipients(subs.value(), targets, report.period.type)) {
      Json body;
      if (t.type == "email") {
        body = codec::email_body(rendered, t.from, t.to, now);
      } else if (t.type == "slack") {
        body = codec::slack_body(rendered);
      } else if (t.type == "github") {
        body = codec::github_body(rendered, t.repository, report.period.type);
      } else {
        body = {{"kind", "report"}, {"subject", rendered.subject}, {"report", out}};
      }
      notifications.push_back({{"key", id + ":" + t.name},
                               {"channel", t.name},
                               {"channel_type", t.type},
                               {"kind", "report"},
                               {"alert_ids", Json::array({id})},
                               {"body", std::move(body)}});
    }
  }
  return Json{{"report", std::move(out)},
              {"usage_snapshot", std::move(snapshot)},
              {"notifications", std::move(notifications)}};
}

// One step of a report's operations folded (rep::fold_operations): {"type", "period",
// "folded": [rows folded by the steps before], "rows": [storage_metrics rows read up to
// "through_ms"], "through_ms", "days_before_ms"?, "hours_before_ms"?: where the day and hour
// rollups are complete (absent: through the period)} -> {"folded": [one row per bucket, prefix
// and operation], "next_to_ms"?: where the next step reads up to (a day of day rows, an hour of
// hour rows, a day of minute rows; absent: the period is folded)}. The folded rows are
// report_build's "operations" as they are.
Result<Json> report_fold(Engine&, const Json& in, TimePoint) {
  FieldReader r(in);
  r.has("type");  // read with "period" by period_from_json
  r.has("period");
  r.has("folded");  // read by rows_from_json
  r.has("rows");
  TimePoint through;
  r.require("through_ms");
  r.read_time("through_ms", through);
  rep::RolledUp rolled;
  r.read_time("days_before_ms", rolled.days);
  r.read_time("hours_before_ms", rolled.hours);
  if (auto err = r.finish()) return *err;
  auto period = codec::period_from_json(in);
  if (!period.ok()) return period.error();
  auto next = rep::next_fold_end(period.value(), through, rolled);
  if (!next.ok()) return next.error();
  auto folded = codec::rows_from_json(in, "folded");
  if (!folded.ok()) return folded.error();
  auto rows = codec::rows_from_json(in, "rows");
  if (!rows.ok()) return rows.error();
  Json out{{"folded", codec::rows_to_json(rep::fold_operations(std::move(folded).value(),
                                                               rows.value(), period.value()))}};
  if (next.value()) out["next_to_ms"] = to_epoch_ms(*next.value());
  return out;
}

}  // namespace

std::span<const CommandEntry> report_commands() {
  static constexpr CommandEntry kCommands[] = {
      {"report_period", &report_period},
      {"report_due", &report_due},
      {"report_build", &report_build},
      {"report_fold", &report_fold},
      {"report_subscriptions_validate", &report_subscriptions_validate},
  };
  return kCommands;
}

}  // namespace r2w::bindings
