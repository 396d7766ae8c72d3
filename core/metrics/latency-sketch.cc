#include "core/metrics/latency-sketch.h"

#include <algorithm>
#include <cmath>

namespace r2w::metrics {

namespace {

double inverse_approx_log2(double x) {
  double e = std::floor(x);
  return std::ldexp(1 + (x - e), static_cast<int>(e));
}

}  // namespace

double LatencySketch::lower_bound(int32_t index) {
  return inverse_approx_log2(static_cast<double>(index) / kMultiplier);
}

double LatencySketch::representative(int32_t index) {
  double lo = lower_bound(index), hi = lower_bound(index + 1);
  return 2 * lo * hi / (lo + hi);
}

uint64_t& LatencySketch::grow_to(int32_t index) {
  if (bins_.empty()) {
    offset_ = index;
    bins_.assign(1, 0);
  } else if (index < offset_) {
    // Room below as well, so values arriving in falling order do not move the bins each time.
    size_t spare = std::max<size_t>(bins_.size(), 16);
    int32_t start = index - static_cast<int32_t>(spare);
    bins_.insert(bins_.begin(), static_cast<size_t>(offset_ - start), 0);
    offset_ = start;
  } else {
    bins_.resize(static_cast<size_t>(index - offset_ + 1), 0);
  }
  return bins_[static_cast<size_t>(index - offset_)];
}

Status LatencySketch::add(double value_ms, uint64_t count) {
  if (!std::isfinite(value_ms) || value_ms < 0) {
    return Error{.code = "untrackable_value",
                 .message = "latency must be a finite, non-negative number of milliseconds",
                 .field = "latency_ms"};
  }
  if (count == 0) return Ok{};
  double v = std::min(value_ms, kMaxTrackableMs);
  if (v < kMinTrackableMs) {
    zero_count_ += count;
  } else {
    bin(index_of(v)) += count;
  }
  min_ = count_ == 0 ? v : std::min(min_, v);
  max_ = count_ == 0 ? v : std::max(max_, v);
  count_ += count;
  sum_ += v * static_cast<double>(count);
  return Ok{};
}

void LatencySketch::add_all_checked(const double* values, size_t n) {
  auto clamped = [](double v) { return v < kMaxTrackableMs ? v : kMaxTrackableMs; };
  size_t i = 0;
  while (i < n) {
    // One pass while every value falls in the bins held (the running figures in locals, no
    // call in the loop); a value outside them is added by add_checked, which grows the bins,
    // and the pass goes on after it. Values are added in order, so the sum is the same.
    const size_t begin = i;
    uint64_t* bins = bins_.data();
    const int32_t offset = offset_;
    const uint32_t held = static_cast<uint32_t>(bins_.size());
    uint64_t zero = zero_count_;
    double sum = sum_;
    double lo = count_ == 0 ? clamped(values[i]) : min_;
    double hi = count_ == 0 ? lo : max_;
    for (; i < n; ++i) {
      double v = clamped(values[i]);
      if (v < kMinTrackableMs) {
        zero++;
      } else {
        uint32_t at = static_cast<uint32_t>(index_of(v) - offset);
        if (at >= held) break;
        bins[at]++;
      }
      sum += v;
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    if (i > begin) {
      zero_count_ = zero;
      sum_ = sum;
      min_ = lo;
      max_ = hi;
      count_ += i - begin;
    }
    if (i < n) add_checked(values[i++]);
  }
}

void LatencySketch::merge(const LatencySketch& other) {
  if (other.count_ == 0) return;
  // The other's used bins, from its first to its last non-zero one, added in one loop once
  // this sketch holds both ends (the bins are dense between them).
  const uint64_t* src = other.bins_.data();
  size_t first = 0, last = other.bins_.size();
  while (first < last && src[first] == 0) ++first;
  while (last > first && src[last - 1] == 0) --last;
  if (first < last) {
    int32_t low = other.offset_ + static_cast<int32_t>(first);
    int32_t high = other.offset_ + static_cast<int32_t>(last - 1);
    bin(high);
    bin(low);
    uint64_t* dst = bins_.data() + (low - offset_);
    for (size_t i = 0; i < last - first; ++i) dst[i] += src[first + i];
  }
  zero_count_ += other.zero_count_;
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = count_ == 0 ? other.max_ : std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

void LatencySketch::clear() {
  // The bins are kept (zeroed) where they are: the next values of a sketch emptied between
  // batches mostly fall in them again, so they need not grow back one by one.
  zero_count_ = 0;
  std::fill(bins_.begin(), bins_.end(), uint64_t{0});
  count_ = 0;
  sum_ = 0;
  min_ = 0;
  max_ = 0;
}

std::optional<double> LatencySketch::min() const {
  return count_ ? std::optional<double>(min_) : std::nullopt;
}

std::optional<double> LatencySketch::max() const {
  return count_ ? std::optional<double>(max_) : std::nullopt;
}

std::optional<double> LatencySketch::quantile(double q) const {
  if (count_ == 0 || !(q >= 0 && q <= 1)) return std::nullopt;
  uint64_t rank = static_cast<uint64_t>(std::floor(q * static_cast<double>(count_ - 1)));
  if (rank < zero_count_) return 0.0;
  uint64_t seen = zero_count_;
  for (size_t i = 0; i < bins_.size(); ++i) {
    seen += bins_[i];
    if (seen > rank) {
      double v = representative(offset_ + static_cast<int32_t>(i));
      return std::clamp(v, min_, max_);
    }
  }
  return max_;
}

LatencySketch::Parts LatencySketch::parts() const {
  Parts p{.zero = zero_count_, .sum = sum_, .min = min_, .max = max_};
  for (size_t i = 0; i < bins_.size(); ++i) {
    if (bins_[i]) p.bins.emplace_back(offset_ + static_cast<int32_t>(i), bins_[i]);
  }
  return p;
}

Result<LatencySketch> LatencySketch::from_parts(const Parts& p) {
  auto bad = [](const char* field) {
    return Error{
        .code = "invalid_sketch",
        .message = std::string("latency sketch field ") + field + " is missing or malformed",
        .field = field};
  };
  LatencySketch s;
  s.zero_count_ = p.zero;
  int64_t last = INT64_MIN;
  for (const auto& [index, n] : p.bins) {
    // Indexes are strictly increasing and within what trackable values can produce.
    if (index <= last || index < index_of(kMinTrackableMs) || index > index_of(kMaxTrackableMs) ||
        n == 0) {
      return bad("bins");
    }
    last = index;
    s.bin(index) = n;
    s.count_ += n;
  }
  s.count_ += s.zero_count_;
  s.sum_ = p.sum;
  if (s.count_ > 0) {
    s.min_ = p.min;
    s.max_ = p.max;
    if (s.min_ > s.max_) return bad("min");
  }
  return s;
}

bool LatencySketch::operator==(const LatencySketch& other) const {
  auto a = parts(), b = other.parts();
  if (a.zero != b.zero || a.bins != b.bins || a.sum != b.sum) return false;
  return count_ == 0 || (a.min == b.min && a.max == b.max);
}

}  // namespace r2w::metrics
