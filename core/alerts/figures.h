#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/alerts/rule.h"
#include "core/common/civil-date.h"
#include "core/common/result.h"
#include "core/common/time.h"
#include "core/metrics/rollup.h"

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

// What the Worker gathered for a round, read by the codec (types checked there; see the
// alert_check command for the JSON). Each source is optional.
struct OperationWindow {
  Duration window = Duration(0);
  std::vector<metrics::Row> rows;  // storage_metrics rows over [now - window, now)
};
struct CostFigures {
  struct Bucket {
    std::string bucket;
    std::optional<double> total_micro_usd;
  };
  bool has_bill = false;
  std::string month;
  std::optional<double> month_to_date_micro_usd;
  std::optional<double> forecast_micro_usd;
  std::vector<Bucket> by_bucket;
  bool has_anomaly = false;
  std::string anomaly_verdict;  // "no_baseline": no figure
  std::string anomaly_date;
  std::optional<double> rise_pct;
};
struct GrowthFigure {
  std::string bucket;
  std::optional<double> bytes_pct_30d;  // unset: no snapshot 30 days older yet
};
struct QuotaFigure {
  std::string user;
  std::string bucket;
  std::string email;
  uint64_t used_bytes = 0;
  uint64_t quota_bytes = 0;
};
// One failed access, or a counter of `window` starting at `at` (it counts at the window's
// end, or now).
struct FailedAccessFigure {
  std::string user;
  std::string bucket;
  TimePoint at;
  uint64_t count = 1;
  std::optional<Duration> window;
};
inline constexpr Duration kMaxFailedAccessCounterWindow = Duration(86'400'000);
struct UploadFigure {
  std::string bucket;
  std::string key;
  uint64_t bytes = 0;
  std::optional<TimePoint> at;  // unset: an object found by the inventory (every window)
};
struct RequestCounter {
  std::string user;
  TimePoint window_start;
  uint64_t count = 0;
};
struct JobStanding {
  std::string name;
  std::string reason;
  double missed_runs = 0;
};
enum class DatabaseState : uint8_t { kAnswers, kFailed };
struct DatabaseFigure {
  DatabaseState state = DatabaseState::kAnswers;
  std::string error;
};
struct Figures {
  std::optional<std::string> breaker_state;  // closed, open, half_open, forced_open, disabled
  std::optional<CostFigures> cost;
  std::optional<DatabaseFigure> database;
  std::optional<std::vector<FailedAccessFigure>> failed_access;
  std::optional<std::vector<GrowthFigure>> growth;
  std::optional<std::string> health_status;  // healthy, degraded, unhealthy
  std::optional<std::vector<JobStanding>> jobs;
  std::optional<std::vector<OperationWindow>> operations;
  std::optional<std::vector<QuotaFigure>> quotas;
  std::optional<std::vector<RequestCounter>> requests;
  std::optional<std::vector<Series>> series;  // given as they are
  std::optional<std::vector<UploadFigure>> uploads;
};

// What a round reads, from when (all from `now`): the Worker only reads these windows.
// Cost: the month to date and, for the daily anomaly, up to cost::kAnomalyUsageDays
// (core/cost/window.h) days before the day (reaching into the previous month early in a month).
struct CostWindow {
  CivilDate date;           // the day checked (as_of of the bill, date of the anomaly)
  YearMonth month;          // its billing month
  TimePoint month_start;    // the month's first moment
  TimePoint baseline_from;  // the anomaly's history: cost::kAnomalyUsageDays (core/cost/window.h)
                            // before the day
  TimePoint from;           // the earlier of the two: what a round reads
};
CostWindow cost_window(CivilDate date);
// Growth against 30 days ago reads the inventory snapshots of the last 31 days.
inline constexpr Duration kGrowthLookback = Duration(31LL * 86'400'000);
struct ReadRange {
  Duration window = Duration(0);
  TimePoint from;  // inclusive
  TimePoint to;    // exclusive (now included)
};
struct ReadWindows {
  std::vector<ReadRange> operations;  // minute rollups of each operation window
  std::optional<CostWindow> cost;
  std::optional<TimePoint> growth_since;
  // Failed-authentication counters whose window (`counter_window` long) ends inside the
  // longest security_event window.
  std::optional<TimePoint> failed_access_since;
  std::optional<TimePoint> requests_since;  // hourly request counters (the hour holding now)
  // The account's figures (needs.account): until when figures made now stay what they are as
  // long as the stored account data does not change (account_figures_until).
  std::optional<TimePoint> account_until;
};
ReadWindows read_windows(const FigureNeeds& needs, Duration counter_window, TimePoint now);

// The account's alert figures (core/account/figures.h, alert_figures) read the clock in whole
// hours and days only: the hour holding now (the spike's last complete hour, the end of each
// window) and, per window w, the hour and the day holding now - w. Figures made at `at` from
// stored data that has not changed since are the same until the first of those moves (a day
// starts on an hour): the next hour boundary after `at`, and after `at - w` (plus w) for each
// window. A round reuses them until then (the Worker also checks the data did not change).
TimePoint account_figures_until(std::span<const Duration> windows, TimePoint at);

// Turns what the Worker gathered into series:
// operation rows give error_rate_pct and latency_{avg,p50,p95,p99}_ms per bucket (natural),
// per (bucket, prefix) and per (bucket, user); only the hour holding now counts of the request
// counters (requests_per_hour per user). Uploads without a time count in every window. Values
// out of range are refused naming the field.
Result<std::vector<Series>> series_of(const Figures& figures, const FigureNeeds& needs,
                                      TimePoint now);

// Quota users' addresses ({"alice": "alice@example.com"}) from the figures, for notify_user.
std::map<std::string, std::string> user_emails(const Figures& figures);

}  // namespace r2w::alerts
