#pragma once

#include <climits>
#include <cstdint>
#include <vector>

#include "core/breaker/breaker-options.h"
#include "core/common/time.h"

namespace r2w::breaker {

// What a window holds at one moment.
struct WindowTotals {
  uint64_t calls = 0;
  uint64_t failures = 0;
  uint64_t slow_calls = 0;
};

// What a window holds, to be restored by a new instance: the last calls' flags (count-based,
// oldest first; bit 0 failed, bit 1 slow) or the live buckets (time-based, oldest first).
struct WindowSnapshot {
  struct Bucket {
    int64_t index = 0;  // floor(epoch_ms / bucket_ms)
    uint64_t calls = 0;
    uint64_t failures = 0;
    uint64_t slow_calls = 0;
  };
  WindowType type = WindowType::kTimeBased;
  std::vector<uint8_t> calls;
  std::vector<Bucket> buckets;
};

// The calls a breaker judges by: either the last N calls (count-based) or the calls of the
// last `monitoring_window`, summed into fixed buckets aligned to the epoch (time-based).
// A time-based bucket leaves the window whole once its end is a full window behind `now`.
class SlidingWindow {
 public:
  explicit SlidingWindow(const Options& options);

  void record(TimePoint now, bool failed, bool slow);
  // record(now, false, false), answered inline when the call lands in the bucket of the last
  // one (most calls do): the hot path's bulk record of quiet successes.
  void record_success(TimePoint now) {
    int64_t ms = to_epoch_ms(now);
    if (type_ == WindowType::kTimeBased && last_index_ != INT64_MIN && ms >= last_start_ms_ &&
        ms - last_start_ms_ < bucket_ms_) {
      Bucket& last = buckets_[last_slot_];
      if (last.index == last_index_) {
        last.calls++;
        return;
      }
    }
    record(now, false, false);
  }
  // record_success of each of `count` calls in order, their times given as doubles holding
  // whole epoch ms (exact): the calls that land in the last call's bucket are counted in a
  // register and added once (the hot path's fold of quiet successes).
  void record_successes(const double* at_ms, size_t count);
  WindowTotals totals(TimePoint now) const;
  // Whether a call in the window at `now` (or any later time) failed or was slow.
  bool holds_failed_or_slow(TimePoint now) const;
  void clear();

  WindowSnapshot snapshot() const;
  // Loads what snapshot() gave for the same window shape; false (and an empty window) if the
  // data does not fit this window.
  bool restore(const WindowSnapshot& snapshot);

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
  // The bucket the last call landed in, and the first millisecond it covers: the next call of
  // the same bucket (most of them) finds it without a division.
  size_t last_slot_ = 0;
  int64_t last_index_ = INT64_MIN;  // INT64_MIN: none
  int64_t last_start_ms_ = 0;
};

}  // namespace r2w::breaker
