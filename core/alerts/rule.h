#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.h"
#include "core/common/time.h"
#include "wasm-bindings/codec/json.h"

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

// Reads a rule. `base` supplies the values of absent fields (a PUT merges over the stored
// rule; a POST starts from the defaults of the type). Every error names the field, and fields
// that no rule has are refused.
Result<Rule> rule_from_json(const r2w::Json& j, const Rule& base, std::string_view prefix = "");
// A new rule: `type` is required and picks the type's defaults (statistic, comparison).
Result<Rule> new_rule_from_json(const r2w::Json& j, std::string_view fallback_id);
r2w::Json rule_to_json(const Rule& rule);
// Stored rules (as rule_to_json wrote them); a stored rule that no longer parses is refused
// naming `rules[i]`.
Result<std::vector<Rule>> rules_from_json(const r2w::Json& j, std::string_view field);

// The rules installed on first start, from the operating plan.
std::vector<Rule> default_rules();

// The labels of an alert of `rule` for `scope`: alertname, rule_id, type, severity, the scope
// fields that are set, then the rule's own labels (which may not override these).
std::map<std::string, std::string> alert_labels(const Rule& rule, const Scope& scope);

}  // namespace r2w::alerts
