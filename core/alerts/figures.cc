#include "core/alerts/figures.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "core/alerts/text.h"
#include "core/cost/window.h"
#include "core/metrics/rollup.h"

namespace r2w::alerts {

namespace {

void add_window(std::vector<Duration>& list, Duration d) {
  if (std::find(list.begin(), list.end(), d) == list.end()) list.push_back(d);
}

Error bad(const std::string& field, const std::string& what) {
  return invalid_field(field, field + " " + what);
}

void add_operation_series(std::vector<Series>& out, const Scope& scope, Duration window,
                          const metrics::Figures& f, bool natural) {
  std::string counts = std::to_string(f.errors) + " of " + std::to_string(f.calls) +
                       " calls failed in the last " + format_duration(window);
  double rate = f.calls ? static_cast<double>(f.errors) * 100.0 / static_cast<double>(f.calls) : 0;
  out.push_back(Series{.metric = "error_rate_pct",
                       .scope = scope,
                       .window = window,
                       .value = rate,
                       .samples = f.calls,
                       .natural = natural,
                       .detail = counts});
  if (f.latency.count() == 0) return;
  double avg = f.latency.sum() / static_cast<double>(f.latency.count());
  std::string detail = std::to_string(f.latency.count()) + " calls in the last " +
                       format_duration(window) + ", average " + format_number(avg) + " ms";
  const std::pair<const char*, std::optional<double>> stats[] = {
      {"latency_avg_ms", avg},
      {"latency_p50_ms", f.latency.quantile(0.5)},
      {"latency_p95_ms", f.latency.quantile(0.95)},
      {"latency_p99_ms", f.latency.quantile(0.99)}};
  for (const auto& [metric, value] : stats) {
    if (!value) continue;
    out.push_back(Series{.metric = metric,
                         .scope = scope,
                         .window = window,
                         .value = *value,
                         .samples = f.latency.count(),
                         .natural = natural,
                         .detail = detail});
  }
}

Status operations(const std::vector<OperationWindow>& list, std::vector<Series>& out) {
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = "operations[" + std::to_string(i) + "]";
    const OperationWindow& w = list[i];
    if (w.window <= Duration(0))
      return bad(p + ".window_ms", "must be a positive whole number of ms");
    Duration window = w.window;
    std::map<std::string, metrics::Figures> by_bucket;
    std::map<std::pair<std::string, std::string>, metrics::Figures> by_prefix, by_user;
    for (const metrics::Row& r : w.rows) {
      by_bucket[r.series.bucket].merge(r.figures);
      if (!r.series.prefix.empty()) by_prefix[{r.series.bucket, r.series.prefix}].merge(r.figures);
      if (!r.series.user.empty()) by_user[{r.series.bucket, r.series.user}].merge(r.figures);
    }
    for (const auto& [bucket, f] : by_bucket) {
      add_operation_series(out, Scope{.bucket = bucket}, window, f, true);
    }
    for (const auto& [key, f] : by_prefix) {
      add_operation_series(out, Scope{.bucket = key.first, .prefix = key.second}, window, f, false);
    }
    for (const auto& [key, f] : by_user) {
      add_operation_series(out, Scope{.bucket = key.first, .user = key.second}, window, f, false);
    }
  }
  return Ok{};
}

void cost(const CostFigures& c, std::vector<Series>& out) {
  if (c.has_bill) {
    const std::string& month = c.month;
    if (c.month_to_date_micro_usd) {
      double usd = *c.month_to_date_micro_usd / 1e6;
      out.push_back(Series{.metric = "cost_month_to_date_usd",
                           .value = usd,
                           .detail = "month to date " + format_usd(usd) + " (" + month + ")"});
    }
    if (c.forecast_micro_usd) {
      double usd = *c.forecast_micro_usd / 1e6;
      out.push_back(Series{.metric = "cost_forecast_usd",
                           .value = usd,
                           .detail = "forecast for " + month + ": " + format_usd(usd)});
    }
    for (const CostFigures::Bucket& b : c.by_bucket) {
      if (!b.total_micro_usd) continue;
      double usd = *b.total_micro_usd / 1e6;
      out.push_back(Series{.metric = "cost_month_to_date_usd",
                           .scope = Scope{.bucket = b.bucket},
                           .value = usd,
                           .natural = false,
                           .detail = "month to date " + format_usd(usd) + " (" + month + ")"});
    }
  }
  if (c.has_anomaly && c.anomaly_verdict != "no_baseline" && c.rise_pct) {
    out.push_back(Series{.metric = "cost_daily_rise_pct",
                         .value = *c.rise_pct,
                         .detail = "cost on " + c.anomaly_date + " " + format_number(*c.rise_pct) +
                                   "% against the mean of the days before"});
  }
}

void growth(const std::vector<GrowthFigure>& list, std::vector<Series>& out) {
  for (const GrowthFigure& g : list) {
    if (!g.bytes_pct_30d) continue;
    out.push_back(Series{
        .metric = "storage_growth_30d_pct",
        .scope = Scope{.bucket = g.bucket},
        .value = *g.bytes_pct_30d,
        .detail = "stored bytes " + format_number(*g.bytes_pct_30d) + "% against 30 days ago"});
  }
}

Status quotas(const std::vector<QuotaFigure>& list, std::vector<Series>& out) {
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = "quotas[" + std::to_string(i) + "]";
    const QuotaFigure& q = list[i];
    if (q.user.empty()) return bad(p + ".user", "must be a user id");
    if (q.quota_bytes == 0) return bad(p + ".quota_bytes", "must be a positive whole number");
    double used = static_cast<double>(q.used_bytes), quota = static_cast<double>(q.quota_bytes);
    double pct = used * 100.0 / quota;
    out.push_back(Series{.metric = "quota_used_pct",
                         .scope = Scope{.bucket = q.bucket, .user = q.user},
                         .value = pct,
                         .detail = format_bytes(used) + " of a " + format_bytes(quota) +
                                   " quota (" + format_number(pct) + "%)"});
  }
  return Ok{};
}

Status failed_access(const std::vector<FailedAccessFigure>& list,
                     const std::vector<Duration>& windows, TimePoint now,
                     std::vector<Series>& out) {
  struct Event {
    Scope scope;
    TimePoint at;
    uint64_t count;
  };
  std::vector<Event> events;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = "failed_access[" + std::to_string(i) + "]";
    const FailedAccessFigure& e = list[i];
    // A counter of a window ("window_ms"): its failures count at the window's last moment (or
    // now), so a burst is never missed and is seen up to one window after it.
    TimePoint at = e.at;
    if (e.window) {
      if (*e.window <= Duration(0) || *e.window > kMaxFailedAccessCounterWindow) {
        return bad(p + ".window_ms", "must be a whole number of ms from 1 to 86400000");
      }
      at = std::min(at + *e.window - Duration(1), now);
    }
    events.push_back({Scope{.bucket = e.bucket, .user = e.user}, at, e.count});
  }
  for (Duration w : windows) {
    std::map<std::tuple<std::string, std::string>, uint64_t> by_user;
    uint64_t total = 0;
    for (const Event& e : events) {
      if (e.at <= now - w || e.at > now) continue;
      total += e.count;
      if (!e.scope.user.empty()) by_user[{e.scope.bucket, e.scope.user}] += e.count;
    }
    std::string window = " in the last " + format_duration(w);
    out.push_back(Series{.metric = "failed_access_count",
                         .window = w,
                         .value = static_cast<double>(total),
                         .detail = std::to_string(total) + " failed access attempts" + window});
    for (const auto& [key, n] : by_user) {
      out.push_back(Series{
          .metric = "failed_access_count",
          .scope = Scope{.bucket = std::get<0>(key), .user = std::get<1>(key)},
          .window = w,
          .value = static_cast<double>(n),
          .natural = false,
          .detail = std::to_string(n) + " failed access attempts by " + std::get<1>(key) + window});
    }
  }
  return Ok{};
}

// Hourly request counters per user: the hour holding `now` gives requests_per_hour.
Status requests(const std::vector<RequestCounter>& list, TimePoint now, std::vector<Series>& out) {
  constexpr Duration kHour = Duration(3'600'000);
  std::map<std::string, uint64_t> by_user;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = "requests[" + std::to_string(i) + "]";
    const RequestCounter& r = list[i];
    if (r.user.empty()) return bad(p + ".user", "must be a user id");
    if (r.window_start > now || r.window_start + kHour <= now) continue;
    by_user[r.user] += r.count;
  }
  for (const auto& [user, n] : by_user) {
    out.push_back(Series{.metric = "requests_per_hour",
                         .scope = Scope{.user = user},
                         .value = static_cast<double>(n),
                         .samples = n,
                         .detail = std::to_string(n) + " requests by " + user + " this hour"});
  }
  return Ok{};
}

void uploads(const std::vector<UploadFigure>& list, const std::vector<Duration>& windows,
             TimePoint now, std::vector<Series>& out) {
  struct Largest {
    double bytes = -1;
    std::string key;
  };
  std::map<std::pair<std::string, int64_t>, Largest> largest;  // (bucket, window)
  for (const UploadFigure& u : list) {
    for (Duration w : windows) {
      if (u.at && (*u.at <= now - w || *u.at > now)) continue;
      Largest& l = largest[{u.bucket, w.count()}];
      double bytes = static_cast<double>(u.bytes);
      if (bytes > l.bytes) l = Largest{bytes, u.key};
    }
  }
  for (const auto& [key, l] : largest) {
    out.push_back(Series{.metric = "upload_max_bytes",
                         .scope = Scope{.bucket = key.first},
                         .window = Duration(key.second),
                         .value = l.bytes,
                         .detail = "largest object " + l.key + ": " + format_bytes(l.bytes)});
  }
}

}  // namespace

FigureNeeds needs_of(const std::vector<Rule>& rules) {
  FigureNeeds n;
  for (const Rule& r : rules) {
    if (!r.enabled) continue;
    switch (r.type) {
      case RuleType::kErrorRate:
      case RuleType::kLatency:
        add_window(n.operation_windows, r.window);
        break;
      case RuleType::kCostThreshold:
      case RuleType::kCostAnomaly:
        n.cost = true;
        break;
      case RuleType::kQuotaUsage:
        n.quotas = true;
        break;
      case RuleType::kFileSize:
        n.uploads = true;
        add_window(n.upload_windows, r.window);
        break;
      case RuleType::kSecurityEvent:
        n.failed_access = true;
        add_window(n.failed_access_windows, r.window);
        break;
      case RuleType::kStorageGrowth:
        n.growth = true;
        break;
      case RuleType::kCircuitBreakerOpen:
        n.breaker = true;
        break;
      case RuleType::kHealthStatus:
        n.health = true;
        break;
      case RuleType::kDatabaseHealth:
        n.database = true;
        break;
      case RuleType::kRequestSpike:
        n.account = true;
        break;
      case RuleType::kJobStale:
        n.jobs = true;
        break;
      case RuleType::kExcessiveRequests:
        n.requests = true;
        break;
      case RuleType::kInternalErrorRate:
      case RuleType::kPendingUploads:
      case RuleType::kBucketStorageGrowth:
        n.account = true;
        add_window(n.account_windows, r.window);
        break;
    }
  }
  std::sort(n.operation_windows.begin(), n.operation_windows.end());
  std::sort(n.failed_access_windows.begin(), n.failed_access_windows.end());
  std::sort(n.upload_windows.begin(), n.upload_windows.end());
  std::sort(n.account_windows.begin(), n.account_windows.end());
  return n;
}

CostWindow cost_window(CivilDate date) {
  CostWindow w;
  w.date = date;
  w.month = month_of(date);
  w.month_start = cost::start_of(first_day(w.month));
  // The same history the cost anomaly route reads (one rule: core/cost/window.h).
  w.baseline_from = cost::anomaly_usage_window(date).start;
  w.from = std::min(w.month_start, w.baseline_from);
  return w;
}

ReadWindows read_windows(const FigureNeeds& needs, Duration counter_window, TimePoint now) {
  ReadWindows w;
  for (Duration d : needs.operation_windows) {
    w.operations.push_back(ReadRange{.window = d, .from = now - d, .to = now + Duration(1)});
  }
  if (needs.cost) {
    // The bill and anomaly of today, over the same usage rows GET /api/costs reads.
    w.cost = cost_window(date_of(now));
  }
  if (needs.growth) w.growth_since = now - kGrowthLookback;
  if (needs.failed_access) {
    Duration longest(0);
    for (Duration d : needs.failed_access_windows) longest = std::max(longest, d);
    w.failed_access_since = now - longest - counter_window;
  }
  if (needs.requests) w.requests_since = now - kRequestCountersLookback;
  if (needs.account) w.account_until = account_figures_until(needs.account_windows, now);
  return w;
}

TimePoint account_figures_until(std::span<const Duration> windows, TimePoint at) {
  constexpr int64_t kHourMs = 3'600'000;
  // The first hour boundary after t.
  auto next_hour = [](int64_t t) { return t - (((t % kHourMs) + kHourMs) % kHourMs) + kHourMs; };
  const int64_t at_ms = to_epoch_ms(at);
  int64_t until = next_hour(at_ms);
  for (Duration w : windows) until = std::min(until, next_hour(at_ms - w.count()) + w.count());
  return from_epoch_ms(until);
}

Result<std::vector<Series>> series_of(const Figures& in, const FigureNeeds& needs, TimePoint now) {
  std::vector<Series> out;
  // The sources in name order (as the JSON object lists them).
  if (in.breaker_state) {
    const std::string& state = *in.breaker_state;
    if (state.empty()) return bad("breaker.state", "must be the breaker's state");
    bool open = state == "open" || state == "forced_open";
    out.push_back(Series{.metric = "breaker_open",
                         .value = open ? 1.0 : 0.0,
                         .detail = "the R2 circuit breaker is " + state});
  }
  if (in.cost) cost(*in.cost, out);
  if (in.database) {
    bool ok = in.database->state == DatabaseState::kAnswers;
    out.push_back(Series{.metric = "database_unhealthy",
                         .value = ok ? 0.0 : 1.0,
                         .detail = ok ? "D1 answers" : "D1 failed: " + in.database->error});
  }
  if (in.failed_access) {
    Status s = failed_access(*in.failed_access, needs.failed_access_windows, now, out);
    if (!s.ok()) return s.error();
  }
  if (in.growth) growth(*in.growth, out);
  if (in.health_status) {
    const std::string& status = *in.health_status;
    double level = status == "healthy"     ? 0
                   : status == "degraded"  ? 1
                   : status == "unhealthy" ? 2
                                           : -1;
    if (level < 0) return bad("health.status", "must be healthy, degraded or unhealthy");
    out.push_back(
        Series{.metric = "health_level", .value = level, .detail = "r2watch reports " + status});
  }
  if (in.jobs) {
    double most = 0;
    std::string detail = "every job ran on schedule";
    for (size_t i = 0; i < in.jobs->size(); ++i) {
      const JobStanding& j = (*in.jobs)[i];
      if (j.missed_runs < 0) {
        return bad("jobs[" + std::to_string(i) + "].missed_runs", "must be a count");
      }
      if (j.missed_runs > most) {
        most = j.missed_runs;
        detail = j.reason.empty() ? j.name + " missed runs" : j.reason;
      }
    }
    out.push_back(Series{.metric = "job_missed_runs", .value = most, .detail = detail});
  }
  if (in.operations) {
    Status s = operations(*in.operations, out);
    if (!s.ok()) return s.error();
  }
  if (in.quotas) {
    Status s = quotas(*in.quotas, out);
    if (!s.ok()) return s.error();
  }
  if (in.requests) {
    Status s = requests(*in.requests, now, out);
    if (!s.ok()) return s.error();
  }
  if (in.series) out.insert(out.end(), in.series->begin(), in.series->end());
  if (in.uploads) uploads(*in.uploads, needs.upload_windows, now, out);
  return out;
}

std::map<std::string, std::string> user_emails(const Figures& figures) {
  std::map<std::string, std::string> out;
  if (!figures.quotas) return out;
  for (const QuotaFigure& q : *figures.quotas) {
    if (!q.user.empty() && q.email.find('@') != std::string::npos) out[q.user] = q.email;
  }
  return out;
}

}  // namespace r2w::alerts
