#include "core/metrics/latency-sketch.h"

#include <algorithm>
#include <cmath>

namespace r2w::metrics {

namespace {

// log2(v) approximated linearly between powers of two: v = 2^e * (1 + s), s in [0, 1) ->
// e + s. Monotonic, exact in floating point, and never more than a factor 1/ln(2) steeper
// than log2 itself, which the multiplier accounts for.
double approx_log2(double v) {
  int exp = 0;
  double frac = std::frexp(v, &exp);  // v = frac * 2^exp, frac in [0.5, 1)
  return static_cast<double>(exp - 1) + (2 * frac - 1);
}

double inverse_approx_log2(double x) {
  double e = std::floor(x);
  return std::ldexp(1 + (x - e), static_cast<int>(e));
}

}  // namespace

int32_t LatencySketch::index_of(double value_ms) {
  return static_cast<int32_t>(std::floor(approx_log2(value_ms) * kMultiplier));
}

double LatencySketch::lower_bound(int32_t index) {
  return inverse_approx_log2(static_cast<double>(index) / kMultiplier);
}

double LatencySketch::representative(int32_t index) {
  double lo = lower_bound(index), hi = lower_bound(index + 1);
  return 2 * lo * hi / (lo + hi);
}

uint64_t& LatencySketch::bin(int32_t index) {
  if (bins_.empty()) {
    offset_ = index;
    bins_.assign(1, 0);
  } else if (index < offset_) {
    bins_.insert(bins_.begin(), static_cast<size_t>(offset_ - index), 0);
    offset_ = index;
  } else if (index >= offset_ + static_cast<int32_t>(bins_.size())) {
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

void LatencySketch::merge(const LatencySketch& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < other.bins_.size(); ++i) {
    if (other.bins_[i]) bin(other.offset_ + static_cast<int32_t>(i)) += other.bins_[i];
  }
  zero_count_ += other.zero_count_;
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = count_ == 0 ? other.max_ : std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
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

r2w::Json LatencySketch::to_json() const {
  r2w::Json bins = r2w::Json::array();
  for (size_t i = 0; i < bins_.size(); ++i) {
    if (bins_[i]) bins.push_back({offset_ + static_cast<int32_t>(i), bins_[i]});
  }
  return {{"zero", zero_count_},
          {"bins", std::move(bins)},
          {"sum", sum_},
          {"min", count_ ? r2w::Json(min_) : r2w::Json(nullptr)},
          {"max", count_ ? r2w::Json(max_) : r2w::Json(nullptr)}};
}

Result<LatencySketch> LatencySketch::from_json(const r2w::Json& j) {
  auto bad = [](const char* field) {
    return Error{
        .code = "invalid_sketch",
        .message = std::string("latency sketch field ") + field + " is missing or malformed",
        .field = field};
  };
  if (!j.is_object()) return bad("sketch");
  LatencySketch s;
  if (!j.contains("zero") || !j["zero"].is_number_unsigned()) return bad("zero");
  s.zero_count_ = j["zero"].get<uint64_t>();
  if (!j.contains("bins") || !j["bins"].is_array()) return bad("bins");
  int32_t last = INT32_MIN;
  for (const auto& b : j["bins"]) {
    if (!b.is_array() || b.size() != 2 || !b[0].is_number_integer() || !b[1].is_number_unsigned()) {
      return bad("bins");
    }
    int64_t index = b[0].get<int64_t>();
    uint64_t n = b[1].get<uint64_t>();
    // Indexes are strictly increasing and within what trackable values can produce.
    if (index <= last || index < index_of(kMinTrackableMs) || index > index_of(kMaxTrackableMs) ||
        n == 0) {
      return bad("bins");
    }
    last = static_cast<int32_t>(index);
    s.bin(last) = n;
    s.count_ += n;
  }
  s.count_ += s.zero_count_;
  if (!j.contains("sum") || !j["sum"].is_number()) return bad("sum");
  s.sum_ = j["sum"].get<double>();
  if (s.count_ > 0) {
    if (!j.contains("min") || !j["min"].is_number()) return bad("min");
    if (!j.contains("max") || !j["max"].is_number()) return bad("max");
    s.min_ = j["min"].get<double>();
    s.max_ = j["max"].get<double>();
    if (s.min_ > s.max_) return bad("min");
  }
  return s;
}

bool LatencySketch::operator==(const LatencySketch& other) const {
  return to_json() == other.to_json();
}

}  // namespace r2w::metrics
