#include "core/alerts/figures.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "core/alerts/text.h"
#include "core/metrics/rollup.h"

namespace r2w::alerts {

using json = r2w::Json;

namespace {

void add_window(std::vector<Duration>& list, Duration d) {
  if (std::find(list.begin(), list.end(), d) == list.end()) list.push_back(d);
}

bool is_count(const json& v) { return v.is_number_integer() && v.get<int64_t>() >= 0; }
bool is_number(const json& v) { return v.is_number() && std::isfinite(v.get<double>()); }

std::string str(const json& o, const char* name) {
  auto it = o.find(name);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// `name` of the object `o` (or absent/null -> nullopt); refuses anything but a finite number.
Result<std::optional<double>> number_at(const json& o, std::initializer_list<const char*> path,
                                        const std::string& field) {
  const json* v = &o;
  for (const char* p : path) {
    if (!v->is_object() || !v->contains(p)) return std::optional<double>();
    v = &(*v)[p];
  }
  if (v->is_null()) return std::optional<double>();
  if (!is_number(*v)) return invalid_field(field, field + " must be a number");
  return std::optional<double>(v->get<double>());
}

Error bad(const std::string& field, const std::string& what) {
  return invalid_field(field, field + " " + what);
}

struct OpAggregate {
  metrics::Figures figures;
};

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

Status operations(const json& list, std::vector<Series>& out) {
  if (!list.is_array()) return bad("operations", "must be an array");
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = "operations[" + std::to_string(i) + "]";
    const json& w = list[i];
    if (!w.is_object() || !w.contains("window_ms") || !is_count(w["window_ms"]) ||
        w["window_ms"].get<int64_t>() <= 0) {
      return bad(p + ".window_ms", "must be a positive whole number of ms");
    }
    Duration window(w["window_ms"].get<int64_t>());
    if (!w.contains("rows") || !w["rows"].is_array()) return bad(p + ".rows", "must be an array");
    std::map<std::string, metrics::Figures> by_bucket;
    std::map<std::pair<std::string, std::string>, metrics::Figures> by_prefix, by_user;
    const json& rows = w["rows"];
    for (size_t k = 0; k < rows.size(); ++k) {
      auto row = metrics::row_from_json(rows[k]);
      if (!row.ok()) {
        Error e = row.error();
        std::string rp = p + ".rows[" + std::to_string(k) + "]";
        e.field = e.field.empty() ? rp : rp + "." + e.field;
        e.message = rp + ": " + e.message;
        return e;
      }
      const metrics::Row& r = row.value();
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

Status cost(const json& c, std::vector<Series>& out) {
  if (!c.is_object()) return bad("cost", "must be an object");
  if (c.contains("bill") && !c["bill"].is_null()) {
    const json& bill = c["bill"];
    auto mtd = number_at(bill, {"month_to_date", "total_micro_usd"},
                         "cost.bill.month_to_date.total_micro_usd");
    if (!mtd.ok()) return mtd.error();
    auto forecast = number_at(bill, {"forecast", "expected", "total_micro_usd"},
                              "cost.bill.forecast.expected.total_micro_usd");
    if (!forecast.ok()) return forecast.error();
    std::string month = str(bill, "month");
    if (mtd.value()) {
      double usd = *mtd.value() / 1e6;
      out.push_back(Series{.metric = "cost_month_to_date_usd",
                           .value = usd,
                           .detail = "month to date " + format_usd(usd) + " (" + month + ")"});
    }
    if (forecast.value()) {
      double usd = *forecast.value() / 1e6;
      out.push_back(Series{.metric = "cost_forecast_usd",
                           .value = usd,
                           .detail = "forecast for " + month + ": " + format_usd(usd)});
    }
    if (bill.contains("by_bucket") && bill["by_bucket"].is_array()) {
      for (size_t i = 0; i < bill["by_bucket"].size(); ++i) {
        const json& b = bill["by_bucket"][i];
        std::string f = "cost.bill.by_bucket[" + std::to_string(i) + "].total_micro_usd";
        auto total = number_at(b, {"total_micro_usd"}, f);
        if (!total.ok()) return total.error();
        if (!total.value()) continue;
        double usd = *total.value() / 1e6;
        out.push_back(Series{.metric = "cost_month_to_date_usd",
                             .scope = Scope{.bucket = str(b, "bucket")},
                             .value = usd,
                             .natural = false,
                             .detail = "month to date " + format_usd(usd) + " (" + month + ")"});
      }
    }
  }
  if (c.contains("anomaly") && !c["anomaly"].is_null()) {
    const json& a = c["anomaly"];
    if (str(a, "verdict") != "no_baseline") {
      auto rise = number_at(a, {"rise_pct"}, "cost.anomaly.rise_pct");
      if (!rise.ok()) return rise.error();
      if (rise.value()) {
        out.push_back(Series{.metric = "cost_daily_rise_pct",
                             .value = *rise.value(),
                             .detail = "cost on " + str(a, "date") + " " +
                                       format_number(*rise.value()) +
                                       "% against the mean of the days before"});
      }
    }
  }
  return Ok{};
}

Status growth(const json& list, std::vector<Series>& out) {
  if (!list.is_array()) return bad("growth", "must be an array");
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = "growth[" + std::to_string(i) + "]";
    const json& g = list[i];
    if (!g.is_object() || !g.contains("bucket") || !g["bucket"].is_string()) {
      return bad(p + ".bucket", "must be a bucket name");
    }
    // storage_growth's answer: {"latest", "changes": {"30d": {"bytes_pct", ...}}} (absent
    // when there is no snapshot 30 days older: no figure yet).
    auto pct = number_at(g, {"growth", "changes", "30d", "bytes_pct"},
                         p + ".growth.changes.30d.bytes_pct");
    if (!pct.ok()) return pct.error();
    if (!pct.value()) continue;
    out.push_back(
        Series{.metric = "storage_growth_30d_pct",
               .scope = Scope{.bucket = g["bucket"].get<std::string>()},
               .value = *pct.value(),
               .detail = "stored bytes " + format_number(*pct.value()) + "% against 30 days ago"});
  }
  return Ok{};
}

Status quotas(const json& list, std::vector<Series>& out) {
  if (!list.is_array()) return bad("quotas", "must be an array");
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = "quotas[" + std::to_string(i) + "]";
    const json& q = list[i];
    if (!q.is_object() || !q.contains("user") || !q["user"].is_string() ||
        q["user"].get<std::string>().empty()) {
      return bad(p + ".user", "must be a user id");
    }
    if (!q.contains("used_bytes") || !is_count(q["used_bytes"])) {
      return bad(p + ".used_bytes", "must be a non-negative whole number");
    }
    if (!q.contains("quota_bytes") || !is_count(q["quota_bytes"]) ||
        q["quota_bytes"].get<int64_t>() == 0) {
      return bad(p + ".quota_bytes", "must be a positive whole number");
    }
    double used = q["used_bytes"].get<double>(), quota = q["quota_bytes"].get<double>();
    double pct = used * 100.0 / quota;
    out.push_back(
        Series{.metric = "quota_used_pct",
               .scope = Scope{.bucket = str(q, "bucket"), .user = q["user"].get<std::string>()},
               .value = pct,
               .detail = format_bytes(used) + " of a " + format_bytes(quota) + " quota (" +
                         format_number(pct) + "%)"});
  }
  return Ok{};
}

Status failed_access(const json& list, const std::vector<Duration>& windows, TimePoint now,
                     std::vector<Series>& out) {
  if (!list.is_array()) return bad("failed_access", "must be an array");
  struct Event {
    Scope scope;
    TimePoint at;
    uint64_t count;
  };
  std::vector<Event> events;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = "failed_access[" + std::to_string(i) + "]";
    const json& e = list[i];
    if (!e.is_object() || !e.contains("at_ms") || !is_count(e["at_ms"])) {
      return bad(p + ".at_ms", "must be a time in ms");
    }
    uint64_t count = 1;
    if (e.contains("count")) {
      if (!is_count(e["count"])) return bad(p + ".count", "must be a non-negative whole number");
      count = e["count"].get<uint64_t>();
    }
    // A counter of a window ("window_ms"): its failures count at the window's last moment (or
    // now), so a burst is never missed and is seen up to one window after it.
    TimePoint at = from_epoch_ms(e["at_ms"].get<int64_t>());
    if (e.contains("window_ms")) {
      if (!is_count(e["window_ms"]) || e["window_ms"].get<uint64_t>() == 0 ||
          e["window_ms"].get<uint64_t>() > 86'400'000) {
        return bad(p + ".window_ms", "must be a whole number of ms from 1 to 86400000");
      }
      at = std::min(at + Duration(e["window_ms"].get<int64_t>() - 1), now);
    }
    events.push_back({Scope{.bucket = str(e, "bucket"), .user = str(e, "user")}, at, count});
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
Status requests(const json& list, TimePoint now, std::vector<Series>& out) {
  if (!list.is_array()) return bad("requests", "must be an array");
  constexpr int64_t kHourMs = 3'600'000;
  std::map<std::string, uint64_t> by_user;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = "requests[" + std::to_string(i) + "]";
    const json& r = list[i];
    if (!r.is_object() || !r.contains("user") || !r["user"].is_string() ||
        r["user"].get<std::string>().empty()) {
      return bad(p + ".user", "must be a user id");
    }
    if (!r.contains("window_start_ms") || !is_count(r["window_start_ms"])) {
      return bad(p + ".window_start_ms", "must be a time in ms");
    }
    if (!r.contains("count") || !is_count(r["count"])) {
      return bad(p + ".count", "must be a non-negative whole number");
    }
    int64_t start = r["window_start_ms"].get<int64_t>();
    if (start > to_epoch_ms(now) || start + kHourMs <= to_epoch_ms(now)) continue;
    by_user[r["user"].get<std::string>()] += r["count"].get<uint64_t>();
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

Status uploads(const json& list, const std::vector<Duration>& windows, TimePoint now,
               std::vector<Series>& out) {
  if (!list.is_array()) return bad("uploads", "must be an array");
  struct Largest {
    double bytes = -1;
    std::string key;
  };
  std::map<std::pair<std::string, int64_t>, Largest> largest;  // (bucket, window)
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = "uploads[" + std::to_string(i) + "]";
    const json& u = list[i];
    if (!u.is_object() || !u.contains("bucket") || !u["bucket"].is_string()) {
      return bad(p + ".bucket", "must be a bucket name");
    }
    if (!u.contains("bytes") || !is_count(u["bytes"]))
      return bad(p + ".bytes", "must be a size in bytes");
    std::optional<TimePoint> at;
    if (u.contains("at_ms") && !u["at_ms"].is_null()) {
      if (!is_count(u["at_ms"])) return bad(p + ".at_ms", "must be a time in ms");
      at = from_epoch_ms(u["at_ms"].get<int64_t>());
    }
    for (Duration w : windows) {
      if (at && (*at <= now - w || *at > now)) continue;
      Largest& l = largest[{u["bucket"].get<std::string>(), w.count()}];
      double bytes = u["bytes"].get<double>();
      if (bytes > l.bytes) l = Largest{bytes, str(u, "key")};
    }
  }
  for (const auto& [key, l] : largest) {
    out.push_back(Series{.metric = "upload_max_bytes",
                         .scope = Scope{.bucket = key.first},
                         .window = Duration(key.second),
                         .value = l.bytes,
                         .detail = "largest object " + l.key + ": " + format_bytes(l.bytes)});
  }
  return Ok{};
}

Status direct(const json& list, std::vector<Series>& out) {
  if (!list.is_array()) return bad("series", "must be an array");
  out.reserve(out.size() + list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    const json& s = list[i];
    std::string p = "series[" + std::to_string(i) + "]";
    if (!s.is_object()) return bad(p, "must be an object");
    Series x;
    for (const auto& item : s.items()) {
      const std::string& k = item.key();
      const json& v = item.value();
      if (k == "metric" || k == "bucket" || k == "prefix" || k == "user" || k == "detail") {
        if (!v.is_string()) return bad(p + "." + k, "must be a string");
        std::string text = v.get<std::string>();
        if (k == "metric") x.metric = std::move(text);
        if (k == "bucket") x.scope.bucket = std::move(text);
        if (k == "prefix") x.scope.prefix = std::move(text);
        if (k == "user") x.scope.user = std::move(text);
        if (k == "detail") x.detail = std::move(text);
      } else if (k == "value") {
        if (!is_number(v)) return bad(p + ".value", "must be a number");
        x.value = v.get<double>();
      } else if (k == "window_ms" || k == "samples") {
        if (!is_count(v)) return bad(p + "." + k, "must be a non-negative whole number");
        if (k == "window_ms") x.window = Duration(v.get<int64_t>());
        if (k == "samples") x.samples = v.get<uint64_t>();
      } else if (k == "natural") {
        if (!v.is_boolean()) return bad(p + ".natural", "must be true or false");
        x.natural = v.get<bool>();
      } else {
        return bad(p + "." + k, "is not a known field");
      }
    }
    if (x.metric.empty()) return bad(p + ".metric", "is required");
    if (!s.contains("value")) return bad(p + ".value", "is required");
    out.push_back(std::move(x));
  }
  return Ok{};
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

json needs_to_json(const FigureNeeds& n) {
  json windows = json::array(), failed = json::array(), upload = json::array(),
       account = json::array();
  for (Duration d : n.account_windows) account.push_back(d.count());
  for (Duration d : n.operation_windows) windows.push_back(d.count());
  for (Duration d : n.upload_windows) upload.push_back(d.count());
  for (Duration d : n.failed_access_windows) failed.push_back(d.count());
  return {{"operation_windows_ms", windows},
          {"failed_access_windows_ms", failed},
          {"upload_windows_ms", upload},
          {"account", n.account},
          {"account_windows_ms", account},
          {"cost", n.cost},
          {"growth", n.growth},
          {"quotas", n.quotas},
          {"failed_access", n.failed_access},
          {"uploads", n.uploads},
          {"breaker", n.breaker},
          {"health", n.health},
          {"database", n.database},
          {"jobs", n.jobs},
          {"requests", n.requests}};
}

Result<std::vector<Series>> series_from_json(const json& in, const FigureNeeds& needs,
                                             TimePoint now) {
  std::vector<Series> out;
  if (in.is_null()) return out;
  if (!in.is_object()) return bad("figures", "must be an object");
  for (const auto& item : in.items()) {
    const std::string& k = item.key();
    const json& v = item.value();
    Status s = Ok{};
    if (v.is_null()) continue;
    if (k == "operations") {
      s = operations(v, out);
    } else if (k == "cost") {
      s = cost(v, out);
    } else if (k == "growth") {
      s = growth(v, out);
    } else if (k == "quotas") {
      s = quotas(v, out);
    } else if (k == "failed_access") {
      s = failed_access(v, needs.failed_access_windows, now, out);
    } else if (k == "requests") {
      s = requests(v, now, out);
    } else if (k == "uploads") {
      s = uploads(v, needs.upload_windows, now, out);
    } else if (k == "series") {
      s = direct(v, out);
    } else if (k == "breaker") {
      std::string state = str(v, "state");
      if (state.empty()) return bad("breaker.state", "must be the breaker's state");
      bool open = state == "open" || state == "forced_open";
      out.push_back(Series{.metric = "breaker_open",
                           .value = open ? 1.0 : 0.0,
                           .detail = "the R2 circuit breaker is " + state});
    } else if (k == "health") {
      std::string status = str(v, "status");
      double level = status == "healthy"     ? 0
                     : status == "degraded"  ? 1
                     : status == "unhealthy" ? 2
                                             : -1;
      if (level < 0) return bad("health.status", "must be healthy, degraded or unhealthy");
      out.push_back(
          Series{.metric = "health_level", .value = level, .detail = "r2watch reports " + status});
    } else if (k == "jobs") {
      if (!v.is_array()) return bad("jobs", "must be a list of job standings");
      double most = 0;
      std::string detail = "every job ran on schedule";
      for (size_t i = 0; i < v.size(); ++i) {
        const json& j = v[i];
        std::string at = "jobs[" + std::to_string(i) + "]";
        if (!j.is_object() || !j.contains("missed_runs") || !j["missed_runs"].is_number() ||
            j["missed_runs"].get<double>() < 0) {
          return bad(at + ".missed_runs", "must be a count");
        }
        double missed = j["missed_runs"].get<double>();
        if (missed > most) {
          most = missed;
          std::string reason = str(j, "reason");
          detail = reason.empty() ? str(j, "name") + " missed runs" : reason;
        }
      }
      out.push_back(Series{.metric = "job_missed_runs", .value = most, .detail = detail});
    } else if (k == "database") {
      if (!v.is_object() || !v.contains("ok") || !v["ok"].is_boolean()) {
        return bad("database.ok", "must be true or false");
      }
      bool ok = v["ok"].get<bool>();
      std::string error = str(v, "error");
      out.push_back(Series{.metric = "database_unhealthy",
                           .value = ok ? 0.0 : 1.0,
                           .detail = ok ? "D1 answers" : "D1 failed: " + error});
    } else {
      return bad(k, "is not a known source");
    }
    if (!s.ok()) return s.error();
  }
  return out;
}

std::map<std::string, std::string> user_emails(const json& figures) {
  std::map<std::string, std::string> out;
  if (!figures.is_object() || !figures.contains("quotas") || !figures["quotas"].is_array()) {
    return out;
  }
  for (const json& q : figures["quotas"]) {
    std::string user = str(q, "user"), email = str(q, "email");
    if (!user.empty() && email.find('@') != std::string::npos) out[user] = email;
  }
  return out;
}

}  // namespace r2w::alerts
