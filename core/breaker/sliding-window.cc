#include "core/breaker/sliding-window.h"

#include <algorithm>

namespace r2w::breaker {

namespace {
constexpr uint8_t kFailedBit = 1;
constexpr uint8_t kSlowBit = 2;

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

size_t slot_of(int64_t index, size_t n) {
  int64_t m = index % static_cast<int64_t>(n);
  return static_cast<size_t>(m < 0 ? m + static_cast<int64_t>(n) : m);
}
}  // namespace

SlidingWindow::SlidingWindow(const Options& options) : type_(options.window_type) {
  if (type_ == WindowType::kCountBased) {
    ring_.assign(options.window_size_calls, 0);
  } else {
    bucket_ms_ = options.window_bucket.count();
    size_t n = static_cast<size_t>(options.monitoring_window.count() / bucket_ms_);
    buckets_.assign(n, Bucket{.index = INT64_MIN});
  }
}

int64_t SlidingWindow::bucket_index(TimePoint t) const {
  return floor_div(to_epoch_ms(t), bucket_ms_);
}

void SlidingWindow::record(TimePoint now, bool failed, bool slow) {
  if (type_ == WindowType::kCountBased) {
    uint8_t flags = static_cast<uint8_t>((failed ? kFailedBit : 0) | (slow ? kSlowBit : 0));
    if (ring_size_ == ring_.size()) {
      uint8_t old = ring_[ring_next_];
      ring_totals_.calls--;
      if (old & kFailedBit) ring_totals_.failures--;
      if (old & kSlowBit) ring_totals_.slow_calls--;
    } else {
      ring_size_++;
    }
    ring_[ring_next_] = flags;
    if (++ring_next_ == ring_.size()) ring_next_ = 0;
    ring_totals_.calls++;
    if (failed) ring_totals_.failures++;
    if (slow) ring_totals_.slow_calls++;
    return;
  }
  int64_t ms = to_epoch_ms(now);
  if (last_index_ != INT64_MIN && ms >= last_start_ms_ && ms - last_start_ms_ < bucket_ms_) {
    Bucket& last = buckets_[last_slot_];
    if (last.index == last_index_) {
      last.calls++;
      if (failed) last.failures++;
      if (slow) last.slow_calls++;
      return;
    }
  }
  int64_t index = floor_div(ms, bucket_ms_);
  size_t slot = slot_of(index, buckets_.size());
  Bucket& b = buckets_[slot];
  if (b.index > index) {
    // A late result for a bucket that has already been reused counts in the newest one.
    b.calls++;
    if (failed) b.failures++;
    if (slow) b.slow_calls++;
    return;
  }
  if (b.index != index) b = Bucket{.index = index};
  b.calls++;
  if (failed) b.failures++;
  if (slow) b.slow_calls++;
  last_slot_ = slot;
  last_index_ = index;
  last_start_ms_ = index * bucket_ms_;
}

void SlidingWindow::record_successes(const double* at_ms, size_t count) {
  size_t i = 0;
  while (i < count) {
    if (type_ == WindowType::kTimeBased && last_index_ != INT64_MIN &&
        buckets_[last_slot_].index == last_index_) {
      // record_success's inline case, one compare pair per call: the bucket's first and last
      // millisecond as doubles (whole ms within JavaScript's Date range, so exact).
      const double start = static_cast<double>(last_start_ms_);
      const double end = start + static_cast<double>(bucket_ms_);
      size_t j = i;
      while (j < count && at_ms[j] >= start && at_ms[j] < end) ++j;
      buckets_[last_slot_].calls += j - i;
      i = j;
      if (i == count) return;
    }
    record(from_epoch_ms(static_cast<int64_t>(at_ms[i])), false, false);
    ++i;
  }
}

WindowTotals SlidingWindow::totals(TimePoint now) const {
  if (type_ == WindowType::kCountBased) return ring_totals_;
  WindowTotals t;
  int64_t newest = bucket_index(now);
  int64_t oldest = newest - static_cast<int64_t>(buckets_.size()) + 1;
  for (const Bucket& b : buckets_) {
    if (b.index < oldest || b.index > newest) continue;
    t.calls += b.calls;
    t.failures += b.failures;
    t.slow_calls += b.slow_calls;
  }
  return t;
}

bool SlidingWindow::holds_failed_or_slow(TimePoint now) const {
  if (type_ == WindowType::kCountBased) {
    return ring_totals_.failures != 0 || ring_totals_.slow_calls != 0;
  }
  // Buckets that left the window by `now` never come back; newer ones (late results) count.
  int64_t oldest = bucket_index(now) - static_cast<int64_t>(buckets_.size()) + 1;
  for (const Bucket& b : buckets_) {
    if (b.index >= oldest && (b.failures != 0 || b.slow_calls != 0)) return true;
  }
  return false;
}

void SlidingWindow::clear() {
  std::fill(ring_.begin(), ring_.end(), 0);
  ring_next_ = 0;
  ring_size_ = 0;
  ring_totals_ = {};
  for (Bucket& b : buckets_) b = Bucket{.index = INT64_MIN};
  last_index_ = INT64_MIN;
}

WindowSnapshot SlidingWindow::snapshot() const {
  WindowSnapshot out{.type = type_};
  if (type_ == WindowType::kCountBased) {
    size_t start = (ring_next_ + ring_.size() - ring_size_) % ring_.size();
    for (size_t i = 0; i < ring_size_; ++i) out.calls.push_back(ring_[(start + i) % ring_.size()]);
    return out;
  }
  std::vector<const Bucket*> live;
  for (const Bucket& b : buckets_) {
    if (b.index != INT64_MIN && b.calls > 0) live.push_back(&b);
  }
  std::sort(live.begin(), live.end(), [](auto* a, auto* b) { return a->index < b->index; });
  for (const Bucket* b : live) {
    out.buckets.push_back({.index = b->index,
                           .calls = b->calls,
                           .failures = b->failures,
                           .slow_calls = b->slow_calls});
  }
  return out;
}

bool SlidingWindow::restore(const WindowSnapshot& snap) {
  clear();
  if (snap.type != type_) return false;
  if (type_ == WindowType::kCountBased) {
    if (!snap.buckets.empty() || snap.calls.size() > ring_.size()) return false;
    for (uint8_t f : snap.calls) {
      if (f > 3) {
        clear();
        return false;
      }
      record(TimePoint{}, (f & kFailedBit) != 0, (f & kSlowBit) != 0);
    }
    return true;
  }
  if (!snap.calls.empty()) return false;
  for (const WindowSnapshot::Bucket& b : snap.buckets) {
    if (b.failures > b.calls || b.slow_calls > b.calls) {
      clear();
      return false;
    }
    Bucket& slot = buckets_[slot_of(b.index, buckets_.size())];
    if (slot.index != INT64_MIN && slot.index >= b.index) continue;
    slot = Bucket{
        .index = b.index, .calls = b.calls, .failures = b.failures, .slow_calls = b.slow_calls};
  }
  return true;
}

}  // namespace r2w::breaker
