// Commands of the cost engine: the pricing calculator, the month's bill, forecast and trend,
// breakdowns, budgets, anomalies, what-if, and price-list and budget validation. All pure: the
// Worker hands in usage rows, stored price-list versions and budgets; `now` only picks the
// current month where a command says so.
#include <string>

#include "core/common/civil-date.h"
#include "core/cost/operation-class.h"
#include "core/cost/user-share.h"
#include "core/storage/user-namespace.h"
#include "wasm-bindings/codec/cost.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/commands.h"
#include "wasm-bindings/engine.h"

namespace r2w::bindings {

namespace cost = r2w::cost;
using codec::bill_json;
using codec::charges_json;
using codec::pricing_ref_json;
using codec::saving_json;
using codec::shares_json;
using codec::totals_json;

namespace {

using codec::month_input;
using codec::versions_of;

// "month": "YYYY-MM" when given, else the month of `now`.
Result<YearMonth> month_or_now(const std::string& text, bool given, TimePoint now) {
  if (!given) return month_of(date_of(now));
  auto m = parse_year_month(text);
  if (!m) return invalid_field("month", "month must be a month as YYYY-MM");
  return *m;
}

// The rows a user's figures come from: the account's rows with the users' namespace storage
// attributed to its users (cost::attribute_user_storage).
Result<std::vector<cost::UsageRow>> attributed(std::vector<cost::UsageRow> rows, const Json& in,
                                               bool has_user_storage) {
  if (!has_user_storage) return rows;
  auto users = codec::user_storage_from_json(in["user_storage"]);
  if (!users.ok()) return users.error();
  std::string_view ns = storage::kUsersPrefix;
  return cost::attribute_user_storage(rows, users.value(), ns.substr(0, ns.size() - 1));
}

// POST /api/costs/estimate. {"request": <the body>, "pricing": [...], "month": "YYYY-MM"}:
// priced with the list in effect for `month` (default: the month of now). Errors in the
// body name its fields as the body has them ("standard.class_a").
Result<Json> cost_estimate(Engine&, const Json& in, TimePoint now) {
  FieldReader r(in);
  std::string month_text;
  bool has_request = r.has("request");
  bool has_pricing = r.has("pricing");
  bool has_month = r.has("month");
  r.read_string("month", month_text);
  if (auto err = r.finish()) return *err;
  auto month = month_or_now(month_text, has_month, now);
  if (!month.ok()) return month.error();
  auto versions = versions_of(in, has_pricing);
  if (!versions.ok()) return versions.error();
  cost::PriceList prices = cost::price_list_for(versions.value(), month.value());
  auto request = codec::estimate_from_json(has_request ? in["request"] : Json::object(), prices);
  if (!request.ok()) return request.error();
  auto bill = cost::estimate(prices, request.value());
  if (!bill.ok()) return bill.error();
  std::array<bool, cost::kStorageClassCount> asked{};
  for (cost::StorageClass c : cost::kAllStorageClasses) {
    asked[cost::index_of(c)] = request.value().classes[cost::index_of(c)].has_value();
  }
  Json out = bill_json(bill.value(), asked);
  out["month"] = format_year_month(month.value());
  out["period_days"] = cost::kEstimatePeriodDays;
  out["pricing"] = pricing_ref_json(prices);
  out["rounding"] =
      "each line is rounded up to whole billing units after the free tier; total_micro_usd is "
      "the exact sum of the lines and total_usd is it rounded half up to the cent";
  return out;
}

// One user's part of the account's month (cost::user_share). month_input fields (the
// account's rows) + "user" + "user_storage" (every user's daily peaks, to split the users'
// namespace storage) + "storage_class"? (adds the user's part of the what-if in that class) +
// "bucket"? (adds `bucket_month_to_date`: the user's part of the month to date in that bucket,
// cost::user_share_by_bucket).
Result<Json> cost_user_share(Engine&, const Json& in, TimePoint) {
  FieldReader r(in);
  std::string user, what_if_class;
  std::optional<std::string> bucket;
  if (r.has("bucket")) r.read_string("bucket", bucket.emplace());
  r.read_string("user", user);
  bool has_user_storage = r.has("user_storage");
  bool has_what_if = r.has("storage_class");
  r.read_string("storage_class", what_if_class);
  auto m = month_input(in, r);
  if (!m.ok()) return m.error();
  if (user.empty()) return invalid_field("user", "user must be a user id");
  auto rows = attributed(std::move(m.value().rows), in, has_user_storage);
  if (!rows.ok()) return rows.error();
  cost::MonthInput input = m.value();
  input.rows = std::move(rows).value();
  auto report = cost::month_report(input);
  if (!report.ok()) return report.error();
  cost::UserShare share = cost::user_share(report.value(), input, user);
  Json out = codec::user_share_json(report.value(), input, share);
  if (bucket) {
    out["bucket_month_to_date"] = codec::bucket_part_json(
        cost::bucket_part(cost::user_share_by_bucket(input, share), *bucket));
  }
  if (has_what_if) {
    auto target = cost::parse_storage_class(what_if_class);
    if (!target) {
      return invalid_field("storage_class", "storage_class must be standard or infrequent_access");
    }
    cost::MonthInput moved = input;
    moved.price_as = *target;
    auto other = cost::month_report(moved);
    if (!other.ok()) return other.error();
    cost::UserShare what_if = cost::user_share(other.value(), moved, user);
    out["what_if"] = codec::user_what_if_json(*target, share, what_if);
  }
  return out;
}

// Month to date, daily average, forecast, trend and by-bucket split (month_input fields),
// with the month to date's charges grouped for display (`charges`). With "budgets" (the shape
// of cost_budgets_validate) also their status (`budgets`, as cost_budget_status answers it),
// from the same run of the month. With "bucket", `bucket_month_to_date`: that bucket's part of
// the month to date (its by-bucket share; zero for a bucket without usage).
Result<Json> cost_bill(Engine&, const Json& in, TimePoint) {
  FieldReader r(in);
  Json notes;
  bool has_budgets = r.has("budgets");
  std::optional<std::string> bucket;
  if (r.has("bucket")) r.read_string("bucket", bucket.emplace());
  auto m = month_input(in, r, &notes);
  if (!m.ok()) return m.error();
  std::vector<cost::Budget> budgets;
  if (has_budgets) {
    auto read = codec::budgets_from_json(Json{{"budgets", in["budgets"]}});
    if (!read.ok()) return read.error();
    budgets = std::move(read).value();
  }
  auto report = cost::month_report(m.value());
  if (!report.ok()) return report.error();
  Json out = codec::month_report_json(report.value(), m.value().prices, m.value().forecast);
  out["charges"] = charges_json(report.value().to_date);
  if (!notes.is_null()) out["account"] = std::move(notes);
  if (has_budgets) {
    out["budgets"] = codec::budget_status_json(cost::budget_status(report.value(), budgets));
  }
  if (bucket) {
    const cost::MonthReport& rep = report.value();
    auto shares =
        rep.buckets.empty() ? std::vector<cost::Share>{} : rep.bucket_shares(rep.days_elapsed);
    out["bucket_month_to_date"] = codec::bucket_part_json(cost::bucket_part(shares, *bucket));
  }
  return out;
}

// A report of a closed period. month_input fields + "type": "daily" | "weekly" | "monthly" +
// "previous_total_micro_usd" (monthly: the previous month's bill, when known) +
// "user_storage"? (every user's daily peaks: the users' namespace storage is then counted under
// the users' own prefixes, as in the breakdown, not as one "users" prefix; totals unchanged).
// What each type counts is cost::period_cost_report's.
Result<Json> cost_report(Engine&, const Json& in, TimePoint) {
  FieldReader r(in);
  std::string type;
  r.read_string("type", type);
  bool has_previous = r.has("previous_total_micro_usd");
  bool has_user_storage = r.has("user_storage");
  auto m = month_input(in, r);
  if (!m.ok()) return m.error();
  auto rows = attributed(std::move(m.value().rows), in, has_user_storage);
  if (!rows.ok()) return rows.error();
  m.value().rows = std::move(rows).value();
  auto kind = cost::parse_period_kind(type);
  if (!kind) return invalid_field("type", "type must be daily, weekly or monthly");
  std::optional<cost::Money> previous;
  if (has_previous) {
    if (!in["previous_total_micro_usd"].is_number_integer()) {
      return invalid_field("previous_total_micro_usd",
                           "previous_total_micro_usd must be an integer");
    }
    previous = cost::Money::micro_usd(in["previous_total_micro_usd"].get<int64_t>());
  }
  auto report = cost::month_report(m.value());
  if (!report.ok()) return report.error();
  auto period = cost::period_cost_report(report.value(), m.value(), *kind, previous);
  return codec::period_report_json(period, report.value(), m.value());
}

// month_input fields + "by": "bucket" | "prefix" | "class" | "user" + "user_storage"? (every
// user's daily peaks: the users' namespace storage is then attributed to its users).
Result<Json> cost_breakdown(Engine&, const Json& in, TimePoint) {
  FieldReader r(in);
  std::string by(cost::breakdown_by_name(cost::kDefaultBreakdown));
  r.read_string("by", by);
  bool has_user_storage = r.has("user_storage");
  auto m = month_input(in, r);
  if (!m.ok()) return m.error();
  auto dimension = cost::parse_breakdown_by(by);
  if (!dimension) return invalid_field("by", "by must be bucket, prefix, class or user");
  auto rows = attributed(std::move(m.value().rows), in, has_user_storage);
  if (!rows.ok()) return rows.error();
  m.value().rows = std::move(rows).value();
  auto report = cost::month_report(m.value());
  if (!report.ok()) return report.error();
  auto shares = cost::breakdown(report.value(), m.value(), *dimension);
  Json out = totals_json(report.value().to_date);
  out["by"] = by;
  out["month"] = format_year_month(report.value().month);
  out["as_of"] = format_date(m.value().as_of);
  out["rows"] = shares_json(shares, report.value().to_date.total, "key");
  return out;
}

// month_input fields + "budgets": [budget, ...] (the shape of cost_budgets_validate).
Result<Json> cost_budget_status(Engine&, const Json& in, TimePoint) {
  FieldReader r(in);
  bool has_budgets = r.has("budgets");
  auto m = month_input(in, r);
  if (!m.ok()) return m.error();
  auto budgets =
      codec::budgets_from_json(Json{{"budgets", has_budgets ? in["budgets"] : Json::array()}});
  if (!budgets.ok()) return budgets.error();
  auto report = cost::month_report(m.value());
  if (!report.ok()) return report.error();
  auto statuses = cost::budget_status(report.value(), budgets.value());
  return Json{{"month", format_year_month(report.value().month)},
              {"as_of", format_date(m.value().as_of)},
              {"budgets", codec::budget_status_json(statuses)}};
}

// {"date": "YYYY-MM-DD", "usage": [rows of any dates], "pricing": [...], "baseline_days": 7,
//  "rise_pct": 50, "min_increase_usd": "0.01", "user"?: id, "user_storage"?: [...]}: with a
// user, only that user's days (list prices need no sharing of the free tier).
Result<Json> cost_anomaly(Engine&, const Json& in, TimePoint) {
  FieldReader r(in);
  cost::AnomalyOptions options;
  std::string date_text;
  r.read_string("date", date_text);
  bool has_usage = r.has("usage");
  bool has_account = r.has("account");
  bool has_pricing = r.has("pricing");
  bool has_min = r.has("min_increase_usd");
  r.read_uint("baseline_days", options.baseline_days, 1, cost::kMaxBaselineDays);
  r.read_uint("rise_pct", options.rise_pct, 1, cost::kMaxRisePct);
  std::optional<std::string> user;
  if (r.has("user")) r.read_string("user", user.emplace());
  bool has_user_storage = r.has("user_storage");
  if (auto err = r.finish()) return *err;
  auto date = parse_date(date_text);
  if (!date) return invalid_field("date", "date must be the day to check as YYYY-MM-DD");
  if (has_min) {
    auto min = codec::usd_from_json(in["min_increase_usd"], cost::kMaxMoney);
    if (!min) {
      return invalid_field("min_increase_usd",
                           "min_increase_usd must be a non-negative dollar amount");
    }
    options.min_increase = *min;
  }
  auto versions = versions_of(in, has_pricing);
  if (!versions.ok()) return versions.error();
  std::vector<cost::UsageRow> rows;
  if (has_usage) {
    auto parsed = codec::usage_rows_from_json(in["usage"], "usage");
    if (!parsed.ok()) return parsed.error();
    rows = std::move(parsed).value();
  } else if (has_account) {
    auto acc = account_usage_from_json(in["account"], "account");
    if (!acc.ok()) return acc.error();
    rows = std::move(acc).value().rows;
  }
  if (user) {  // one user's days: their rows, with their part of the namespace storage
    auto split = attributed(std::move(rows), in, has_user_storage);
    if (!split.ok()) return split.error();
    rows = std::move(split).value();
    std::erase_if(rows, [&](const cost::UsageRow& row) { return row.user != *user; });
  }
  cost::PriceList prices = cost::price_list_for(versions.value(), month_of(*date));
  auto report = cost::check_anomaly(prices, rows, *date, options);
  return codec::anomaly_json(report, options);
}

// month_input fields + "storage_class": the class to price everything in (default
// infrequent_access). Positive savings mean the other class is cheaper.
Result<Json> cost_whatif(Engine&, const Json& in, TimePoint) {
  FieldReader r(in);
  std::string target_name(cost::storage_class_name(cost::kDefaultWhatIfClass));
  r.read_string("storage_class", target_name);
  auto m = month_input(in, r);
  if (!m.ok()) return m.error();
  auto target = cost::parse_storage_class(target_name);
  if (!target) {
    return invalid_field("storage_class", "storage_class must be standard or infrequent_access");
  }
  auto current = cost::month_report(m.value());
  if (!current.ok()) return current.error();
  cost::MonthInput moved = m.value();
  moved.price_as = *target;
  auto what_if = cost::month_report(moved);
  if (!what_if.ok()) return what_if.error();
  auto summary = [](const cost::MonthReport& rep) {
    const cost::Bill& month_end = rep.month_end[static_cast<size_t>(cost::Scenario::kExpected)];
    return Json{{"month_to_date", bill_json(rep.to_date, cost::classes_used(month_end))},
                {"month_end_expected", totals_json(month_end)}};
  };
  Json out = {{"month", format_year_month(current.value().month)},
              {"as_of", format_date(m.value().as_of)},
              {"storage_class", target_name},
              {"pricing", pricing_ref_json(m.value().prices)},
              {"current", summary(current.value())},
              {"what_if", summary(what_if.value())}};
  out.update(saving_json(cost::class_saving(current.value(), what_if.value())));
  return out;
}

// PUT /api/pricing. {"request": <a price list, partial>, "pricing": [stored versions]}: the
// request's effective_from (required, first day of a month, not before the month of now)
// picks the version it updates; absent fields keep that version's values. A past version sent
// back exactly as GET answers it (the built-in default too) is accepted as {"unchanged": true}.
// GET's whole answer, {"month", "in_effect", "versions"}, is taken as its in_effect, its
// versions being what GET answers now.
Result<Json> pricing_status(Engine& e, const Json& in, TimePoint now);
Result<Json> pricing_validate(Engine& e, const Json& in, TimePoint now) {
  FieldReader r(in);
  bool has_request = r.has("request");
  bool has_pricing = r.has("pricing");
  if (auto err = r.finish()) return *err;
  Json request = has_request ? in["request"] : Json::object();
  if (!request.is_object()) return invalid_field("", "the price list must be a JSON object");
  if (request.contains("in_effect")) {
    FieldReader answered(request);
    answered.has("month");
    bool has_versions = answered.has("versions");
    answered.has("in_effect");
    if (auto err = answered.finish()) return *err;
    Json status_in = {{"pricing", has_pricing ? in["pricing"] : Json::array()}};
    if (request.contains("month")) status_in["month"] = request["month"];
    auto status = pricing_status(e, status_in, now);
    if (!status.ok()) return status.error();
    if (has_versions && request["versions"] != status.value()["versions"]) {
      return invalid_field("versions",
                           "versions is answered, not set: send the version to change (or "
                           "in_effect with the versions as GET answers them)");
    }
    Json version = request["in_effect"];
    request = std::move(version);
    if (!request.is_object()) return invalid_field("in_effect", "in_effect must be a price list");
  }
  if (!request.contains("effective_from") || !request["effective_from"].is_string()) {
    return invalid_field("effective_from",
                         "effective_from is required: the first day of the month the prices "
                         "apply from, as YYYY-MM-DD");
  }
  auto effective = parse_date(request["effective_from"].get<std::string>());
  auto versions = versions_of(in, has_pricing);
  if (!versions.ok()) return versions.error();
  cost::PriceList base =
      cost::price_list_for(versions.value(), effective ? month_of(*effective) : YearMonth{1970, 1});
  auto parsed = codec::price_list_from_json(request, base);
  if (!parsed.ok()) return parsed.error();
  auto decision = cost::decide_price_update(parsed.value(), base, date_of(now));
  if (!decision.ok()) return decision.error();
  Json price_list = codec::price_list_to_json(parsed.value());
  if (decision.value() == cost::PriceUpdate::kUnchanged) {
    // A version sent back as GET answered it (the built-in default too): nothing to store.
    return Json{{"price_list", price_list}, {"unchanged", true}};
  }
  return Json{{"price_list", price_list}};
}

// GET /api/pricing. {"pricing": [stored versions], "month": "YYYY-MM" (default: now)}.
Result<Json> pricing_status(Engine&, const Json& in, TimePoint now) {
  FieldReader r(in);
  std::string month_text;
  bool has_pricing = r.has("pricing");
  bool has_month = r.has("month");
  r.read_string("month", month_text);
  if (auto err = r.finish()) return *err;
  auto month = month_or_now(month_text, has_month, now);
  if (!month.ok()) return month.error();
  auto versions = versions_of(in, has_pricing);
  if (!versions.ok()) return versions.error();
  std::vector<cost::PriceList> all = cost::all_price_versions(versions.value());
  Json list = Json::array();
  for (const auto& v : all) list.push_back(codec::price_list_to_json(v));
  return Json{{"month", format_year_month(month.value())},
              {"in_effect", codec::price_list_to_json(cost::price_list_for(all, month.value()))},
              {"versions", list}};
}

// PUT /api/costs/budgets. {"request": {"budgets": [...]}} -> the budgets, normalized.
Result<Json> cost_budgets_validate(Engine&, const Json& in, TimePoint) {
  FieldReader r(in);
  bool has_request = r.has("request");
  if (auto err = r.finish()) return *err;
  auto budgets = codec::budgets_from_json(has_request ? in["request"] : Json::object());
  if (!budgets.ok()) return budgets.error();
  return codec::budgets_to_json(budgets.value());
}

// The operation table: {"operations": [{"operation", "class"}]}.
Result<Json> cost_operation_classes(Engine&, const Json& in, TimePoint) {
  FieldReader r(in);
  if (auto err = r.finish()) return *err;
  Json list = Json::array();
  for (const auto& e : cost::operation_class_table()) {
    list.push_back({{"operation", e.operation}, {"class", operation_class_name(e.billed_as)}});
  }
  return Json{{"operations", list}};
}

// The billing month a cost route reads: {"month"?: "YYYY-MM" (default: the month of now)} or
// {"as_of": "YYYY-MM-DD"} (the month of that day, to it) -> {"month", "first_day",
// "first_day_ms", "as_of", "end_ms"}. A month after now's is refused.
Result<Json> cost_month_window(Engine&, const Json& in, TimePoint now) {
  FieldReader r(in);
  std::string month_text, as_of_text;
  bool has_month = r.has("month");
  bool has_as_of = r.has("as_of");
  r.read_string("month", month_text);
  r.read_string("as_of", as_of_text);
  if (auto err = r.finish()) return *err;
  if (has_as_of) {
    if (has_month) return invalid_field("as_of", "give month or as_of, not both");
    auto d = parse_date(as_of_text);
    if (!d) return invalid_field("as_of", "as_of must be a day as YYYY-MM-DD");
    return codec::month_window_json(cost::month_to(*d));
  }
  std::optional<YearMonth> month;
  if (has_month) {
    month = parse_year_month(month_text);
    if (!month) {
      return Error{.code = "invalid_query", .message = "month must be YYYY-MM", .field = "month"};
    }
  }
  auto w = cost::billing_month(month, now);
  if (!w.ok()) return w.error();
  return codec::month_window_json(w.value());
}

// The usage the anomaly check of a day needs: {"date"?: "YYYY-MM-DD" (default: today)} ->
// {"date", "from_day", "from_ms", "end_ms"}.
Result<Json> cost_anomaly_window(Engine&, const Json& in, TimePoint now) {
  FieldReader r(in);
  std::string text;
  bool has_date = r.has("date");
  r.read_string("date", text);
  if (auto err = r.finish()) return *err;
  CivilDate date = date_of(now);
  if (has_date) {
    bool shaped = text.size() == 10 && text[4] == '-' && text[7] == '-';
    for (size_t i = 0; shaped && i < text.size(); ++i) {
      if (i != 4 && i != 7 && (text[i] < '0' || text[i] > '9')) shaped = false;
    }
    if (!shaped) {
      return Error{.code = "invalid_query", .message = "date must be YYYY-MM-DD", .field = "date"};
    }
    auto d = parse_date(text);
    if (!d) return invalid_field("date", "date must be the day to check as YYYY-MM-DD");
    date = *d;
  }
  return codec::day_window_json(cost::anomaly_usage_window(date));
}

}  // namespace

std::span<const CommandEntry> cost_commands() {
  static constexpr CommandEntry kCommands[] = {
      {"cost_report", &cost_report},
      {"cost_estimate", &cost_estimate},
      {"cost_bill", &cost_bill},
      {"cost_breakdown", &cost_breakdown},
      {"cost_user_share", &cost_user_share},
      {"cost_budget_status", &cost_budget_status},
      {"cost_anomaly", &cost_anomaly},
      {"cost_whatif", &cost_whatif},
      {"cost_budgets_validate", &cost_budgets_validate},
#ifdef R2W_TEST_COMMANDS  // only tests call it (testdata/golden/test-only-commands.txt)
      {"cost_operation_classes", &cost_operation_classes},
#endif
      {"pricing_validate", &pricing_validate},
      {"pricing_status", &pricing_status},
      {"cost_month_window", &cost_month_window},
      {"cost_anomaly_window", &cost_anomaly_window},
  };
  return kCommands;
}

}  // namespace r2w::bindings
