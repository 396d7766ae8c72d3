#pragma once

#include <optional>

#include "core/common/result.h"
#include "core/common/time.h"
#include "core/metrics/rollup.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::metrics {

// The metrics settings a deployment chooses (Worker variables), with defaults.
struct Settings {
  // Share of successful / failed operations written to Analytics Engine. Defaults 0.1 / 1.0,
  // range (0, 1].
  double success_sampling_rate = 0.1;
  double error_sampling_rate = 1.0;
  // Minute rollups kept this many days (default 30); hour and day rollups (default 365).
  uint32_t raw_retention_days = 30;
  uint32_t aggregated_retention_days = 365;
  AggregatorOptions aggregator;
  // The storage inventory walk: objects per listing page (1..1000, default 1,000) and pages
  // per collect-metrics run (1..1000, default 10); a bigger bucket takes several runs.
  uint32_t inventory_page_size = 1'000;
  uint32_t inventory_pages_per_run = 10;

  std::optional<Error> validate() const;
};

// Reads Worker variables ({"SUCCESS_SAMPLING_RATE": "0.1", "FLUSH_INTERVAL": "10000",
// "BATCH_SIZE": "50", "RAW_METRICS_RETENTION_DAYS": "30",
// "AGGREGATED_METRICS_RETENTION_DAYS": "365", "ERROR_SAMPLING_RATE": "1",
// "INVENTORY_PAGE_SIZE": "1000", "INVENTORY_PAGES_PER_RUN": "10"}; numbers or numeric
// strings; absent or empty means the default). Errors name the variable.
Result<Settings> settings_from_vars(const r2w::Json& vars);
r2w::Json settings_to_json(const Settings& s);

// The weight an operation's raw event is written with, or 0 when it is not written: kept
// when `uniform01` < rate, then weighted 1 / rate so that summing weights estimates the
// true count without bias.
double sample_weight(const Settings& s, bool ok, double uniform01);

// Rows older than these are deleted by the daily job.
struct RetentionCutoffs {
  TimePoint minute_rows_before;
  TimePoint aggregated_rows_before;
};
RetentionCutoffs retention_cutoffs(const Settings& s, TimePoint now);

}  // namespace r2w::metrics
