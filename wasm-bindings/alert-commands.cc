// Commands of the alert engine: rules (defaults, create, update), channels and settings,
// silences, the figures a round needs, the evaluation round itself, acknowledge / resolve,
// test notifications, target checks and delivery backoff. The Worker keeps rules, states,
// silences and settings in D1 and hands them in; the engine keeps the check-alerts round
// between runs (alert_round: rules, settings, the key table, states and ledger, restored from
// D1 on a cold start) and touches the breaker (a rule's force_breaker_open action).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/account/figures.h"
#include "core/alerts/evaluate.h"
#include "core/alerts/figures.h"
#include "core/alerts/overview-lines.h"
#include "core/alerts/round.h"
#include "core/alerts/rule.h"
#include "core/alerts/settings.h"
#include "core/common/civil-date.h"
#include "core/cost/anomaly.h"
#include "core/cost/month.h"
#include "core/cost/price-list.h"
#include "core/cost/usage.h"
#include "wasm-bindings/codec/alerts.h"
#include "wasm-bindings/codec/cost.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/commands.h"
#include "wasm-bindings/engine.h"

namespace r2w::bindings {

using json = r2w::Json;
namespace alerts = r2w::alerts;

namespace {

Error invalid_query(std::string field, std::string message) {
  return Error{.code = "invalid_query", .message = std::move(message), .field = std::move(field)};
}

// The query-string parameters' reader: every problem is an "invalid_query" (HTTP 400).
constexpr FieldReaderOptions kQuery = {.code = "invalid_query"};

// A member read with FieldReader::read_json, null when absent (each command reads its members
// with FieldReader, which refuses the fields it did not ask for, then hands them to the codec).
const json& or_null(const json* member) {
  static const json kNull;
  return member ? *member : kNull;
}

// The stored rules ("rules"; absent: none).
Result<std::vector<alerts::Rule>> rules_of(const json& rules) {
  if (rules.is_null()) return std::vector<alerts::Rule>{};
  return codec::rules_from_json(rules, "rules");
}

// Stored settings ("settings"), read back: an inline url was checked for its environment when
// stored, and every target is checked again when sent (alert_target_check).
Result<alerts::Settings> settings_of(const Engine& e, const json& settings) {
  auto s = codec::settings_from_json(settings, alerts::InlineUrlCheck::kNone, e.email_defaults());
  if (!s.ok()) return prefixed(s.error(), "settings");
  return s;
}

json rules_json(const std::vector<alerts::Rule>& rules) {
  json out = json::array();
  for (const auto& r : rules) out.push_back(codec::rule_to_json(r));
  return out;
}

json state_entry(const alerts::AlertState& s) {
  return {{"state", codec::state_to_json(s)}, {"alert", codec::alert_view(s)}};
}

json notifications_json(std::vector<alerts::Notification>&& list) {
  json out = json::array();
  for (const auto& n : list) out.push_back(codec::notification_to_json(n));
  return out;
}

// {} -> the rules installed on first start and the default settings.
// {"EMAIL_TO"?: "a@x, b@y", "EMAIL_FROM"?: "r2watch@x"} (the Worker's variables) -> what the
// engine now sends an email channel without recipients or sender of its own to and from. A bad
// variable is refused (field: its name) and the engine keeps none.
Result<json> alert_configure(Engine& e, const json& in, TimePoint) {
  FieldReader r(in, "", {.nulls = FieldNulls::kAbsent});
  std::string to, from;
  r.read_string("EMAIL_TO", to);
  r.read_string("EMAIL_FROM", from);
  if (auto err = r.finish()) return *err;
  auto d = alerts::email_defaults_from_vars(to, from);
  if (!d.ok()) {
    e.set_email_defaults({});
    return d.error();
  }
  e.set_email_defaults(d.value());
  return json{{"email_to", d.value().to}, {"email_from", d.value().from}};
}

Result<json> alert_defaults(Engine&, const json& in, TimePoint) {
  if (auto e = FieldReader(in).finish()) return *e;
  return json{{"rules", rules_json(alerts::default_rules())},
              {"settings", codec::settings_to_json(alerts::Settings{}, codec::UrlView::kFull)}};
}

// {"request": <body>, "id": "<generated id if the body has none>", "existing": [ids]} -> {"rule"}
Result<json> alert_rule_create(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  const json& request = or_null(r.read_json("request"));
  const json& given_id = or_null(r.read_json("id"));
  const json& existing = or_null(r.read_json("existing"));
  if (auto e = r.finish()) return *e;
  std::string id = given_id.is_string() ? given_id.get<std::string>() : "rule";
  auto rule = codec::new_rule_from_json(request, id);
  if (!rule.ok()) return rule.error();
  std::vector<std::string> taken;
  for (const json& e : existing) {
    if (e.is_string()) taken.push_back(e.get<std::string>());
  }
  if (auto e = alerts::check_new_rule_id(rule.value(), taken)) return *e;
  return json{{"rule", codec::rule_to_json(rule.value())}};
}

// {"current": <stored rule>, "request": <partial body>} -> {"rule"}: the merge, validated.
Result<json> alert_rule_update(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  const json& stored = or_null(r.read_json("current"));
  const json& request = or_null(r.read_json("request"));
  if (auto e = r.finish()) return *e;
  auto current = codec::rules_from_json(json::array({stored}), "current");
  if (!current.ok()) return current.error();
  if (!request.is_object()) return invalid_field("request", "the body must be an object");
  // What GET /api/alerts/rules/{id} answers, {"rule": {...}}, sent back: that rule.
  json body = request.size() == 1 && request.contains("rule") && request["rule"].is_object()
                  ? request["rule"]
                  : request;
  if (body.contains("id")) {
    // An id that is not text is a change too ("" is no rule's id).
    std::string requested = body["id"].is_string() ? body["id"].get<std::string>() : std::string();
    if (auto e = alerts::check_same_id(current.value()[0], requested)) return *e;
  }
  body.erase("metric");
  auto rule = codec::rule_from_json(body, current.value()[0]);
  if (!rule.ok()) return rule.error();
  return json{{"rule", codec::rule_to_json(rule.value())}};
}

// {"current": <stored settings> | null, "request": <partial settings>} -> the merged settings
// (to store) and their masked view (to answer).
// {"current", "request"?, "environment"?: "production" (default) | "development"} -> the merged
// settings and their masked view. With a request, an inline channel url is checked for the
// environment; without one (reading the stored settings back) it is not: it is checked again
// when sent.
Result<json> alert_settings_update(Engine& e, const json& in, TimePoint) {
  FieldReader r(in);
  const json& current = or_null(r.read_json("current"));
  const json& request = or_null(r.read_json("request"));
  const json& env = or_null(r.read_json("environment"));
  if (auto e = r.finish()) return *e;
  std::optional<alerts::Environment> environment = alerts::Environment::kProduction;
  if (!env.is_null()) {
    environment =
        env.is_string() ? alerts::parse_environment(env.get<std::string>()) : std::nullopt;
    if (!environment) {
      return invalid_field("environment", "environment must be production or development");
    }
  }
  json merged = current.is_object() ? current : json::object();
  if (!request.is_null()) {
    if (!request.is_object()) return invalid_field("request", "the body must be an object");
    json body = request;
    if (auto e = codec::restore_masked_urls(body, merged)) return *e;
    for (const auto& item : body.items()) merged[item.key()] = item.value();
  }
  auto check = request.is_null() ? alerts::InlineUrlCheck::kNone
               : *environment == alerts::Environment::kDevelopment
                   ? alerts::InlineUrlCheck::kDevelopment
                   : alerts::InlineUrlCheck::kProduction;
  auto s = codec::settings_from_json(merged, check, e.email_defaults());
  if (!s.ok()) return s.error();
  return json{{"settings", codec::settings_to_json(s.value(), codec::UrlView::kFull)},
              {"view", codec::settings_to_json(s.value(), codec::UrlView::kMasked)}};
}

// {"rules": [...]} -> what the Worker must gather for a round, with the window of the security
// gate's failed-authentication counters (`failed_access_counter_window_ms`, this engine's
// setting): each counter row is one failed_access item {"at_ms": its window's start,
// "window_ms", "count"}.
json plan_json(const Engine& e, const std::vector<alerts::Rule>& rules, TimePoint now) {
  alerts::FigureNeeds needs = alerts::needs_of(rules);
  Duration counter_window = e.security_settings().auth_failure_window;
  json out = codec::needs_to_json(needs);
  out["failed_access_counter_window_ms"] = counter_window.count();
  codec::add_read_windows(out, alerts::read_windows(needs, counter_window, now));
  return out;
}

Result<json> alert_plan(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  const json& stored_rules = or_null(r.read_json("rules"));
  if (auto err = r.finish()) return *err;
  auto rules = rules_of(stored_rules);
  if (!rules.ok()) return rules.error();
  return plan_json(e, rules.value(), now);
}

// {} -> alert_plan's answer over the rules the kept round holds (those of its last
// alert_round), so a run whose stored rules are the ones it sent last does not send them again.
// Refused (conflict, field "rules") while the round holds none.
Result<json> alert_round_plan(Engine& e, const json& in, TimePoint now) {
  if (auto err = FieldReader(in).finish()) return *err;
  const alerts::Round& round = e.alert_round();
  if (!round.has_rules()) {
    return Error{.code = "conflict",
                 .message = "the alert round holds no rules yet: plan with alert_plan",
                 .field = "rules"};
  }
  return plan_json(e, round.rules(), now);
}

// How many texts (days, buckets, action types and storage classes) alert_cost_figures' account
// names: a bound on the input, far above a month of a large account's.
constexpr size_t kMaxAccountTexts = 1 << 16;

// The account's day rows as alert_cost_figures takes them, every text named once and the rows
// as flat numbers (no text per row): {"days": ["YYYY-MM-DD", ...], "buckets": [...], "names":
// [classes, action types and storage classes, "" among them], "by_class": [day, bucket, class
// (a name of action_class_name, "" when unclassified), billed (1, or 0 for the unbilled status
// codes), action_type (unclassified only, else ""), requests, response_bytes, ...] (7 a row: the
// day rows summed by account_reads' grouping, as cost_bill's "account"."by_class"), "storage":
// [day, bucket, name (storage class), payload_bytes, metadata_bytes, objects, pending_uploads,
// ...] (7 a row)}, where day, bucket, class, action_type and name are indices into their lists.
Result<account::AccountUsage> compact_account_usage(const json& j) {
  if (!j.is_object()) return invalid_field("account", "account must be an object");
  FieldReader r(j, "account");
  std::vector<std::string> day_texts, buckets, names;
  r.read_strings("days", day_texts, kMaxAccountTexts);
  r.read_strings("buckets", buckets, kMaxAccountTexts);
  r.read_strings("names", names, kMaxAccountTexts);
  const json& by_class = or_null(r.read_json("by_class"));
  const json& storage = or_null(r.read_json("storage"));
  if (auto err = r.finish()) return *err;
  std::vector<CivilDate> days;
  for (size_t i = 0; i < day_texts.size(); ++i) {
    auto d = parse_date(day_texts[i]);
    if (!d) return invalid_field("account.days", "account.days must be days as YYYY-MM-DD");
    days.push_back(*d);
  }
  // The k-th number of a row: a whole number up to 2^53 (an index below `below` when given).
  auto number = [](const json& list, size_t k, uint64_t below) -> std::optional<uint64_t> {
    const json& v = list[k];
    if (!v.is_number_unsigned()) return std::nullopt;
    uint64_t n = v.get<uint64_t>();
    if (n > cost::kMaxUsageFigure || n >= below) return std::nullopt;
    return n;
  };
  // A name as an action class: "" unclassified, else one of action_class_name's.
  auto class_of = [&](std::optional<uint64_t> i) -> std::optional<account::ActionClass> {
    if (!i) return std::nullopt;
    if (names[*i].empty()) return account::ActionClass::kUnclassified;
    for (auto k : {account::ActionClass::kClassA, account::ActionClass::kClassB,
                   account::ActionClass::kFree}) {
      if (names[*i] == account::action_class_name(k)) return k;
    }
    return std::nullopt;
  };
  constexpr uint64_t kAny = UINT64_MAX;
  std::vector<account::ClassedOperationsDay> ops;
  if (!by_class.is_array() || by_class.size() % 7 != 0) {
    return invalid_field("account.by_class", "account.by_class must be rows of 7 numbers");
  }
  ops.reserve(by_class.size() / 7);
  for (size_t k = 0; k < by_class.size(); k += 7) {
    auto d = number(by_class, k, days.size()), b = number(by_class, k + 1, buckets.size()),
         billed = number(by_class, k + 3, 2), a = number(by_class, k + 4, names.size()),
         req = number(by_class, k + 5, kAny), bytes = number(by_class, k + 6, kAny);
    auto c = class_of(number(by_class, k + 2, names.size()));
    if (!d || !b || !c || !billed || !a || !req || !bytes) {
      return invalid_field("account.by_class",
                           "account.by_class row " + std::to_string(k / 7) +
                               " must be [day, bucket, class, billed (0 or 1), action_type, "
                               "requests, response_bytes]");
    }
    ops.push_back({days[*d], buckets[*b], *c,
                   *billed == 1 ? account::Billing::kBilled : account::Billing::kUnbilled,
                   *c == account::ActionClass::kUnclassified ? names[*a] : std::string(), *req,
                   *bytes});
  }
  std::vector<account::StorageRow> st;
  if (!storage.is_array() || storage.size() % 7 != 0) {
    return invalid_field("account.storage", "account.storage must be rows of 7 numbers");
  }
  for (size_t k = 0; k < storage.size(); k += 7) {
    auto d = number(storage, k, days.size()), b = number(storage, k + 1, buckets.size()),
         c = number(storage, k + 2, names.size()), payload = number(storage, k + 3, kAny),
         meta = number(storage, k + 4, kAny), objects = number(storage, k + 5, kAny),
         pending = number(storage, k + 6, kAny);
    auto storage_class = c ? cost::parse_storage_class(names[*c]) : std::nullopt;
    if (!d || !b || !storage_class || !payload || !meta || !objects || !pending) {
      return invalid_field("account.storage",
                           "account.storage row " + std::to_string(k / 7) +
                               " must be [day, bucket, name (a storage class), payload_bytes, "
                               "metadata_bytes, objects, pending_uploads]");
    }
    st.push_back({days[*d], buckets[*b], *storage_class, *payload, *meta, *objects, *pending});
  }
  return account::account_usage(ops, st);
}

// The cost figures of a round from the account's rows (the collector on), the rows read once:
// {"date": "YYYY-MM-DD" (the plan's cost_window date), "account": the rows from the cost
// window's from_ms to date (compact_account_usage), "pricing": [...]} -> {"bill": the month of
// `date` as cost_bill answers it over that month's rows (the fields its month report writes),
// "anomaly": as cost_anomaly answers it over every row, with its default options}.
Result<json> alert_cost_figures(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  std::string date_text;
  r.read_string("date", date_text);
  const json& account = or_null(r.read_json("account"));
  bool has_pricing = r.has("pricing");
  if (auto err = r.finish()) return *err;
  auto date = parse_date(date_text);
  if (!date) return invalid_field("date", "date must be the day to check as YYYY-MM-DD");
  auto versions = codec::versions_of(in, has_pricing);
  if (!versions.ok()) return versions.error();
  auto usage = compact_account_usage(account);
  if (!usage.ok()) return usage.error();
  const std::vector<cost::UsageRow>& rows = usage.value().rows;
  cost::MonthInput month;
  month.as_of = *date;
  month.prices = cost::price_list_for(versions.value(), month_of(*date));
  const CivilDate first = first_day(month_of(*date));
  for (const cost::UsageRow& row : rows) {
    if (row.date >= first) month.rows.push_back(row);
  }
  auto report = cost::month_report(month);
  if (!report.ok()) return report.error();
  cost::AnomalyOptions options;
  json out;
  out["bill"] = codec::month_report_json(report.value(), month.prices, month.forecast);
  out["anomaly"] =
      codec::anomaly_json(cost::check_anomaly(month.prices, rows, *date, options), options);
  return out;
}

// {} -> which outbox rows a delivery run sends: {"due_by_ms", "lease_expired_before_ms",
// "timeout_ms", "batch"}.
Result<json> alert_delivery_plan(Engine&, const json& in, TimePoint now) {
  if (auto e = FieldReader(in).finish()) return *e;
  alerts::DeliveryPlan p = alerts::delivery_plan(now);
  return json{{"due_by_ms", to_epoch_ms(p.due_by)},
              {"lease_expired_before_ms", to_epoch_ms(p.lease_expired_before)},
              {"timeout_ms", p.timeout.count()},
              {"batch", p.batch}};
}

// GET /api/alerts/notifications: {"limit"?: text} -> {"limit"}.
Result<json> alert_notifications_query(Engine&, const json& in, TimePoint) {
  FieldReader r(in, "", kQuery);
  std::string text;
  const bool given = r.has("limit");
  r.read_string("limit", text);
  if (auto e = r.finish()) return *e;
  int64_t limit = given ? alerts::query_number(text) : alerts::kDefaultNotificationsLimit;
  if (auto e = alerts::check_notifications_limit(limit)) return *e;
  return json{{"limit", limit}};
}

// A round's answer: {"summary", "changed": [{"state", "alert"}], "dropped", "notifications",
// "actions", "ledger"}; kValues: a state of which only the value and detail changed is
// {"fingerprint", "alert_id", "value", "detail"} in "values" instead (updated at now), and the
// ledger is null when the round did not change it. A
// force_breaker_open action forces this engine's breaker open (the Worker persists it).
enum class ChangedStates : uint8_t { kWhole, kValues };
json round_answer(Engine& e, alerts::CheckResult&& result, TimePoint now, ChangedStates form,
                  std::string_view breaker_state) {
  json changed = json::array();
  json values = json::array();
  for (size_t i = 0; i < result.changed.size(); ++i) {
    const alerts::AlertState& s = result.changed[i];
    if (form == ChangedStates::kValues && result.changes[i] == alerts::Change::kValueOnly) {
      values.push_back(json{{"fingerprint", s.fingerprint},
                            {"alert_id", s.alert_id},
                            {"value", s.value},
                            {"detail", s.detail}});
    } else {
      changed.push_back(state_entry(s));
    }
  }
  json actions = json::array();
  bool forced_open = breaker_state == "forced_open";
  for (const auto& a : result.actions) {
    bool applied = false;
    if (a.type == alerts::ActionType::kForceBreakerOpen && !forced_open) {
      e.breaker().force_open(now);
      forced_open = true;
      applied = true;
    }
    actions.push_back({{"type", alerts::action_type_name(a.type)},
                       {"alert_id", a.alert_id},
                       {"rule_id", a.rule_id},
                       {"applied", applied}});
  }
  json out = json::object();
  out["summary"] = {{"rules_evaluated", result.rules_evaluated},
                    {"series", result.series},
                    {"series_matched", result.series_matched},
                    {"firing", result.firing},
                    {"pending", result.pending},
                    {"notifications", result.notifications.size()}};
  out["changed"] = std::move(changed);
  if (form == ChangedStates::kValues) out["values"] = std::move(values);
  out["dropped"] = std::move(result.dropped);
  out["notifications"] = notifications_json(std::move(result.notifications));
  out["actions"] = std::move(actions);
  // The kept round's ledger only when it changed (null: as stored).
  out["ledger"] = form == ChangedStates::kValues && !result.ledger_changed
                      ? json(nullptr)
                      : codec::ledger_to_json(result.ledger);
  return out;
}

// The figures a round gathered (alert_check's "figures"), the engine's breaker state added
// when a rule needs it and the Worker gave none, as series and quota users' addresses.
struct Gathered {
  std::vector<alerts::Series> series;
  std::map<std::string, std::string> user_emails;
};
Result<Gathered> gathered_of(const json& given, const std::vector<alerts::Rule>& rules,
                             std::string_view breaker_state, TimePoint now) {
  alerts::FigureNeeds needs = alerts::needs_of(rules);
  json figures = given.is_null() ? json::object() : given;
  if (!figures.is_object()) return invalid_field("figures", "figures must be an object");
  if (needs.breaker && !figures.contains("breaker")) {
    figures["breaker"] = {{"state", std::string(breaker_state)}};
  }
  auto gathered = codec::figures_from_json(figures);
  if (!gathered.ok()) return prefixed(gathered.error(), "figures");
  auto series = alerts::series_of(gathered.value(), needs, now);
  if (!series.ok()) return prefixed(series.error(), "figures");
  return Gathered{.series = std::move(series).value(),
                  .user_emails = alerts::user_emails(gathered.value())};
}

// The breaker is the request path's (r2watch.wasm; this engine may be the console's): the
// Worker gives its state as "breaker_state", and forces it open where an action says "applied".
// Without it, this engine's breaker.
Result<std::string> breaker_state_of(Engine& e, const json* given) {
  if (!given) return std::string(breaker::state_name(e.breaker().state()));
  if (!given->is_string()) {
    return invalid_field("breaker_state", "breaker_state must be the breaker's state");
  }
  return given->get<std::string>();
}

// One evaluation round:
// {"rules", "states", "silences", "settings", "ledger", "figures", "breaker_state"?} ->
// {"changed": [{"state", "alert"}], "dropped": [fingerprints], "notifications": [...],
//  "actions": [...], "ledger", "summary"}.
// The breaker figure is the engine's own when the Worker does not give one; a
// force_breaker_open action forces this engine's breaker open (the Worker persists it).
Result<json> alert_check(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  const json& stored_rules = or_null(r.read_json("rules"));
  const json& stored_states = or_null(r.read_json("states"));
  const json& stored_silences = or_null(r.read_json("silences"));
  const json& stored_settings = or_null(r.read_json("settings"));
  const json& stored_ledger = or_null(r.read_json("ledger"));
  const json& figures = or_null(r.read_json("figures"));
  const json* given_breaker_state = r.read_json("breaker_state");
  if (auto err = r.finish()) return *err;
  auto breaker_state = breaker_state_of(e, given_breaker_state);
  if (!breaker_state.ok()) return breaker_state.error();
  alerts::CheckInput input;
  input.now = now;
  auto rules = rules_of(stored_rules);
  if (!rules.ok()) return rules.error();
  input.rules = std::move(rules).value();
  auto settings = settings_of(e, stored_settings);
  if (!settings.ok()) return settings.error();
  input.settings = std::move(settings).value();
  auto states = codec::states_from_json(stored_states, "states");
  if (!states.ok()) return states.error();
  input.states = std::move(states).value();
  auto silences = codec::silences_from_json(stored_silences, "silences");
  if (!silences.ok()) return silences.error();
  input.silences = std::move(silences).value();
  auto ledger = codec::ledger_from_json(stored_ledger);
  if (!ledger.ok()) return ledger.error();
  input.ledger = std::move(ledger).value();
  auto gathered = gathered_of(figures, input.rules, breaker_state.value(), now);
  if (!gathered.ok()) return gathered.error();
  input.series = std::move(gathered.value().series);
  input.user_emails = std::move(gathered.value().user_emails);

  alerts::CheckResult result = alerts::check(input);
  return round_answer(e, std::move(result), now, ChangedStates::kWhole, breaker_state.value());
}

// The key table would grow past its limit: the Worker empties it (r2w_alert_keys_reset) and
// names its series again.
Error keys_full() {
  return Error{.code = "conflict",
               .message = "the alert round's key table is full: reset it and name the series again",
               .field = "keys"};
}

// The round kept in the engine (core/alerts/round.h), as the check-alerts job runs it:
// {"rules"?: the stored rules, "settings"?: the stored settings (each given when it changed
//  since this engine was last given it, and on its first round),
//  "restore"?: {"states", "ledger", "generation"} (the stored states: given when the engine
//  holds none or another generation than D1's), "silences", "figures" (as alert_check's; the
//  key table's figures are in wasm memory, alert-exports.cc), "details"?: [[key index,
//  sentence]], "generation": what the Worker stores this answer as} ->
// alert_check's answer (only what changed; a state of which only the value and detail changed
// is {"fingerprint", "alert_id", "value", "detail"} in "values"), "generation" and
// "write_batch_statements" (at most this many statements per D1 batch when the Worker writes it).
// Refused, changing nothing, when the engine has no rules or no states and none are given (field
// "rules" / "restore").
Result<json> alert_round(Engine& e, const json& in, TimePoint now) {
  FieldReader reader(in);
  const json& stored_rules = or_null(reader.read_json("rules"));
  const json* stored_settings = reader.read_json("settings");
  const json& r = or_null(reader.read_json("restore"));
  const json& stored_silences = or_null(reader.read_json("silences"));
  const json& figures = or_null(reader.read_json("figures"));
  const json& stored_details = or_null(reader.read_json("details"));
  const json& generation = or_null(reader.read_json("generation"));
  const json* given_breaker_state = reader.read_json("breaker_state");
  if (auto err = reader.finish()) return *err;
  auto breaker_state = breaker_state_of(e, given_breaker_state);
  if (!breaker_state.ok()) return breaker_state.error();
  alerts::Round& round = e.alert_round();
  if (!generation.is_number_unsigned()) {
    return invalid_field("generation", "generation must be a whole number");
  }
  std::optional<std::vector<alerts::Rule>> rules;
  if (!stored_rules.is_null()) {
    auto given = rules_of(stored_rules);
    if (!given.ok()) return given.error();
    rules = std::move(given).value();
  } else if (!round.has_rules()) {
    return Error{.code = "conflict",
                 .message = "the engine holds no alert rules: give the stored rules",
                 .field = "rules"};
  }
  std::optional<alerts::Settings> settings;
  if (stored_settings) {
    auto s = settings_of(e, *stored_settings);
    if (!s.ok()) return s.error();
    settings = std::move(s).value();
  }
  struct Restore {
    std::vector<alerts::AlertState> states;
    alerts::Ledger ledger;
    uint64_t generation = 0;
  };
  std::optional<Restore> restore;
  if (!r.is_null()) {
    if (!r.is_object()) return invalid_field("restore", "restore must be an object");
    FieldReader rr(r, "restore");
    const json& restored_states = or_null(rr.read_json("states"));
    const json& restored_ledger = or_null(rr.read_json("ledger"));
    const json& restored_generation = or_null(rr.read_json("generation"));
    if (auto err = rr.finish()) return *err;
    auto states = codec::states_from_json(restored_states, "restore.states");
    if (!states.ok()) return states.error();
    auto ledger = codec::ledger_from_json(restored_ledger);
    if (!ledger.ok()) return prefixed(ledger.error(), "restore");
    if (!restored_generation.is_number_unsigned()) {
      return invalid_field("restore.generation", "restore.generation must be a whole number");
    }
    restore = Restore{.states = std::move(states).value(),
                      .ledger = std::move(ledger).value(),
                      .generation = restored_generation.get<uint64_t>()};
  } else if (!round.generation()) {
    return Error{.code = "conflict",
                 .message = "the engine holds no alert states: give the stored ones",
                 .field = "restore"};
  }
  auto silences = codec::silences_from_json(stored_silences, "silences");
  if (!silences.ok()) return silences.error();
  auto gathered = gathered_of(figures, rules ? *rules : round.rules(), breaker_state.value(), now);
  if (!gathered.ok()) return gathered.error();
  if (!round.keys_fit(gathered.value().series.size())) return keys_full();
  // Details name keys of the table as it is now, or as this round's series extend it.
  auto details = codec::key_details_from_json(stored_details, round.key_count());
  if (!details.ok()) return details.error();

  // Everything read: now the engine's round changes.
  if (rules) round.set_rules(std::move(*rules));
  if (settings) round.set_settings(std::move(*settings));
  if (restore)
    round.restore(std::move(restore->states), std::move(restore->ledger), restore->generation);
  for (auto& [k, text] : details.value()) round.set_detail(k, std::move(text));
  alerts::CheckResult result =
      round.run(alerts::RoundInput{.series = &gathered.value().series,
                                   .silences = &silences.value(),
                                   .user_emails = &gathered.value().user_emails,
                                   .now = now});
  round.set_generation(generation.get<uint64_t>());
  json out = round_answer(e, std::move(result), now, ChangedStates::kValues, breaker_state.value());
  out["generation"] = generation.get<uint64_t>();
  out["write_batch_statements"] = alerts::kRoundWriteBatchStatements;
  return out;
}

// {"keys": [{"metric", "bucket"?, "prefix"?, "user"?, "window_ms"?, "natural"?}]} -> {"indices":
// each key's index in the kept round's table (new keys are added), "key_count"}: where the
// Worker writes each key's figures (alert-exports.cc).
Result<json> alert_round_keys(Engine& e, const json& in, TimePoint) {
  FieldReader r(in);
  const json& given = or_null(r.read_json("keys"));
  if (auto err = r.finish()) return *err;
  auto keys = codec::series_keys_from_json(given);
  if (!keys.ok()) return keys.error();
  alerts::Round& round = e.alert_round();
  if (!round.keys_fit(keys.value().size())) return keys_full();
  json indices = json::array();
  for (const alerts::SeriesKey& k : keys.value()) indices.push_back(*round.intern(k));
  return json{{"indices", std::move(indices)}, {"key_count", round.key_count()}};
}

// {"state", "rules", "settings", "request": {"note"?, "by"?}, "caller"?: {"user", "admin"}} for
// ack and resolve. With a caller who is not an admin: an alert of another user (or of the whole
// account) is not found, and "by" is the caller (naming someone else is refused); an admin's
// "by" defaults to the admin.
enum class ManualAction : uint8_t { kAcknowledge, kResolve };

Result<json> manual(const Engine& e, const json& in, TimePoint now, ManualAction action) {
  const bool ack = action == ManualAction::kAcknowledge;
  FieldReader input(in);
  const json& stored_state = or_null(input.read_json("state"));
  const json& stored_rules = or_null(input.read_json("rules"));
  const json& stored_settings = or_null(input.read_json("settings"));
  const json& given_request = or_null(input.read_json("request"));
  const json& given_caller = or_null(input.read_json("caller"));
  if (auto e = input.finish()) return *e;
  auto state = codec::state_from_json(stored_state);
  if (!state.ok()) return prefixed(state.error(), "state");
  auto rules = rules_of(stored_rules);
  if (!rules.ok()) return rules.error();
  auto settings = settings_of(e, stored_settings);
  if (!settings.ok()) return settings.error();
  alerts::Caller caller;
  if (!given_caller.is_null()) {
    bool admin = true;
    FieldReader c(given_caller);
    c.read_string("user", caller.user);
    c.read_bool("admin", admin);
    if (auto e = c.finish()) return prefixed(*e, "caller");
    caller.role = admin ? alerts::CallerRole::kAdmin : alerts::CallerRole::kUser;
  }
  if (auto e = alerts::check_visible(state.value(), caller)) return *e;
  const json request = given_request.is_null() ? json::object() : given_request;
  alerts::ManualRequest asked;
  std::string by;
  FieldReader r(request);
  r.read_string("note", asked.note);
  bool has_by = r.has("by");
  r.read_string("by", by);
  if (auto e = r.finish()) return *e;
  if (has_by) asked.by = by;
  auto actor = alerts::manual_actor(caller, asked);
  if (!actor.ok()) return actor.error();
  const std::string& note = asked.note;
  by = actor.value();
  auto result =
      ack ? alerts::acknowledge(state.value(), by, note, rules.value(), settings.value(), now)
          : alerts::resolve_by_hand(state.value(), by, note, rules.value(), settings.value(), now);
  if (!result.ok()) return result.error();
  json out = state_entry(result.value().state);
  out["notifications"] = notifications_json(std::move(result.value().notifications));
  return out;
}

Result<json> alert_ack(Engine& e, const json& in, TimePoint now) {
  return manual(e, in, now, ManualAction::kAcknowledge);
}
Result<json> alert_resolve(Engine& e, const json& in, TimePoint now) {
  return manual(e, in, now, ManualAction::kResolve);
}

// {"settings", "request": {"channel"}} -> {"notification"}.
Result<json> alert_test(Engine& e, const json& in, TimePoint now) {
  FieldReader input(in);
  const json& stored_settings = or_null(input.read_json("settings"));
  const json& given_request = or_null(input.read_json("request"));
  if (auto e = input.finish()) return *e;
  auto settings = settings_of(e, stored_settings);
  if (!settings.ok()) return settings.error();
  const json request = given_request.is_null() ? json::object() : given_request;
  std::string channel;
  FieldReader r(request);
  r.read_string("channel", channel);
  if (auto e = r.finish()) return *e;
  if (channel.empty()) return invalid_field("channel", "channel is required");
  auto n = alerts::test_notification(settings.value(), channel, now);
  if (!n.ok()) return n.error();
  return json{{"notification", codec::notification_to_json(n.value())}};
}

// {"request": <body>, "id": "<generated>"} -> {"silence"}; {"silences": [...]} -> views.
Result<json> alert_silence_create(Engine&, const json& in, TimePoint now) {
  FieldReader r(in);
  const json& request = or_null(r.read_json("request"));
  const json& given_id = or_null(r.read_json("id"));
  if (auto e = r.finish()) return *e;
  std::string id = given_id.is_string() ? given_id.get<std::string>() : "";
  if (!request.is_object()) return invalid_field("request", "the body must be an object");
  if (request.contains("id")) return invalid_field("id", "id is given by r2watch");
  auto s = codec::silence_from_json(request, id, now);
  if (!s.ok()) return s.error();
  return json{{"silence", codec::silence_to_json(s.value(), now)}};
}

Result<json> alert_silences_view(Engine&, const json& in, TimePoint now) {
  FieldReader r(in);
  const json& stored = or_null(r.read_json("silences"));
  if (auto e = r.finish()) return *e;
  auto list = codec::silences_from_json(stored, "silences");
  if (!list.ok()) return list.error();
  json out = json::array();
  for (const auto& s : list.value()) out.push_back(codec::silence_to_json(s, now));
  return json{{"silences", out}};
}

// {"url", "environment": "production" | "development"} -> {"allowed", "reason", "target"}.
Result<json> alert_target_check(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  std::string url, environment = "production";
  r.read_string("url", url);
  r.read_string("environment", environment);
  if (auto e = r.finish()) return *e;
  auto env = alerts::parse_environment(environment);
  if (!env) return invalid_field("environment", "environment must be production or development");
  alerts::TargetCheck c = alerts::check_target(url, *env);
  return json{{"allowed", c.allowed}, {"reason", c.reason}, {"target", alerts::mask_url(url)}};
}

// {"rules": stored rules, "bucket"?: name, "user"?: id} -> the overview's warning lines from
// the alert rules: {"error_rate_pct", "response_ms"} (null: no line) and "rules" naming the rule
// each comes from (core/alerts/overview-lines.h).
Result<json> alert_overview_thresholds(Engine&, const json& in, TimePoint) {
  FieldReader r(in, "", {.nulls = FieldNulls::kAbsent});
  const json& stored_rules = or_null(r.read_json("rules"));
  std::string bucket, user;
  r.read_string("bucket", bucket);
  r.read_string("user", user);
  if (auto e = r.finish()) return *e;
  auto rules = rules_of(stored_rules);
  if (!rules.ok()) return rules.error();
  alerts::OverviewLines lines = alerts::overview_lines(rules.value(), bucket, user);
  auto value = [](const std::optional<alerts::WarningLine>& l) {
    return l ? json(l->threshold) : json(nullptr);
  };
  auto rule = [](const std::optional<alerts::WarningLine>& l) {
    return l ? json(l->rule_id) : json(nullptr);
  };
  return json{
      {"error_rate_pct", value(lines.error_rate_pct)},
      {"response_ms", value(lines.response_ms)},
      {"rules",
       {{"error_rate_pct", rule(lines.error_rate_pct)}, {"response_ms", rule(lines.response_ms)}}}};
}

// After an attempt: {"settings", "attempt": n (1-based), "ok"} -> {"status": "sent" | "retry" |
// "failed", "next_attempt_at_ms"}.
Result<json> alert_delivery_result(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  const json& stored_settings = or_null(r.read_json("settings"));
  const json& attempt = or_null(r.read_json("attempt"));
  const json& ok = or_null(r.read_json("ok"));
  if (auto e = r.finish()) return *e;
  auto settings = settings_of(e, stored_settings);
  if (!settings.ok()) return settings.error();
  if (!attempt.is_number_unsigned()) {
    return invalid_field("attempt", "attempt must be a whole number from 1");
  }
  if (!ok.is_boolean()) return invalid_field("ok", "ok must be true or false");
  auto outcome = alerts::delivery_outcome(
      settings.value(), attempt.get<uint64_t>(),
      ok.get<bool>() ? alerts::AttemptResult::kDelivered : alerts::AttemptResult::kFailed, now);
  if (!outcome.ok()) return outcome.error();
  const auto& next = outcome.value().next_attempt_at;
  return json{{"status", alerts::delivery_status_name(outcome.value().status)},
              {"next_attempt_at_ms", next ? json(to_epoch_ms(*next)) : json(nullptr)}};
}

// GET /api/alerts: {"state"?, "severity"?, "bucket"?, "limit"?, "offset"?} (query text) ->
// the same, checked, with numbers.
Result<json> alert_query(Engine&, const json& in, TimePoint) {
  json out = {{"state", nullptr},
              {"severity", nullptr},
              {"bucket", nullptr},
              {"limit", alerts::kDefaultAlertPageLimit},
              {"offset", 0}};
  FieldReader r(in, "", kQuery);
  std::optional<std::string> text[5];
  const char* names[5] = {"state", "severity", "bucket", "limit", "offset"};
  for (int i = 0; i < 5; ++i) {
    if (!r.has(names[i])) continue;
    text[i].emplace();
    r.read_string(names[i], *text[i]);
  }
  if (auto e = r.finish()) return *e;
  if (text[0]) {
    if (!alerts::parse_status(*text[0]))
      return invalid_query("state", "state must be inactive, pending, firing or resolved");
    out["state"] = *text[0];
  }
  if (text[1]) {
    if (!alerts::parse_severity(*text[1]))
      return invalid_query("severity", "severity must be low, medium, high or critical");
    out["severity"] = *text[1];
  }
  if (text[2]) out["bucket"] = *text[2];
  for (int i : {3, 4}) {
    if (!text[i]) continue;
    int64_t n = alerts::query_number(*text[i]);
    if (auto e = alerts::check_page(names[i], n)) return *e;
    out[names[i]] = n;
  }
  return out;
}

// GET /api/alerts/{id}: its query parameters but ?user= (it takes none) -> {"history_limit",
// "notifications_limit"}: how many earlier episodes and notifications the answer shows.
Result<json> alert_detail_query(Engine&, const json& in, TimePoint) {
  if (auto e = FieldReader(in, "", kQuery).finish()) return *e;
  return json{{"history_limit", alerts::kAlertDetailHistoryLimit},
              {"notifications_limit", alerts::kAlertDetailNotificationsLimit}};
}

}  // namespace

std::span<const CommandEntry> alert_commands() {
  static constexpr CommandEntry kCommands[] = {
      {"alert_configure", &alert_configure},
      {"alert_defaults", &alert_defaults},
      {"alert_rule_create", &alert_rule_create},
      {"alert_rule_update", &alert_rule_update},
      {"alert_settings_update", &alert_settings_update},
      {"alert_plan", &alert_plan},
      {"alert_round_plan", &alert_round_plan},
      {"alert_cost_figures", &alert_cost_figures},
      {"alert_delivery_plan", &alert_delivery_plan},
      {"alert_notifications_query", &alert_notifications_query},
      {"alert_check", &alert_check},
      {"alert_round", &alert_round},
      {"alert_round_keys", &alert_round_keys},
      {"alert_ack", &alert_ack},
      {"alert_resolve", &alert_resolve},
      {"alert_test", &alert_test},
      {"alert_silence_create", &alert_silence_create},
      {"alert_silences_view", &alert_silences_view},
      {"alert_target_check", &alert_target_check},
      {"alert_overview_thresholds", &alert_overview_thresholds},
      {"alert_delivery_result", &alert_delivery_result},
      {"alert_query", &alert_query},
      {"alert_detail_query", &alert_detail_query},
  };
  return kCommands;
}

}  // namespace r2w::bindings
