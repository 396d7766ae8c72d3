#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/alerts/rule.h"
#include "core/common/result.h"
#include "core/common/time.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::alerts {

// One current figure: a metric of one scope, over a window where the metric has one.
struct Series {
  std::string metric;  // metric_of(rule) names which one a rule reads
  Scope scope;
  Duration window = Duration(0);  // 0 for metrics without a window
  double value = 0;
  uint64_t samples = 0;  // calls behind a rate (compared with a rule's min_calls)
  // The metric's own granularity (per bucket for operations, the account for cost, per user
  // for quotas): what a rule with an empty scope is evaluated over. Finer or coarser series
  // (a prefix, a user, one bucket's share of the cost) are read only by rules that name them.
  bool natural = true;
  std::string detail;  // a sentence for the notification ("12 of 20 calls failed")
};

// What a check round needs, so the Worker gathers only that: the windows of operation rules
// (minute rollups over [now - window, now)), and whether any enabled rule reads cost,
// growth, quotas, failed accesses, uploads, the breaker, health or the database.
// How far back the hourly request counters are read for excessive_requests: the hour holding
// now, whatever the clock skew between the counters' windows and the round.
inline constexpr Duration kRequestCountersLookback = Duration(2LL * 3'600'000);

struct FigureNeeds {
  std::vector<Duration> operation_windows;
  std::vector<Duration> failed_access_windows;
  std::vector<Duration> upload_windows;
  // The account's figures (request_spike, internal_error_rate, pending_uploads,
  // bucket_storage_growth) and the windows of those rules.
  bool account = false;
  std::vector<Duration> account_windows;
  bool cost = false;
  bool growth = false;
  bool quotas = false;
  bool failed_access = false;
  bool uploads = false;
  bool breaker = false;
  bool health = false;
  bool database = false;
  bool jobs = false;      // job_stale: the jobs' standing (the engine's jobs_status answer)
  bool requests = false;  // excessive_requests: each user's requests in the current hour
};
FigureNeeds needs_of(const std::vector<Rule>& rules);
r2w::Json needs_to_json(const FigureNeeds& n);

// Turns what the Worker gathered into series. Input (each member optional):
// {"operations": [{"window_ms": 300000, "rows": [<storage_metrics row>, ...]}],
//  "cost": {"bill": <cost_bill answer>, "anomaly": <cost_anomaly answer>},
//  "growth": [{"bucket", "growth": <storage_growth answer>}],
//  "breaker": {"state": "closed" | "open" | "half_open" | "forced_open" | "disabled"},
//  "health": {"status": "healthy" | "degraded" | "unhealthy"},
//  "database": {"ok": true | false, "error"?},
//  "jobs": [{"name", "missed_runs", "reason"?}] (the engine's jobs_status "jobs"),
//  "quotas": [{"user", "used_bytes", "quota_bytes", "email"?}],
//  "failed_access": [{"user"?, "bucket"?, "at_ms", "count"?, "window_ms"? (a counter of that
//                    window starting at at_ms: it counts at the window's end, or now)}],
//  "uploads": [{"bucket", "key", "bytes", "at_ms"?}],
//  "requests": [{"user", "window_start_ms", "count"}] (hourly request counters; only the hour
//              holding now counts: requests_per_hour per user),
//  "series": [{"metric", "bucket"?, "prefix"?, "user"?, "window_ms"?, "value", "samples"?,
//              "natural"?, "detail"?}]}
// Operation rows give error_rate_pct and latency_{avg,p50,p95,p99}_ms per bucket (natural),
// per (bucket, prefix) and per (bucket, user). Uploads without at_ms (objects found by the
// inventory) count in every window. Bad input is refused naming the field.
Result<std::vector<Series>> series_from_json(const r2w::Json& figures, const FigureNeeds& needs,
                                             TimePoint now);

// Quota users' addresses ({"alice": "alice@example.com"}) from the figures, for notify_user.
std::map<std::string, std::string> user_emails(const r2w::Json& figures);

}  // namespace r2w::alerts
