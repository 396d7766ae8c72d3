#include "core/metrics/sampling.h"

#include <cmath>
#include <string>

namespace r2w::metrics {

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

Result<Settings> settings_from_vars(const SettingsVars& vars) {
  Settings s;
  struct Int {
    const char* name;
    const std::optional<double>* value;
    uint32_t* target;
  };
  if (vars.success_sampling_rate) s.success_sampling_rate = *vars.success_sampling_rate;
  if (vars.error_sampling_rate) s.error_sampling_rate = *vars.error_sampling_rate;
  for (Int i : {Int{"RAW_METRICS_RETENTION_DAYS", &vars.raw_retention_days, &s.raw_retention_days},
                Int{"AGGREGATED_METRICS_RETENTION_DAYS", &vars.aggregated_retention_days,
                    &s.aggregated_retention_days},
                Int{"BATCH_SIZE", &vars.batch_size, &s.aggregator.batch_size},
                Int{"INVENTORY_PAGE_SIZE", &vars.inventory_page_size, &s.inventory_page_size},
                Int{"INVENTORY_PAGES_PER_RUN", &vars.inventory_pages_per_run,
                    &s.inventory_pages_per_run}}) {
    if (!*i.value) continue;
    double d = **i.value;
    if (d < 0 || d > 4e9 || std::floor(d) != d) {
      return invalid_field(i.name, std::string(i.name) + " must be a whole number");
    }
    *i.target = static_cast<uint32_t>(d);
  }
  if (vars.flush_interval_ms) {
    double d = *vars.flush_interval_ms;
    if (d < 0 || d > 4e9 || std::floor(d) != d) {
      return invalid_field("FLUSH_INTERVAL", "FLUSH_INTERVAL must be a whole number of ms");
    }
    s.aggregator.flush_interval = Duration(static_cast<int64_t>(d));
  }
  if (auto e = s.validate()) return *e;
  return s;
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
