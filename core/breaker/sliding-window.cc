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
    ring_next_ = (ring_next_ + 1) % ring_.size();
    ring_totals_.calls++;
    if (failed) ring_totals_.failures++;
    if (slow) ring_totals_.slow_calls++;
    return;
  }
  int64_t index = bucket_index(now);
  Bucket& b = buckets_[slot_of(index, buckets_.size())];
  if (b.index != index) {
    // A late result for a bucket that has already been reused counts in the newest one.
    if (b.index > index) {
      index = b.index;
    } else {
      b = Bucket{.index = index};
    }
  }
  b.calls++;
  if (failed) b.failures++;
  if (slow) b.slow_calls++;
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

void SlidingWindow::clear() {
  std::fill(ring_.begin(), ring_.end(), 0);
  ring_next_ = 0;
  ring_size_ = 0;
  ring_totals_ = {};
  for (Bucket& b : buckets_) b = Bucket{.index = INT64_MIN};
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
