#include "core/metrics/sampling.h"

#include <cmath>
#include <cstdlib>
#include <string>

namespace r2w::metrics {

namespace {

// A variable's number: a JSON number or a numeric string; nullopt when absent or empty.
Result<std::optional<double>> number_var(const r2w::Json& vars, const char* name) {
  if (!vars.contains(name) || vars[name].is_null()) return std::optional<double>();
  const auto& v = vars[name];
  if (v.is_number()) return std::optional<double>(v.get<double>());
  if (v.is_string()) {
    std::string text = v.get<std::string>();
    if (text.empty()) return std::optional<double>();
    char* end = nullptr;
    double d = std::strtod(text.c_str(), &end);
    if (end && *end == '\0' && std::isfinite(d)) return std::optional<double>(d);
  }
  return invalid_field(name, std::string(name) + " must be a number");
}

}  // namespace

std::optional<Error> Settings::validate() const {
  if (!(success_sampling_rate > 0 && success_sampling_rate <= 1)) {
    return invalid_field("SUCCESS_SAMPLING_RATE",
                         "SUCCESS_SAMPLING_RATE must be greater than 0 and at most 1");
  }
  if (!(error_sampling_rate > 0 && error_sampling_rate <= 1)) {
    return invalid_field("ERROR_SAMPLING_RATE",
                         "ERROR_SAMPLING_RATE must be greater than 0 and at most 1");
  }
  if (raw_retention_days < 1 || raw_retention_days > 3'650) {
    return invalid_field("RAW_METRICS_RETENTION_DAYS",
                         "RAW_METRICS_RETENTION_DAYS must be between 1 and 3650");
  }
  if (aggregated_retention_days < raw_retention_days || aggregated_retention_days > 3'650) {
    return invalid_field("AGGREGATED_METRICS_RETENTION_DAYS",
                         "AGGREGATED_METRICS_RETENTION_DAYS must be between "
                         "RAW_METRICS_RETENTION_DAYS and 3650");
  }
  if (inventory_page_size < 1 || inventory_page_size > 1'000) {
    return invalid_field("INVENTORY_PAGE_SIZE", "INVENTORY_PAGE_SIZE must be between 1 and 1000");
  }
  if (inventory_pages_per_run < 1 || inventory_pages_per_run > 1'000) {
    return invalid_field("INVENTORY_PAGES_PER_RUN",
                         "INVENTORY_PAGES_PER_RUN must be between 1 and 1000");
  }
  if (auto e = aggregator.validate()) {
    if (e->field == "batch_size") e->field = "BATCH_SIZE";
    if (e->field == "flush_interval_ms") e->field = "FLUSH_INTERVAL";
    e->message = e->field + ": " + e->message;
    return e;
  }
  return std::nullopt;
}

Result<Settings> settings_from_vars(const r2w::Json& vars) {
  Settings s;
  if (!vars.is_object()) return invalid_field("vars", "vars must be an object");
  struct Int {
    const char* name;
    uint32_t* target;
  };
  auto rate = [&](const char* name, double& target) -> std::optional<Error> {
    auto v = number_var(vars, name);
    if (!v.ok()) return v.error();
    if (v.value()) target = *v.value();
    return std::nullopt;
  };
  if (auto e = rate("SUCCESS_SAMPLING_RATE", s.success_sampling_rate)) return *e;
  if (auto e = rate("ERROR_SAMPLING_RATE", s.error_sampling_rate)) return *e;
  for (Int i : {Int{"RAW_METRICS_RETENTION_DAYS", &s.raw_retention_days},
                Int{"AGGREGATED_METRICS_RETENTION_DAYS", &s.aggregated_retention_days},
                Int{"BATCH_SIZE", &s.aggregator.batch_size},
                Int{"INVENTORY_PAGE_SIZE", &s.inventory_page_size},
                Int{"INVENTORY_PAGES_PER_RUN", &s.inventory_pages_per_run}}) {
    auto v = number_var(vars, i.name);
    if (!v.ok()) return v.error();
    if (!v.value()) continue;
    double d = *v.value();
    if (d < 0 || d > 4e9 || std::floor(d) != d) {
      return invalid_field(i.name, std::string(i.name) + " must be a whole number");
    }
    *i.target = static_cast<uint32_t>(d);
  }
  auto interval = number_var(vars, "FLUSH_INTERVAL");
  if (!interval.ok()) return interval.error();
  if (interval.value()) {
    double d = *interval.value();
    if (d < 0 || d > 4e9 || std::floor(d) != d) {
      return invalid_field("FLUSH_INTERVAL", "FLUSH_INTERVAL must be a whole number of ms");
    }
    s.aggregator.flush_interval = Duration(static_cast<int64_t>(d));
  }
  if (auto e = s.validate()) return *e;
  return s;
}

r2w::Json settings_to_json(const Settings& s) {
  return {{"success_sampling_rate", s.success_sampling_rate},
          {"error_sampling_rate", s.error_sampling_rate},
          {"raw_retention_days", s.raw_retention_days},
          {"aggregated_retention_days", s.aggregated_retention_days},
          {"batch_size", s.aggregator.batch_size},
          {"flush_interval_ms", s.aggregator.flush_interval.count()},
          {"max_series", s.aggregator.max_series},
          {"inventory_page_size", s.inventory_page_size},
          {"inventory_pages_per_run", s.inventory_pages_per_run}};
}

double sample_weight(const Settings& s, bool ok, double uniform01) {
  double rate = ok ? s.success_sampling_rate : s.error_sampling_rate;
  return uniform01 < rate ? 1.0 / rate : 0.0;
}

RetentionCutoffs retention_cutoffs(const Settings& s, TimePoint now) {
  constexpr int64_t kDayMs = 86'400'000;
  return {.minute_rows_before = now - Duration(kDayMs * s.raw_retention_days),
          .aggregated_rows_before = now - Duration(kDayMs * s.aggregated_retention_days)};
}

}  // namespace r2w::metrics
