#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/common/result.h"
#include "core/common/time.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::breaker {

enum class WindowType : uint8_t { kCountBased, kTimeBased };

std::string_view window_type_name(WindowType type);

// Every setting of a circuit breaker, with its default. Build one with designated
// initializers and check it with `validate()`; CircuitBreaker::create refuses invalid ones.
struct Options {
  // Which sliding window the rates are computed over: the last `window_size_calls` calls
  // (count-based), or the calls of the last `monitoring_window` (time-based, default).
  WindowType window_type = WindowType::kTimeBased;
  // Count-based window length, in calls. Default 100, range 1..10,000.
  uint32_t window_size_calls = 100;
  // Time-based window length. Default 300,000 ms (5 minutes), range 1 s .. 1 day.
  Duration monitoring_window = Duration(300'000);
  // Time-based window granularity: calls are summed into buckets of this length and a bucket
  // leaves the window whole. Default 5,000 ms; must divide `monitoring_window`, and the
  // window may hold at most 3,600 buckets.
  Duration window_bucket = Duration(5'000);
  // Rates are not judged before the window holds this many calls. Default 10, range 1..10,000
  // (and at most `window_size_calls` for a count-based window).
  uint32_t minimum_calls = 10;
  // OPEN when failed calls / calls * 100 >= this. Default 50, range (0, 100].
  double failure_rate_threshold_pct = 50;
  // OPEN after this many failures in a row, whatever the window holds. Default 3; 0 turns the
  // rule off. Range 0..10,000.
  uint32_t consecutive_failure_threshold = 3;
  // A call that takes longer than this is slow (exactly this long is not). Default 2,000 ms.
  Duration slow_call_duration = Duration(2'000);
  // OPEN when slow calls / calls * 100 >= this. Default 100, range (0, 100].
  double slow_call_rate_threshold_pct = 100;
  // How long OPEN rejects calls before letting trial calls through. Default 60,000 ms.
  Duration wait_in_open = Duration(60'000);
  // Trial calls allowed in HALF_OPEN; when all have finished their failure and slow rates
  // decide between CLOSED and OPEN. Default 1, range 1..1,000.
  uint32_t permitted_calls_in_half_open = 1;
  // HALF_OPEN that has not decided within this time goes back to OPEN (a trial call whose
  // result never came back must not block the breaker forever). Default 30,000 ms; 0 means
  // no limit.
  Duration max_wait_in_half_open = Duration(30'000);
  // Weight of the newest call in the exponential moving average of response time.
  // Default 0.2, range (0, 1].
  double ema_alpha = 0.2;

  // Refuses settings out of range or inconsistent with each other, naming the field.
  std::optional<Error> validate() const;
  // True when two option sets shape the sliding window the same way, so window data of one
  // is valid for the other.
  bool same_window_as(const Options& other) const;
};

// JSON (snake_case, units in names) <-> Options. `options_from_json` merges the given fields
// over `base`, refuses unknown fields and wrong types, and validates the result.
r2w::Json options_to_json(const Options& options);
Result<Options> options_from_json(const r2w::Json& j, const Options& base);

}  // namespace r2w::breaker
