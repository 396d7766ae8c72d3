#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.h"
#include "core/common/time.h"

namespace r2w::alerts {

// What a rule watches. Each type reads one metric of the figures (figures.h); `statistic`
// picks the variant where a type has several (latency: avg/p50/p95/p99; cost_threshold:
// month_to_date/forecast).
enum class RuleType : uint8_t {
  kCostThreshold,       // cost_month_to_date_usd / cost_forecast_usd
  kCostAnomaly,         // cost_daily_rise_pct
  kErrorRate,           // error_rate_pct over the window
  kLatency,             // latency_<statistic>_ms over the window
  kQuotaUsage,          // quota_used_pct per user
  kFileSize,            // upload_max_bytes (largest upload or stored object)
  kSecurityEvent,       // failed_access_count over the window
  kStorageGrowth,       // storage_growth_30d_pct
  kCircuitBreakerOpen,  // breaker_open (1 while open or forced open)
  kHealthStatus,        // health_level (0 healthy, 1 degraded, 2 unhealthy)
  kDatabaseHealth,      // database_unhealthy (1 when D1 could not be read)
  // On the account's figures (Cloudflare's GraphQL Analytics, every bucket):
  kRequestSpike,       // request_spike_pct: last hour vs the median of that hour in past weeks
  kInternalErrorRate,  // internal_error_rate_pct per bucket over the window (whole hours)
  kPendingUploads,     // pending_uploads_min: fewest pending multipart uploads a day in the window
  kBucketStorageGrowth,  // bucket_storage_growth_pct: stored bytes against `window` before
  // r2watch's own operation:
  kJobStale,  // job_missed_runs: the most scheduled runs any job missed (core/ops/jobs.h)
  // requests_per_hour: one user's requests in the current hour (the security gate's counter)
  kExcessiveRequests,
};
inline constexpr RuleType kAllRuleTypes[] = {
    RuleType::kCostThreshold,     RuleType::kCostAnomaly,      RuleType::kErrorRate,
    RuleType::kLatency,           RuleType::kQuotaUsage,       RuleType::kFileSize,
    RuleType::kSecurityEvent,     RuleType::kStorageGrowth,    RuleType::kCircuitBreakerOpen,
    RuleType::kHealthStatus,      RuleType::kDatabaseHealth,   RuleType::kRequestSpike,
    RuleType::kInternalErrorRate, RuleType::kPendingUploads,   RuleType::kBucketStorageGrowth,
    RuleType::kJobStale,          RuleType::kExcessiveRequests};
std::string_view rule_type_name(RuleType t);
std::optional<RuleType> parse_rule_type(std::string_view name);

enum class Comparison : uint8_t { kGt, kGte, kLt, kLte, kEq };
std::string_view comparison_name(Comparison c);  // ">", ">=", "<", "<=", "=="
std::optional<Comparison> parse_comparison(std::string_view name);
bool compare(double value, Comparison c, double threshold);

enum class Severity : uint8_t { kLow = 0, kMedium = 1, kHigh = 2, kCritical = 3 };
std::string_view severity_name(Severity s);
std::optional<Severity> parse_severity(std::string_view name);

enum class Statistic : uint8_t { kNone, kAvg, kP50, kP95, kP99, kMonthToDate, kForecast };
std::string_view statistic_name(Statistic s);

// Which part of the account a rule looks at. An empty field is "any": the rule is evaluated
// for each bucket (one alert per bucket), and prefix- or user-level figures are used only when
// the rule names a prefix or a user (or, for quota and security rules, always per user).
struct Scope {
  std::string bucket;
  std::string prefix;
  std::string user;
  bool operator==(const Scope&) const = default;
};

// What an alert of the rule does besides notifying.
struct RuleActions {
  // While the alert fires, force the R2 breaker open (an operator resets it). Default false.
  bool force_breaker_open = false;
  // Also notify the user in the alert's scope (quota rules), by email when an address is known.
  // Default false.
  bool notify_user = false;
};

struct Rule {
  std::string id;  // [a-z0-9_-], 1..64
  std::string name;
  std::string description;
  RuleType type = RuleType::kErrorRate;
  double threshold = 0;                     // >= 0, in the metric's unit
  Comparison comparison = Comparison::kGt;  // default ">"
  // Figures over the last `window` (error_rate, latency, security_event). Default 5 min.
  Duration window = Duration(300'000);
  // How long the condition must hold before the alert fires (pending until then). Default 0.
  Duration for_duration = Duration(0);
  Scope scope;
  Severity severity = Severity::kMedium;
  std::map<std::string, std::string> labels;
  bool enabled = true;
  Statistic statistic = Statistic::kNone;
  // Fewer calls than this in the window is no data (error_rate, latency). Default 1.
  uint32_t min_calls = 1;
  // Overrides the settings' repeat interval for this rule.
  std::optional<Duration> repeat_interval;
  RuleActions actions;
  // Channel names this rule notifies; empty = every channel whose min_severity it reaches.
  std::vector<std::string> channels;
};

// The metric of the figures a rule reads ("error_rate_pct", "latency_p95_ms", ...).
std::string_view metric_of(const Rule& rule);
// Whether the rule's figures depend on its window.
bool uses_window(RuleType t);

// The limits of a rule's fields (the codec's readers refuse values outside them).
inline constexpr Duration kMinRuleWindow = Duration(60'000);
inline constexpr Duration kMaxRuleWindow = Duration(31LL * 86'400'000);
inline constexpr Duration kMaxRuleFor = Duration(7LL * 86'400'000);
inline constexpr Duration kMinRuleRepeat = Duration(60'000);
inline constexpr Duration kMaxRuleRepeat = Duration(7LL * 86'400'000);
inline constexpr double kMaxRuleThreshold = 1e15;
inline constexpr uint32_t kMaxRuleMinCalls = 1'000'000'000;

// A rule as a request (or a stored row) gives it, read by the codec: `rule` is the base (the
// stored rule for a PUT, the type's defaults for a POST) with the typed fields read over it;
// the names below are as given ("" when absent), and the lists are set only when given.
// `complete_rule()` checks the rest and gives the rule; every error names the field (with
// `prefix`, "rules[3]" for a stored list).
struct RuleDraft {
  Rule rule;
  std::string id;    // the base's id when not given
  std::string type;  // the base's type when not given
  std::string comparison;
  std::string severity;
  std::string statistic;
  std::optional<Scope> scope;
  std::optional<std::map<std::string, std::string>> labels;
  std::optional<std::vector<std::string>> channels;
};
Result<Rule> complete_rule(RuleDraft draft, std::string_view prefix = "");
// A new rule's id must not be taken (code "conflict", field "id").
std::optional<Error> check_new_rule_id(const Rule& rule, const std::vector<std::string>& taken);
// An update names the stored rule's id or none: ids do not change (field "id").
std::optional<Error> check_same_id(const Rule& current, std::string_view requested);
// The statistic a rule of type `t` has when it names none.
Statistic default_statistic(RuleType t);
// A new rule must name these (threshold not for the types without one).
bool needs_threshold(RuleType t);

// The rules installed on first start, from the operating plan.
std::vector<Rule> default_rules();

// The labels of an alert of `rule` for `scope`: alertname, rule_id, type, severity, the scope
// fields that are set, then the rule's own labels (which may not override these).
std::map<std::string, std::string> alert_labels(const Rule& rule, const Scope& scope);

}  // namespace r2w::alerts
