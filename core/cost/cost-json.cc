#include "core/cost/cost-json.h"

#include <cmath>

namespace r2w::cost {

using json = r2w::Json;

namespace {

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

json money_pair(std::string_view name, Money m) {
  return {{std::string(name) + "_micro_usd", m.micro_usd()},
          {std::string(name) + "_usd", format_usd(m, 2)}};
}

}  // namespace

std::string_view forecast_method() {
  return "each bucket and storage class is projected to month end from its last window_days "
         "days: requests, retrieval and early-delete charges at the window's daily mean "
         "(expected), smallest day (low) and largest day (high); stored bytes from the last "
         "day's peak changing daily by the window's mean (expected), smallest (low) and "
         "largest (high) daily change, never below zero; each projected month is billed like "
         "the real one (free tier, rounding up to billing units)";
}

json totals_json(const Bill& bill) {
  json out = json::object();
  for (Line l : kAllLines) {
    out[std::string(line_name(l)) + "_micro_usd"] = bill.line_total(l).micro_usd();
  }
  out["total_micro_usd"] = bill.total.micro_usd();
  out["total_usd"] = format_usd(bill.total, 2);
  return out;
}

std::array<bool, kStorageClassCount> classes_used(const Bill& bill) {
  std::array<bool, kStorageClassCount> used{};
  for (const BillLine& l : bill.lines) {
    if (l.usage != 0) used[index_of(l.storage_class)] = true;
  }
  return used;
}

json bill_json(const Bill& bill, std::array<bool, kStorageClassCount> classes) {
  json out = totals_json(bill);
  for (StorageClass c : kAllStorageClasses) {
    if (!classes[index_of(c)]) continue;
    json lines = json::array();
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
    json cls = {{"lines", lines}};
    cls.update(money_pair("total", bill.class_total(c)));
    out[std::string(storage_class_name(c))] = cls;
  }
  return out;
}

json pricing_ref_json(const PriceList& p) {
  return {{"effective_from", format_date(p.effective_from)}, {"source", p.source}};
}

json shares_json(std::span<const Share> shares, Money total, std::string_view key_name) {
  json list = json::array();
  for (const Share& s : shares) {
    json row = {{std::string(key_name), s.key}};
    for (Line l : kAllLines) {
      row[std::string(line_name(l)) + "_micro_usd"] = s.lines[index_of(l)].micro_usd();
    }
    row.update(money_pair("total", s.total));
    row["share_pct"] = percent(s.total, total);
    list.push_back(std::move(row));
  }
  return list;
}

json month_report_json(const MonthReport& r, const PriceList& prices,
                       const ForecastOptions& forecast) {
  json trend = json::array();
  for (const DayPoint& p : r.trend) {
    trend.push_back({{"date", format_date(p.date)},
                     {"cost_micro_usd", p.list_cost.micro_usd()},
                     {"bill_to_date_micro_usd", p.bill_to_date.micro_usd()}});
  }
  json fc = {{"method", forecast_method()}, {"window_days", forecast.window_days}};
  for (Scenario s : kAllScenarios) {
    fc[std::string(scenario_name(s))] = totals_json(r.month_end[static_cast<size_t>(s)]);
  }
  auto shares = r.buckets.empty() ? std::vector<Share>{} : r.bucket_shares(r.days_elapsed);
  json out = {
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
  out.update(money_pair("daily_average", r.daily_average));
  return out;
}

json budget_status_json(std::span<const BudgetStatus> statuses) {
  json list = json::array();
  for (const BudgetStatus& s : statuses) {
    json row = {
        {"bucket", s.budget.bucket.empty() ? json(nullptr) : json(s.budget.bucket)},
        {"warn_at_pct", s.budget.warn_at_pct},
        {"status", s.status},
        {"exceeded_on", s.exceeded_on ? json(format_date(*s.exceeded_on)) : json(nullptr)},
        {"projected_exceed_on",
         s.projected_exceed_on ? json(format_date(*s.projected_exceed_on)) : json(nullptr)},
        {"used_pct", percent(s.spent, s.budget.monthly)},
        {"burn_rate_micro_usd_per_day", s.burn_rate_per_day.micro_usd()},
    };
    row.update(money_pair("monthly", s.budget.monthly));
    row.update(money_pair("spent", s.spent));
    row.update(money_pair("forecast", s.forecast));
    list.push_back(std::move(row));
  }
  return list;
}

json anomaly_json(const AnomalyReport& r, const AnomalyOptions& options) {
  auto lines_json = [](const DayLines& d) {
    json out = json::object();
    for (StorageClass c : kAllStorageClasses) {
      json cls = json::object();
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
  json reason = nullptr;
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
           r.rise_permille ? json(static_cast<double>(*r.rise_permille) / 10.0) : json(nullptr)},
          {"threshold_pct", options.rise_pct},
          {"min_increase_micro_usd", options.min_increase.micro_usd()},
          {"baseline_days", options.baseline_days},
          {"baseline_days_with_data", r.baseline_days_with_data},
          {"today", lines_json(r.today)},
          {"baseline", lines_json(r.baseline)},
          {"reason", reason}};
}

}  // namespace r2w::cost
