#include "wasm-bindings/codec/faults.h"

#include <string>

#include "core/common/version.h"

namespace r2w::codec {

namespace {

using faults::FaultPlan;

Result<faults::Fault> read_fault(FieldReader& r) {
  faults::Fault f;
  r.read_number("error_rate", f.error_rate, 0, FaultPlan::kMaxErrorRate, false);
  r.read_duration("latency_ms", f.added_latency, Duration(0), FaultPlan::kMaxAddedLatency);
  if (auto e = r.finish()) return *e;
  return f;
}

Result<faults::D1Fault> read_d1_fault(FieldReader& r) {
  faults::D1Fault d;
  std::string point = "before";
  r.read_string("fail", point);
  if (r.ok() && point != "before" && point != "after") {
    r.fail("fail", "must be before (nothing written) or after (written, answer lost)");
  }
  d.point = point == "after" ? faults::FailPoint::kAfter : faults::FailPoint::kBefore;
  auto f = read_fault(r);
  if (!f.ok()) return f.error();
  d.fault = f.value();
  return d;
}

Result<Duration> read_skew(FieldReader& r) {
  Duration skew(0);
  r.read_duration("skew_ms", skew, Duration(0), FaultPlan::kMaxClockSkew);
  if (auto e = r.finish()) return *e;
  return skew;
}

}  // namespace

Result<faults::PlanChange> fault_change_from_json(const Json& body) {
  faults::PlanChange change;
  if (body.is_object() && body.contains("faults")) {
    // What GET /api/admin/faults answers ({"faults": <plan>, "version"}), sent back: the whole
    // plan.
    auto plan = fault_state_from_json(body);
    if (!plan.ok()) return plan.error();
    change.target = faults::Target::kWhole;
    change.whole = plan.value();
    return change;
  }
  FieldReader r(body);
  std::string target = "r2";
  r.read_string("target", target);
  if (r.ok() && target != "r2" && target != "d1" && target != "clock") {
    r.fail("target", "must be r2, d1 or clock");
  }
  if (!r.ok()) return *r.finish();
  if (target == "d1") {
    auto d = read_d1_fault(r);
    if (!d.ok()) return d.error();
    change.target = faults::Target::kD1;
    change.d1 = d.value();
    return change;
  }
  if (target == "clock") {
    auto skew = read_skew(r);
    if (!skew.ok()) return skew.error();
    change.target = faults::Target::kClock;
    change.clock_skew = skew.value();
    return change;
  }
  std::string name;
  r.read_string("operation", name);
  if (r.ok() && name.empty()) r.fail("operation", "is required");
  if (r.ok()) {
    if (name == "all") {
      change.operations.assign(kAllOperations.begin(), kAllOperations.end());
    } else if (auto op = parse_operation(name)) {
      change.operations.push_back(*op);
    } else {
      r.fail("operation", "must be one of get, put, delete, list, head, all");
    }
  }
  auto fault = read_fault(r);
  if (!fault.ok()) return fault.error();
  change.target = faults::Target::kR2;
  change.fault = fault.value();
  return change;
}

Json fault_plan_to_json(const faults::PlanState& plan) {
  Json j = Json::object();
  for (Operation op : kAllOperations) {
    const faults::Fault& f = plan.faults[static_cast<size_t>(op)];
    if (!FaultPlan::is_set(f)) continue;
    j[std::string(operation_name(op))] = {{"error_rate", f.error_rate},
                                          {"latency_ms", f.added_latency.count()}};
  }
  if (FaultPlan::is_set(plan.d1.fault)) {
    j["d1"] = {{"error_rate", plan.d1.fault.error_rate},
               {"latency_ms", plan.d1.fault.added_latency.count()},
               {"fail", plan.d1.point == faults::FailPoint::kAfter ? "after" : "before"}};
  }
  if (plan.clock_skew > Duration(0)) j["clock"] = {{"skew_ms", plan.clock_skew.count()}};
  return j;
}

namespace {

// A bare plan: {"get": {...}, ..., "d1": {...}, "clock": {...}}.
Result<faults::PlanState> plan_from_json(const Json& j) {
  FieldReader top(j);
  faults::PlanState plan;
  for (Operation op : kAllOperations) {
    std::string name(operation_name(op));
    if (!top.has(name)) continue;
    FieldReader r(j[name], name);
    auto fault = read_fault(r);
    if (!fault.ok()) return fault.error();
    plan.faults[static_cast<size_t>(op)] = fault.value();
  }
  if (top.has("d1")) {
    FieldReader r(j["d1"], "d1");
    auto d = read_d1_fault(r);
    if (!d.ok()) return d.error();
    plan.d1 = d.value();
  }
  if (top.has("clock")) {
    FieldReader r(j["clock"], "clock");
    auto s = read_skew(r);
    if (!s.ok()) return s.error();
    plan.clock_skew = s.value();
  }
  if (auto e = top.finish()) return *e;
  return plan;
}

}  // namespace

Json fault_state_to_json(const faults::PlanState& plan) {
  return {{"faults", fault_plan_to_json(plan)}, {"version", FaultPlan::kStateVersion}};
}

Result<faults::PlanState> fault_state_from_json(const Json& j) {
  if (!j.is_object() || !j.contains("faults")) return plan_from_json(j);  // before versions
  FieldReader top(j);
  uint32_t version = kUnversionedState;
  top.read_uint("version", version, 0, UINT32_MAX);
  top.has("faults");
  if (auto e = top.finish()) return *e;
  if (auto e = check_state_version("fault plan", version, FaultPlan::kStateVersion)) return *e;
  auto plan = plan_from_json(j["faults"]);
  if (!plan.ok()) {
    Error e = plan.error();
    e.field = "faults." + e.field;
    e.message = "faults." + e.message;
    return e;
  }
  return plan;
}

}  // namespace r2w::codec
