#include "core/cost/period-report.h"

#include <algorithm>

namespace r2w::cost {

std::string_view period_kind_name(PeriodKind k) {
  switch (k) {
    case PeriodKind::kDaily:
      return "daily";
    case PeriodKind::kWeekly:
      return "weekly";
    case PeriodKind::kMonthly:
      return "monthly";
  }
  return "monthly";
}

std::optional<PeriodKind> parse_period_kind(std::string_view name) {
  for (PeriodKind k : {PeriodKind::kDaily, PeriodKind::kWeekly, PeriodKind::kMonthly}) {
    if (period_kind_name(k) == name) return k;
  }
  return std::nullopt;
}

std::vector<Share> top_shares(std::vector<Share> shares, size_t n) {
  std::stable_sort(shares.begin(), shares.end(),
                   [](const Share& a, const Share& b) { return a.total > b.total; });
  if (shares.size() > n) shares.resize(n);
  return shares;
}

PeriodCostReport period_cost_report(const MonthReport& rep, const MonthInput& in, PeriodKind kind,
                                    std::optional<Money> previous_total) {
  PeriodCostReport out;
  out.kind = kind;
  const int64_t last = days_since_epoch(in.as_of);
  for (const UsageRow& row : in.rows) {
    bool today = row.date == in.as_of;
    bool in_week = days_since_epoch(row.date) > last - static_cast<int64_t>(kWeekDays);
    if (kind == PeriodKind::kMonthly || today || (kind == PeriodKind::kWeekly && in_week)) {
      out.usage.class_a_requests += row.class_a_requests;
      out.usage.class_b_requests += row.class_b_requests;
      out.usage.free_requests += row.free_requests;
      out.usage.retrieved_bytes += row.retrieved_bytes;
    }
    if (today) out.usage.storage_peak_bytes_last_day += row.storage_peak_bytes;
  }
  out.top_buckets = top_shares(breakdown(rep, in, BreakdownBy::kBucket), kReportTopCount);
  out.top_prefixes = top_shares(breakdown(rep, in, BreakdownBy::kPrefix), kReportTopCount);

  Money current = rep.to_date.total;
  std::optional<Money> previous = previous_total;
  const size_t n = rep.trend.size();
  if (kind == PeriodKind::kDaily) {
    current = n == 0 ? Money{} : rep.trend.back().list_cost;
    if (n >= 2) previous = rep.trend[n - 2].list_cost;
    out.period_cost = current;
  }
  if (kind == PeriodKind::kWeekly) {
    // The week's days in the month at list price, against the 7 days before when the month
    // holds them all.
    Money week, before;
    for (size_t i = 0; i < n; ++i) {
      if (i + kWeekDays >= n) {
        week += rep.trend[i].list_cost;
      } else if (i + 2 * kWeekDays >= n) {
        before += rep.trend[i].list_cost;
      }
    }
    current = week;
    if (!previous_total && n >= 2 * kWeekDays) previous = before;
    out.period_cost = current;
  }
  if (previous) {
    PeriodChange c{.previous = *previous, .delta = current - *previous};
    if (previous->micro_usd() != 0) {
      c.delta_pct = static_cast<double>(c.delta.micro_usd()) * 100.0 /
                    static_cast<double>(previous->micro_usd());
    }
    out.change = c;
  }
  return out;
}

}  // namespace r2w::cost
