#pragma once

#include <cstdint>
#include <vector>

#include "core/breaker/breaker-options.h"
#include "core/common/time.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::breaker {

// What a window holds at one moment.
struct WindowTotals {
  uint64_t calls = 0;
  uint64_t failures = 0;
  uint64_t slow_calls = 0;
};

// The calls a breaker judges by: either the last N calls (count-based) or the calls of the
// last `monitoring_window`, summed into fixed buckets aligned to the epoch (time-based).
// A time-based bucket leaves the window whole once its end is a full window behind `now`.
class SlidingWindow {
 public:
  explicit SlidingWindow(const Options& options);

  void record(TimePoint now, bool failed, bool slow);
  WindowTotals totals(TimePoint now) const;
  void clear();

  // Schema: {"type": "count_based", "calls": [flags...]} (oldest first; bit 0 failed, bit 1
  // slow) or {"type": "time_based", "buckets": [[bucket_index, calls, failures, slow], ...]}.
  r2w::Json to_json() const;
  // Loads what to_json wrote for the same window shape; false (and an empty window) if the
  // data does not fit this window.
  bool restore(const r2w::Json& j);

 private:
  struct Bucket {
    int64_t index = 0;  // floor(epoch_ms / bucket_ms); buckets with stale indexes are empty
    uint64_t calls = 0;
    uint64_t failures = 0;
    uint64_t slow_calls = 0;
  };

  int64_t bucket_index(TimePoint t) const;

  WindowType type_;
  // Count-based: a ring of the last calls' flags, with running totals.
  std::vector<uint8_t> ring_;
  size_t ring_next_ = 0;
  size_t ring_size_ = 0;
  WindowTotals ring_totals_;
  // Time-based: one slot per bucket of the window.
  int64_t bucket_ms_ = 1;
  std::vector<Bucket> buckets_;
};

}  // namespace r2w::breaker
