#include "core/breaker/sliding-window.h"

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

r2w::Json SlidingWindow::to_json() const {
  r2w::Json j;
  j["type"] = window_type_name(type_);
  if (type_ == WindowType::kCountBased) {
    r2w::Json calls = r2w::Json::array();
    size_t start = (ring_next_ + ring_.size() - ring_size_) % ring_.size();
    for (size_t i = 0; i < ring_size_; ++i) calls.push_back(ring_[(start + i) % ring_.size()]);
    j["calls"] = std::move(calls);
    return j;
  }
  r2w::Json buckets = r2w::Json::array();
  std::vector<const Bucket*> live;
  for (const Bucket& b : buckets_) {
    if (b.index != INT64_MIN && b.calls > 0) live.push_back(&b);
  }
  std::sort(live.begin(), live.end(), [](auto* a, auto* b) { return a->index < b->index; });
  for (const Bucket* b : live) {
    buckets.push_back({b->index, b->calls, b->failures, b->slow_calls});
  }
  j["buckets"] = std::move(buckets);
  return j;
}

bool SlidingWindow::restore(const r2w::Json& j) {
  clear();
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string() ||
      j["type"].get<std::string>() != window_type_name(type_)) {
    return false;
  }
  if (type_ == WindowType::kCountBased) {
    if (!j.contains("calls") || !j["calls"].is_array() || j["calls"].size() > ring_.size()) {
      return false;
    }
    for (const auto& flag : j["calls"]) {
      if (!flag.is_number_unsigned() || flag.get<uint64_t>() > 3) {
        clear();
        return false;
      }
      uint8_t f = static_cast<uint8_t>(flag.get<uint64_t>());
      record(TimePoint{}, (f & kFailedBit) != 0, (f & kSlowBit) != 0);
    }
    return true;
  }
  if (!j.contains("buckets") || !j["buckets"].is_array()) return false;
  for (const auto& b : j["buckets"]) {
    bool shaped = b.is_array() && b.size() == 4 && b[0].is_number_integer();
    for (size_t i = 1; shaped && i < 4; ++i) shaped = b[i].is_number_unsigned();
    if (!shaped || b[2].get<uint64_t>() > b[1].get<uint64_t>() ||
        b[3].get<uint64_t>() > b[1].get<uint64_t>()) {
      clear();
      return false;
    }
    int64_t index = b[0].get<int64_t>();
    Bucket& slot = buckets_[slot_of(index, buckets_.size())];
    if (slot.index != INT64_MIN && slot.index >= index) continue;
    slot = Bucket{.index = index,
                  .calls = b[1].get<uint64_t>(),
                  .failures = b[2].get<uint64_t>(),
                  .slow_calls = b[3].get<uint64_t>()};
  }
  return true;
}

}  // namespace r2w::breaker
