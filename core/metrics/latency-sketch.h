#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/common/result.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::metrics {

// A mergeable quantile sketch for latencies in milliseconds, after DDSketch: values fall into
// bins whose bounds grow geometrically, so any quantile is answered within 1% relative error,
// and two sketches merge exactly by adding bin counts (a merged sketch equals the sketch of
// all values). The bin index comes from a piecewise-linear approximation of log2 made of
// exact floating-point steps (frexp, +, *, floor), so the native and wasm builds put every value
// in the same bin.
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
  void merge(const LatencySketch& other);

  uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  double sum() const { return sum_; }
  std::optional<double> min() const;
  std::optional<double> max() const;
  // The q-quantile (q in [0, 1]) of the values added: within 1% of the value of rank
  // floor(q * (count - 1)) among them. Absent when empty or q is out of range.
  std::optional<double> quantile(double q) const;

  // {"zero": n, "bins": [[index, count], ...], "sum": s, "min": m, "max": M}; empty sketch:
  // {"zero": 0, "bins": [], "sum": 0, "min": null, "max": null}.
  r2w::Json to_json() const;
  static Result<LatencySketch> from_json(const r2w::Json& j);

  bool operator==(const LatencySketch& other) const;

  // The bin of a (trackable) value, and the value a bin stands for; exposed for tests.
  static int32_t index_of(double value_ms);
  static double lower_bound(int32_t index);
  static double representative(int32_t index);

 private:
  uint64_t& bin(int32_t index);

  uint64_t zero_count_ = 0;
  int32_t offset_ = 0;          // index of bins_[0]
  std::vector<uint64_t> bins_;  // dense between the lowest and highest used index
  uint64_t count_ = 0;
  double sum_ = 0;
  double min_ = 0;
  double max_ = 0;
};

}  // namespace r2w::metrics
