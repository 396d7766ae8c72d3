#include "core/faults/fault-plan.h"

#include "wasm-bindings/codec/json.h"

namespace r2w::faults {

namespace {

Result<Fault> read_fault(FieldReader& r) {
  Fault f;
  r.read_number("error_rate", f.error_rate, 0, 1, false);
  r.read_duration("latency_ms", f.added_latency, Duration(0), FaultPlan::kMaxAddedLatency);
  if (auto e = r.finish()) return *e;
  return f;
}

Result<D1Fault> read_d1_fault(FieldReader& r) {
  D1Fault d;
  std::string point = "before";
  r.read_string("fail", point);
  if (r.ok() && point != "before" && point != "after") {
    r.fail("fail", "must be before (nothing written) or after (written, answer lost)");
  }
  d.point = point == "after" ? FailPoint::kAfter : FailPoint::kBefore;
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

bool same(const Fault& a, const Fault& b) {
  return a.error_rate == b.error_rate && a.added_latency == b.added_latency;
}

bool set(const Fault& f) { return f.error_rate > 0 || f.added_latency > Duration(0); }

}  // namespace

Result<std::vector<std::string>> FaultPlan::apply(const r2w::Json& body) {
  if (body.is_object() && body.contains("faults")) {
    // What GET /api/admin/faults answers ({"faults": <to_json>}), sent back: the whole plan.
    FieldReader top(body);
    top.has("faults");
    if (auto e = top.finish()) return *e;
    FaultPlan plan;
    Status s = plan.restore(body["faults"]);
    if (!s.ok()) {
      Error e = s.error();
      e.field = "faults." + e.field;
      e.message = "faults." + e.message;
      return e;
    }
    std::vector<std::string> changed;
    for (Operation op : kAllOperations) {
      if (!same(fault(op), plan.fault(op))) changed.emplace_back(operation_name(op));
    }
    if (!same(d1_.fault, plan.d1_.fault) || d1_.point != plan.d1_.point) changed.push_back("d1");
    if (clock_skew_ != plan.clock_skew_) changed.push_back("clock");
    *this = plan;
    return changed;
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
    d1_ = d.value();
    return std::vector<std::string>{"d1"};
  }
  if (target == "clock") {
    auto skew = read_skew(r);
    if (!skew.ok()) return skew.error();
    clock_skew_ = skew.value();
    return std::vector<std::string>{"clock"};
  }
  std::string name;
  r.read_string("operation", name);
  if (r.ok() && name.empty()) r.fail("operation", "is required");
  std::vector<Operation> ops;
  if (r.ok()) {
    if (name == "all") {
      ops.assign(kAllOperations.begin(), kAllOperations.end());
    } else if (auto op = parse_operation(name)) {
      ops.push_back(*op);
    } else {
      r.fail("operation", "must be one of get, put, delete, list, head, all");
    }
  }
  auto fault = read_fault(r);
  if (!fault.ok()) return fault.error();
  std::vector<std::string> changed;
  for (Operation op : ops) {
    faults_[static_cast<size_t>(op)] = fault.value();
    changed.emplace_back(operation_name(op));
  }
  return changed;
}

D1Outcome FaultPlan::d1_outcome(double uniform01) const {
  if (!(uniform01 < d1_.fault.error_rate)) return D1Outcome::kRun;
  return d1_.point == FailPoint::kAfter ? D1Outcome::kFailAfter : D1Outcome::kFailBefore;
}

bool FaultPlan::active() const {
  for (const Fault& f : faults_) {
    if (set(f)) return true;
  }
  return set(d1_.fault) || clock_skew_ > Duration(0);
}

r2w::Json FaultPlan::to_json() const {
  r2w::Json j = r2w::Json::object();
  for (Operation op : kAllOperations) {
    const Fault& f = fault(op);
    if (!set(f)) continue;
    j[std::string(operation_name(op))] = {{"error_rate", f.error_rate},
                                          {"latency_ms", f.added_latency.count()}};
  }
  if (set(d1_.fault)) {
    j["d1"] = {{"error_rate", d1_.fault.error_rate},
               {"latency_ms", d1_.fault.added_latency.count()},
               {"fail", d1_.point == FailPoint::kAfter ? "after" : "before"}};
  }
  if (clock_skew_ > Duration(0)) j["clock"] = {{"skew_ms", clock_skew_.count()}};
  return j;
}

Status FaultPlan::restore(const r2w::Json& j) {
  FieldReader top(j);
  std::array<Fault, kAllOperations.size()> loaded{};
  for (Operation op : kAllOperations) {
    std::string name(operation_name(op));
    if (!top.has(name)) continue;
    FieldReader r(j[name], name);
    auto fault = read_fault(r);
    if (!fault.ok()) return fault.error();
    loaded[static_cast<size_t>(op)] = fault.value();
  }
  D1Fault d1;
  if (top.has("d1")) {
    FieldReader r(j["d1"], "d1");
    auto d = read_d1_fault(r);
    if (!d.ok()) return d.error();
    d1 = d.value();
  }
  Duration skew(0);
  if (top.has("clock")) {
    FieldReader r(j["clock"], "clock");
    auto s = read_skew(r);
    if (!s.ok()) return s.error();
    skew = s.value();
  }
  if (auto e = top.finish()) return *e;
  faults_ = loaded;
  d1_ = d1;
  clock_skew_ = skew;
  return Ok{};
}

}  // namespace r2w::faults
