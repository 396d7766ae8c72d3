#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/common/operation.h"
#include "core/common/result.h"
#include "core/common/time.h"

namespace r2w::faults {

// Injected trouble for one R2 operation (or for D1): the share of calls that fail, and a delay
// added before each call.
struct Fault {
  double error_rate = 0;  // [0, 1]
  Duration added_latency = Duration(0);
};

// Where an injected D1 failure strikes: before the statement reaches D1 (nothing is written),
// or after it ran (it is written, but its answer is lost: what a retry must not count twice).
enum class FailPoint { kBefore, kAfter };

// What one D1 round trip does under the plan.
enum class D1Outcome { kRun = 0, kFailBefore = 1, kFailAfter = 2 };

struct D1Fault {
  Fault fault;
  FailPoint point = FailPoint::kBefore;
};

// Everything a plan holds: what is set to 0 has no fault.
struct PlanState {
  std::array<Fault, kAllOperations.size()> faults{};
  D1Fault d1;
  Duration clock_skew = Duration(0);
};

// One change to a plan (what PUT /api/admin/faults sends, read by wasm-bindings/codec/faults.h):
//  kR2: `fault` on each of `operations`; kD1: `d1` on every D1 statement and batch the Worker
//  runs; kClock: the isolate's clock runs `clock_skew` ahead; kWhole: `whole` replaces the plan
//  (what GET answers, sent back; what is not in it has no fault).
enum class Target : uint8_t { kR2, kD1, kClock, kWhole };
struct PlanChange {
  Target target = Target::kR2;
  std::vector<Operation> operations;
  Fault fault;
  D1Fault d1;
  Duration clock_skew = Duration(0);
  PlanState whole;
};

// Faults per R2 operation, on every D1 round trip, and a skew of the isolate's clock, for tests
// and game days. Randomness comes in as an argument: the caller draws a uniform number in
// [0, 1) per call.
class FaultPlan {
 public:
  static constexpr Duration kMaxAddedLatency = Duration(30'000);
  // The clock may be moved on by at most a day (token cache ages, windows: tests of time).
  static constexpr Duration kMaxClockSkew = Duration(86'400'000);

  // The stored form's schema version (written as "version" by wasm-bindings/codec/faults.h).
  static constexpr uint32_t kStateVersion = 1;
  static constexpr double kMaxErrorRate = 1.0;

  // Error rates are in [0, kMaxErrorRate], added latency at most kMaxAddedLatency, clock skew at
  // most kMaxClockSkew: the codec reads changes and stored plans within these bounds.

  // Applies a change. Returns the names of what changed (operations, "d1", "clock").
  std::vector<std::string> apply(const PlanChange& change);
  void clear() {
    faults_ = {};
    d1_ = {};
    clock_skew_ = Duration(0);
  }

  const Fault& fault(Operation op) const { return faults_[static_cast<size_t>(op)]; }
  // True when this call should fail: `uniform01` is below the operation's error rate.
  bool should_fail(Operation op, double uniform01) const {
    return uniform01 < fault(op).error_rate;
  }
  const D1Fault& d1() const { return d1_; }
  // What a D1 round trip with draw `uniform01` does: runs, or fails before or after running.
  D1Outcome d1_outcome(double uniform01) const;
  Duration clock_skew() const { return clock_skew_; }
  bool active() const;

  // The whole plan (what is stored and what GET answers), and loading it back.
  PlanState state() const { return {.faults = faults_, .d1 = d1_, .clock_skew = clock_skew_}; }
  void restore(const PlanState& s) {
    faults_ = s.faults;
    d1_ = s.d1;
    clock_skew_ = s.clock_skew;
  }
  // Whether a fault does anything (a rate or a delay above 0): what a stored plan lists.
  static bool is_set(const Fault& f) { return f.error_rate > 0 || f.added_latency > Duration(0); }

 private:
  std::array<Fault, kAllOperations.size()> faults_{};
  D1Fault d1_;
  Duration clock_skew_ = Duration(0);
};

}  // namespace r2w::faults
