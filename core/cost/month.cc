#include "core/cost/month.h"

#include <algorithm>
#include <map>

namespace r2w::cost {

namespace {

// One (bucket, storage class) series: each day's peak stored bytes and the day's "flows"
// (byte-days owed by early deletes, requests, retrieved bytes).
struct Series {
  std::vector<Wide> peak;        // [day - 1]
  std::vector<ClassUsage> flow;  // [day - 1]; storage_byte_days holds only owed byte-days
};

SignedWide floor_div(SignedWide n, SignedWide d) {
  SignedWide q = n / d;
  if ((n % d != 0) && ((n < 0) != (d < 0))) --q;
  return q;
}

// Projects days as_of+1..days of one series in place for one scenario.
void project(Series& s, uint32_t as_of, uint32_t days, uint32_t window, Scenario sc) {
  uint32_t w = std::min(window, as_of);
  uint32_t first = as_of - w + 1;  // first day of the window (1-based)
  // Flows: per component, min / max / sum over the window.
  std::array<Wide, kLineCount> lo{}, hi{}, sum{};
  for (Line l : kAllLines) {
    size_t li = index_of(l);
    lo[li] = s.flow[first - 1].of(l);
    for (uint32_t d = first; d <= as_of; ++d) {
      Wide v = s.flow[d - 1].of(l);
      lo[li] = std::min(lo[li], v);
      hi[li] = std::max(hi[li], v);
      sum[li] += v;
    }
  }
  // Peaks: daily changes within the window.
  SignedWide last = static_cast<SignedWide>(s.peak[as_of - 1]);
  SignedWide dmin = 0, dmax = 0, total_change = 0;
  for (uint32_t d = first + 1; d <= as_of; ++d) {
    SignedWide change =
        static_cast<SignedWide>(s.peak[d - 1]) - static_cast<SignedWide>(s.peak[d - 2]);
    if (d == first + 1 || change < dmin) dmin = change;
    if (d == first + 1 || change > dmax) dmax = change;
    total_change += change;
  }
  for (uint32_t j = 1; as_of + j <= days; ++j) {
    uint32_t day = as_of + j;
    SignedWide peak = last;
    ClassUsage& f = s.flow[day - 1];
    Wide values[kLineCount] = {};
    for (Line l : kAllLines) {
      size_t li = index_of(l);
      switch (sc) {
        case Scenario::kLow:
          values[li] = lo[li];
          break;
        case Scenario::kHigh:
          values[li] = hi[li];
          break;
        case Scenario::kExpected:
          values[li] = sum[li] * j / w - sum[li] * (j - 1) / w;
          break;
      }
    }
    f.storage_byte_days = values[index_of(Line::kStorage)];
    f.class_a_requests = values[index_of(Line::kClassA)];
    f.class_b_requests = values[index_of(Line::kClassB)];
    f.retrieved_bytes = values[index_of(Line::kRetrieval)];
    switch (sc) {
      case Scenario::kLow:
        peak = last + dmin * j;
        break;
      case Scenario::kHigh:
        peak = last + dmax * j;
        break;
      case Scenario::kExpected:
        peak = w > 1 ? last + floor_div(total_change * j, w - 1) : last;
        break;
    }
    s.peak[day - 1] = peak > 0 ? static_cast<Wide>(peak) : 0;
  }
}

ClassUsage day_usage(const Series& s, uint32_t day) {
  ClassUsage u = s.flow[day - 1];
  u.storage_byte_days += s.peak[day - 1];
  return u;
}

StorageClass priced_class(const MonthInput& in, const UsageRow& row) {
  return in.price_as.value_or(row.storage_class);
}

}  // namespace

std::string_view scenario_name(Scenario s) {
  switch (s) {
    case Scenario::kLow:
      return "low";
    case Scenario::kExpected:
      return "expected";
    case Scenario::kHigh:
      return "high";
  }
  return "expected";
}

std::vector<Share> MonthReport::bucket_shares(uint32_t day) const {
  std::vector<UsageByClass> usage;
  usage.reserve(buckets.size());
  for (const auto& by_day : expected_bucket_usage_by_day) usage.push_back(by_day[day - 1]);
  return attribute(expected_bill_by_day[day - 1], buckets, usage);
}

Result<MonthReport> month_report(const MonthInput& in) {
  MonthReport r;
  r.month = month_of(in.as_of);
  r.days_in_month = days_in_month(r.month);
  r.days_elapsed = in.as_of.day;
  const uint32_t days = r.days_in_month;
  const uint32_t as_of = r.days_elapsed;
  CivilDate first = first_day(r.month);

  // (bucket, class) -> series of actual days.
  std::map<std::string, std::array<Series, kStorageClassCount>> series;
  for (size_t i = 0; i < in.rows.size(); ++i) {
    const UsageRow& row = in.rows[i];
    if (row.date < first || row.date > in.as_of) {
      std::string f = "usage[" + std::to_string(i) + "].date";
      return invalid_field(f, f + " must be in the month to date (" + format_date(first) + " to " +
                                  format_date(in.as_of) + ")");
    }
    auto [it, inserted] = series.try_emplace(row.bucket);
    if (inserted) {
      for (Series& s : it->second) {
        s.peak.assign(days, 0);
        s.flow.assign(days, ClassUsage{});
      }
    }
    StorageClass c = priced_class(in, row);
    Series& s = it->second[index_of(c)];
    ClassUsage u = row_usage(row, in.prices, c);
    s.peak[row.date.day - 1] += row.storage_peak_bytes;
    u.storage_byte_days -= row.storage_peak_bytes;
    s.flow[row.date.day - 1] += u;
  }
  for (const auto& [bucket, _] : series) r.buckets.push_back(bucket);

  // Each scenario: project every series, then bill the month.
  for (Scenario sc : kAllScenarios) {
    UsageByClass month_total{};
    std::vector<std::vector<UsageByClass>> per_bucket_daily;
    for (const auto& [bucket, by_class] : series) {
      std::vector<UsageByClass> daily(days);
      for (StorageClass c : kAllStorageClasses) {
        Series s = by_class[index_of(c)];
        project(s, as_of, days, std::max<uint32_t>(1, in.forecast.window_days), sc);
        for (uint32_t d = 1; d <= days; ++d) daily[d - 1][index_of(c)] = day_usage(s, d);
      }
      for (const UsageByClass& u : daily) month_total += u;
      per_bucket_daily.push_back(std::move(daily));
    }
    auto bill = price_period(in.prices, month_total, days);
    if (!bill.ok()) return bill.error();
    r.month_end[static_cast<size_t>(sc)] = bill.value();

    if (sc != Scenario::kExpected) continue;
    // Day by day: cumulative usage per bucket, the bill to each day, the trend.
    UsageByClass cumulative{};
    r.expected_bucket_usage_by_day.assign(per_bucket_daily.size(), std::vector<UsageByClass>(days));
    for (uint32_t d = 1; d <= days; ++d) {
      UsageByClass today{};
      for (size_t b = 0; b < per_bucket_daily.size(); ++b) {
        today += per_bucket_daily[b][d - 1];
        UsageByClass running = d > 1 ? r.expected_bucket_usage_by_day[b][d - 2] : UsageByClass{};
        running += per_bucket_daily[b][d - 1];
        r.expected_bucket_usage_by_day[b][d - 1] = running;
      }
      cumulative += today;
      auto to_day = price_period(in.prices, cumulative, days);
      if (!to_day.ok()) return to_day.error();
      r.expected_bill_by_day.push_back(to_day.value());
      if (d <= as_of) {
        r.trend.push_back(DayPoint{.date = add_days(first, d - 1),
                                   .list_cost = list_price_cost(in.prices, today, days),
                                   .bill_to_date = to_day.value().total});
      }
    }
    r.to_date = r.expected_bill_by_day[as_of - 1];
  }
  r.daily_average = Money::micro_usd(static_cast<int64_t>(
      div_round_half_up(static_cast<Wide>(r.to_date.total.micro_usd()), as_of)));
  return r;
}

std::string_view breakdown_by_name(BreakdownBy by) {
  switch (by) {
    case BreakdownBy::kBucket:
      return "bucket";
    case BreakdownBy::kPrefix:
      return "prefix";
    case BreakdownBy::kStorageClass:
      return "class";
    case BreakdownBy::kUser:
      return "user";
  }
  return "bucket";
}

std::string_view saving_verdict_name(SavingVerdict v) {
  switch (v) {
    case SavingVerdict::kCheaper:
      return "cheaper";
    case SavingVerdict::kMoreExpensive:
      return "more_expensive";
    case SavingVerdict::kSame:
      return "same";
  }
  return "same";
}

Saving class_saving(Money current_to_date, Money current_month, Money other_to_date,
                    Money other_month) {
  Saving s{.to_date = current_to_date - other_to_date, .month = current_month - other_month};
  s.verdict = s.month > Money{}   ? SavingVerdict::kCheaper
              : s.month < Money{} ? SavingVerdict::kMoreExpensive
                                  : SavingVerdict::kSame;
  return s;
}

Saving class_saving(const MonthReport& current, const MonthReport& other) {
  const size_t expected = static_cast<size_t>(Scenario::kExpected);
  return class_saving(current.to_date.total, current.month_end[expected].total, other.to_date.total,
                      other.month_end[expected].total);
}

std::optional<BreakdownBy> parse_breakdown_by(std::string_view name) {
  if (name == "bucket") return BreakdownBy::kBucket;
  if (name == "prefix") return BreakdownBy::kPrefix;
  if (name == "class") return BreakdownBy::kStorageClass;
  if (name == "user") return BreakdownBy::kUser;
  return std::nullopt;
}

std::vector<Share> breakdown(const MonthReport& report, const MonthInput& in, BreakdownBy by) {
  std::map<std::string, UsageByClass> usage;
  for (const UsageRow& row : in.rows) {
    StorageClass c = priced_class(in, row);
    std::string key;
    switch (by) {
      case BreakdownBy::kBucket:
        key = row.bucket;
        break;
      case BreakdownBy::kPrefix:
        key = row.prefix;
        break;
      case BreakdownBy::kStorageClass:
        key = storage_class_name(c);
        break;
      case BreakdownBy::kUser:
        key = row.user;
        break;
    }
    usage[key][index_of(c)] += row_usage(row, in.prices, c);
  }
  std::vector<std::string> keys;
  std::vector<UsageByClass> weights;
  for (const auto& [key, u] : usage) {
    keys.push_back(key);
    weights.push_back(u);
  }
  return attribute(report.to_date, keys, weights);
}

}  // namespace r2w::cost
