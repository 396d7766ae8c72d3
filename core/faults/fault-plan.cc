#include "core/faults/fault-plan.h"

#include "core/common/json-fields.h"

namespace r2w::faults {

namespace {

Result<Fault> read_fault(FieldReader& r) {
  Fault f;
  r.read_number("error_rate", f.error_rate, 0, 1, false);
  r.read_duration("latency_ms", f.added_latency, Duration(0), FaultPlan::kMaxAddedLatency);
  if (auto e = r.finish()) return *e;
  return f;
}

}  // namespace

Result<std::vector<Operation>> FaultPlan::apply(const nlohmann::json& body) {
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
    std::vector<Operation> changed;
    for (Operation op : kAllOperations) {
      if (fault(op).error_rate != plan.fault(op).error_rate ||
          fault(op).added_latency != plan.fault(op).added_latency) {
        changed.push_back(op);
      }
    }
    faults_ = plan.faults_;
    return changed;
  }
  FieldReader r(body);
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
  for (Operation op : ops) faults_[static_cast<size_t>(op)] = fault.value();
  return ops;
}

bool FaultPlan::active() const {
  for (const Fault& f : faults_) {
    if (f.error_rate > 0 || f.added_latency > Duration(0)) return true;
  }
  return false;
}

nlohmann::json FaultPlan::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (Operation op : kAllOperations) {
    const Fault& f = fault(op);
    if (f.error_rate == 0 && f.added_latency == Duration(0)) continue;
    j[std::string(operation_name(op))] = {{"error_rate", f.error_rate},
                                          {"latency_ms", f.added_latency.count()}};
  }
  return j;
}

Status FaultPlan::restore(const nlohmann::json& j) {
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
  if (auto e = top.finish()) return *e;
  faults_ = loaded;
  return Ok{};
}

}  // namespace r2w::faults
