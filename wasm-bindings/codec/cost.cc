#include "wasm-bindings/codec/cost.h"

#include <cmath>
#include <string>

#include "core/cost/operation-class.h"
#include "wasm-bindings/commands.h"

namespace r2w::codec {

using namespace r2w::cost;  // NOLINT(google-build-using-namespace): the codec of this domain

namespace {

// ---- reading ----

void read_price(FieldReader& r, const Json& obj, std::string_view name, Money& out) {
  if (!r.has(name)) return;
  auto v = usd_from_json(obj[std::string(name)], kMaxUnitPrice);
  if (!v) {
    r.fail(name,
           "must be a dollar amount from 0 to 1000000 (a number or a decimal string "
           "with at most 6 decimals)");
    return;
  }
  out = *v;
}

void read_count(FieldReader& r, const Json& obj, std::string_view name, uint64_t& out,
                uint64_t max) {
  if (!r.has(name)) return;
  const Json& v = obj[std::string(name)];
  if (!v.is_number_unsigned() || v.get<uint64_t>() > max) {
    r.fail(name, "must be a whole number from 0 to " + std::to_string(max));
    return;
  }
  out = v.get<uint64_t>();
}

std::optional<Error> read_class(const Json& j, const std::string& prefix, ClassPrices& c) {
  FieldReader r(j, prefix);
  read_price(r, j, "storage_usd_per_gb_month", c.storage_per_gb_month);
  read_price(r, j, "class_a_usd_per_million", c.class_a_per_million);
  read_price(r, j, "class_b_usd_per_million", c.class_b_per_million);
  read_price(r, j, "retrieval_usd_per_gb", c.retrieval_per_gb);
  r.read_uint("min_storage_days", c.min_storage_days, 0, kMaxMinStorageDays);
  return r.finish();
}

std::optional<Error> read_free_tier(const Json& j, FreeTier& f) {
  FieldReader r(j, "free_tier");
  read_count(r, j, "storage_gb_months", f.storage_gb_months, kMaxFreeUnits);
  read_count(r, j, "class_a_requests", f.class_a_requests, kMaxFreeUnits);
  read_count(r, j, "class_b_requests", f.class_b_requests, kMaxFreeUnits);
  if (r.has("applies_to")) {
    const Json& list = j["applies_to"];
    std::array<bool, kStorageClassCount> applies{};
    bool ok = list.is_array();
    for (size_t i = 0; ok && i < list.size(); ++i) {
      auto c = list[i].is_string() ? parse_storage_class(list[i].get<std::string>()) : std::nullopt;
      if (!c || applies[index_of(*c)]) ok = false;
      if (c) applies[index_of(*c)] = true;
    }
    if (!ok) {
      r.fail("applies_to",
             "must be a list of distinct storage classes (standard, infrequent_access)");
    } else {
      f.applies_to = applies;
    }
  }
  return r.finish();
}

// GB as a JSON number -> bytes, to the nearest byte.
void read_gb(FieldReader& r, const Json& obj, std::string_view name, std::optional<Wide>& out) {
  if (!r.has(name)) return;
  const Json& v = obj[std::string(name)];
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0 ||
      v.get<double>() > kMaxEstimateGb) {
    r.fail(name, "must be a number from 0 to 1000000000");
    return;
  }
  out = static_cast<Wide>(std::llround(v.get<double>() * static_cast<double>(kBytesPerGb)));
}

void read_operation_count(FieldReader& r, const Json& obj, std::string_view name, Wide& out) {
  if (!r.has(name)) return;
  const Json& v = obj[std::string(name)];
  bool whole = v.is_number_unsigned() ||
               (v.is_number_float() && std::isfinite(v.get<double>()) && v.get<double>() >= 0 &&
                std::floor(v.get<double>()) == v.get<double>());
  if (!whole || v.get<double>() > static_cast<double>(kMaxUsageFigure)) {
    r.fail(name, "must be a whole number of operations from 0 to 2^53");
    return;
  }
  out = v.is_number_unsigned() ? static_cast<Wide>(v.get<uint64_t>())
                               : static_cast<Wide>(v.get<double>());
}

bool read_figure(FieldReader& r, const Json& obj, std::string_view name, uint64_t& out) {
  if (!r.has(name)) return true;
  const Json& v = obj[std::string(name)];
  if (!v.is_number_unsigned() || v.get<uint64_t>() > kMaxUsageFigure) {
    r.fail(name, "must be a whole number from 0 to 2^53");
    return false;
  }
  out = v.get<uint64_t>();
  return true;
}

std::optional<Error> read_operations(const Json& ops, const std::string& prefix, UsageRow& row) {
  if (!ops.is_object()) return invalid_field(prefix, prefix + " must be an object of counts");
  for (const auto& item : ops.items()) {
    const Json& v = item.value();
    // A count that is no whole number is refused as too large, after the name is checked.
    uint64_t n = v.is_number_unsigned() ? v.get<uint64_t>() : UINT64_MAX;
    if (auto err = add_operation(row, item.key(), n, prefix + "." + item.key())) return err;
  }
  return std::nullopt;
}

std::optional<Error> read_early_deletes(const Json& list, const std::string& prefix,
                                        UsageRow& row) {
  if (!list.is_array()) return invalid_field(prefix, prefix + " must be a list");
  for (size_t i = 0; i < list.size(); ++i) {
    FieldReader r(list[i], prefix + "[" + std::to_string(i) + "]");
    EarlyDelete d;
    read_figure(r, list[i], "bytes", d.bytes);
    r.read_uint("age_days", d.age_days, 0, kMaxEarlyDeleteAgeDays);
    if (auto err = r.finish()) return err;
    row.early_deletes.push_back(d);
  }
  return std::nullopt;
}

// ---- writing ----

std::string usage_text(const BillLine& l, uint32_t period_days) {
  switch (l.line) {
    case Line::kStorage:
      return decimal_string(l.usage, static_cast<Wide>(kBytesPerGb) * period_days, 9);
    case Line::kClassA:
    case Line::kClassB:
      return wide_to_string(l.usage);
    case Line::kRetrieval:
      return decimal_string(l.usage, kBytesPerGb, 9);
  }
  return "";
}

// Display only: part / whole in percent, to a tenth.
double percent(Money part, Money whole) {
  if (whole.micro_usd() <= 0) return 0.0;
  double pct =
      static_cast<double>(part.micro_usd()) * 100.0 / static_cast<double>(whole.micro_usd());
  return std::round(pct * 10.0) / 10.0;
}

void add_pair(Json& out, std::string_view name, Money m) {
  out[std::string(name) + "_micro_usd"] = m.micro_usd();
  out[std::string(name) + "_usd"] = format_usd(m, 2);
}

Json date_or_null(const std::optional<CivilDate>& d) {
  return d ? Json(format_date(*d)) : Json(nullptr);
}

}  // namespace

std::optional<Money> usd_from_json(const Json& v, Money max) {
  if (v.is_string()) return parse_usd(v.get<std::string>(), max);
  if (v.is_number()) return usd_from_number(v.get<double>(), max);
  return std::nullopt;
}

Result<PriceList> price_list_from_json(const Json& j, const PriceList& base) {
  PriceList p = base;
  FieldReader r(j);
  std::string effective = format_date(p.effective_from);
  r.read_string("effective_from", effective);
  r.read_string("source", p.source);
  bool has_classes[kStorageClassCount] = {r.has("standard"), r.has("infrequent_access")};
  bool has_free = r.has("free_tier");
  if (auto err = r.finish()) return *err;
  auto date = parse_date(effective);
  if (!date) return invalid_field("effective_from", effective_from_message());
  p.effective_from = *date;
  if (auto err = validate_price_list(p)) return *err;
  for (StorageClass c : kAllStorageClasses) {
    if (!has_classes[index_of(c)]) continue;
    std::string name(storage_class_name(c));
    if (auto err = read_class(j[name], name, p.classes[index_of(c)])) return *err;
  }
  if (has_free) {
    if (auto err = read_free_tier(j["free_tier"], p.free_tier)) return *err;
  }
  return p;
}

Json price_list_to_json(const PriceList& p) {
  Json out = {{"effective_from", format_date(p.effective_from)}, {"source", p.source}};
  for (StorageClass c : kAllStorageClasses) {
    const ClassPrices& cp = p.of(c);
    out[std::string(storage_class_name(c))] = {
        {"storage_usd_per_gb_month", format_usd_exact(cp.storage_per_gb_month)},
        {"class_a_usd_per_million", format_usd_exact(cp.class_a_per_million)},
        {"class_b_usd_per_million", format_usd_exact(cp.class_b_per_million)},
        {"retrieval_usd_per_gb", format_usd_exact(cp.retrieval_per_gb)},
        {"min_storage_days", cp.min_storage_days},
    };
  }
  Json applies = Json::array();
  for (StorageClass c : kAllStorageClasses) {
    if (p.free_tier.applies_to[index_of(c)]) applies.push_back(storage_class_name(c));
  }
  out["free_tier"] = {{"storage_gb_months", p.free_tier.storage_gb_months},
                      {"class_a_requests", p.free_tier.class_a_requests},
                      {"class_b_requests", p.free_tier.class_b_requests},
                      {"applies_to", applies}};
  return out;
}

Result<std::vector<PriceList>> price_versions_from_json(const Json& j, std::string_view field) {
  std::vector<PriceList> out;
  if (!j.is_array()) {
    return invalid_field(std::string(field), std::string(field) + " must be a list of price lists");
  }
  for (size_t i = 0; i < j.size(); ++i) {
    std::string name = std::string(field) + "[" + std::to_string(i) + "]";
    auto p = price_list_from_json(j[i], default_price_list());
    if (!p.ok()) {
      Error e = p.error();
      e.field = e.field.empty() ? name : name + "." + e.field;
      e.message = name + ": " + e.message;
      return e;
    }
    out.push_back(std::move(p).value());
  }
  return out;
}

Result<std::vector<Budget>> budgets_from_json(const Json& j) {
  FieldReader top(j);
  bool has = top.has("budgets");
  if (auto err = top.finish()) return *err;
  if (!has || !j["budgets"].is_array()) {
    return invalid_field("budgets", "budgets must be a list of budgets");
  }
  const Json& list = j["budgets"];
  if (list.size() > kMaxBudgets) return too_many_budgets();
  std::vector<Budget> out;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string prefix = "budgets[" + std::to_string(i) + "]";
    const Json& in = list[i];
    FieldReader r(in, prefix);
    Budget b;
    bool has_bucket = r.has("bucket");
    bool has_amount = r.has("monthly_usd");
    // The normalized form (what PUT answers, GET lists and D1 keeps) also carries the amount in
    // micro-dollars: read back, it must agree with monthly_usd, so a budget read from anywhere
    // r2watch writes one is accepted as it is.
    bool has_micro = r.has("monthly_micro_usd");
    r.read_uint("warn_at_pct", b.warn_at_pct, 1, 100);
    if (auto err = r.finish()) return *err;
    if (has_bucket && !in["bucket"].is_null()) {
      if (!in["bucket"].is_string() || in["bucket"].get<std::string>().empty()) {
        return bad_budget_bucket(prefix);
      }
      b.bucket = in["bucket"].get<std::string>();
    }
    std::optional<Money> amount =
        has_amount ? usd_from_json(in["monthly_usd"], kMaxBudget) : std::nullopt;
    if (has_micro && amount) {
      // monthly_usd is answered rounded to the cent: the exact amount is monthly_micro_usd
      // when it rounds to monthly_usd (or is it exactly).
      const Json& micro = in["monthly_micro_usd"];
      bool agrees = false;
      if (micro.is_number_integer() && micro.get<int64_t>() > 0 &&
          Money::micro_usd(micro.get<int64_t>()) <= kMaxBudget) {
        Money exact = Money::micro_usd(micro.get<int64_t>());
        agrees = exact == *amount || (amount->micro_usd() % 10'000 == 0 &&
                                      format_usd(exact, 2) == format_usd(*amount, 2));
        if (agrees) amount = exact;
      }
      if (!agrees) {
        return invalid_field(prefix + ".monthly_micro_usd",
                             prefix + ".monthly_micro_usd must be monthly_usd in micro-dollars (" +
                                 std::to_string(amount->micro_usd()) +
                                 ", or an amount that rounds to it); leave it out to take "
                                 "monthly_usd as it is");
      }
    }
    if (!amount) return bad_budget_amount(prefix);
    b.monthly = *amount;
    if (auto err = check_budget(b, out, prefix)) return *err;
    out.push_back(std::move(b));
  }
  return out;
}

Json budgets_to_json(std::span<const Budget> budgets) {
  Json list = Json::array();
  for (const Budget& b : budgets) {
    list.push_back({{"bucket", b.bucket ? Json(*b.bucket) : Json(nullptr)},
                    {"monthly_usd", format_usd(b.monthly, 2)},
                    {"monthly_micro_usd", b.monthly.micro_usd()},
                    {"warn_at_pct", b.warn_at_pct}});
  }
  return {{"budgets", list}};
}

Result<EstimateRequest> estimate_request_from_json(const Json& body) {
  EstimateRequest out;
  FieldReader top(body);
  bool has[kStorageClassCount] = {top.has("standard"), top.has("infrequent_access")};
  if (auto err = top.finish()) return *err;
  for (StorageClass c : kAllStorageClasses) {
    if (!has[index_of(c)]) continue;
    std::string name(storage_class_name(c));
    const Json& j = body[name];
    FieldReader r(j, name);
    ClassRequest asked;
    read_gb(r, j, "storage_gb_months", asked.storage_gb_month_bytes);
    read_gb(r, j, "stored_gb", asked.stored_bytes);
    if (r.has("days_stored")) {
      uint32_t days = kEstimatePeriodDays;
      r.read_uint("days_stored", days, 0, kEstimatePeriodDays);
      asked.days_stored = days;
    }
    read_operation_count(r, j, "class_a", asked.class_a_requests);
    read_operation_count(r, j, "class_b", asked.class_b_requests);
    read_gb(r, j, "retrieval_gb", asked.retrieved_bytes);
    if (auto err = r.finish()) return *err;
    out.classes[index_of(c)] = asked;
  }
  return out;
}

Result<EstimateInput> estimate_from_json(const Json& body, const PriceList& prices) {
  auto request = estimate_request_from_json(body);
  if (!request.ok()) return request.error();
  return estimate_input(request.value(), prices);
}

Result<std::vector<UsageRow>> usage_rows_from_json(const Json& j, std::string_view field) {
  std::string base(field);
  if (!j.is_array()) return invalid_field(base, base + " must be a list of usage rows");
  std::vector<UsageRow> rows;
  rows.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    std::string prefix = base + "[" + std::to_string(i) + "]";
    const Json& in = j[i];
    FieldReader r(in, prefix);
    UsageRow row;
    std::string date, cls = "standard";
    r.read_string("date", date);
    r.read_string("bucket", row.bucket);
    r.read_string("prefix", row.prefix);
    r.read_string("user", row.user);
    r.read_string("storage_class", cls);
    read_figure(r, in, "storage_peak_bytes", row.storage_peak_bytes);
    read_figure(r, in, "retrieved_bytes", row.retrieved_bytes);
    bool has_ops = r.has("operations");
    bool has_deletes = r.has("early_deletes");
    if (auto err = r.finish()) return *err;
    auto d = parse_date(date);
    if (!d) return invalid_field(prefix + ".date", prefix + ".date must be a date as YYYY-MM-DD");
    row.date = *d;
    if (auto err = check_usage_row(row, prefix)) return *err;
    auto c = parse_storage_class(cls);
    if (!c) {
      return invalid_field(prefix + ".storage_class",
                           prefix + ".storage_class must be standard or infrequent_access");
    }
    row.storage_class = *c;
    if (has_ops) {
      if (auto err = read_operations(in["operations"], prefix + ".operations", row)) return *err;
    }
    if (has_deletes) {
      if (auto err = read_early_deletes(in["early_deletes"], prefix + ".early_deletes", row)) {
        return *err;
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string_view forecast_method() {
  return "each bucket and storage class is projected to month end from its last window_days "
         "days: requests, retrieval and early-delete charges at the window's daily mean "
         "(expected), smallest day (low) and largest day (high); stored bytes from the last "
         "day's peak changing daily by the window's mean (expected), smallest (low) and "
         "largest (high) daily change, never below zero; each projected month is billed like "
         "the real one (free tier, rounding up to billing units)";
}

Json totals_json(const Bill& bill) {
  Json out = Json::object();
  for (Line l : kAllLines) {
    out[std::string(line_name(l)) + "_micro_usd"] = bill.line_total(l).micro_usd();
  }
  out["total_micro_usd"] = bill.total.micro_usd();
  out["total_usd"] = format_usd(bill.total, 2);
  return out;
}

Json bill_json(const Bill& bill, std::array<bool, kStorageClassCount> classes) {
  Json out = totals_json(bill);
  for (StorageClass c : kAllStorageClasses) {
    if (!classes[index_of(c)]) continue;
    Json lines = Json::array();
    for (Line l : kAllLines) {
      const BillLine& b = bill.line(c, l);
      lines.push_back({{"line", line_name(l)},
                       {"usage", usage_text(b, bill.period_days)},
                       {"usage_unit", usage_unit(l)},
                       {"free_tier", std::to_string(b.free_allowance)},
                       {"billable", b.billable_units},
                       {"billing_unit", billing_unit(l)},
                       {"unit_price_usd", format_usd_exact(b.unit_price)},
                       {"cost_micro_usd", b.cost.micro_usd()},
                       {"cost_usd", format_usd(b.cost, 2)},
                       {"rounding", rounding_rule(l)}});
    }
    Json cls = {{"lines", lines}};
    add_pair(cls, "total", bill.class_total(c));
    out[std::string(storage_class_name(c))] = cls;
  }
  return out;
}

Json pricing_ref_json(const PriceList& p) {
  return {{"effective_from", format_date(p.effective_from)}, {"source", p.source}};
}

Json shares_json(std::span<const Share> shares, Money total, std::string_view key_name) {
  Json list = Json::array();
  for (const Share& s : shares) {
    Json row = {{std::string(key_name), s.key}};
    for (Line l : kAllLines) {
      row[std::string(line_name(l)) + "_micro_usd"] = s.lines[index_of(l)].micro_usd();
    }
    add_pair(row, "total", s.total);
    row["share_pct"] = percent(s.total, total);
    list.push_back(std::move(row));
  }
  return list;
}

Json share_totals_json(const Share& s) {
  Json out = Json::object();
  for (Line l : kAllLines) {
    out[std::string(line_name(l)) + "_micro_usd"] = s.lines[index_of(l)].micro_usd();
  }
  out["total_micro_usd"] = s.total.micro_usd();
  out["total_usd"] = format_usd(s.total, 2);
  return out;
}

Json bucket_part_json(const Share& s) {
  Json out = share_totals_json(s);
  out["bucket"] = s.key;
  return out;
}

namespace {

Json charges_of(Money storage, Money requests, Money retrieval, Money total) {
  return {{"storage_micro_usd", storage.micro_usd()},     {"storage_usd", format_usd(storage)},
          {"requests_micro_usd", requests.micro_usd()},   {"requests_usd", format_usd(requests)},
          {"retrieval_micro_usd", retrieval.micro_usd()}, {"retrieval_usd", format_usd(retrieval)},
          {"total_micro_usd", total.micro_usd()},         {"total_usd", format_usd(total)}};
}

}  // namespace

Json charges_json(const Bill& bill) {
  return charges_of(bill.line_total(Line::kStorage),
                    bill.line_total(Line::kClassA) + bill.line_total(Line::kClassB),
                    bill.line_total(Line::kRetrieval), bill.total);
}

Json charges_json(const Share& share) {
  auto line = [&](Line l) { return share.lines[index_of(l)]; };
  return charges_of(line(Line::kStorage), line(Line::kClassA) + line(Line::kClassB),
                    line(Line::kRetrieval), share.total);
}

Json saving_json(const Saving& s) {
  return {{"saving_to_date_micro_usd", s.to_date.micro_usd()},
          {"saving_to_date_usd", format_usd(s.to_date, 2)},
          {"saving_month_micro_usd", s.month.micro_usd()},
          {"saving_month_usd", format_usd(s.month, 2)},
          {"verdict", saving_verdict_name(s.verdict)}};
}

Json user_share_json(const MonthReport& report, const MonthInput& input, const UserShare& share) {
  Json trend = Json::array();
  for (const DayPoint& p : share.trend) {
    trend.push_back({{"date", format_date(p.date)}, {"cost_micro_usd", p.list_cost.micro_usd()}});
  }
  Json forecast = {{"method",
                    "the user's part of each month-end scenario of the account, in proportion to "
                    "the user's usage to date"}};
  for (Scenario sc : kAllScenarios) {
    forecast[std::string(scenario_name(sc))] =
        share_totals_json(share.month_end[static_cast<size_t>(sc)]);
  }
  Json out = {
      {"month", format_year_month(report.month)},
      {"as_of", format_date(input.as_of)},
      {"days_in_month", report.days_in_month},
      {"days_elapsed", report.days_elapsed},
      {"user", share.user},
      {"method",
       "each line of the account's bill is split in proportion to usage (the free tier and the "
       "rounding to billing units are shared the same way); the users' storage in the bucket is "
       "split by what each user stored through the API"},
      {"pricing", pricing_ref_json(input.prices)},
      {"month_to_date", share_totals_json(share.to_date)},
      {"charges", charges_json(share.to_date)},
      {"forecast", forecast},
      {"trend", trend},
      {"by_prefix", shares_json(share.by_prefix, share.to_date.total, "prefix")},
  };
  out["daily_average_micro_usd"] = share.daily_average.micro_usd();
  out["daily_average_usd"] = format_usd(share.daily_average, 2);
  return out;
}

Json user_what_if_json(StorageClass target, const UserShare& share, const UserShare& what_if) {
  const size_t expected = static_cast<size_t>(Scenario::kExpected);
  Saving saving = class_saving(share.to_date.total, share.month_end[expected].total,
                               what_if.to_date.total, what_if.month_end[expected].total);
  Json out = {{"storage_class", storage_class_name(target)},
              {"month_to_date", share_totals_json(what_if.to_date)},
              {"month_end_expected", share_totals_json(what_if.month_end[expected])}};
  out.update(saving_json(saving));
  return out;
}

Json month_report_json(const MonthReport& r, const PriceList& prices,
                       const ForecastOptions& forecast) {
  Json trend = Json::array();
  for (const DayPoint& p : r.trend) {
    trend.push_back({{"date", format_date(p.date)},
                     {"cost_micro_usd", p.list_cost.micro_usd()},
                     {"bill_to_date_micro_usd", p.bill_to_date.micro_usd()}});
  }
  Json fc = {{"method", forecast_method()}, {"window_days", forecast.window_days}};
  for (Scenario s : kAllScenarios) {
    fc[std::string(scenario_name(s))] = totals_json(r.month_end[static_cast<size_t>(s)]);
  }
  auto shares = r.buckets.empty() ? std::vector<Share>{} : r.bucket_shares(r.days_elapsed);
  Json out = {
      {"month", format_year_month(r.month)},
      {"as_of", format_date(add_days(first_day(r.month), r.days_elapsed - 1))},
      {"days_in_month", r.days_in_month},
      {"days_elapsed", r.days_elapsed},
      {"pricing", pricing_ref_json(prices)},
      {"month_to_date", bill_json(r.to_date, classes_used(r.month_end[1]))},
      {"forecast", fc},
      {"trend", trend},
      {"by_bucket", shares_json(shares, r.to_date.total, "bucket")},
  };
  add_pair(out, "daily_average", r.daily_average);
  return out;
}

Json budget_status_json(std::span<const BudgetStatus> statuses) {
  Json list = Json::array();
  for (const BudgetStatus& s : statuses) {
    Json row = {
        {"bucket", s.budget.bucket ? Json(*s.budget.bucket) : Json(nullptr)},
        {"warn_at_pct", s.budget.warn_at_pct},
        {"status", s.status},
        {"exceeded_on", date_or_null(s.exceeded_on)},
        {"projected_exceed_on", date_or_null(s.projected_exceed_on)},
        {"used_pct", percent(s.spent, s.budget.monthly)},
        {"burn_rate_micro_usd_per_day", s.burn_rate_per_day.micro_usd()},
    };
    add_pair(row, "monthly", s.budget.monthly);
    add_pair(row, "spent", s.spent);
    add_pair(row, "forecast", s.forecast);
    list.push_back(std::move(row));
  }
  return list;
}

Json anomaly_json(const AnomalyReport& r, const AnomalyOptions& options) {
  auto lines_json = [](const DayLines& d) {
    Json out = Json::object();
    for (StorageClass c : kAllStorageClasses) {
      Json cls = Json::object();
      for (Line l : kAllLines) {
        cls[std::string(line_name(l)) + "_micro_usd"] =
            d.cost[index_of(c)][index_of(l)].micro_usd();
      }
      out[std::string(storage_class_name(c))] = cls;
    }
    out["total_micro_usd"] = d.total.micro_usd();
    out["total_usd"] = format_usd(d.total, 2);
    return out;
  };
  Json reason = nullptr;
  if (r.verdict == "anomaly") {
    reason = {{"storage_class", storage_class_name(r.reason_class)},
              {"line", line_name(r.reason_line)},
              {"change_micro_usd", r.reason_change.micro_usd()},
              {"bucket", r.top_bucket},
              {"bucket_change_micro_usd", r.top_bucket_change.micro_usd()}};
  }
  return {{"date", format_date(r.date)},
          {"verdict", r.verdict},
          {"anomaly", r.verdict == "anomaly"},
          {"rise_pct",
           r.rise_permille ? Json(static_cast<double>(*r.rise_permille) / 10.0) : Json(nullptr)},
          {"threshold_pct", options.rise_pct},
          {"min_increase_micro_usd", options.min_increase.micro_usd()},
          {"baseline_days", options.baseline_days},
          {"baseline_days_with_data", r.baseline_days_with_data},
          {"today", lines_json(r.today)},
          {"baseline", lines_json(r.baseline)},
          {"reason", reason}};
}

Json period_report_json(const PeriodCostReport& p, const MonthReport& rep, const MonthInput& in) {
  Json out = {{"type", period_kind_name(p.kind)},
              {"period",
               p.kind == PeriodKind::kDaily ? format_date(in.as_of) : format_year_month(rep.month)},
              {"month", format_year_month(rep.month)},
              {"usage",
               {{"class_a_requests", p.usage.class_a_requests},
                {"class_b_requests", p.usage.class_b_requests},
                {"free_requests", p.usage.free_requests},
                {"retrieved_bytes", p.usage.retrieved_bytes},
                {"storage_peak_bytes_last_day", p.usage.storage_peak_bytes_last_day}}},
              {"month_to_date", charges_json(rep.to_date)},
              {"top_buckets", shares_json(p.top_buckets, rep.to_date.total, "key")},
              {"top_prefixes", shares_json(p.top_prefixes, rep.to_date.total, "key")},
              {"cost", charges_json(rep.to_date)}};
  if (p.period_cost) {
    std::string name = p.kind == PeriodKind::kDaily ? "day_cost" : "period_cost";
    out[name + "_micro_usd"] = p.period_cost->micro_usd();
    out[name + "_usd"] = format_usd(*p.period_cost);
  }
  if (p.change) {
    out["change"] = {
        {"previous_micro_usd", p.change->previous.micro_usd()},
        {"delta_micro_usd", p.change->delta.micro_usd()},
        {"delta_pct", p.change->delta_pct ? Json(*p.change->delta_pct) : Json(nullptr)}};
  } else {
    out["change"] = nullptr;
  }
  return out;
}

Json month_window_json(const MonthWindow& w) {
  return {{"month", format_year_month(w.month)},
          {"first_day", format_date(w.first)},
          {"first_day_ms", to_epoch_ms(w.start)},
          {"as_of", format_date(w.as_of)},
          {"end_ms", to_epoch_ms(w.end)}};
}

Json day_window_json(const DayWindow& w) {
  return {{"date", format_date(w.last)},
          {"from_day", format_date(w.first)},
          {"from_ms", to_epoch_ms(w.start)},
          {"end_ms", to_epoch_ms(w.end)}};
}

// "pricing": the stored versions ([price list, ...]); absent = none (the default list).
Result<std::vector<PriceList>> versions_of(const Json& in, bool has_pricing) {
  if (!has_pricing) return std::vector<cost::PriceList>{};
  return price_versions_from_json(in["pricing"], "pricing");
}

// The fields every month command shares, read after the command marked its own:
// {"as_of": "YYYY-MM-DD", "usage": [row, ...], "pricing": [version, ...],
//  "forecast_window_days": 7}. Instead of "usage", "account": {"operations", "storage"} bills
// the account's figures from Cloudflare's analytics (account-commands.cc); `notes` then gets
// what the bill says of them (unclassified action types, unbilled auth failures).
Result<MonthInput> month_input(const Json& in, FieldReader& r, Json* notes) {
  MonthInput m;
  std::string as_of;
  r.read_string("as_of", as_of);
  bool has_usage = r.has("usage");
  bool has_account = r.has("account");
  bool has_pricing = r.has("pricing");
  r.read_uint("forecast_window_days", m.forecast.window_days, 1, kMaxForecastWindowDays);
  if (auto err = r.finish()) return *err;
  auto date = parse_date(as_of);
  if (!date) return invalid_field("as_of", "as_of must be the last day of usage as YYYY-MM-DD");
  m.as_of = *date;
  auto versions = versions_of(in, has_pricing);
  if (!versions.ok()) return versions.error();
  m.prices = price_list_for(versions.value(), month_of(*date));
  if (has_usage && has_account) return invalid_field("account", "give usage or account, not both");
  if (has_usage) {
    auto rows = usage_rows_from_json(in["usage"], "usage");
    if (!rows.ok()) return rows.error();
    m.rows = std::move(rows).value();
  }
  if (has_account) {
    auto acc = bindings::account_usage_from_json(in["account"], "account");
    if (!acc.ok()) return acc.error();
    if (notes) *notes = bindings::account_usage_notes_json(acc.value());
    m.rows = std::move(acc).value().rows;
  }
  return m;
}

// "user_storage": [{"date", "bucket", "user", "prefix", "peak_bytes"}, ...], each user's own
// daily peaks (user_storage_daily_peaks).
Result<std::vector<UserStorage>> user_storage_from_json(const Json& list) {
  std::vector<UserStorage> out;
  if (!list.is_array()) return invalid_field("user_storage", "user_storage must be an array");
  for (size_t i = 0; i < list.size(); ++i) {
    std::string at = "user_storage[" + std::to_string(i) + "]";
    if (!list[i].is_object()) return invalid_field(at, at + " must be an object");
    FieldReader r(list[i], at);
    UserStorage u;
    std::string date;
    r.read_string("date", date);
    r.read_string("bucket", u.bucket);
    r.read_string("user", u.user);
    r.read_string("prefix", u.prefix);
    bool has_peak = r.has("peak_bytes");
    if (auto err = r.finish()) return *err;
    const Json& peak = has_peak ? list[i]["peak_bytes"] : Json();
    if (!peak.is_number_unsigned() || peak.get<uint64_t>() > kMaxUsageFigure) {
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

}  // namespace r2w::codec
