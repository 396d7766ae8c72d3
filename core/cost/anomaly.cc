#include "core/cost/anomaly.h"

#include <map>
#include <set>

namespace r2w::cost {

namespace {

void add_row(DayLines& lines, const PriceList& prices, const UsageRow& row) {
  StorageClass c = row.storage_class;
  ClassUsage u = row_usage(row, prices, c);
  uint32_t period = days_in_month(month_of(row.date));
  for (Line l : kAllLines) {
    Money m = list_price_cost(prices.of(c), l, u.of(l), period);
    lines.cost[index_of(c)][index_of(l)] += m;
    lines.total += m;
  }
}

Money mean(Money sum, uint32_t n) {
  return Money::micro_usd(
      static_cast<int64_t>(div_round_half_up(static_cast<Wide>(sum.micro_usd()), n)));
}

}  // namespace

AnomalyReport check_anomaly(const PriceList& prices, std::span<const UsageRow> rows, CivilDate date,
                            const AnomalyOptions& options) {
  AnomalyReport r{.date = date};
  int64_t today = days_since_epoch(date);
  int64_t from = today - options.baseline_days;
  DayLines sum;
  std::set<int64_t> days_with_data;
  std::map<std::string, std::pair<Money, Money>> buckets;  // bucket -> (today, baseline sum)
  for (const UsageRow& row : rows) {
    int64_t day = days_since_epoch(row.date);
    if (day == today) {
      DayLines one;
      add_row(one, prices, row);
      add_row(r.today, prices, row);
      buckets[row.bucket].first += one.total;
    } else if (day >= from && day < today) {
      DayLines one;
      add_row(one, prices, row);
      add_row(sum, prices, row);
      buckets[row.bucket].second += one.total;
      days_with_data.insert(day);
    }
  }
  r.baseline_days_with_data = static_cast<uint32_t>(days_with_data.size());
  uint32_t n = r.baseline_days_with_data;
  if (n > 0) {
    for (size_t c = 0; c < kStorageClassCount; ++c) {
      for (size_t l = 0; l < kLineCount; ++l) r.baseline.cost[c][l] = mean(sum.cost[c][l], n);
    }
    r.baseline.total = mean(sum.total, n);
  }

  bool first = true;
  for (StorageClass c : kAllStorageClasses) {
    for (Line l : kAllLines) {
      Money change =
          r.today.cost[index_of(c)][index_of(l)] - r.baseline.cost[index_of(c)][index_of(l)];
      if (first || change > r.reason_change) {
        r.reason_class = c;
        r.reason_line = l;
        r.reason_change = change;
        first = false;
      }
    }
  }
  first = true;
  for (const auto& [bucket, figures] : buckets) {
    Money change = figures.first - (n > 0 ? mean(figures.second, n) : Money{});
    if (first || change > r.top_bucket_change) {
      r.top_bucket = bucket;
      r.top_bucket_change = change;
      first = false;
    }
  }

  Money base = r.baseline.total, now = r.today.total;
  if (base > Money{}) {
    r.rise_permille = (now.micro_usd() - base.micro_usd()) * 1000 / base.micro_usd();
  }
  if (n == 0) {
    r.verdict = "no_baseline";
  } else if (base > Money{}) {
    bool rose = static_cast<Wide>(now.micro_usd()) * 100 >
                static_cast<Wide>(base.micro_usd()) * (100 + options.rise_pct);
    r.verdict = rose && now - base >= options.min_increase ? "anomaly" : "normal";
  } else {
    Money at_least = std::max(options.min_increase, Money::micro_usd(1));
    r.verdict = now >= at_least ? "anomaly" : "normal";
  }
  return r;
}

}  // namespace r2w::cost
