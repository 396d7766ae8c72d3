#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "core/common/result.h"

namespace r2w::metrics {

// A mergeable quantile sketch for latencies in milliseconds, after DDSketch: values fall into
// bins whose bounds grow geometrically, so any quantile is answered within 1% relative error,
// and two sketches merge exactly by adding bin counts (a merged sketch equals the sketch of
// all values). The bin index comes from a piecewise-linear approximation of log2 read off the
// double's exponent and mantissa bits with integer arithmetic (no log, no floating-point
// rounding), so the native and wasm builds put every value in the same bin.
//
// Values below `kMinTrackableMs` (including 0, usual for sub-millisecond calls measured with
// Date.now()) are counted as 0; values above `kMaxTrackableMs` are clamped to it. NaN,
// infinities and negatives are refused with an "untrackable_value" error.
class LatencySketch {
 public:
  static constexpr double kRelativeAccuracy = 0.01;
  static constexpr double kMinTrackableMs = 1e-3;
  static constexpr double kMaxTrackableMs = 1e9;
  // Bins per unit of approximate log2. The 1% guarantee needs at least 1 / ln(gamma) =
  // 49.998... with gamma = (1 + 0.01) / (1 - 0.01); 50 is exact in binary, so both builds
  // share it bit for bit (a test checks the bound).
  static constexpr double kMultiplier = 50.0;

  Status add(double value_ms, uint64_t count = 1);
  // `add` of one value known to be finite and non-negative (the hot path's latencies, whole
  // milliseconds from a clock): the same result, without the checks and the Status.
  void add_checked(double value_ms) {
    double v = value_ms < kMaxTrackableMs ? value_ms : kMaxTrackableMs;
    if (v < kMinTrackableMs) {
      zero_count_++;
    } else {
      bin(index_of(v))++;
    }
    if (count_ == 0) {
      min_ = max_ = v;
    } else {
      min_ = v < min_ ? v : min_;
      max_ = v > max_ ? v : max_;
    }
    count_++;
    sum_ += v;
  }
  // `add_checked` of each of `values` in order (the same result), with the running figures
  // kept in locals: the hot path's bulk ingest.
  void add_all_checked(const double* values, size_t n);
  // `add_checked` of values in order, with the bins held and the running figures in the
  // caller's locals (the hot path's fold adds each latency in its own loop over the ring). `add`
  // answers false, adding nothing, for a value whose bin is not held: `finish` then, add it with
  // `add_checked` (which grows the bins), and begin again. Nothing else may touch the sketch
  // between the beginning and `finish`.
  class Appender {
   public:
    explicit Appender(LatencySketch& s)
        : sketch_(&s),
          bins_(s.bins_.data()),
          offset_(s.offset_),
          held_(static_cast<uint32_t>(s.bins_.size())),
          zero_(s.zero_count_),
          count_(s.count_),
          sum_(s.sum_),
          // (An empty sketch's bounds are taken by the first value, -0 included.)
          min_(s.count_ ? s.min_ : std::numeric_limits<double>::infinity()),
          max_(s.count_ ? s.max_ : -std::numeric_limits<double>::infinity()) {}
    // `value_ms` finite and not negative.
    bool add(double value_ms) {
      const double v = value_ms < kMaxTrackableMs ? value_ms : kMaxTrackableMs;
      if (v < kMinTrackableMs) {
        zero_++;
      } else {
        const uint32_t at = static_cast<uint32_t>(index_of(v) - offset_);
        if (at >= held_) return false;
        bins_[at]++;
      }
      count_++;
      sum_ += v;
      min_ = v < min_ ? v : min_;
      max_ = v > max_ ? v : max_;
      return true;
    }
    void finish() const {
      sketch_->zero_count_ = zero_;
      sketch_->count_ = count_;
      sketch_->sum_ = sum_;
      if (count_) sketch_->min_ = min_, sketch_->max_ = max_;
    }

   private:
    LatencySketch* sketch_;
    uint64_t* bins_;
    int32_t offset_;
    uint32_t held_;
    uint64_t zero_;
    uint64_t count_;
    double sum_;
    double min_;
    double max_;
  };
  void merge(const LatencySketch& other);
  // Empties the sketch, keeping the memory of its bins for the next values.
  void clear();

  uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  double sum() const { return sum_; }
  std::optional<double> min() const;
  std::optional<double> max() const;
  // The q-quantile (q in [0, 1]) of the values added: within 1% of the value of rank
  // floor(q * (count - 1)) among them. Absent when empty or q is out of range.
  std::optional<double> quantile(double q) const;

  // The stored form's schema version (wasm-bindings/codec/metrics.h writes it as "version").
  static constexpr uint32_t kStateVersion = 1;

  // What a sketch is made of, as it is stored: the zero count, the used bins (index, count) in
  // increasing index order, the sum, and min / max (meaningful when the sketch is not empty).
  struct Parts {
    uint64_t zero = 0;
    std::vector<std::pair<int32_t, uint64_t>> bins;
    double sum = 0;
    double min = 0;
    double max = 0;
  };
  Parts parts() const;
  // Rebuilds a sketch from stored parts, refused ("invalid_sketch", naming "bins" or "min") when
  // the bins are out of order, empty or beyond what trackable values produce, or min > max.
  static Result<LatencySketch> from_parts(const Parts& parts);

  bool operator==(const LatencySketch& other) const;

  // The bin of a (trackable) value, and the value a bin stands for; exposed for tests.
  static int32_t index_of(double value_ms) {
    // log2(v) approximated linearly between powers of two: v = 2^e * (1 + m), m in [0, 1) ->
    // e + m, and the index is floor((e + m) * 50) = 50 e + floor(50 m). Both parts are read off
    // the double's bits (the exponent field, and the mantissa field times 50, which fits in 58
    // bits): integer arithmetic only, exact, and the same in every build. Monotonic, and never
    // more than a factor 1/ln(2) steeper than log2 itself, which the multiplier accounts for.
    // Only for trackable values (normal, positive doubles).
    constexpr int kMantissaBits = 52;
    constexpr uint64_t kMantissaMask = (uint64_t{1} << kMantissaBits) - 1;
    constexpr int32_t kExponentBias = 1023;
    constexpr uint64_t kBinsPerOctave = 50;
    static_assert(static_cast<double>(kBinsPerOctave) == kMultiplier);
    uint64_t bits = 0;
    std::memcpy(&bits, &value_ms, sizeof bits);  // std::bit_cast, which Emscripten's libc++ lacks
    int32_t exponent = static_cast<int32_t>((bits >> kMantissaBits) & 0x7ff) - kExponentBias;
    return exponent * static_cast<int32_t>(kBinsPerOctave) +
           static_cast<int32_t>(((bits & kMantissaMask) * kBinsPerOctave) >> kMantissaBits);
  }
  static double lower_bound(int32_t index);
  static double representative(int32_t index);

 private:
  uint64_t& bin(int32_t index) {
    size_t at = static_cast<size_t>(static_cast<uint32_t>(index - offset_));
    return at < bins_.size() ? bins_[at] : grow_to(index);
  }
  // bin() of an index outside the bins held: grows them to it (with room to spare below).
  uint64_t& grow_to(int32_t index);

  uint64_t zero_count_ = 0;
  int32_t offset_ = 0;          // index of bins_[0]
  std::vector<uint64_t> bins_;  // dense between the lowest and highest used index
  uint64_t count_ = 0;
  double sum_ = 0;
  double min_ = 0;
  double max_ = 0;
};

}  // namespace r2w::metrics
