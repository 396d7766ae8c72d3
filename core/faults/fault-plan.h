#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/common/operation.h"
#include "core/common/result.h"
#include "core/common/time.h"

namespace r2w::faults {

// Injected trouble for one R2 operation: the share of calls that fail, and a delay added
// before each call.
struct Fault {
  double error_rate = 0;  // [0, 1]
  Duration added_latency = Duration(0);
};

// Faults per operation, for tests and game days. Randomness comes in as an argument: the
// caller draws a uniform number in [0, 1) per call.
class FaultPlan {
 public:
  static constexpr Duration kMaxAddedLatency = Duration(30'000);

  // Applies {"operation": "get"|"put"|"delete"|"list"|"head"|"all", "error_rate": 0..1,
  // "latency_ms": 0..30000}; absent numbers are 0. Or what GET answers, {"faults": <to_json>}:
  // the whole plan (operations not in it have no fault). Returns the operations changed.
  // Nothing changes when the body is refused.
  Result<std::vector<Operation>> apply(const nlohmann::json& body);
  void clear() { faults_ = {}; }

  const Fault& fault(Operation op) const { return faults_[static_cast<size_t>(op)]; }
  // True when this call should fail: `uniform01` is below the operation's error rate.
  bool should_fail(Operation op, double uniform01) const {
    return uniform01 < fault(op).error_rate;
  }
  bool active() const;

  // {"get": {"error_rate": .., "latency_ms": ..}, ...} for every operation with a fault.
  nlohmann::json to_json() const;
  // Loads what to_json wrote (validated like apply); nothing changes when refused.
  Status restore(const nlohmann::json& j);

 private:
  std::array<Fault, kAllOperations.size()> faults_{};
};

}  // namespace r2w::faults
