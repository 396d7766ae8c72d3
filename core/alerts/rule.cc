#include "core/alerts/rule.h"

#include <cmath>

#include "wasm-bindings/codec/json.h"

namespace r2w::alerts {

using json = r2w::Json;

namespace {

constexpr Duration kMinWindow = Duration(60'000);
constexpr Duration kMaxWindow = Duration(31LL * 86'400'000);
constexpr Duration kMaxFor = Duration(7LL * 86'400'000);
constexpr Duration kMinRepeat = Duration(60'000);
constexpr Duration kMaxRepeat = Duration(7LL * 86'400'000);
constexpr size_t kMaxText = 256;
constexpr size_t kMaxLabels = 20;
constexpr double kMaxThreshold = 1e15;

std::string join(std::string_view prefix, std::string_view name) {
  return prefix.empty() ? std::string(name) : std::string(prefix) + "." + std::string(name);
}

bool is_id(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool is_label_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

constexpr std::string_view kReservedLabels[] = {"alertname", "rule_id", "type",
                                                "severity",  "bucket",  "prefix",
                                                "user",      "status",  "fingerprint"};

Statistic default_statistic(RuleType t) {
  if (t == RuleType::kLatency) return Statistic::kAvg;
  if (t == RuleType::kCostThreshold) return Statistic::kMonthToDate;
  return Statistic::kNone;
}

std::optional<Statistic> parse_statistic(RuleType t, std::string_view s) {
  if (t == RuleType::kLatency) {
    if (s == "avg") return Statistic::kAvg;
    if (s == "p50") return Statistic::kP50;
    if (s == "p95") return Statistic::kP95;
    if (s == "p99") return Statistic::kP99;
    return std::nullopt;
  }
  if (t == RuleType::kCostThreshold) {
    if (s == "month_to_date") return Statistic::kMonthToDate;
    if (s == "forecast") return Statistic::kForecast;
    return std::nullopt;
  }
  if (s == "none") return Statistic::kNone;
  return std::nullopt;
}

std::string_view statistics_of(RuleType t) {
  if (t == RuleType::kLatency) return "avg, p50, p95 or p99";
  if (t == RuleType::kCostThreshold) return "month_to_date or forecast";
  return "none";
}

}  // namespace

std::string_view rule_type_name(RuleType t) {
  switch (t) {
    case RuleType::kCostThreshold:
      return "cost_threshold";
    case RuleType::kCostAnomaly:
      return "cost_anomaly";
    case RuleType::kErrorRate:
      return "error_rate";
    case RuleType::kLatency:
      return "latency";
    case RuleType::kQuotaUsage:
      return "quota_usage";
    case RuleType::kFileSize:
      return "file_size";
    case RuleType::kSecurityEvent:
      return "security_event";
    case RuleType::kStorageGrowth:
      return "storage_growth";
    case RuleType::kCircuitBreakerOpen:
      return "circuit_breaker_open";
    case RuleType::kHealthStatus:
      return "health_status";
    case RuleType::kDatabaseHealth:
      return "database_health";
    case RuleType::kRequestSpike:
      return "request_spike";
    case RuleType::kInternalErrorRate:
      return "internal_error_rate";
    case RuleType::kPendingUploads:
      return "pending_uploads";
    case RuleType::kBucketStorageGrowth:
      return "bucket_storage_growth";
    case RuleType::kJobStale:
      return "job_stale";
    case RuleType::kExcessiveRequests:
      return "excessive_requests";
  }
  return "unknown";
}

std::optional<RuleType> parse_rule_type(std::string_view name) {
  for (RuleType t : kAllRuleTypes) {
    if (rule_type_name(t) == name) return t;
  }
  return std::nullopt;
}

std::string_view comparison_name(Comparison c) {
  switch (c) {
    case Comparison::kGt:
      return ">";
    case Comparison::kGte:
      return ">=";
    case Comparison::kLt:
      return "<";
    case Comparison::kLte:
      return "<=";
    case Comparison::kEq:
      return "==";
  }
  return "?";
}

std::optional<Comparison> parse_comparison(std::string_view s) {
  if (s == ">" || s == "gt") return Comparison::kGt;
  if (s == ">=" || s == "gte") return Comparison::kGte;
  if (s == "<" || s == "lt") return Comparison::kLt;
  if (s == "<=" || s == "lte") return Comparison::kLte;
  if (s == "==" || s == "eq") return Comparison::kEq;
  return std::nullopt;
}

bool compare(double value, Comparison c, double threshold) {
  switch (c) {
    case Comparison::kGt:
      return value > threshold;
    case Comparison::kGte:
      return value >= threshold;
    case Comparison::kLt:
      return value < threshold;
    case Comparison::kLte:
      return value <= threshold;
    case Comparison::kEq:
      return value == threshold;
  }
  return false;
}

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::kLow:
      return "low";
    case Severity::kMedium:
      return "medium";
    case Severity::kHigh:
      return "high";
    case Severity::kCritical:
      return "critical";
  }
  return "low";
}

std::optional<Severity> parse_severity(std::string_view name) {
  for (Severity s : {Severity::kLow, Severity::kMedium, Severity::kHigh, Severity::kCritical}) {
    if (severity_name(s) == name) return s;
  }
  return std::nullopt;
}

std::string_view statistic_name(Statistic s) {
  switch (s) {
    case Statistic::kNone:
      return "none";
    case Statistic::kAvg:
      return "avg";
    case Statistic::kP50:
      return "p50";
    case Statistic::kP95:
      return "p95";
    case Statistic::kP99:
      return "p99";
    case Statistic::kMonthToDate:
      return "month_to_date";
    case Statistic::kForecast:
      return "forecast";
  }
  return "none";
}

std::string_view metric_of(const Rule& rule) {
  switch (rule.type) {
    case RuleType::kCostThreshold:
      return rule.statistic == Statistic::kForecast ? "cost_forecast_usd"
                                                    : "cost_month_to_date_usd";
    case RuleType::kCostAnomaly:
      return "cost_daily_rise_pct";
    case RuleType::kErrorRate:
      return "error_rate_pct";
    case RuleType::kLatency:
      switch (rule.statistic) {
        case Statistic::kP50:
          return "latency_p50_ms";
        case Statistic::kP95:
          return "latency_p95_ms";
        case Statistic::kP99:
          return "latency_p99_ms";
        default:
          return "latency_avg_ms";
      }
    case RuleType::kQuotaUsage:
      return "quota_used_pct";
    case RuleType::kFileSize:
      return "upload_max_bytes";
    case RuleType::kSecurityEvent:
      return "failed_access_count";
    case RuleType::kStorageGrowth:
      return "storage_growth_30d_pct";
    case RuleType::kCircuitBreakerOpen:
      return "breaker_open";
    case RuleType::kHealthStatus:
      return "health_level";
    case RuleType::kDatabaseHealth:
      return "database_unhealthy";
    case RuleType::kRequestSpike:
      return "request_spike_pct";
    case RuleType::kInternalErrorRate:
      return "internal_error_rate_pct";
    case RuleType::kPendingUploads:
      return "pending_uploads_min";
    case RuleType::kBucketStorageGrowth:
      return "bucket_storage_growth_pct";
    case RuleType::kJobStale:
      return "job_missed_runs";
    case RuleType::kExcessiveRequests:
      return "requests_per_hour";
  }
  return "";
}

bool uses_window(RuleType t) {
  return t == RuleType::kErrorRate || t == RuleType::kLatency || t == RuleType::kSecurityEvent ||
         t == RuleType::kFileSize || t == RuleType::kInternalErrorRate ||
         t == RuleType::kPendingUploads || t == RuleType::kBucketStorageGrowth;
}

Result<Rule> rule_from_json(const json& j, const Rule& base, std::string_view prefix) {
  if (!j.is_object()) {
    std::string f = prefix.empty() ? "rule" : std::string(prefix);
    return invalid_field(f, f + " must be an object");
  }
  Rule r = base;
  FieldReader in(j, std::string(prefix));
  std::string id = r.id, type = std::string(rule_type_name(r.type)), severity, comparison,
              statistic;
  in.read_string("id", id);
  in.read_string("name", r.name);
  in.read_string("description", r.description);
  in.read_string("type", type);
  in.read_number("threshold", r.threshold, 0, kMaxThreshold, false);
  in.read_string("comparison", comparison);
  in.read_duration("window_ms", r.window, kMinWindow, kMaxWindow);
  in.read_duration("for_ms", r.for_duration, Duration(0), kMaxFor);
  bool has_scope = in.has("scope");
  in.read_string("severity", severity);
  bool has_labels = in.has("labels");
  in.read_bool("enabled", r.enabled);
  in.read_string("statistic", statistic);
  in.read_uint("min_calls", r.min_calls, 0, 1'000'000'000);
  bool has_repeat = in.has("repeat_interval_ms");
  bool has_actions = in.has("actions");
  bool has_channels = in.has("channels");
  if (auto e = in.finish()) return *e;

  auto fail = [&](std::string_view name, const std::string& msg) {
    std::string f = join(prefix, name);
    return invalid_field(f, f + " " + msg);
  };
  if (!is_id(id)) return fail("id", "must be 1 to 64 of a-z, 0-9, _ and -");
  r.id = id;
  if (r.name.empty() || r.name.size() > kMaxText)
    return fail("name", "must be 1 to 256 characters");
  if (r.description.size() > 1024) return fail("description", "must be at most 1024 characters");
  auto t = parse_rule_type(type);
  if (!t) {
    std::string names;
    for (RuleType k : kAllRuleTypes)
      names += (names.empty() ? "" : ", ") + std::string(rule_type_name(k));
    return fail("type", "must be one of " + names);
  }
  if (*t != r.type && statistic.empty()) r.statistic = default_statistic(*t);
  r.type = *t;
  if (!comparison.empty()) {
    auto c = parse_comparison(comparison);
    if (!c) return fail("comparison", "must be >, >=, <, <= or ==");
    r.comparison = *c;
  }
  if (!severity.empty()) {
    auto s = parse_severity(severity);
    if (!s) return fail("severity", "must be low, medium, high or critical");
    r.severity = *s;
  }
  if (!statistic.empty()) {
    auto s = parse_statistic(r.type, statistic);
    if (!s) {
      return fail("statistic", "must be " + std::string(statistics_of(r.type)) + " for a " +
                                   std::string(rule_type_name(r.type)) + " rule");
    }
    r.statistic = *s;
  } else if (!parse_statistic(r.type, statistic_name(r.statistic))) {
    r.statistic = default_statistic(r.type);
  }
  if (has_scope) {
    std::string sp = join(prefix, "scope");
    FieldReader s(j["scope"], sp);
    Scope scope;
    s.read_string("bucket", scope.bucket);
    s.read_string("prefix", scope.prefix);
    s.read_string("user", scope.user);
    if (auto e = s.finish()) return *e;
    for (auto [name, v] : {std::pair{"bucket", &scope.bucket}, std::pair{"prefix", &scope.prefix},
                           std::pair{"user", &scope.user}}) {
      if (v->size() > kMaxText)
        return fail(std::string("scope.") + name, "must be at most 256 characters");
    }
    r.scope = scope;
  }
  if (has_labels) {
    const json& l = j["labels"];
    if (!l.is_object()) return fail("labels", "must be an object of strings");
    if (l.size() > kMaxLabels) return fail("labels", "may hold at most 20 labels");
    r.labels.clear();
    for (const auto& item : l.items()) {
      std::string name = "labels." + item.key();
      if (!is_label_name(item.key()))
        return fail(name, "is not a label name ([A-Za-z_][A-Za-z0-9_]*)");
      for (std::string_view reserved : kReservedLabels) {
        if (item.key() == reserved) return fail(name, "is set by r2watch and may not be given");
      }
      if (!item.value().is_string() || item.value().get<std::string>().size() > kMaxText) {
        return fail(name, "must be a string of at most 256 characters");
      }
      r.labels[item.key()] = item.value().get<std::string>();
    }
  }
  if (has_repeat) {
    if (j["repeat_interval_ms"].is_null()) {
      r.repeat_interval.reset();
    } else {
      FieldReader rr(j, std::string(prefix));
      Duration d(0);
      rr.read_duration("repeat_interval_ms", d, kMinRepeat, kMaxRepeat);
      if (!rr.ok()) return *rr.finish();
      r.repeat_interval = d;
    }
  }
  if (has_actions) {
    FieldReader a(j["actions"], join(prefix, "actions"));
    a.read_bool("force_breaker_open", r.actions.force_breaker_open);
    a.read_bool("notify_user", r.actions.notify_user);
    if (auto e = a.finish()) return *e;
  }
  if (r.actions.force_breaker_open && r.type != RuleType::kErrorRate) {
    return fail("actions.force_breaker_open", "is only for error_rate rules");
  }
  if (r.actions.notify_user && r.type != RuleType::kQuotaUsage) {
    return fail("actions.notify_user", "is only for quota_usage rules");
  }
  if (has_channels) {
    const json& c = j["channels"];
    if (!c.is_array() || c.size() > 20)
      return fail("channels", "must be a list of at most 20 channel names");
    r.channels.clear();
    for (size_t i = 0; i < c.size(); ++i) {
      if (!c[i].is_string() || !is_id(c[i].get<std::string>())) {
        return fail("channels[" + std::to_string(i) + "]", "must be a channel name");
      }
      r.channels.push_back(c[i].get<std::string>());
    }
  }
  return r;
}

Result<Rule> new_rule_from_json(const json& j, std::string_view fallback_id) {
  if (!j.is_object()) return invalid_field("rule", "rule must be an object");
  if (!j.contains("type")) return invalid_field("type", "type is required");
  if (!j.contains("name")) return invalid_field("name", "name is required");
  if (!j.contains("threshold") && j["type"] != "circuit_breaker_open" &&
      j["type"] != "database_health") {
    return invalid_field("threshold", "threshold is required");
  }
  Rule base;
  base.id = std::string(fallback_id);
  if (j["type"].is_string()) {
    if (auto t = parse_rule_type(j["type"].get<std::string>())) {
      base.type = *t;
      base.statistic = default_statistic(*t);
    }
  }
  return rule_from_json(j, base);
}

json rule_to_json(const Rule& r) {
  json labels = json::object();
  for (const auto& [k, v] : r.labels) labels[k] = v;
  json out = {
      {"id", r.id},
      {"name", r.name},
      {"description", r.description},
      {"type", rule_type_name(r.type)},
      {"threshold", r.threshold},
      {"comparison", comparison_name(r.comparison)},
      {"window_ms", r.window.count()},
      {"for_ms", r.for_duration.count()},
      {"scope", {{"bucket", r.scope.bucket}, {"prefix", r.scope.prefix}, {"user", r.scope.user}}},
      {"severity", severity_name(r.severity)},
      {"labels", labels},
      {"enabled", r.enabled},
      {"statistic", statistic_name(r.statistic)},
      {"min_calls", r.min_calls},
      {"repeat_interval_ms", r.repeat_interval ? json(r.repeat_interval->count()) : json()},
      {"actions",
       {{"force_breaker_open", r.actions.force_breaker_open},
        {"notify_user", r.actions.notify_user}}},
      {"channels", r.channels},
      {"metric", metric_of(r)}};
  return out;
}

Result<std::vector<Rule>> rules_from_json(const json& j, std::string_view field) {
  if (!j.is_array())
    return invalid_field(std::string(field), std::string(field) + " must be an array");
  std::vector<Rule> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    std::string prefix = std::string(field) + "[" + std::to_string(i) + "]";
    json copy = j[i];
    if (copy.is_object()) copy.erase("metric");  // written by rule_to_json, derived
    Rule base;
    if (copy.is_object() && copy.contains("type") && copy["type"].is_string()) {
      if (auto t = parse_rule_type(copy["type"].get<std::string>())) base.type = *t;
    }
    auto r = rule_from_json(copy, base, prefix);
    if (!r.ok()) return r.error();
    out.push_back(std::move(r).value());
  }
  return out;
}

std::vector<Rule> default_rules() {
  auto make = [](std::string id, std::string name, RuleType type, double threshold,
                 Severity severity) {
    Rule r;
    r.id = std::move(id);
    r.name = std::move(name);
    r.type = type;
    r.threshold = threshold;
    r.severity = severity;
    r.statistic = default_statistic(type);
    return r;
  };
  std::vector<Rule> rules;
  rules.push_back(make("monthly_cost", "Monthly cost above $100", RuleType::kCostThreshold, 100,
                       Severity::kHigh));
  rules.push_back(make("daily_cost_rise", "Daily cost up more than 50%", RuleType::kCostAnomaly, 50,
                       Severity::kMedium));
  Rule error =
      make("high_error_rate", "Error rate above 5%", RuleType::kErrorRate, 5, Severity::kHigh);
  error.min_calls = 10;
  error.for_duration = Duration(120'000);
  rules.push_back(error);
  Rule slow = make("slow_response", "Average response above 2,000 ms", RuleType::kLatency, 2000,
                   Severity::kMedium);
  slow.min_calls = 10;
  slow.for_duration = Duration(120'000);
  rules.push_back(slow);
  Rule quota =
      make("quota_usage", "Storage quota above 80%", RuleType::kQuotaUsage, 80, Severity::kMedium);
  quota.actions.notify_user = true;
  rules.push_back(quota);
  rules.push_back(
      make("large_upload", "Upload above 1 GB", RuleType::kFileSize, 1e9, Severity::kLow));
  rules.push_back(make("failed_access", "More than 10 failed accesses", RuleType::kSecurityEvent,
                       10, Severity::kHigh));
  Rule critical_slow = make("critical_response_time", "Response time above 5,000 ms",
                            RuleType::kLatency, 5000, Severity::kCritical);
  critical_slow.min_calls = 10;
  rules.push_back(critical_slow);
  Rule critical_errors = make("critical_error_rate", "Error rate above 50%", RuleType::kErrorRate,
                              50, Severity::kCritical);
  critical_errors.min_calls = 10;
  rules.push_back(critical_errors);
  rules.push_back(make("storage_growth", "Storage growth above 50% a month",
                       RuleType::kStorageGrowth, 50, Severity::kLow));
  // On the account's figures (off until the account-analytics collector stores some).
  Rule spike = make("bucket_request_spike", "Requests to a bucket 5 times the usual for the hour",
                    RuleType::kRequestSpike, 500, Severity::kMedium);
  spike.min_calls = 1000;
  rules.push_back(spike);
  Rule internal =
      make("bucket_internal_errors", "R2 internal errors above 1% of a bucket's requests",
           RuleType::kInternalErrorRate, 1, Severity::kHigh);
  internal.window = std::chrono::hours(1);
  internal.min_calls = 100;
  rules.push_back(internal);
  Rule pending =
      make("abandoned_multipart_uploads", "More than 10 multipart uploads pending for 7 days",
           RuleType::kPendingUploads, 10, Severity::kLow);
  pending.window = std::chrono::hours(24 * 7);
  rules.push_back(pending);
  Rule growth = make("bucket_storage_growth", "A bucket's storage up more than 50% in 7 days",
                     RuleType::kBucketStorageGrowth, 50, Severity::kLow);
  growth.window = std::chrono::hours(24 * 7);
  rules.push_back(growth);
  // r2watch's own jobs: two missed runs is when /api/health turns degraded too.
  Rule stale =
      make("job_stale", "A scheduled job missed 2 runs", RuleType::kJobStale, 2, Severity::kHigh);
  stale.comparison = Comparison::kGte;
  rules.push_back(stale);
  // Excessive use: one user's requests within the hour (the threshold is the rule's to change).
  rules.push_back(make("excessive_requests", "More than 1,000 requests an hour from one user",
                       RuleType::kExcessiveRequests, 1000, Severity::kMedium));
  return rules;
}

std::map<std::string, std::string> alert_labels(const Rule& rule, const Scope& scope) {
  std::map<std::string, std::string> labels = rule.labels;
  labels["alertname"] = rule.name;
  labels["rule_id"] = rule.id;
  labels["type"] = std::string(rule_type_name(rule.type));
  labels["severity"] = std::string(severity_name(rule.severity));
  if (!scope.bucket.empty()) labels["bucket"] = scope.bucket;
  if (!scope.prefix.empty()) labels["prefix"] = scope.prefix;
  if (!scope.user.empty()) labels["user"] = scope.user;
  return labels;
}

}  // namespace r2w::alerts
