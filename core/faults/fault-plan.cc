#include "core/faults/fault-plan.h"

namespace r2w::faults {

namespace {

bool same(const Fault& a, const Fault& b) {
  return a.error_rate == b.error_rate && a.added_latency == b.added_latency;
}

}  // namespace

std::vector<std::string> FaultPlan::apply(const PlanChange& change) {
  std::vector<std::string> changed;
  switch (change.target) {
    case Target::kWhole: {
      const PlanState& plan = change.whole;
      for (Operation op : kAllOperations) {
        if (!same(fault(op), plan.faults[static_cast<size_t>(op)])) {
          changed.emplace_back(operation_name(op));
        }
      }
      if (!same(d1_.fault, plan.d1.fault) || d1_.point != plan.d1.point) changed.push_back("d1");
      if (clock_skew_ != plan.clock_skew) changed.push_back("clock");
      restore(plan);
      break;
    }
    case Target::kD1:
      d1_ = change.d1;
      changed.push_back("d1");
      break;
    case Target::kClock:
      clock_skew_ = change.clock_skew;
      changed.push_back("clock");
      break;
    case Target::kR2:
      for (Operation op : change.operations) {
        faults_[static_cast<size_t>(op)] = change.fault;
        changed.emplace_back(operation_name(op));
      }
      break;
  }
  return changed;
}

D1Outcome FaultPlan::d1_outcome(double uniform01) const {
  if (!(uniform01 < d1_.fault.error_rate)) return D1Outcome::kRun;
  return d1_.point == FailPoint::kAfter ? D1Outcome::kFailAfter : D1Outcome::kFailBefore;
}

bool FaultPlan::active() const {
  for (const Fault& f : faults_) {
    if (is_set(f)) return true;
  }
  return is_set(d1_.fault) || clock_skew_ > Duration(0);
}

}  // namespace r2w::faults
