// Commands of the Worker's own operation: the job schedule, heartbeats and their judgement.
#include <algorithm>
#include <map>
#include <string>
#include <tuple>

#include "core/ops/backup.h"
#include "core/ops/cron.h"
#include "core/ops/jobs.h"
#include "core/ops/log-line.h"
#include "core/ops/retention.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/codec/ops.h"
#include "wasm-bindings/commands.h"
#include "wasm-bindings/engine.h"

namespace r2w::bindings {

using json = r2w::Json;

namespace {

// {"schedule", "history", "known_since_ms"} (as job_statuses_from_json) -> {"jobs": [{"name",
// "cron", "interval_ms", "previous_due_ms", "next_due_ms", "last_started_ms", "last_ended_ms",
// "last_outcome", "last_success_ms", "missed_runs", "health": ok|late|stale, "reason"}],
// "runs_before_ms": heartbeats older than this are deleted by the daily job}.
Result<json> jobs_status(Engine&, const json& in, TimePoint now) {
  auto parsed = codec::jobs_from_json(in, now);
  if (!parsed.ok()) return parsed.error();
  json jobs = json::array();
  for (const ops::JobSpec& spec : parsed.value().specs) {
    const ops::JobHistory& h = parsed.value().history[spec.name];
    jobs.push_back(
        codec::job_status_to_json(ops::judge_job(spec, h, parsed.value().known_since, now), h));
  }
  return json{{"jobs", jobs},
              {"runs_before_ms", (now - ops::kJobRunRetention).time_since_epoch().count()}};
}

// An optional string member of at most ops::kMaxLoggedFieldChars * 4 bytes (the line cuts it).
Result<std::optional<std::string>> optional_string(const json& in, const char* name) {
  auto it = in.find(name);
  if (it == in.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string() || it->get<std::string>().size() > 4096) {
    return invalid_field(name, std::string(name) + " must be a string of at most 4096 bytes");
  }
  return std::optional<std::string>(it->get<std::string>());
}

Result<int64_t> whole_ms(const json& in, const char* name) {
  auto it = in.find(name);
  if (it == in.end() || !it->is_number_integer() || it->get<int64_t>() < 0) {
    return invalid_field(name, std::string(name) + " must be a whole number of ms");
  }
  return it->get<int64_t>();
}

// {"kind": "request", "time_ms", "method", "route"?, "status", "duration_ms", "request_id"?,
//  "user"?} or {"kind": "job", "time_ms", "job", "trigger", "outcome": ok|error, "duration_ms",
//  "error"?} -> {"line": the JSON log line (core/ops/log-line.h), "level": info|warn|error}. The
//  user is hashed with a
// key derived from JWT_SECRET (security_configure); without the secret it is left out.
Result<json> log_line(Engine& e, const json& in, TimePoint) {
  auto kind = in.find("kind");
  if (kind == in.end() || !kind->is_string() || (*kind != "request" && *kind != "job")) {
    return invalid_field("kind", "kind must be request or job");
  }
  auto time = whole_ms(in, "time_ms");
  if (!time.ok()) return time.error();
  auto duration = whole_ms(in, "duration_ms");
  if (!duration.ok()) return duration.error();
  if (*kind == "request") {
    ops::RequestLog r{.time = from_epoch_ms(time.value()), .duration = Duration(duration.value())};
    auto method = optional_string(in, "method");
    if (!method.ok()) return method.error();
    if (!method.value()) return invalid_field("method", "method must be a string");
    r.method = *method.value();
    auto status = in.find("status");
    if (status == in.end() || !status->is_number_integer() || status->get<int64_t>() < 100 ||
        status->get<int64_t>() > 599) {
      return invalid_field("status", "status must be an HTTP status (100..599)");
    }
    r.status = static_cast<int32_t>(status->get<int64_t>());
    for (auto [name, target] :
         {std::pair{"route", &r.route}, std::pair{"request_id", &r.request_id},
          std::pair{"user", &r.user}}) {
      auto v = optional_string(in, name);
      if (!v.ok()) return v.error();
      *target = v.value();
    }
    std::optional<std::string_view> key;
    if (e.jwt_secret()) key = *e.jwt_secret();
    return json{{"line", codec::log_line_text(ops::request_line(r, key))},
                {"level", ops::log_level_name(ops::request_log_level(r.status))}};
  }
  ops::JobLog j{.time = from_epoch_ms(time.value()), .duration = Duration(duration.value())};
  for (auto [name, target] : {std::pair{"job", &j.job}, std::pair{"trigger", &j.trigger}}) {
    auto v = optional_string(in, name);
    if (!v.ok()) return v.error();
    if (!v.value()) return invalid_field(name, std::string(name) + " must be a string");
    *target = *v.value();
  }
  auto outcome = in.find("outcome");
  if (outcome == in.end() || !outcome->is_string() || (*outcome != "ok" && *outcome != "error")) {
    return invalid_field("outcome", "outcome must be ok or error");
  }
  j.ok = *outcome == "ok";
  auto error = optional_string(in, "error");
  if (!error.ok()) return error.error();
  j.error = error.value();
  return json{{"line", codec::log_line_text(ops::job_line(j))},
              {"level", ops::log_level_name(ops::job_log_level(j))}};
}

Result<std::optional<std::string>> keep_var(const json& in) {
  auto it = in.find("keep");
  if (it == in.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return invalid_field("BACKUP_KEEP", "BACKUP_KEEP must be a string");
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::vector<std::string>> string_list(const json& in, const char* name, size_t max) {
  auto it = in.find(name);
  if (it == in.end() || !it->is_array() || it->size() > max) {
    return invalid_field(
        name, std::string(name) + " must be a list of at most " + std::to_string(max) + " strings");
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string()) {
      std::string at = std::string(name) + "[" + std::to_string(i) + "]";
      return invalid_field(at, at + " must be a string");
    }
    out.push_back((*it)[i].get<std::string>());
  }
  return out;
}

// {"tables": [names], "keep": BACKUP_KEEP|null} -> {"id", "prefix", "manifest_key", "keep",
// "objects": [{"table", "key"}]}: where a backup started now goes (core/ops/backup.h).
Result<json> backup_plan(Engine&, const json& in, TimePoint now) {
  auto keep = keep_var(in);
  if (!keep.ok()) return keep.error();
  auto options = ops::backup_options(keep.value());
  if (!options.ok()) return options.error();
  auto tables = string_list(in, "tables", 512);
  if (!tables.ok()) return tables.error();
  std::string id = ops::backup_id(now);
  json objects = json::array();
  for (size_t i = 0; i < tables.value().size(); ++i) {
    const std::string& t = tables.value()[i];
    if (!ops::valid_table_name(t)) {
      std::string at = "tables[" + std::to_string(i) + "]";
      return invalid_field(at, at + " must be a table name ([A-Za-z0-9_])");
    }
    objects.push_back({{"table", t}, {"key", ops::backup_table_key(id, t)}});
  }
  return json{{"id", id},
              {"prefix", std::string(ops::kBackupRoot)},
              {"manifest_key", ops::backup_manifest_key(id)},
              {"keep", options.value().keep},
              {"objects", objects}};
}

// {"id", "started_ms", "tables": [{"name", "rows", "sha256", "bytes"}], "schema": [SQL]} ->
// {"manifest": what manifest.json holds}, finished now. Checksums: SHA-256 of each table's
// uncompressed JSON lines.
Result<json> backup_manifest(Engine&, const json& in, TimePoint now) {
  ops::BackupManifest m{.finished = now};
  auto id = in.find("id");
  if (id == in.end() || !id->is_string()) return invalid_field("id", "id must be a backup id");
  m.id = id->get<std::string>();
  auto started = whole_ms(in, "started_ms");
  if (!started.ok()) return started.error();
  m.started = from_epoch_ms(started.value());
  auto schema = string_list(in, "schema", 2048);
  if (!schema.ok()) return schema.error();
  m.schema = schema.value();
  auto tables = in.find("tables");
  if (tables == in.end() || !tables->is_array() || tables->size() > 512) {
    return invalid_field("tables", "tables must be a list of at most 512 tables");
  }
  json out_tables = json::array();
  for (size_t i = 0; i < tables->size(); ++i) {
    const json& t = (*tables)[i];
    std::string at = "tables[" + std::to_string(i) + "]";
    if (!t.is_object() || !t.contains("name") || !t["name"].is_string() || !t.contains("sha256") ||
        !t["sha256"].is_string()) {
      return invalid_field(at, at + " must have a name and a sha256");
    }
    auto rows = whole_ms(t, "rows");
    auto bytes = whole_ms(t, "bytes");
    if (!rows.ok() || !bytes.ok()) {
      return invalid_field(at + (rows.ok() ? ".bytes" : ".rows"),
                           at + " rows and bytes must be counts");
    }
    m.tables.push_back({.name = t["name"].get<std::string>(),
                        .rows = static_cast<uint64_t>(rows.value()),
                        .sha256 = t["sha256"].get<std::string>(),
                        .bytes = static_cast<uint64_t>(bytes.value())});
  }
  auto checked = ops::check_manifest(m);
  if (!checked.ok()) return checked.error();
  for (const ops::TableBackup& t : m.tables) {
    out_tables.push_back({{"name", t.name},
                          {"key", ops::backup_table_key(m.id, t.name)},
                          {"rows", t.rows},
                          {"sha256", t.sha256},
                          {"bytes", t.bytes}});
  }
  return json{{"manifest",
               {{"format", "r2watch-backup"},
                {"version", ops::kManifestVersion},
                {"id", m.id},
                {"started_ms", to_epoch_ms(m.started)},
                {"finished_ms", to_epoch_ms(m.finished)},
                {"checksum", "sha256 of each table's uncompressed JSON lines"},
                {"tables", out_tables},
                {"schema", m.schema}}}};
}

// {"keep": BACKUP_KEEP|null, "current": id, "keys": [every key under .r2watch/backups/]} ->
// {"delete": [keys]}: all but the `keep` newest complete backups and the current one.
Result<json> backup_prune(Engine&, const json& in, TimePoint) {
  auto keep = keep_var(in);
  if (!keep.ok()) return keep.error();
  auto options = ops::backup_options(keep.value());
  if (!options.ok()) return options.error();
  auto keys = string_list(in, "keys", 100'000);
  if (!keys.ok()) return keys.error();
  auto current = in.find("current");
  if (current == in.end() || !current->is_string()) {
    return invalid_field("current", "current must be a backup id");
  }
  return json{{"delete", ops::backup_keys_to_delete(keys.value(), options.value(),
                                                    current->get<std::string>())}};
}

// {"vars": {"NAME": "days"}} (the retention variables the Worker has) and
// "probe_retention_days": the monitor's retentionDays or null -> the settings, or an error naming
// the variable.
Result<ops::RetentionSettings> parse_retention(const json& in) {
  if (!in.is_object()) return invalid_field("retention", "the body must be an object");
  std::map<std::string, std::string> vars;
  if (auto v = in.find("vars"); v != in.end() && !v->is_null()) {
    if (!v->is_object() || v->size() > 64) {
      return invalid_field("vars", "vars must be an object of at most 64 variables");
    }
    for (const auto& [name, value] : v->items()) {
      if (value.is_string()) {
        vars[name] = value.get<std::string>();
      } else if (value.is_number_unsigned()) {
        vars[name] = std::to_string(value.get<uint64_t>());
      } else {
        return invalid_field(name, name + " must be a whole number of days");
      }
    }
  }
  std::optional<uint32_t> probe_days;
  if (auto p = in.find("probe_retention_days"); p != in.end() && !p->is_null()) {
    if (!p->is_number_unsigned() || p->get<uint64_t>() > ops::kMaxRetentionDays) {
      return invalid_field("probe_retention_days",
                           "probe_retention_days must be a whole number of days or null");
    }
    probe_days = static_cast<uint32_t>(p->get<uint64_t>());
  }
  return ops::retention_settings(vars, probe_days);
}

json cutoff_to_json(const ops::TableCutoff& c) {
  const ops::TablePolicy& p = *c.policy;
  json key = json::array();
  for (std::string_view k : p.key) key.push_back(std::string(k));
  return {{"table", std::string(p.table)},
          {"time_column", std::string(p.time_column)},
          {"time_kind", std::string(ops::time_kind_name(p.time_kind))},
          {"key", key},
          {"filter", std::string(ops::row_filter_name(p.filter))},
          {"action", std::string(ops::retention_action_name(p.action))},
          {"variable", std::string(p.variable)},
          {"days", c.days},
          {"before_ms", to_epoch_ms(c.before)},
          {"before_day", c.before_day}};
}

// {"vars", "probe_retention_days"} -> {"tables": [{"table", "time_column", "time_kind": ms|day,
// "key": [columns], "filter", "action": archive|delete, "variable", "days", "before_ms",
// "before_day"}], "other_tables": [{"table", "bounded_by"}], "archive_prefix", "rows_per_read",
// "rows_per_write", "steps_per_run"}: what the retention job does at `now` (core/ops/retention.h).
Result<json> retention_plan(Engine&, const json& in, TimePoint now) {
  auto settings = parse_retention(in);
  if (!settings.ok()) return settings.error();
  json tables = json::array();
  for (const ops::TableCutoff& c : ops::retention_cutoffs(settings.value(), now)) {
    tables.push_back(cutoff_to_json(c));
  }
  json other = json::array();
  for (const ops::OtherTable& o : ops::other_tables()) {
    other.push_back({{"table", std::string(o.table)}, {"bounded_by", std::string(o.bounded_by)}});
  }
  return json{{"tables", tables},
              {"other_tables", other},
              {"archive_prefix", std::string(ops::kArchiveRoot)},
              {"rows_per_read", ops::kArchiveRowsPerRead},
              {"rows_per_write", ops::kArchiveRowsPerObjectWrite},
              {"steps_per_run", ops::kArchiveStepsPerRun}};
}

// {"vars", "probe_retention_days", "table", "oldest_ms" | "oldest_day"} -> {"month", "key",
// "from_ms", "to_ms", "from_day", "to_day"}: the archive object the oldest row past retention
// goes to, and the slice of rows (from <= time < to) that goes there in this step.
Result<json> archive_window(Engine&, const json& in, TimePoint now) {
  auto settings = parse_retention(in);
  if (!settings.ok()) return settings.error();
  auto table = in.find("table");
  if (table == in.end() || !table->is_string()) return invalid_field("table", "table is missing");
  std::optional<ops::TableCutoff> cutoff;
  for (const ops::TableCutoff& c : ops::retention_cutoffs(settings.value(), now)) {
    if (c.policy->table == table->get<std::string>()) cutoff = c;
  }
  if (!cutoff) return invalid_field("table", "table has no retention policy");
  std::optional<int64_t> oldest_ms;
  std::optional<std::string> oldest_day;
  if (auto o = in.find("oldest_ms"); o != in.end() && o->is_number_integer()) {
    oldest_ms = o->get<int64_t>();
  }
  if (auto o = in.find("oldest_day"); o != in.end() && o->is_string()) {
    oldest_day = o->get<std::string>();
  }
  auto w = ops::archive_window(
      *cutoff, oldest_ms, oldest_day ? std::optional<std::string_view>(*oldest_day) : std::nullopt);
  if (!w.ok()) return w.error();
  return json{{"month", w.value().month},
              {"key", w.value().key},
              {"from_ms", to_epoch_ms(w.value().from)},
              {"to_ms", to_epoch_ms(w.value().to)},
              {"from_day", w.value().from_day},
              {"to_day", w.value().to_day}};
}

// {"keys": [keys under .r2watch/archive/]} -> {"archives": [{"key", "table", "month"}]}: the
// archive objects among them, by table then month.
Result<json> archive_list(Engine&, const json& in, TimePoint) {
  auto keys = string_list(in, "keys", 100'000);
  if (!keys.ok()) return keys.error();
  std::vector<std::pair<ops::ArchiveKey, std::string>> found;
  for (const std::string& k : keys.value()) {
    if (auto a = ops::parse_archive_key(k)) found.emplace_back(*a, k);
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first.table, a.first.month) < std::tie(b.first.table, b.first.month);
  });
  json out = json::array();
  for (const auto& [a, k] : found) {
    out.push_back({{"key", k}, {"table", a.table}, {"month", a.month}});
  }
  return json{{"archives", out}};
}

// {"table", "month"} -> {"key"}: the archive object of one table-month, or an error naming the
// field (a table with no archive policy, a month that is not YYYY-MM).
Result<json> archive_key(Engine&, const json& in, TimePoint) {
  auto table = in.find("table");
  const ops::TablePolicy* p = table != in.end() && table->is_string()
                                  ? ops::find_policy(table->get<std::string>())
                                  : nullptr;
  if (!p || p->action != ops::RetentionAction::kArchive) {
    return invalid_field("table", "table must be a table that is archived");
  }
  auto month = in.find("month");
  auto ym = month != in.end() && month->is_string() ? parse_year_month(month->get<std::string>())
                                                    : std::nullopt;
  if (!ym) return invalid_field("month", "month must be YYYY-MM");
  return json{{"key", ops::archive_key(p->table, *ym)}};
}

}  // namespace

// The request path's log line (r2watch.wasm); the jobs, backups and archives below are the
// console module's (wasm-bindings/modules.cc).
std::span<const CommandEntry> log_commands() {
  static constexpr CommandEntry kCommands[] = {{"log_line", &log_line}};
  return kCommands;
}

std::span<const CommandEntry> ops_commands() {
  static constexpr CommandEntry kCommands[] = {
      {"jobs_status", &jobs_status},         {"backup_plan", &backup_plan},
      {"backup_manifest", &backup_manifest}, {"backup_prune", &backup_prune},
      {"retention_plan", &retention_plan},   {"archive_window", &archive_window},
      {"archive_list", &archive_list},       {"archive_key", &archive_key},
  };
  return kCommands;
}

}  // namespace r2w::bindings
