#include "wasm-bindings/codec/metrics.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <string>

#include "core/common/civil-date.h"
#include "core/common/version.h"
#include "core/cost/operation-class.h"

namespace r2w::codec {

namespace {

Json maybe(std::optional<double> v) { return v ? Json(*v) : Json(nullptr); }

Error bad_sketch(const char* field) {
  return Error{.code = "invalid_sketch",
               .message = std::string("latency sketch field ") + field + " is missing or malformed",
               .field = field};
}

Error bad_inventory(const char* field) {
  return Error{.code = "invalid_inventory",
               .message = std::string("inventory field ") + field + " is missing or malformed",
               .field = field};
}

// A stored state's "version": absent is version 1; anything but a known version is refused.
std::optional<Error> check_version(const Json& j, std::string_view what, uint32_t current) {
  auto v = j.find("version");
  if (v == j.end()) return std::nullopt;
  if (!v->is_number_integer() || v->get<int64_t>() < 1) {
    return invalid_field("version", std::string(what) + " version must be a positive integer");
  }
  return check_state_version(what, v->get<uint64_t>(), current);
}

Json groups_to_json(const std::map<std::string, metrics::Tally>& groups) {
  Json j = Json::object();
  for (const auto& [name, t] : groups) j[name] = {{"objects", t.objects}, {"bytes", t.bytes}};
  return j;
}

bool groups_from_json(const Json& j, std::map<std::string, metrics::Tally>& out) {
  if (!j.is_object()) return false;
  for (const auto& [name, t] : j.items()) {
    if (!t.is_object() || !t.contains("objects") || !t["objects"].is_number_unsigned() ||
        !t.contains("bytes") || !t["bytes"].is_number_unsigned()) {
      return false;
    }
    out[name] = metrics::Tally{t["objects"].get<uint64_t>(), t["bytes"].get<uint64_t>()};
  }
  return true;
}

// A variable's number: a JSON number or a numeric string; unset when absent, null or empty.
Result<std::optional<double>> number_var(const Json& vars, const char* name) {
  if (!vars.contains(name) || vars[name].is_null()) return std::optional<double>();
  const Json& v = vars[name];
  if (v.is_number()) return std::optional<double>(v.get<double>());
  if (v.is_string()) {
    std::string text = v.get<std::string>();
    if (text.empty()) return std::optional<double>();
    char* end = nullptr;
    double d = std::strtod(text.c_str(), &end);
    if (end && *end == '\0' && std::isfinite(d)) return std::optional<double>(d);
  }
  return invalid_field(name, std::string(name) + " must be a number");
}

}  // namespace

Json sketch_to_json(const metrics::LatencySketch& s) {
  metrics::LatencySketch::Parts p = s.parts();
  Json bins = Json::array();
  for (const auto& [index, n] : p.bins) bins.push_back({index, n});
  return {{"version", metrics::LatencySketch::kStateVersion},
          {"zero", p.zero},
          {"bins", std::move(bins)},
          {"sum", p.sum},
          {"min", s.empty() ? Json(nullptr) : Json(p.min)},
          {"max", s.empty() ? Json(nullptr) : Json(p.max)}};
}

Result<metrics::LatencySketch> sketch_from_json(const Json& j) {
  if (!j.is_object()) return bad_sketch("sketch");
  if (auto e = check_version(j, "latency sketch", metrics::LatencySketch::kStateVersion)) return *e;
  metrics::LatencySketch::Parts p;
  if (!j.contains("zero") || !j["zero"].is_number_unsigned()) return bad_sketch("zero");
  p.zero = j["zero"].get<uint64_t>();
  if (!j.contains("bins") || !j["bins"].is_array()) return bad_sketch("bins");
  uint64_t total = p.zero;
  for (const Json& b : j["bins"]) {
    if (!b.is_array() || b.size() != 2 || !b[0].is_number_integer() || !b[1].is_number_unsigned() ||
        b[0].get<int64_t>() < INT32_MIN || b[0].get<int64_t>() > INT32_MAX) {
      return bad_sketch("bins");
    }
    p.bins.emplace_back(static_cast<int32_t>(b[0].get<int64_t>()), b[1].get<uint64_t>());
    total += b[1].get<uint64_t>();
  }
  if (!j.contains("sum") || !j["sum"].is_number()) return bad_sketch("sum");
  p.sum = j["sum"].get<double>();
  if (total > 0) {
    if (!j.contains("min") || !j["min"].is_number()) return bad_sketch("min");
    if (!j.contains("max") || !j["max"].is_number()) return bad_sketch("max");
    p.min = j["min"].get<double>();
    p.max = j["max"].get<double>();
  }
  return metrics::LatencySketch::from_parts(p);
}

Json row_to_json(const metrics::Row& row) {
  return {{"bucket", row.series.bucket},
          {"prefix", row.series.prefix},
          {"user", row.series.user},
          {"operation", operation_name(row.operation)},
          {"r2_class", cost::operation_class_label(cost::classify_operation(row.operation))},
          {"level", metrics::level_name(row.level)},
          {"period_start_ms", to_epoch_ms(row.period_start)},
          {"calls", row.figures.calls},
          {"errors", row.figures.errors},
          {"bytes_up", row.figures.bytes_up},
          {"bytes_down", row.figures.bytes_down},
          {"latency", sketch_to_json(row.figures.latency)}};
}

Result<metrics::Row> row_from_json(const Json& j) {
  metrics::Row row;
  FieldReader r(j);
  std::string operation, level, r2_class_text;
  r.read_string("bucket", row.series.bucket);
  r.read_string("prefix", row.series.prefix);
  r.read_string("user", row.series.user);
  r.read_string("operation", operation);
  r.read_string("r2_class", r2_class_text);  // derived from the operation; accepted, ignored
  r.read_string("level", level);
  bool has_period = r.has("period_start_ms");
  bool has_latency = r.has("latency");
  uint64_t counts[4] = {0, 0, 0, 0};
  const char* names[4] = {"calls", "errors", "bytes_up", "bytes_down"};
  for (int i = 0; i < 4; ++i) {
    if (r.has(names[i])) {
      if (!j[names[i]].is_number_integer() || j[names[i]].get<int64_t>() < 0) {
        r.fail(names[i], "must be a non-negative integer");
      } else {
        counts[i] = j[names[i]].get<uint64_t>();
      }
    }
  }
  if (auto e = r.finish()) return *e;
  auto op = parse_operation(operation);
  if (!op) return invalid_field("operation", "operation must be get, put, delete, list or head");
  auto lvl = metrics::parse_level(level.empty() ? "minute" : level);
  if (!lvl) return invalid_field("level", "level must be minute, hour or day");
  if (!has_period || !j["period_start_ms"].is_number_integer()) {
    return invalid_field("period_start_ms", "period_start_ms must be an integer");
  }
  row.operation = *op;
  row.level = *lvl;
  row.period_start = from_epoch_ms(j["period_start_ms"].get<int64_t>());
  row.figures.calls = counts[0];
  row.figures.errors = counts[1];
  row.figures.bytes_up = counts[2];
  row.figures.bytes_down = counts[3];
  if (auto e = metrics::validate_row(row)) return *e;
  if (has_latency) {
    auto sketch = sketch_from_json(j["latency"]);
    if (!sketch.ok()) {
      Error e = sketch.error();
      e.field = "latency." + e.field;
      return e;
    }
    row.figures.latency = std::move(sketch).value();
  }
  return row;
}

Result<std::vector<metrics::Row>> rows_from_json(const Json& in, const char* field) {
  std::vector<metrics::Row> rows;
  if (!in.contains(field) || !in[field].is_array()) {
    return invalid_field(field, std::string(field) + " must be an array of rollup rows");
  }
  rows.reserve(in[field].size());
  for (size_t i = 0; i < in[field].size(); ++i) {
    auto row = row_from_json(in[field][i]);
    if (!row.ok())
      return prefixed_error(row.error(), std::string(field) + "[" + std::to_string(i) + "]");
    rows.push_back(std::move(row).value());
  }
  return rows;
}

Json rows_to_json(const std::vector<metrics::Row>& rows) {
  Json out = Json::array();
  for (const auto& r : rows) out.push_back(row_to_json(r));
  return out;
}

Json read_plan_to_json(const metrics::ReadPlan& plan) {
  Json segments = Json::array();
  for (const metrics::ReadSegment& s : plan.segments) {
    segments.push_back({{"level", metrics::level_name(s.level)},
                        {"source", s.source == metrics::Source::kRollup ? "rollup" : "live"},
                        {"from_ms", to_epoch_ms(s.from)},
                        {"to_ms", to_epoch_ms(s.to)}});
  }
  return {{"from_ms", to_epoch_ms(plan.from)}, {"segments", std::move(segments)}};
}

Json history_plan_to_json(const metrics::HistoryPlan& p) {
  return {{"range", p.range},
          {"level", metrics::level_name(p.level)},
          {"step_ms", p.step.count()},
          {"from_ms", to_epoch_ms(p.from)},
          {"to_ms", to_epoch_ms(p.to)}};
}

Json point_to_json(const metrics::Point& p) {
  const metrics::Figures& f = p.figures;
  metrics::PointStats s = metrics::point_stats(f);
  return {{"t_ms", to_epoch_ms(p.start)}, {"calls", f.calls},
          {"errors", f.errors},           {"error_rate_pct", maybe(s.error_rate_pct)},
          {"bytes_up", f.bytes_up},       {"bytes_down", f.bytes_down},
          {"avg_ms", maybe(s.avg_ms)},    {"p50_ms", maybe(s.p50_ms)},
          {"p95_ms", maybe(s.p95_ms)},    {"p99_ms", maybe(s.p99_ms)}};
}

Json usage_summary_to_json(const metrics::UsageSummary& u) {
  Json by_operation = Json::object();
  for (Operation op : kAllOperations) {
    const metrics::OperationTotals& t = u.by_operation[static_cast<size_t>(op)];
    by_operation[std::string(operation_name(op))] = {
        {"calls", t.calls},
        {"errors", t.errors},
        {"bytes_up", t.bytes_up},
        {"bytes_down", t.bytes_down},
        {"r2_class", cost::operation_class_label(cost::classify_operation(op))}};
  }
  return {
      {"window_ms", u.window.count()},
      {"bandwidth",
       {{"upload_bytes", u.all.bytes_up},
        {"download_bytes", u.all.bytes_down},
        {"avg_upload_mbps", u.avg_upload_mbps},
        {"avg_download_mbps", u.avg_download_mbps}}},
      {"api_calls",
       {{"total", u.all.calls},
        {"class_a", u.class_a_calls},
        {"class_b", u.class_b_calls},
        {"free", u.free_calls}}},
      {"errors", u.all.errors},
      {"error_rate_pct", maybe(u.error_rate_pct)},
      {"by_operation", by_operation},
  };
}

Json usage_window_to_json(const metrics::UsageWindow& w) {
  return {{"hours", w.hours},
          {"from_ms", to_epoch_ms(w.from)},
          {"to_ms", to_epoch_ms(w.to)},
          {"step_ms", w.step.count()},
          {"from_day", format_date(w.from_day)},
          {"today", format_date(w.today)},
          {"account_from_ms", w.account_from ? Json(to_epoch_ms(*w.account_from)) : Json(nullptr)}};
}

Result<std::optional<uint64_t>> query_count(const Json& v) {
  if (v.is_null()) return std::optional<uint64_t>();
  if (v.is_number_unsigned()) return std::optional<uint64_t>(v.get<uint64_t>());
  if (v.is_string()) {
    const std::string text = v.get<std::string>();
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (!text.empty() && text.size() <= 9 && ec == std::errc() &&
        end == text.data() + text.size() && text[0] != '+' && text[0] != '-') {
      return std::optional<uint64_t>(n);
    }
  }
  return invalid_field("", "must be a whole number");
}

Result<metrics::SettingsVars> settings_vars_from_json(const Json& vars) {
  if (!vars.is_object()) return invalid_field("vars", "vars must be an object");
  metrics::SettingsVars out;
  struct Var {
    const char* name;
    std::optional<double>* target;
  };
  for (Var v :
       {Var{"SUCCESS_SAMPLING_RATE", &out.success_sampling_rate},
        Var{"ERROR_SAMPLING_RATE", &out.error_sampling_rate},
        Var{"RAW_METRICS_RETENTION_DAYS", &out.raw_retention_days},
        Var{"AGGREGATED_METRICS_RETENTION_DAYS", &out.aggregated_retention_days},
        Var{"BATCH_SIZE", &out.batch_size}, Var{"INVENTORY_PAGE_SIZE", &out.inventory_page_size},
        Var{"INVENTORY_PAGES_PER_RUN", &out.inventory_pages_per_run},
        Var{"FLUSH_INTERVAL", &out.flush_interval_ms}}) {
    auto n = number_var(vars, v.name);
    if (!n.ok()) return n.error();
    *v.target = n.value();
  }
  return out;
}

Json settings_to_json(const metrics::Settings& s) {
  return {{"own_prefix", metrics::kOwnPrefix},
          {"success_sampling_rate", s.success_sampling_rate},
          {"error_sampling_rate", s.error_sampling_rate},
          {"raw_retention_days", s.raw_retention_days},
          {"aggregated_retention_days", s.aggregated_retention_days},
          {"batch_size", s.aggregator.batch_size},
          {"flush_interval_ms", s.aggregator.flush_interval.count()},
          {"max_series", s.aggregator.max_series},
          {"inventory_page_size", s.inventory_page_size},
          {"inventory_pages_per_run", s.inventory_pages_per_run}};
}

Json overview_to_json(const metrics::Overview& o) {
  Json figures = Json::object();
  for (const metrics::OverviewFigure& f : o.figures) {
    Json j = {{"value", maybe(f.trend.value)},
              {"previous", maybe(f.trend.previous)},
              {"change_pct", maybe(f.trend.change_pct)}};
    if (f.thresholded == metrics::Thresholded::kYes) {
      j["threshold"] = maybe(f.trend.threshold);
      j["over_threshold"] = f.trend.over_threshold;
    }
    figures[std::string(f.name)] = std::move(j);
  }
  return {
      {"range", std::string(o.range)},
      {"current", {{"from_ms", to_epoch_ms(o.current_from)}, {"to_ms", to_epoch_ms(o.current_to)}}},
      {"previous",
       {{"from_ms", to_epoch_ms(o.previous_from)}, {"to_ms", to_epoch_ms(o.previous_to)}}},
      {"figures", std::move(figures)}};
}

Json inventory_to_json(const metrics::Inventory& inv) {
  Json prefix_classes = Json::object();
  for (const auto& [prefix, classes] : inv.by_prefix_class) {
    prefix_classes[prefix] = groups_to_json(classes);
  }
  Json user_prefixes = Json::object();
  for (const auto& [user, prefixes] : inv.by_user_prefix) {
    user_prefixes[user] = groups_to_json(prefixes);
  }
  Json top = Json::array();
  for (const auto& [key, size] : inv.largest) top.push_back({{"key", key}, {"size", size}});
  return {{"version", metrics::Inventory::kStateVersion},
          {"started_at_ms", to_epoch_ms(inv.started)},
          {"objects", inv.total.objects},
          {"bytes", inv.total.bytes},
          {"by_prefix", groups_to_json(inv.by_prefix)},
          {"by_user", groups_to_json(inv.by_user)},
          {"by_user_prefix", user_prefixes},
          {"by_content_type", groups_to_json(inv.by_content_type)},
          {"by_prefix_class", prefix_classes},
          {"largest", top}};
}

Result<metrics::Inventory> inventory_from_json(const Json& j) {
  metrics::Inventory inv;
  if (!j.is_object()) return bad_inventory("inventory");
  if (auto e = check_version(j, "inventory state", metrics::Inventory::kStateVersion)) return *e;
  if (!j.contains("started_at_ms") || !j["started_at_ms"].is_number_integer()) {
    return bad_inventory("started_at_ms");
  }
  inv.started = from_epoch_ms(j["started_at_ms"].get<int64_t>());
  if (!j.contains("objects") || !j["objects"].is_number_unsigned()) return bad_inventory("objects");
  if (!j.contains("bytes") || !j["bytes"].is_number_unsigned()) return bad_inventory("bytes");
  inv.total = metrics::Tally{j["objects"].get<uint64_t>(), j["bytes"].get<uint64_t>()};
  if (!j.contains("by_prefix") || !groups_from_json(j["by_prefix"], inv.by_prefix)) {
    return bad_inventory("by_prefix");
  }
  if (!j.contains("by_content_type") ||
      !groups_from_json(j["by_content_type"], inv.by_content_type)) {
    return bad_inventory("by_content_type");
  }
  // Absent in snapshots taken before users were counted.
  if (j.contains("by_user") && !groups_from_json(j["by_user"], inv.by_user)) {
    return bad_inventory("by_user");
  }
  if (j.contains("by_user_prefix")) {
    if (!j["by_user_prefix"].is_object()) return bad_inventory("by_user_prefix");
    for (const auto& [user, prefixes] : j["by_user_prefix"].items()) {
      if (!groups_from_json(prefixes, inv.by_user_prefix[user])) {
        return bad_inventory("by_user_prefix");
      }
    }
  }
  if (j.contains("by_prefix_class")) {
    if (!j["by_prefix_class"].is_object()) return bad_inventory("by_prefix_class");
    for (const auto& [prefix, classes] : j["by_prefix_class"].items()) {
      if (!groups_from_json(classes, inv.by_prefix_class[prefix])) {
        return bad_inventory("by_prefix_class");
      }
    }
  }
  if (!j.contains("largest") || !j["largest"].is_array()) return bad_inventory("largest");
  for (const Json& l : j["largest"]) {
    if (!l.is_object() || !l.contains("key") || !l["key"].is_string() || !l.contains("size") ||
        !l["size"].is_number_unsigned()) {
      return bad_inventory("largest");
    }
    inv.largest.emplace_back(l["key"].get<std::string>(), l["size"].get<uint64_t>());
  }
  return inv;
}

Result<std::vector<metrics::ListedObject>> listed_objects_from_json(const Json& objects) {
  if (!objects.is_array()) return invalid_field("objects", "objects must be an array");
  std::vector<metrics::ListedObject> out;
  out.reserve(objects.size());
  for (size_t i = 0; i < objects.size(); ++i) {
    const Json& o = objects[i];
    std::string at = "objects[" + std::to_string(i) + "]";
    if (!o.is_object() || !o.contains("key") || !o["key"].is_string()) {
      return invalid_field(at + ".key", at + ".key must be a string");
    }
    if (!o.contains("size") || !o["size"].is_number_integer() || o["size"].get<int64_t>() < 0) {
      return invalid_field(at + ".size", at + ".size must be a non-negative integer");
    }
    metrics::ListedObject listed{.key = o["key"].get<std::string>(),
                                 .size = o["size"].get<uint64_t>()};
    for (auto [name, target] : {std::pair{"storage_class", &listed.storage_class},
                                std::pair{"content_type", &listed.content_type}}) {
      if (!o.contains(name) || o[name].is_null()) continue;
      if (!o[name].is_string()) {
        return invalid_field(at + "." + name, at + "." + name + " must be a string");
      }
      *target = o[name].get<std::string>();
    }
    out.push_back(std::move(listed));
  }
  return out;
}

std::vector<metrics::Snapshot> snapshots_from_json(const Json& snapshots) {
  std::vector<metrics::Snapshot> out;
  if (!snapshots.is_array()) return out;
  for (const Json& s : snapshots) {
    if (s.is_object() && s.contains("taken_at_ms") && s["taken_at_ms"].is_number_integer() &&
        s.contains("objects") && s["objects"].is_number_unsigned() && s.contains("bytes") &&
        s["bytes"].is_number_unsigned()) {
      out.push_back({.taken_at = from_epoch_ms(s["taken_at_ms"].get<int64_t>()),
                     .objects = s["objects"].get<uint64_t>(),
                     .bytes = s["bytes"].get<uint64_t>()});
    }
  }
  return out;
}

Json growth_to_json(const metrics::Growth& g) {
  Json changes = Json::object();
  for (const auto& [name, c] : g.changes) {
    if (!c) {
      changes[std::string(name)] = nullptr;
      continue;
    }
    changes[std::string(name)] = {{"since_ms", to_epoch_ms(c->since)},
                                  {"bytes_delta", c->bytes_delta},
                                  {"objects_delta", c->objects_delta},
                                  {"bytes_pct", maybe(c->bytes_pct)}};
  }
  Json latest = nullptr;
  if (g.latest) {
    latest = {{"taken_at_ms", to_epoch_ms(g.latest->taken_at)},
              {"objects", g.latest->objects},
              {"bytes", g.latest->bytes}};
  }
  return {{"latest", latest}, {"changes", changes}};
}

}  // namespace r2w::codec
