#include "core/breaker/breaker-options.h"

#include "wasm-bindings/codec/json.h"

namespace r2w::breaker {

namespace {
constexpr Duration kOneDay = Duration(86'400'000);
constexpr uint32_t kMaxBuckets = 3'600;
}  // namespace

std::string_view window_type_name(WindowType type) {
  return type == WindowType::kCountBased ? "count_based" : "time_based";
}

std::optional<Error> Options::validate() const {
  if (window_size_calls < 1 || window_size_calls > 10'000) {
    return invalid_field("window_size_calls", "window_size_calls must be between 1 and 10000");
  }
  if (monitoring_window < Duration(1'000) || monitoring_window > kOneDay) {
    return invalid_field("monitoring_window_ms",
                         "monitoring_window_ms must be between 1000 and 86400000 ms");
  }
  if (window_bucket < Duration(100) || window_bucket > monitoring_window) {
    return invalid_field("window_bucket_ms",
                         "window_bucket_ms must be at least 100 ms and at most the window");
  }
  if (monitoring_window.count() % window_bucket.count() != 0) {
    return invalid_field("window_bucket_ms", "window_bucket_ms must divide monitoring_window_ms");
  }
  if (monitoring_window.count() / window_bucket.count() > kMaxBuckets) {
    return invalid_field("window_bucket_ms",
                         "window_bucket_ms is too small: the window may hold at most 3600 "
                         "buckets");
  }
  if (minimum_calls < 1 || minimum_calls > 10'000) {
    return invalid_field("minimum_calls", "minimum_calls must be between 1 and 10000");
  }
  if (window_type == WindowType::kCountBased && minimum_calls > window_size_calls) {
    return invalid_field("minimum_calls",
                         "minimum_calls must not exceed window_size_calls for a count-based "
                         "window");
  }
  if (!(failure_rate_threshold_pct > 0 && failure_rate_threshold_pct <= 100)) {
    return invalid_field("failure_rate_threshold_pct",
                         "failure_rate_threshold_pct must be greater than 0 and at most 100");
  }
  if (consecutive_failure_threshold > 10'000) {
    return invalid_field("consecutive_failure_threshold",
                         "consecutive_failure_threshold must be between 0 and 10000");
  }
  if (slow_call_duration < Duration(1) || slow_call_duration > kOneDay) {
    return invalid_field("slow_call_duration_ms",
                         "slow_call_duration_ms must be between 1 and 86400000 ms");
  }
  if (!(slow_call_rate_threshold_pct > 0 && slow_call_rate_threshold_pct <= 100)) {
    return invalid_field("slow_call_rate_threshold_pct",
                         "slow_call_rate_threshold_pct must be greater than 0 and at most 100");
  }
  if (wait_in_open < Duration(1) || wait_in_open > kOneDay) {
    return invalid_field("wait_in_open_ms", "wait_in_open_ms must be between 1 and 86400000 ms");
  }
  if (permitted_calls_in_half_open < 1 || permitted_calls_in_half_open > 1'000) {
    return invalid_field("permitted_calls_in_half_open",
                         "permitted_calls_in_half_open must be between 1 and 1000");
  }
  if (max_wait_in_half_open < Duration(0) || max_wait_in_half_open > kOneDay) {
    return invalid_field("max_wait_in_half_open_ms",
                         "max_wait_in_half_open_ms must be between 0 and 86400000 ms");
  }
  if (!(ema_alpha > 0 && ema_alpha <= 1)) {
    return invalid_field("ema_alpha", "ema_alpha must be greater than 0 and at most 1");
  }
  return std::nullopt;
}

bool Options::same_window_as(const Options& other) const {
  if (window_type != other.window_type) return false;
  if (window_type == WindowType::kCountBased) return window_size_calls == other.window_size_calls;
  return monitoring_window == other.monitoring_window && window_bucket == other.window_bucket;
}

r2w::Json options_to_json(const Options& o) {
  return {
      {"window_type", window_type_name(o.window_type)},
      {"window_size_calls", o.window_size_calls},
      {"monitoring_window_ms", o.monitoring_window.count()},
      {"window_bucket_ms", o.window_bucket.count()},
      {"minimum_calls", o.minimum_calls},
      {"failure_rate_threshold_pct", o.failure_rate_threshold_pct},
      {"consecutive_failure_threshold", o.consecutive_failure_threshold},
      {"slow_call_duration_ms", o.slow_call_duration.count()},
      {"slow_call_rate_threshold_pct", o.slow_call_rate_threshold_pct},
      {"wait_in_open_ms", o.wait_in_open.count()},
      {"permitted_calls_in_half_open", o.permitted_calls_in_half_open},
      {"max_wait_in_half_open_ms", o.max_wait_in_half_open.count()},
      {"ema_alpha", o.ema_alpha},
  };
}

Result<Options> options_from_json(const r2w::Json& j, const Options& base) {
  Options o = base;
  FieldReader r(j);
  std::string window_type(window_type_name(o.window_type));
  r.read_string("window_type", window_type);
  if (r.ok()) {
    if (window_type == "count_based") {
      o.window_type = WindowType::kCountBased;
    } else if (window_type == "time_based") {
      o.window_type = WindowType::kTimeBased;
    } else {
      r.fail("window_type", "must be \"count_based\" or \"time_based\"");
    }
  }
  // Ranges are checked once, by validate(); the reader only checks types here.
  constexpr uint64_t kAnyCount = 4'000'000'000;
  constexpr Duration kAnyDuration = Duration(4'000'000'000'000);
  r.read_uint("window_size_calls", o.window_size_calls, 0, kAnyCount);
  r.read_duration("monitoring_window_ms", o.monitoring_window, Duration(0), kAnyDuration);
  r.read_duration("window_bucket_ms", o.window_bucket, Duration(0), kAnyDuration);
  r.read_uint("minimum_calls", o.minimum_calls, 0, kAnyCount);
  r.read_number("failure_rate_threshold_pct", o.failure_rate_threshold_pct, -1e300, 1e300, false);
  r.read_uint("consecutive_failure_threshold", o.consecutive_failure_threshold, 0, kAnyCount);
  r.read_duration("slow_call_duration_ms", o.slow_call_duration, Duration(0), kAnyDuration);
  r.read_number("slow_call_rate_threshold_pct", o.slow_call_rate_threshold_pct, -1e300, 1e300,
                false);
  r.read_duration("wait_in_open_ms", o.wait_in_open, Duration(0), kAnyDuration);
  r.read_uint("permitted_calls_in_half_open", o.permitted_calls_in_half_open, 0, kAnyCount);
  r.read_duration("max_wait_in_half_open_ms", o.max_wait_in_half_open, Duration(0), kAnyDuration);
  r.read_number("ema_alpha", o.ema_alpha, -1e300, 1e300, false);
  if (auto e = r.finish()) return *e;
  if (auto e = o.validate()) return *e;
  return o;
}

}  // namespace r2w::breaker
