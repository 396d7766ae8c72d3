#pragma once

#include <array>
#include <string>
#include <vector>

#include "core/common/operation.h"
#include "core/common/result.h"
#include "core/common/time.h"
#include "wasm-bindings/codec/json.h"

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

// Faults per R2 operation, on every D1 round trip, and a skew of the isolate's clock, for tests
// and game days. Randomness comes in as an argument: the caller draws a uniform number in
// [0, 1) per call.
class FaultPlan {
 public:
  static constexpr Duration kMaxAddedLatency = Duration(30'000);
  // The clock may be moved on by at most a day (token cache ages, windows: tests of time).
  static constexpr Duration kMaxClockSkew = Duration(86'400'000);

  // Applies one of:
  //  {"target"?: "r2", "operation": "get"|"put"|"delete"|"list"|"head"|"all", "error_rate": 0..1,
  //   "latency_ms": 0..30000} (absent numbers are 0);
  //  {"target": "d1", "error_rate": 0..1, "latency_ms": 0..30000, "fail"?: "before"|"after"}:
  //   every D1 statement and batch the Worker runs;
  //  {"target": "clock", "skew_ms": 0..86400000}: the isolate's clock runs that much ahead;
  //  or what GET answers, {"faults": <to_json>}: the whole plan (what is not in it has no
  //  fault). Returns the names of what changed (operations, "d1", "clock"). Nothing changes
  //  when the body is refused.
  Result<std::vector<std::string>> apply(const r2w::Json& body);
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

  // {"get": {"error_rate": .., "latency_ms": ..}, ..., "d1": {"error_rate", "latency_ms",
  // "fail"}, "clock": {"skew_ms"}} for everything with a fault.
  r2w::Json to_json() const;
  // Loads what to_json wrote (validated like apply); nothing changes when refused.
  Status restore(const r2w::Json& j);

 private:
  std::array<Fault, kAllOperations.size()> faults_{};
  D1Fault d1_;
  Duration clock_skew_ = Duration(0);
};

}  // namespace r2w::faults
