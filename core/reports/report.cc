#include "core/reports/report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "core/cost/operation-class.h"

namespace r2w::reports {

namespace {

// Sorts by count (most first), then key, and keeps the first `n`.
std::vector<Ranked> ranked(const std::map<std::string, uint64_t>& counts, uint32_t n) {
  std::vector<Ranked> out;
  for (const auto& [k, c] : counts) {
    if (c > 0) out.push_back({k, c});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Ranked& a, const Ranked& b) { return a.count > b.count; });
  if (out.size() > n) out.resize(n);
  return out;
}

OperationLine line_of(std::string bucket, std::string operation, const metrics::Figures& f) {
  OperationLine l{.bucket = std::move(bucket), .operation = std::move(operation)};
  l.calls = f.calls;
  l.errors = f.errors;
  l.error_rate_pct =
      f.calls == 0 ? 0 : static_cast<double>(f.errors) * 100.0 / static_cast<double>(f.calls);
  l.latency = {f.latency.quantile(0.50), f.latency.quantile(0.95), f.latency.quantile(0.99)};
  return l;
}

Performance performance_of(const ReportInput& in) {
  std::map<std::pair<std::string, std::string>, metrics::Figures> by;
  metrics::Figures all;
  for (const metrics::Row& r : in.operations) {
    if (r.period_start < in.period.start || r.period_start >= in.period.end) continue;
    by[{r.series.bucket, std::string(operation_name(r.operation))}].merge(r.figures);
    all.merge(r.figures);
  }
  Performance p{.total = line_of("", "", all)};
  for (const auto& [key, f] : by)
    p.by_bucket_operation.push_back(line_of(key.first, key.second, f));
  std::stable_sort(
      p.by_bucket_operation.begin(), p.by_bucket_operation.end(),
      [](const OperationLine& a, const OperationLine& b) { return a.calls > b.calls; });
  return p;
}

Errors errors_of(const ReportInput& in) {
  Errors e;
  std::map<std::string, uint64_t> statuses, buckets, operations;
  for (const metrics::Row& r : in.operations) {
    if (r.period_start < in.period.start || r.period_start >= in.period.end) continue;
    buckets[r.series.bucket] += r.figures.errors;
    operations[std::string(operation_name(r.operation))] += r.figures.errors;
    e.total += r.figures.errors;
  }
  for (const StatusCount& s : in.statuses) {
    if (s.status >= 400) statuses[std::to_string(s.status)] += s.requests;
  }
  e.status_codes = ranked(statuses, in.options.top_n);
  e.buckets = ranked(buckets, in.options.top_n);
  e.operations = ranked(operations, in.options.top_n);
  return e;
}

Durations durations_of(std::vector<Duration> d) {
  Durations out{.count = d.size()};
  if (d.empty()) return out;
  std::sort(d.begin(), d.end());
  out.median = d[(d.size() - 1) / 2];
  out.max = d.back();
  return out;
}

AlertSummary alerts_of(const ReportInput& in) {
  AlertSummary s;
  std::map<std::string, uint64_t> severity;
  std::vector<Duration> ack, resolve;
  std::vector<AlertRecord> fired;
  for (const AlertRecord& a : in.alerts) {
    if (a.fired_at < in.period.start || a.fired_at >= in.period.end) continue;
    ++s.fired;
    ++severity[a.severity];
    if (a.acknowledged_at && *a.acknowledged_at >= a.fired_at) {
      ack.push_back(*a.acknowledged_at - a.fired_at);
    }
    bool resolved = a.resolved_at && *a.resolved_at < in.period.end;
    if (a.resolved_at && *a.resolved_at >= a.fired_at)
      resolve.push_back(*a.resolved_at - a.fired_at);
    if (!resolved) ++s.still_open;
    fired.push_back(a);
  }
  for (std::string_view level : {"critical", "high", "medium", "low"}) {
    auto it = severity.find(std::string(level));
    if (it != severity.end()) s.by_severity.push_back({it->first, it->second});
  }
  s.acknowledge = durations_of(std::move(ack));
  s.resolve = durations_of(std::move(resolve));
  // Open ones first (oldest first), then the resolved ones that took longest.
  auto open_for = [&](const AlertRecord& a) {
    return (a.resolved_at && *a.resolved_at < in.period.end ? *a.resolved_at : in.period.end) -
           a.fired_at;
  };
  std::stable_sort(fired.begin(), fired.end(), [&](const AlertRecord& a, const AlertRecord& b) {
    bool ao = !(a.resolved_at && *a.resolved_at < in.period.end);
    bool bo = !(b.resolved_at && *b.resolved_at < in.period.end);
    if (ao != bo) return ao;
    return open_for(a) > open_for(b);
  });
  if (fired.size() > in.options.top_n) fired.resize(in.options.top_n);
  s.top = std::move(fired);
  return s;
}

std::optional<double> pct(uint64_t from, int64_t delta) {
  if (from == 0) return std::nullopt;
  return static_cast<double>(delta) * 100.0 / static_cast<double>(from);
}

StorageSummary storage_of(const ReportInput& in) {
  StorageSummary s;
  // Day totals per bucket: r2watch's own prefixes add up; a bucket-wide row ("" prefix, the
  // account's figures) counts only for a bucket with no prefix rows.
  std::map<std::string, bool> has_prefixes;
  for (const StorageDay& d : in.storage) {
    if (!d.prefix.empty() && d.day >= in.period.first && d.day <= in.period.last) {
      has_prefixes[d.bucket] = true;
    }
  }
  std::map<std::string, std::map<CivilDate, uint64_t>> days;
  std::map<std::pair<std::string, std::string>, std::map<CivilDate, uint64_t>> prefixes;
  for (const StorageDay& d : in.storage) {
    if (d.day < in.period.first || d.day > in.period.last) continue;
    if (d.prefix.empty() == has_prefixes[d.bucket]) continue;
    days[d.bucket][d.day] += d.bytes;
    if (!d.prefix.empty()) prefixes[{d.bucket, d.prefix}][d.day] += d.bytes;
  }
  std::map<std::string, uint64_t> pending;
  for (const PendingUploads& p : in.pending_uploads) pending[p.bucket] += p.uploads;
  for (const auto& [bucket, series] : days) {
    BucketGrowth g{.bucket = bucket};
    g.start_bytes = series.begin()->second;
    g.end_bytes = series.rbegin()->second;
    g.growth_bytes = static_cast<int64_t>(g.end_bytes) - static_cast<int64_t>(g.start_bytes);
    g.growth_pct = pct(g.start_bytes, g.growth_bytes);
    g.pending_uploads = pending[bucket];
    s.start_bytes += g.start_bytes;
    s.end_bytes += g.end_bytes;
    s.buckets.push_back(g);
  }
  for (const auto& [bucket, n] : pending) {
    s.pending_uploads += n;
    if (!days.count(bucket)) s.buckets.push_back({.bucket = bucket, .pending_uploads = n});
  }
  s.growth_bytes = static_cast<int64_t>(s.end_bytes) - static_cast<int64_t>(s.start_bytes);
  s.growth_pct = pct(s.start_bytes, s.growth_bytes);
  std::stable_sort(
      s.buckets.begin(), s.buckets.end(),
      [](const BucketGrowth& a, const BucketGrowth& b) { return a.end_bytes > b.end_bytes; });
  for (const auto& [key, series] : prefixes) {
    s.largest_prefixes.push_back({key.first, key.second, series.rbegin()->second});
  }
  std::stable_sort(s.largest_prefixes.begin(), s.largest_prefixes.end(),
                   [](const PrefixSize& a, const PrefixSize& b) { return a.bytes > b.bytes; });
  if (s.largest_prefixes.size() > in.options.top_n) s.largest_prefixes.resize(in.options.top_n);
  return s;
}

std::string usd(cost::Money m) { return "$" + cost::format_usd(m); }

std::vector<Recommendation> recommendations_of(const ReportInput& in, const StorageSummary& st) {
  std::vector<Recommendation> out;
  // Infrequent Access: each prefix's last-day size with the period's requests and reads,
  // scaled to a 30-day month.
  struct Use {
    double a = 0, b = 0, read = 0;
  };
  std::map<std::pair<std::string, std::string>, Use> use;
  for (const metrics::Row& r : in.operations) {
    if (r.period_start < in.period.start || r.period_start >= in.period.end) continue;
    Use& u = use[{r.series.bucket, r.series.prefix}];
    cost::OperationClass c = cost::classify_operation(r.operation);
    if (c == cost::OperationClass::kClassA) u.a += static_cast<double>(r.figures.calls);
    if (c == cost::OperationClass::kClassB) u.b += static_cast<double>(r.figures.calls);
    u.read += static_cast<double>(r.figures.bytes_down);
  }
  std::map<std::pair<std::string, std::string>, uint64_t> last_size;
  std::map<std::pair<std::string, std::string>, CivilDate> last_day;
  for (const StorageDay& d : in.storage) {
    if (d.prefix.empty() || d.day < in.period.first || d.day > in.period.last) continue;
    auto key = std::make_pair(d.bucket, d.prefix);
    if (!last_day.count(key) || d.day > last_day[key]) {
      last_day[key] = d.day;
      last_size[key] = 0;
    }
    if (d.day == last_day[key]) last_size[key] += d.bytes;
  }
  const double scale = 30.0 / static_cast<double>(std::max<uint32_t>(1, in.period.days));
  std::vector<Recommendation> ia;
  for (const auto& [key, bytes] : last_size) {
    Use u = use[key];
    cost::Money standard = monthly_list_cost(in.prices, cost::StorageClass::kStandard, bytes,
                                             u.a * scale, u.b * scale, u.read * scale);
    cost::Money infrequent = monthly_list_cost(in.prices, cost::StorageClass::kInfrequentAccess,
                                               bytes, u.a * scale, u.b * scale, u.read * scale);
    cost::Money saving = standard - infrequent;
    if (saving < in.options.min_monthly_saving) continue;
    ia.push_back({.kind = RecommendationKind::kInfrequentAccess,
                  .bucket = key.first,
                  .prefix = key.second,
                  .text = "Move " + key.first + "/" + key.second +
                          "/ to Infrequent Access: about " + usd(saving) +
                          " a month less at this period's reads and writes",
                  .monthly_saving = saving});
  }
  std::stable_sort(ia.begin(), ia.end(), [](const Recommendation& a, const Recommendation& b) {
    return *a.monthly_saving > *b.monthly_saving;
  });
  if (ia.size() > in.options.top_n) ia.resize(in.options.top_n);
  out.insert(out.end(), ia.begin(), ia.end());
  for (const BucketGrowth& g : st.buckets) {
    if (g.pending_uploads < in.options.min_pending_uploads || g.pending_uploads == 0) continue;
    out.push_back({.kind = RecommendationKind::kAbandonedUploads,
                   .bucket = g.bucket,
                   .text = "Abort the " + std::to_string(g.pending_uploads) +
                           " unfinished multipart upload(s) in " + g.bucket +
                           " (their parts are billed as storage), or add a lifecycle rule "
                           "that aborts them after 7 days",
                   .pending_uploads = g.pending_uploads});
  }
  for (const BudgetStanding& b : in.budgets) {
    if (b.status == "ok") continue;
    std::string who = b.bucket.empty() ? "the account" : "bucket " + b.bucket;
    std::string what = b.status == "exceeded"  ? "is over its budget"
                       : b.status == "warning" ? "is near its budget"
                                               : "is on course to pass its budget";
    out.push_back({.kind = RecommendationKind::kBudget,
                   .bucket = b.bucket,
                   .text = "Spending of " + who + " " + what + ": " + usd(b.spent) + " of " +
                           usd(b.budget) + " so far, " + usd(b.forecast) +
                           " expected by the month's end",
                   .budget_status = b.status});
  }
  return out;
}

}  // namespace

std::string_view recommendation_kind_name(RecommendationKind k) {
  switch (k) {
    case RecommendationKind::kInfrequentAccess:
      return "infrequent_access";
    case RecommendationKind::kAbandonedUploads:
      return "abandoned_uploads";
    case RecommendationKind::kBudget:
      return "budget";
  }
  return "budget";
}

cost::Money monthly_list_cost(const cost::PriceList& prices, cost::StorageClass c, uint64_t bytes,
                              double class_a, double class_b, double read_bytes) {
  const cost::ClassPrices& p = prices.of(c);
  auto per = [](double units, double per_unit_micro, double unit) {
    return units * per_unit_micro / unit;
  };
  double micro =
      per(static_cast<double>(bytes), static_cast<double>(p.storage_per_gb_month.micro_usd()),
          static_cast<double>(cost::kBytesPerGb)) +
      per(class_a, static_cast<double>(p.class_a_per_million.micro_usd()),
          static_cast<double>(cost::kRequestsPerUnit)) +
      per(class_b, static_cast<double>(p.class_b_per_million.micro_usd()),
          static_cast<double>(cost::kRequestsPerUnit)) +
      per(read_bytes, static_cast<double>(p.retrieval_per_gb.micro_usd()),
          static_cast<double>(cost::kBytesPerGb));
  return cost::Money::micro_usd(static_cast<int64_t>(std::llround(micro)));
}

std::vector<metrics::Row> fold_operations(std::vector<metrics::Row> folded,
                                          const std::vector<metrics::Row>& rows, const Period& p) {
  using Key = std::tuple<std::string, std::string, Operation>;
  std::map<Key, metrics::Figures> by;
  auto add = [&](const metrics::Row& r) {
    if (r.period_start < p.start || r.period_start >= p.end) return;
    by[{r.series.bucket, r.series.prefix, r.operation}].merge(r.figures);
  };
  for (const metrics::Row& r : folded) add(r);
  for (const metrics::Row& r : rows) add(r);
  folded.clear();
  for (auto& [key, f] : by) {
    metrics::Row row{.operation = std::get<2>(key),
                     .level = metrics::Level::kDay,
                     .period_start = p.start,
                     .figures = std::move(f)};
    row.series.bucket = std::get<0>(key);
    row.series.prefix = std::get<1>(key);
    folded.push_back(std::move(row));
  }
  return folded;
}

Result<std::optional<TimePoint>> next_fold_end(const Period& p, TimePoint through,
                                               const RolledUp& rolled) {
  if (through < p.start || through > p.end) {
    return invalid_field("through_ms", "through_ms must be within the period");
  }
  if (through == p.end) return std::optional<TimePoint>{};
  TimePoint hours = rolled.hours.value_or(p.end);
  TimePoint days = std::min(rolled.days.value_or(p.end), hours);
  TimePoint end = through < days    ? std::min(through + kReportFoldDaySpan, days)
                  : through < hours ? std::min(through + kReportFoldHourSpan, hours)
                                    : through + kReportFoldMinuteSpan;
  return std::optional<TimePoint>{std::min(end, p.end)};
}

Report build_report(const ReportInput& in) {
  Report r{.period = in.period};
  r.performance = performance_of(in);
  r.errors = errors_of(in);
  r.alerts = alerts_of(in);
  r.storage = storage_of(in);
  r.recommendations = recommendations_of(in, r.storage);
  return r;
}

}  // namespace r2w::reports
