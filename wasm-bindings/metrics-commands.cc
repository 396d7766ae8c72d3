// Commands of the metrics pipeline: settings, flushing minute rollups, merging rollups into
// coarser levels, history series, usage summaries, retention, and the storage inventory.
#include <optional>
#include <string>
#include <vector>

#include "core/common/csv.h"
#include "core/metrics/history.h"
#include "core/metrics/inventory.h"
#include "core/metrics/overview.h"
#include "core/metrics/rollup.h"
#include "core/metrics/sampling.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/codec/metrics.h"
#include "wasm-bindings/commands.h"
#include "wasm-bindings/engine.h"

namespace r2w::bindings {

using json = r2w::Json;

namespace {

using codec::rows_from_json;
using codec::rows_to_json;

// Worker variables -> settings, applied at once. Errors name the variable.
Result<json> metrics_configure(Engine& e, const json& in, TimePoint) {
  auto vars = codec::settings_vars_from_json(in);
  if (!vars.ok()) return vars.error();
  auto s = metrics::settings_from_vars(vars.value());
  if (!s.ok()) return s.error();
  e.set_metrics_settings(s.value());
  return codec::settings_to_json(s.value());
}

Result<json> metrics_settings(Engine& e, const json& in, TimePoint) {
  FieldReader r(in);
  if (auto err = r.finish()) return *err;
  return codec::settings_to_json(e.metrics_settings());
}

// {"id": n} -> the series behind a hot-path series id: {"bucket", "prefix", "user"}.
Result<json> metrics_series_info(Engine& e, const json& in, TimePoint) {
  FieldReader r(in);
  uint32_t id = 0;
  r.read_uint("id", id, 0, UINT32_MAX);
  if (auto err = r.finish()) return *err;
  const metrics::Series* s = e.aggregator().series(id);
  if (!s) return invalid_field("id", "id is not a known series");
  return json{{"bucket", s->bucket}, {"prefix", s->prefix}, {"user", s->user}};
}

// The next batch of changed minute rows (cumulative figures, replace semantics).
Result<json> metrics_flush_take(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  if (auto err = r.finish()) return *err;
  auto batch = e.aggregator().take_batch(now);
  return json{{"token", batch.token},
              {"rows", rows_to_json(batch.rows)},
              {"account_rows", rows_to_json(batch.account_rows)},
              {"remaining", e.aggregator().dirty_rows() - batch.rows.size()}};
}

Result<json> metrics_flush_confirm(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  bool has_token = r.has("token");
  if (auto err = r.finish()) return *err;
  if (!has_token || !in["token"].is_number_unsigned()) {
    return invalid_field("token", "token must be the number metrics_flush_take returned");
  }
  e.aggregator().confirm(in["token"].get<uint64_t>(), now);
  return json{{"dirty_rows", e.aggregator().dirty_rows()},
              {"rows_in_memory", e.aggregator().rows_in_memory()}};
}

std::optional<metrics::Scope> parse_scope(std::string_view name) {
  if (name == "user") return metrics::Scope::kPerUser;
  if (name == "account") return metrics::Scope::kAccount;
  return std::nullopt;
}

// {"rows": [...], "level": "hour"|"day", "scope"?: "user"|"account"} -> the rows merged into
// that level: per (bucket, prefix, user, operation), or with "account" per (bucket, operation)
// with r2watch's own keys left out ({"rows", "account_rows"} with "both").
Result<json> metrics_merge(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  std::string level_text, scope_text = "user";
  r.has("rows");
  r.read_string("level", level_text);
  r.read_string("scope", scope_text);
  if (auto err = r.finish()) return *err;
  auto level = metrics::parse_level(level_text);
  if (!level) return invalid_field("level", "level must be minute, hour or day");
  if (scope_text != "both" && !parse_scope(scope_text)) {
    return invalid_field("scope", "scope must be user, account or both");
  }
  auto rows = rows_from_json(in, "rows");
  if (!rows.ok()) return rows.error();
  if (scope_text == "both") {
    return json{{"rows", rows_to_json(metrics::merge_rows(rows.value(), *level))},
                {"account_rows", rows_to_json(metrics::merge_account_rows(rows.value(), *level))}};
  }
  if (scope_text == "account") {
    return json{{"rows", rows_to_json(metrics::merge_account_rows(rows.value(), *level))}};
  }
  return json{{"rows", rows_to_json(metrics::merge_rows(rows.value(), *level))}};
}

// {"from_ms", "to_ms", "hours_complete_before_ms": n|null, "days_complete_before_ms": n|null,
//  "scope": "user"|"account", "coarsest": "minute"|"hour"|"day"} -> metrics::plan_reads:
// {"from_ms", "segments": [{"level", "source": "rollup"|"live", "from_ms", "to_ms"}]}.
Result<json> metrics_read_plan(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  std::string scope_text, coarsest_text;
  r.read_string("scope", scope_text);
  r.read_string("coarsest", coarsest_text);
  std::optional<TimePoint> times[4];
  const char* names[4] = {"from_ms", "to_ms", "hours_complete_before_ms",
                          "days_complete_before_ms"};
  for (int i = 0; i < 4; ++i) {
    if (!r.has(names[i]) || in[names[i]].is_null()) continue;
    if (!in[names[i]].is_number_integer()) {
      r.fail(names[i], "must be an integer or null");
    } else {
      times[i] = from_epoch_ms(in[names[i]].get<int64_t>());
    }
  }
  if (auto err = r.finish()) return *err;
  if (!times[0]) return invalid_field("from_ms", "from_ms must be an integer");
  if (!times[1]) return invalid_field("to_ms", "to_ms must be an integer");
  auto scope = parse_scope(scope_text);
  if (!scope) return invalid_field("scope", "scope must be user or account");
  auto coarsest = metrics::parse_level(coarsest_text);
  if (!coarsest) return invalid_field("coarsest", "coarsest must be minute, hour or day");
  return codec::read_plan_to_json(
      metrics::plan_reads(*times[0], *times[1], times[2], times[3], *scope, *coarsest));
}

// {"level": "hour"|"day", "progress_ms": n|null, "earliest_source_ms": n|null,
//  "source_complete_before_ms": n|null} -> {"from_ms", "to_ms", "complete_before_ms"} or
// {"nothing": true}.
Result<json> metrics_rollup_plan(Engine&, const json& in, TimePoint now) {
  FieldReader r(in);
  std::string level_text;
  r.read_string("level", level_text);
  std::optional<TimePoint> times[3];
  const char* names[3] = {"progress_ms", "earliest_source_ms", "source_complete_before_ms"};
  for (int i = 0; i < 3; ++i) {
    if (!r.has(names[i]) || in[names[i]].is_null()) continue;
    if (!in[names[i]].is_number_integer()) {
      r.fail(names[i], "must be an integer or null");
    } else {
      times[i] = from_epoch_ms(in[names[i]].get<int64_t>());
    }
  }
  if (auto err = r.finish()) return *err;
  auto level = metrics::parse_level(level_text);
  if (!level || *level == metrics::Level::kMinute) {
    return invalid_field("level", "level must be hour or day");
  }
  auto plan = metrics::plan_rollup(*level, times[0], times[1], times[2], now);
  if (!plan) return json{{"nothing", true}};
  return json{{"from_ms", to_epoch_ms(plan->from)},
              {"to_ms", to_epoch_ms(plan->to)},
              {"complete_before_ms", to_epoch_ms(plan->complete_before)}};
}

Result<json> metrics_history_plan(Engine&, const json& in, TimePoint now) {
  FieldReader r(in);
  std::string range;
  r.read_string("range", range);
  if (auto err = r.finish()) return *err;
  auto plan = metrics::plan_history(range, now);
  if (!plan.ok()) return plan.error();
  return codec::history_plan_to_json(plan.value());
}

// {"range": "1h"|"24h"|"7d"|"30d", "rows": [...rows of the plan's level...]} -> the series.
Result<json> metrics_series(Engine&, const json& in, TimePoint now) {
  FieldReader r(in);
  std::string range;
  r.read_string("range", range);
  r.has("rows");
  if (auto err = r.finish()) return *err;
  auto plan = metrics::plan_history(range, now);
  if (!plan.ok()) return plan.error();
  auto rows = rows_from_json(in, "rows");
  if (!rows.ok()) return rows.error();
  json points = json::array();
  for (const auto& p : metrics::build_series(rows.value(), plan.value())) {
    points.push_back(codec::point_to_json(p));
  }
  json out = codec::history_plan_to_json(plan.value());
  out["points"] = std::move(points);
  return out;
}

// {"rows": [...]} -> the figures of all the rows together: counts, bytes, and latency
// quantiles of the exactly merged sketch ({"latency_sum_ms", "p50_ms", ...}).
Result<json> metrics_summarize(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  r.has("rows");
  if (auto err = r.finish()) return *err;
  auto rows = rows_from_json(in, "rows");
  if (!rows.ok()) return rows.error();
  metrics::Point all;
  for (const auto& row : rows.value()) all.figures.merge(row.figures);
  json out = codec::point_to_json(all);
  out.erase("t_ms");
  out["latency_sum_ms"] = all.figures.latency.sum();
  return out;
}

// The dashboard's performance figures: {"range": "1h"|"24h"|"7d"|"30d", "rows": [rows of the
// plan's level from (from - length) to to], "thresholds": {"error_rate_pct": n|null,
// "response_ms": n|null}} -> metrics::overview (each figure against the period before).
Result<json> metrics_overview(Engine&, const json& in, TimePoint now) {
  FieldReader r(in);
  std::string range;
  r.read_string("range", range);
  r.has("rows");
  bool has_thresholds = r.has("thresholds");
  if (auto err = r.finish()) return *err;
  metrics::OverviewThresholds thresholds;
  if (has_thresholds) {
    FieldReader tr(in["thresholds"], "thresholds");
    std::optional<double>* targets[2] = {&thresholds.error_rate_pct, &thresholds.response_ms};
    const char* names[2] = {"error_rate_pct", "response_ms"};
    for (int i = 0; i < 2; ++i) {
      if (!tr.has(names[i]) || in["thresholds"][names[i]].is_null()) continue;
      const json& v = in["thresholds"][names[i]];
      if (!v.is_number() || v.get<double>() < 0) {
        tr.fail(names[i], "must be a non-negative number or null");
      } else {
        *targets[i] = v.get<double>();
      }
    }
    if (auto err = tr.finish()) return *err;
  }
  auto plan = metrics::plan_history(range, now);
  if (!plan.ok()) return plan.error();
  auto rows = rows_from_json(in, "rows");
  if (!rows.ok()) return rows.error();
  return codec::overview_to_json(metrics::overview(rows.value(), plan.value(), thresholds));
}

Result<json> metrics_retention(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  if (auto err = r.finish()) return *err;
  auto c = metrics::retention_cutoffs(e.metrics_settings(), now);
  return json{{"minute_rows_before_ms", to_epoch_ms(c.minute_rows_before)},
              {"aggregated_rows_before_ms", to_epoch_ms(c.aggregated_rows_before)}};
}

// {"period": "hour"|"day"|"week"|"month", "totals": {"get": {"calls", "errors", "bytes_up",
// "bytes_down"}, ...}} -> bandwidth, calls by class, error rate over that window.
Result<json> usage_summary(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  std::string period;
  r.read_string("period", period);
  bool has_totals = r.has("totals");
  if (auto err = r.finish()) return *err;
  auto window = metrics::usage_period_length(period);
  if (!window) return invalid_field("period", "period must be one of 5m, hour, day, week, month");
  std::array<metrics::OperationTotals, kAllOperations.size()> totals{};
  if (has_totals) {
    FieldReader tr(in["totals"], "totals");
    for (Operation op : kAllOperations) {
      std::string name(operation_name(op));
      if (!tr.has(name)) continue;
      FieldReader fr(in["totals"][name], "totals." + name);
      metrics::OperationTotals& t = totals[static_cast<size_t>(op)];
      uint64_t* targets[4] = {&t.calls, &t.errors, &t.bytes_up, &t.bytes_down};
      const char* names[4] = {"calls", "errors", "bytes_up", "bytes_down"};
      for (int i = 0; i < 4; ++i) {
        if (!fr.has(names[i])) continue;
        const json& v = in["totals"][name][names[i]];
        if (!v.is_number_integer() || v.get<int64_t>() < 0) {
          fr.fail(names[i], "must be a non-negative integer");
        } else {
          *targets[i] = v.get<uint64_t>();
        }
      }
      if (auto err = fr.finish()) return *err;
    }
    if (auto err = tr.finish()) return *err;
  }
  json out = codec::usage_summary_to_json(metrics::usage_summary(totals, *window));
  out["period"] = period;
  return out;
}

// {"state": <inventory so far> | null, "objects": [{"key", "size", "content_type"}]} ->
// {"state": <inventory with the page added>}. A null state starts a walk at `now`.
Result<json> inventory_add_page(Engine&, const json& in, TimePoint now) {
  FieldReader r(in);
  bool has_state = r.has("state");
  r.has("objects");
  if (auto err = r.finish()) return *err;
  metrics::Inventory inv{.started = now};
  if (has_state && !in["state"].is_null()) {
    auto loaded = codec::inventory_from_json(in["state"]);
    if (!loaded.ok()) return prefixed(loaded.error(), "state");
    inv = std::move(loaded).value();
  }
  auto objects =
      codec::listed_objects_from_json(in.contains("objects") ? in["objects"] : json::array());
  if (!objects.ok()) return objects.error();
  inv.add_page(objects.value());
  return json{{"state", codec::inventory_to_json(inv)}};
}

Result<json> storage_growth(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  r.has("snapshots");
  if (auto err = r.finish()) return *err;
  if (!in.contains("snapshots") || !in["snapshots"].is_array()) {
    return invalid_field("snapshots", "snapshots must be an array");
  }
  return codec::growth_to_json(
      metrics::storage_growth(codec::snapshots_from_json(in["snapshots"])));
}

// {"view": "details"|"export"|"status"|"storage"|"scrape", "hours"?: the query's text or null} ->
// the window that route reads: {"hours", "from_ms", "to_ms", "step_ms", "from_day",
// "account_from_ms"} (metrics::usage_window).
Result<json> usage_window(Engine&, const json& in, TimePoint now) {
  FieldReader r(in);
  std::string view_text;
  r.read_string("view", view_text);
  bool has_hours = r.has("hours");
  if (auto err = r.finish()) return *err;
  auto view = metrics::parse_usage_view(view_text);
  if (!view)
    return invalid_field("view", "view must be details, export, status, storage or scrape");
  auto hours = codec::query_count(has_hours ? in["hours"] : json(nullptr));
  if (!hours.ok()) {
    return Error{.code = "invalid_query",
                 .message = "hours must be a whole number from 1 to " +
                            std::to_string(metrics::kMaxUsageHours),
                 .field = "hours"};
  }
  auto w = metrics::usage_window(*view, hours.value(), now);
  if (!w.ok()) return w.error();
  return codec::usage_window_to_json(w.value());
}

// {"columns": [names], "rows": [[cell, ...], ...]} -> {"csv": text}: the one CSV writer of
// r2watch (core/common/csv.h). Text cells are neutralized against spreadsheet formulas and
// quoted; numbers are written as numbers, null as an empty cell, booleans as true/false.
Result<json> csv_table(Engine&, const json& in, TimePoint) {
  FieldReader reader(in);
  bool has_columns = reader.has("columns");
  bool has_rows = reader.has("rows");
  if (auto e = reader.finish()) return *e;
  static const json kNull;
  const json& columns = has_columns ? in["columns"] : kNull;
  const json& rows = has_rows ? in["rows"] : kNull;
  if (!columns.is_array() || columns.empty()) {
    return invalid_field("columns", "columns must be a non-empty list of names");
  }
  if (!rows.is_array()) return invalid_field("rows", "rows must be a list of lists of cells");
  auto cell = [](const json& v) -> std::optional<std::string> {
    if (v.is_string()) return csv_text_cell(v.get_ref<const std::string&>());
    if (v.is_number()) return v.dump();
    if (v.is_boolean()) return std::string(v.get<bool>() ? "true" : "false");
    if (v.is_null()) return std::string();
    return std::nullopt;
  };
  std::string out;
  std::vector<std::string> cells;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (!columns[i].is_string()) {
      return invalid_field("columns[" + std::to_string(i) + "]", "columns must be names");
    }
    cells.push_back(*cell(columns[i]));
  }
  out += csv_row(cells);
  for (size_t r = 0; r < rows.size(); ++r) {
    std::string at = "rows[" + std::to_string(r) + "]";
    if (!rows[r].is_array() || rows[r].size() != columns.size()) {
      return invalid_field(at,
                           at + " must be a list of " + std::to_string(columns.size()) + " cells");
    }
    cells.clear();
    for (size_t c = 0; c < rows[r].size(); ++c) {
      auto text = cell(rows[r][c]);
      if (!text) {
        std::string f = at + "[" + std::to_string(c) + "]";
        return invalid_field(f, f + " must be text, a number, a boolean or null");
      }
      cells.push_back(std::move(*text));
    }
    out += csv_row(cells);
  }
  return json{{"csv", out}};
}

}  // namespace

// The request path's metrics commands (r2watch.wasm): settings, series and the minute rollups'
// flush. The views below are the console module's (wasm-bindings/modules.cc).
std::span<const CommandEntry> metrics_ingest_commands() {
  static constexpr CommandEntry kCommands[] = {
      {"metrics_configure", &metrics_configure},
      {"metrics_settings", &metrics_settings},
      {"metrics_series_info", &metrics_series_info},
      {"metrics_flush_take", &metrics_flush_take},
      {"metrics_flush_confirm", &metrics_flush_confirm},
  };
  return kCommands;
}

std::span<const CommandEntry> metrics_commands() {
  static constexpr CommandEntry kCommands[] = {
      {"metrics_merge", &metrics_merge},
      {"metrics_read_plan", &metrics_read_plan},
      {"metrics_history_plan", &metrics_history_plan},
      {"metrics_rollup_plan", &metrics_rollup_plan},
      {"metrics_series", &metrics_series},
      {"metrics_overview", &metrics_overview},
      {"metrics_retention", &metrics_retention},
      {"metrics_summarize", &metrics_summarize},
      {"usage_summary", &usage_summary},
      {"usage_window", &usage_window},
      {"inventory_add_page", &inventory_add_page},
      {"storage_growth", &storage_growth},
      {"csv_table", &csv_table},
  };
  return kCommands;
}

}  // namespace r2w::bindings
