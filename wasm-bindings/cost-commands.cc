// Commands of the cost engine: the pricing calculator, the month's bill, forecast and trend,
// breakdowns, budgets, anomalies, what-if, and price-list and budget validation. All pure: the
// Worker hands in usage rows, stored price-list versions and budgets; `now` only picks the
// current month where a command says so.
#include <algorithm>
#include <string>

#include "core/common/civil-date.h"
#include "core/cost/anomaly.h"
#include "core/cost/budget.h"
#include "core/cost/cost-json.h"
#include "core/cost/estimate.h"
#include "core/cost/month.h"
#include "core/cost/operation-class.h"
#include "core/cost/price-list.h"
#include "core/cost/usage.h"
#include "core/cost/user-share.h"
#include "core/storage/user-namespace.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/commands.h"
#include "wasm-bindings/engine.h"

namespace r2w::bindings {

using json = r2w::Json;
namespace cost = r2w::cost;

namespace {

// "pricing": the stored versions ([price list, ...]); absent = none (the default list).
Result<std::vector<cost::PriceList>> versions_of(const json& in, bool has_pricing) {
  if (!has_pricing) return std::vector<cost::PriceList>{};
  return cost::price_versions_from_json(in["pricing"], "pricing");
}

// "month": "YYYY-MM" when given, else the month of `now`.
Result<YearMonth> month_or_now(const std::string& text, bool given, TimePoint now) {
  if (!given) return month_of(date_of(now));
  auto m = parse_year_month(text);
  if (!m) return invalid_field("month", "month must be a month as YYYY-MM");
  return *m;
}

// The fields every month command shares, read after the command marked its own:
// {"as_of": "YYYY-MM-DD", "usage": [row, ...], "pricing": [version, ...],
//  "forecast_window_days": 7}. Instead of "usage", "account": {"operations", "storage"} bills
// the account's figures from Cloudflare's analytics (account-commands.cc); `notes` then gets
// what the bill says of them (unclassified action types, unbilled auth failures).
Result<cost::MonthInput> month_input(const json& in, FieldReader& r, json* notes = nullptr) {
  cost::MonthInput m;
  std::string as_of;
  r.read_string("as_of", as_of);
  bool has_usage = r.has("usage");
  bool has_account = r.has("account");
  bool has_pricing = r.has("pricing");
  r.read_uint("forecast_window_days", m.forecast.window_days, 1, 31);
  if (auto err = r.finish()) return *err;
  auto date = parse_date(as_of);
  if (!date) return invalid_field("as_of", "as_of must be the last day of usage as YYYY-MM-DD");
  m.as_of = *date;
  auto versions = versions_of(in, has_pricing);
  if (!versions.ok()) return versions.error();
  m.prices = cost::price_list_for(versions.value(), month_of(*date));
  if (has_usage && has_account) return invalid_field("account", "give usage or account, not both");
  if (has_usage) {
    auto rows = cost::usage_rows_from_json(in["usage"], "usage");
    if (!rows.ok()) return rows.error();
    m.rows = std::move(rows).value();
  }
  if (has_account) {
    auto acc = account_usage_from_json(in["account"], "account");
    if (!acc.ok()) return acc.error();
    if (notes) *notes = account_usage_notes_json(acc.value());
    m.rows = std::move(acc).value().rows;
  }
  return m;
}

// "user_storage": [{"date", "bucket", "user", "prefix", "peak_bytes"}, ...], each user's own
// daily peaks (user_storage_daily_peaks).
Result<std::vector<cost::UserStorage>> user_storage_of(const json& list) {
  std::vector<cost::UserStorage> out;
  if (!list.is_array()) return invalid_field("user_storage", "user_storage must be an array");
  for (size_t i = 0; i < list.size(); ++i) {
    std::string at = "user_storage[" + std::to_string(i) + "]";
    if (!list[i].is_object()) return invalid_field(at, at + " must be an object");
    FieldReader r(list[i], at);
    cost::UserStorage u;
    std::string date;
    r.read_string("date", date);
    r.read_string("bucket", u.bucket);
    r.read_string("user", u.user);
    r.read_string("prefix", u.prefix);
    bool has_peak = r.has("peak_bytes");
    if (auto err = r.finish()) return *err;
    const json& peak = has_peak ? list[i]["peak_bytes"] : json();
    if (!peak.is_number_unsigned() || peak.get<uint64_t>() > cost::kMaxUsageFigure) {
      return invalid_field(at + ".peak_bytes", at + ".peak_bytes must be a whole number of bytes");
    }
    u.peak_bytes = peak.get<uint64_t>();
    auto d = parse_date(date);
    if (!d) return invalid_field(at + ".date", at + ".date must be YYYY-MM-DD");
    if (u.user.empty()) return invalid_field(at + ".user", at + ".user must be a user id");
    u.date = *d;
    out.push_back(std::move(u));
  }
  return out;
}

// The rows a user's figures come from: the account's rows with the users' namespace storage
// attributed to its users (cost::attribute_user_storage).
Result<std::vector<cost::UsageRow>> attributed(std::vector<cost::UsageRow> rows, const json& in,
                                               bool has_user_storage) {
  if (!has_user_storage) return rows;
  auto users = user_storage_of(in["user_storage"]);
  if (!users.ok()) return users.error();
  std::string_view ns = storage::kUsersPrefix;
  return cost::attribute_user_storage(rows, users.value(), ns.substr(0, ns.size() - 1));
}

// What moving to another storage class saves (positive: the other class is cheaper), to date and
// for the whole month (expected), and the verdict.
json saving_json(cost::Money to_date, cost::Money month) {
  return {{"saving_to_date_micro_usd", to_date.micro_usd()},
          {"saving_to_date_usd", cost::format_usd(to_date, 2)},
          {"saving_month_micro_usd", month.micro_usd()},
          {"saving_month_usd", cost::format_usd(month, 2)},
          {"verdict", month > cost::Money{}   ? "cheaper"
                      : month < cost::Money{} ? "more_expensive"
                                              : "same"}};
}

json share_totals_json(const cost::Share& s) {
  json out = json::object();
  for (cost::Line l : cost::kAllLines) {
    out[std::string(cost::line_name(l)) + "_micro_usd"] = s.lines[cost::index_of(l)].micro_usd();
  }
  out["total_micro_usd"] = s.total.micro_usd();
  out["total_usd"] = cost::format_usd(s.total, 2);
  return out;
}

// POST /api/costs/estimate. {"request": <the body>, "pricing": [...], "month": "YYYY-MM"}:
// priced with the list in effect for `month` (default: the month of now). Errors in the
// body name its fields as the body has them ("standard.class_a").
Result<json> cost_estimate(Engine&, const json& in, TimePoint now) {
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
  auto request = cost::estimate_from_json(has_request ? in["request"] : json::object(), prices);
  if (!request.ok()) return request.error();
  auto bill = cost::estimate(prices, request.value());
  if (!bill.ok()) return bill.error();
  std::array<bool, cost::kStorageClassCount> asked{};
  for (cost::StorageClass c : cost::kAllStorageClasses) {
    asked[cost::index_of(c)] = request.value().classes[cost::index_of(c)].has_value();
  }
  json out = cost::bill_json(bill.value(), asked);
  out["month"] = format_year_month(month.value());
  out["period_days"] = cost::kEstimatePeriodDays;
  out["pricing"] = cost::pricing_ref_json(prices);
  out["rounding"] =
      "each line is rounded up to whole billing units after the free tier; total_micro_usd is "
      "the exact sum of the lines and total_usd is it rounded half up to the cent";
  return out;
}

// A bill's charges grouped as people read them: storage, requests (Class A + B), retrieval,
// in micro-dollars and as dollars to the cent.
json charges_json(const cost::Bill& bill) {
  cost::Money storage = bill.line_total(cost::Line::kStorage);
  cost::Money requests =
      bill.line_total(cost::Line::kClassA) + bill.line_total(cost::Line::kClassB);
  cost::Money retrieval = bill.line_total(cost::Line::kRetrieval);
  return {{"storage_micro_usd", storage.micro_usd()},
          {"storage_usd", cost::format_usd(storage)},
          {"requests_micro_usd", requests.micro_usd()},
          {"requests_usd", cost::format_usd(requests)},
          {"retrieval_micro_usd", retrieval.micro_usd()},
          {"retrieval_usd", cost::format_usd(retrieval)},
          {"total_micro_usd", bill.total.micro_usd()},
          {"total_usd", cost::format_usd(bill.total)}};
}

json charges_json(const cost::Share& share) {
  auto line = [&](cost::Line l) { return share.lines[cost::index_of(l)]; };
  cost::Money requests = line(cost::Line::kClassA) + line(cost::Line::kClassB);
  return {{"storage_micro_usd", line(cost::Line::kStorage).micro_usd()},
          {"storage_usd", cost::format_usd(line(cost::Line::kStorage))},
          {"requests_micro_usd", requests.micro_usd()},
          {"requests_usd", cost::format_usd(requests)},
          {"retrieval_micro_usd", line(cost::Line::kRetrieval).micro_usd()},
          {"retrieval_usd", cost::format_usd(line(cost::Line::kRetrieval))},
          {"total_micro_usd", share.total.micro_usd()},
          {"total_usd", cost::format_usd(share.total)}};
}

// One user's part of the account's month (cost::user_share). month_input fields (the
// account's rows) + "user" + "user_storage" (every user's daily peaks, to split the users'
// namespace storage) + "storage_class"? (adds the user's part of the what-if in that class).
Result<json> cost_user_share(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  std::string user, what_if_class;
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
  json trend = json::array();
  for (const cost::DayPoint& p : share.trend) {
    trend.push_back({{"date", format_date(p.date)}, {"cost_micro_usd", p.list_cost.micro_usd()}});
  }
  json forecast = {{"method",
                    "the user's part of each month-end scenario of the account, in proportion to "
                    "the user's usage to date"}};
  for (cost::Scenario sc : cost::kAllScenarios) {
    forecast[std::string(cost::scenario_name(sc))] =
        share_totals_json(share.month_end[static_cast<size_t>(sc)]);
  }
  json out = {
      {"month", format_year_month(report.value().month)},
      {"as_of", format_date(input.as_of)},
      {"days_in_month", report.value().days_in_month},
      {"days_elapsed", report.value().days_elapsed},
      {"user", user},
      {"method",
       "each line of the account's bill is split in proportion to usage (the free tier and the "
       "rounding to billing units are shared the same way); the users' storage in the bucket is "
       "split by what each user stored through the API"},
      {"pricing", cost::pricing_ref_json(input.prices)},
      {"month_to_date", share_totals_json(share.to_date)},
      {"charges", charges_json(share.to_date)},
      {"forecast", forecast},
      {"trend", trend},
      {"by_prefix", cost::shares_json(share.by_prefix, share.to_date.total, "prefix")},
  };
  out["daily_average_micro_usd"] = share.daily_average.micro_usd();
  out["daily_average_usd"] = cost::format_usd(share.daily_average, 2);
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
    const size_t expected = static_cast<size_t>(cost::Scenario::kExpected);
    cost::Money saving_to_date = share.to_date.total - what_if.to_date.total;
    cost::Money saving_month = share.month_end[expected].total - what_if.month_end[expected].total;
    json what_if_json = {{"storage_class", what_if_class},
                         {"month_to_date", share_totals_json(what_if.to_date)},
                         {"month_end_expected", share_totals_json(what_if.month_end[expected])}};
    what_if_json.update(saving_json(saving_to_date, saving_month));
    out["what_if"] = std::move(what_if_json);
  }
  return out;
}

// Month to date, daily average, forecast, trend and by-bucket split (month_input fields),
// with the month to date's charges grouped for display (`charges`).
Result<json> cost_bill(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  json notes;
  auto m = month_input(in, r, &notes);
  if (!m.ok()) return m.error();
  auto report = cost::month_report(m.value());
  if (!report.ok()) return report.error();
  json out = cost::month_report_json(report.value(), m.value().prices, m.value().forecast);
  out["charges"] = charges_json(report.value().to_date);
  if (!notes.is_null()) out["account"] = std::move(notes);
  return out;
}

json top(const std::vector<cost::Share>& shares, cost::Money total, size_t n) {
  std::vector<cost::Share> sorted = shares;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const cost::Share& a, const cost::Share& b) { return a.total > b.total; });
  if (sorted.size() > n) sorted.resize(n);
  return cost::shares_json(sorted, total, "key");
}

// A report of a closed period. month_input fields + "type": "daily" | "weekly" | "monthly" +
// "previous_total_micro_usd" (monthly: the previous month's bill, when known) +
// "user_storage"? (every user's daily peaks: the users' namespace storage is then counted under
// the users' own prefixes, as in the breakdown, not as one "users" prefix; totals unchanged).
// daily: the day `as_of` at list price, the month's bill to that day; monthly: the month's
// bill (as_of its last day); weekly: the days of the week ending on as_of that fall in its
// month (usage and period_cost at list price), the month's bill to as_of. All: usage totals,
// charges by line, top 5 buckets and prefixes of the month to date, and the change from the
// previous period (the day before, or the previous month).
Result<json> cost_report(Engine&, const json& in, TimePoint) {
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
  if (type != "daily" && type != "weekly" && type != "monthly") {
    return invalid_field("type", "type must be daily, weekly or monthly");
  }
  std::optional<int64_t> previous;
  if (has_previous) {
    if (!in["previous_total_micro_usd"].is_number_integer()) {
      return invalid_field("previous_total_micro_usd",
                           "previous_total_micro_usd must be an integer");
    }
    previous = in["previous_total_micro_usd"].get<int64_t>();
  }
  auto report = cost::month_report(m.value());
  if (!report.ok()) return report.error();
  const cost::MonthReport& rep = report.value();
  json usage = {{"class_a_requests", 0},
                {"class_b_requests", 0},
                {"free_requests", 0},
                {"retrieved_bytes", 0},
                {"storage_peak_bytes_last_day", 0}};
  uint64_t a = 0, b = 0, f = 0, retrieved = 0, peak = 0;
  for (const cost::UsageRow& row : m.value().rows) {
    bool today = row.date == m.value().as_of;
    // weekly: the days of the week ending on as_of that fall in its month.
    bool in_week = days_since_epoch(row.date) > days_since_epoch(m.value().as_of) - 7;
    if (type == "monthly" || today || (type == "weekly" && in_week)) {
      a += row.class_a_requests;
      b += row.class_b_requests;
      f += row.free_requests;
      retrieved += row.retrieved_bytes;
    }
    if (today) peak += row.storage_peak_bytes;
  }
  usage = {{"class_a_requests", a},
           {"class_b_requests", b},
           {"free_requests", f},
           {"retrieved_bytes", retrieved},
           {"storage_peak_bytes_last_day", peak}};
  json out = {
      {"type", type},
      {"period", type == "daily" ? format_date(m.value().as_of) : format_year_month(rep.month)},
      {"month", format_year_month(rep.month)},
      {"usage", usage},
      {"month_to_date", charges_json(rep.to_date)},
      {"top_buckets",
       top(cost::breakdown(rep, m.value(), cost::BreakdownBy::kBucket), rep.to_date.total, 5)},
      {"top_prefixes",
       top(cost::breakdown(rep, m.value(), cost::BreakdownBy::kPrefix), rep.to_date.total, 5)}};
  int64_t current = rep.to_date.total.micro_usd();
  if (type == "daily") {
    current = rep.trend.empty() ? 0 : rep.trend.back().list_cost.micro_usd();
    if (rep.trend.size() >= 2) previous = rep.trend[rep.trend.size() - 2].list_cost.micro_usd();
    out["day_cost_micro_usd"] = current;
    out["day_cost_usd"] = cost::format_usd(cost::Money::micro_usd(current));
  }
  if (type == "weekly") {
    // The week's days in the month at list price, against the 7 days before when the month
    // holds them all.
    int64_t week = 0, before = 0;
    size_t n = rep.trend.size();
    for (size_t i = 0; i < n; ++i) {
      if (i + 7 >= n) {
        week += rep.trend[i].list_cost.micro_usd();
      } else if (i + 14 >= n) {
        before += rep.trend[i].list_cost.micro_usd();
      }
    }
    current = week;
    if (!has_previous && n >= 14) previous = before;
    out["period_cost_micro_usd"] = current;
    out["period_cost_usd"] = cost::format_usd(cost::Money::micro_usd(current));
  }
  out["cost"] = charges_json(rep.to_date);
  if (previous) {
    int64_t delta = current - *previous;
    out["change"] = {{"previous_micro_usd", *previous},
                     {"delta_micro_usd", delta},
                     {"delta_pct", *previous != 0 ? json(static_cast<double>(delta) * 100.0 /
                                                         static_cast<double>(*previous))
                                                  : json(nullptr)}};
  } else {
    out["change"] = nullptr;
  }
  return out;
}

// month_input fields + "by": "bucket" | "prefix" | "class" | "user" + "user_storage"? (every
// user's daily peaks: the users' namespace storage is then attributed to its users).
Result<json> cost_breakdown(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  std::string by = "bucket";
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
  json out = cost::totals_json(report.value().to_date);
  out["by"] = by;
  out["month"] = format_year_month(report.value().month);
  out["as_of"] = format_date(m.value().as_of);
  out["rows"] = cost::shares_json(shares, report.value().to_date.total, "key");
  return out;
}

// month_input fields + "budgets": [budget, ...] (the shape of cost_budgets_validate).
Result<json> cost_budget_status(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  bool has_budgets = r.has("budgets");
  auto m = month_input(in, r);
  if (!m.ok()) return m.error();
  auto budgets =
      cost::budgets_from_json(json{{"budgets", has_budgets ? in["budgets"] : json::array()}});
  if (!budgets.ok()) return budgets.error();
  auto report = cost::month_report(m.value());
  if (!report.ok()) return report.error();
  auto statuses = cost::budget_status(report.value(), budgets.value());
  return json{{"month", format_year_month(report.value().month)},
              {"as_of", format_date(m.value().as_of)},
              {"budgets", cost::budget_status_json(statuses)}};
}

// {"date": "YYYY-MM-DD", "usage": [rows of any dates], "pricing": [...], "baseline_days": 7,
//  "rise_pct": 50, "min_increase_usd": "0.01", "user"?: id, "user_storage"?: [...]}: with a
// user, only that user's days (list prices need no sharing of the free tier).
Result<json> cost_anomaly(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  cost::AnomalyOptions options;
  std::string date_text;
  r.read_string("date", date_text);
  bool has_usage = r.has("usage");
  bool has_account = r.has("account");
  bool has_pricing = r.has("pricing");
  bool has_min = r.has("min_increase_usd");
  r.read_uint("baseline_days", options.baseline_days, 1, 90);
  r.read_uint("rise_pct", options.rise_pct, 1, 100'000);
  std::optional<std::string> user;
  if (r.has("user")) r.read_string("user", user.emplace());
  bool has_user_storage = r.has("user_storage");
  if (auto err = r.finish()) return *err;
  auto date = parse_date(date_text);
  if (!date) return invalid_field("date", "date must be the day to check as YYYY-MM-DD");
  if (has_min) {
    auto min = cost::usd_from_json(in["min_increase_usd"], cost::kMaxMoney);
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
    auto parsed = cost::usage_rows_from_json(in["usage"], "usage");
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
  return cost::anomaly_json(report, options);
}

// month_input fields + "storage_class": the class to price everything in (default
// infrequent_access). Positive savings mean the other class is cheaper.
Result<json> cost_whatif(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  std::string target_name = "infrequent_access";
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
    return json{{"month_to_date", cost::bill_json(rep.to_date, cost::classes_used(month_end))},
                {"month_end_expected", cost::totals_json(month_end)}};
  };
  const size_t expected = static_cast<size_t>(cost::Scenario::kExpected);
  cost::Money saving_to_date = current.value().to_date.total - what_if.value().to_date.total;
  cost::Money saving_month =
      current.value().month_end[expected].total - what_if.value().month_end[expected].total;
  json out = {{"month", format_year_month(current.value().month)},
              {"as_of", format_date(m.value().as_of)},
              {"storage_class", target_name},
              {"pricing", cost::pricing_ref_json(m.value().prices)},
              {"current", summary(current.value())},
              {"what_if", summary(what_if.value())}};
  out.update(saving_json(saving_to_date, saving_month));
  return out;
}

// PUT /api/pricing. {"request": <a price list, partial>, "pricing": [stored versions]}: the
// request's effective_from (required, first day of a month, not before the month of now)
// picks the version it updates; absent fields keep that version's values. A past version sent
// back exactly as GET answers it (the built-in default too) is accepted as {"unchanged": true}.
// GET's whole answer, {"month", "in_effect", "versions"}, is taken as its in_effect, its
// versions being what GET answers now.
Result<json> pricing_status(Engine& e, const json& in, TimePoint now);
Result<json> pricing_validate(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  bool has_request = r.has("request");
  bool has_pricing = r.has("pricing");
  if (auto err = r.finish()) return *err;
  json request = has_request ? in["request"] : json::object();
  if (!request.is_object()) return invalid_field("", "the price list must be a JSON object");
  if (request.contains("in_effect")) {
    FieldReader answered(request);
    answered.has("month");
    bool has_versions = answered.has("versions");
    answered.has("in_effect");
    if (auto err = answered.finish()) return *err;
    json status_in = {{"pricing", has_pricing ? in["pricing"] : json::array()}};
    if (request.contains("month")) status_in["month"] = request["month"];
    auto status = pricing_status(e, status_in, now);
    if (!status.ok()) return status.error();
    if (has_versions && request["versions"] != status.value()["versions"]) {
      return invalid_field("versions",
                           "versions is answered, not set: send the version to change (or "
                           "in_effect with the versions as GET answers them)");
    }
    json version = request["in_effect"];
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
  auto parsed = cost::price_list_from_json(request, base);
  if (!parsed.ok()) return parsed.error();
  CivilDate this_month = first_day(month_of(date_of(now)));
  json price_list = cost::price_list_to_json(parsed.value());
  if (parsed.value().effective_from < this_month &&
      base.effective_from == parsed.value().effective_from &&
      price_list == cost::price_list_to_json(base)) {
    // A version sent back as GET answered it (the built-in default too): nothing to store.
    return json{{"price_list", price_list}, {"unchanged", true}};
  }
  if (parsed.value().effective_from < this_month) {
    return invalid_field("effective_from", "effective_from must not be before " +
                                               format_date(this_month) +
                                               ": past months keep the prices they were billed at");
  }
  return json{{"price_list", price_list}};
}

// GET /api/pricing. {"pricing": [stored versions], "month": "YYYY-MM" (default: now)}.
Result<json> pricing_status(Engine&, const json& in, TimePoint now) {
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
  std::vector<cost::PriceList> all = versions.value();
  all.insert(all.begin(), cost::default_price_list());
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.effective_from < b.effective_from;
  });
  json list = json::array();
  for (const auto& v : all) list.push_back(cost::price_list_to_json(v));
  return json{{"month", format_year_month(month.value())},
              {"in_effect", cost::price_list_to_json(cost::price_list_for(all, month.value()))},
              {"versions", list}};
}

// PUT /api/costs/budgets. {"request": {"budgets": [...]}} -> the budgets, normalized.
Result<json> cost_budgets_validate(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  bool has_request = r.has("request");
  if (auto err = r.finish()) return *err;
  auto budgets = cost::budgets_from_json(has_request ? in["request"] : json::object());
  if (!budgets.ok()) return budgets.error();
  return cost::budgets_to_json(budgets.value());
}

// The operation table: {"operations": [{"operation", "class"}]}.
Result<json> cost_operation_classes(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  if (auto err = r.finish()) return *err;
  json list = json::array();
  for (const auto& e : cost::operation_class_table()) {
    list.push_back({{"operation", e.operation}, {"class", operation_class_name(e.billed_as)}});
  }
  return json{{"operations", list}};
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
  };
  return kCommands;
}

}  // namespace r2w::bindings
