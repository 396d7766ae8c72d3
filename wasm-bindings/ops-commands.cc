// Commands of the Worker's own operation: the job schedule, heartbeats and their judgement.
#include <algorithm>
#include <map>
#include <string>
#include <tuple>

#include "core/ops/backup.h"
#include "core/ops/cron.h"
#include "core/ops/daily.h"
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
// "daily_work" (optional): the oldest day's work not finished (daily_next's "work"), which
// makes job "daily" late when it is past its deadline (core/ops/daily.h).
Result<json> jobs_status(Engine&, const json& in, TimePoint now) {
  std::optional<ops::DailyWork> work;
  const json* work_json = in.is_object() ? in.find_member("daily_work") : nullptr;
  if (work_json) {
    auto parsed_work = codec::daily_work_from_json(work_json, "daily_work");
    if (!parsed_work.ok()) return parsed_work.error();
    work = std::move(parsed_work).value();
  }
  json rest = in;
  if (work_json) rest.erase("daily_work");
  auto parsed = codec::jobs_from_json(rest, now);
  if (!parsed.ok()) return parsed.error();
  json jobs = json::array();
  for (const ops::JobSpec& spec : parsed.value().specs) {
    const ops::JobHistory& h = parsed.value().history[spec.name];
    ops::JobStatus status = ops::judge_job(spec, h, parsed.value().known_since, now);
    if (spec.name == ops::kDailyJobName) ops::judge_daily_work(status, work, now);
    jobs.push_back(codec::job_status_to_json(status, h));
  }
  return json{{"jobs", jobs},
              {"runs_before_ms", (now - ops::kJobRunRetention).time_since_epoch().count()}};
}

// Query-string text {job?, limit?} of GET /api/admin/jobs -> {"job": name|null, "limit"}: the
// recent runs it lists (kDefaultRecentRuns unless asked, at most kMaxRecentRuns).
Result<json> jobs_runs_query(Engine&, const json& in, TimePoint) {
  FieldReader r(in, "", {.code = "invalid_query"});
  std::optional<std::string> job;
  int64_t limit = ops::kDefaultRecentRuns;
  r.read_optional_string("job", job);
  r.read_query_int("limit", limit, 1, ops::kMaxRecentRuns);
  if (auto err = r.finish()) return *err;
  return json{{"job", json(job)}, {"limit", limit}};
}

// A string member of at most 4096 bytes (the line cuts it at ops::kMaxLoggedFieldChars), or
// null.
constexpr size_t kMaxLoggedBytes = 4096;

// A required string member of at most kMaxLoggedBytes.
void read_logged(FieldReader& r, std::string_view name, std::string& out) {
  std::optional<std::string> v;
  r.require(name);
  r.read_optional_string(name, v, kMaxLoggedBytes);
  if (r.ok() && !v) r.fail(name, "must be a string");
  if (v) out = std::move(*v);
}

// A required whole number of ms, not negative.
void read_whole_ms(FieldReader& r, std::string_view name, int64_t& out) {
  r.require(name);
  r.read_whole(name, out, "a whole number of ms");
  if (out < 0) r.fail(name, "must be a whole number of ms");
}

// {"kind": "request", "time_ms", "method", "route"?, "status", "duration_ms", "request_id"?,
//  "user"?} or {"kind": "job", "time_ms", "job", "trigger", "outcome": ok|error, "duration_ms",
//  "error"?} -> {"line": the JSON log line (core/ops/log-line.h), "level": info|warn|error}. The
//  user is hashed with a key derived from JWT_SECRET (security_configure); without the secret
//  it is left out.
Result<json> log_line(Engine& e, const json& in, TimePoint) {
  FieldReader r(in);
  std::string kind;
  r.read_string("kind", kind);
  if (!r.ok() || (kind != "request" && kind != "job")) {
    return invalid_field("kind", "kind must be request or job");
  }
  int64_t time = 0, duration = 0;
  read_whole_ms(r, "time_ms", time);
  read_whole_ms(r, "duration_ms", duration);
  if (kind == "request") {
    ops::RequestLog l{.time = from_epoch_ms(time), .duration = Duration(duration)};
    read_logged(r, "method", l.method);
    int64_t status = 0;
    r.require("status");
    r.read_int("status", status, 100, 599);
    r.read_optional_string("route", l.route, kMaxLoggedBytes);
    r.read_optional_string("request_id", l.request_id, kMaxLoggedBytes);
    r.read_optional_string("user", l.user, kMaxLoggedBytes);
    if (auto err = r.finish()) return *err;
    l.status = static_cast<int32_t>(status);
    std::optional<std::string_view> key;
    if (e.jwt_secret()) key = *e.jwt_secret();
    return json{{"line", codec::log_line_text(ops::request_line(l, key))},
                {"level", ops::log_level_name(ops::request_log_level(l.status))}};
  }
  ops::JobLog j{.time = from_epoch_ms(time), .duration = Duration(duration)};
  read_logged(r, "job", j.job);
  read_logged(r, "trigger", j.trigger);
  std::string outcome;
  r.require("outcome");
  r.read_string("outcome", outcome);
  if (r.ok() && outcome != "ok" && outcome != "error") r.fail("outcome", "must be ok or error");
  r.read_optional_string("error", j.error, kMaxLoggedBytes);
  if (auto err = r.finish()) return *err;
  j.ok = outcome == "ok";
  return json{{"line", codec::log_line_text(ops::job_line(j))},
              {"level", ops::log_level_name(ops::job_log_level(j))}};
}

// BACKUP_KEEP as the Worker has it (a string, or null when unset).
Result<std::optional<std::string>> keep_var(FieldReader& r) {
  const json* keep = r.read_json("keep");
  if (!keep || keep->is_null()) return std::optional<std::string>();
  if (!keep->is_string()) return invalid_field("BACKUP_KEEP", "BACKUP_KEEP must be a string");
  return std::optional<std::string>(keep->get<std::string>());
}

// A required list of at most `max` strings.
void read_list(FieldReader& r, std::string_view name, std::vector<std::string>& out, size_t max) {
  r.require(name);
  r.read_strings(name, out, max);
}

// {"tables": [names], "keep": BACKUP_KEEP|null} -> {"id", "prefix", "manifest_key", "keep",
// "objects": [{"table", "key"}]}: where a backup started now goes (core/ops/backup.h).
Result<json> backup_plan(Engine&, const json& in, TimePoint now) {
  FieldReader r(in);
  auto keep = keep_var(r);
  if (!keep.ok()) return keep.error();
  std::vector<std::string> tables;
  read_list(r, "tables", tables, ops::kMaxBackupTables);
  if (auto err = r.finish()) return *err;
  auto options = ops::backup_options(keep.value());
  if (!options.ok()) return options.error();
  std::string id = ops::backup_id(now);
  json objects = json::array();
  for (size_t i = 0; i < tables.size(); ++i) {
    const std::string& t = tables[i];
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
  FieldReader r(in);
  r.require("id");
  r.read_string("id", m.id);
  int64_t started = 0;
  read_whole_ms(r, "started_ms", started);
  read_list(r, "schema", m.schema, ops::kMaxBackupStatements);
  r.require("tables");
  const json* tables = r.read_json("tables");
  if (auto err = r.finish()) return *err;
  m.started = from_epoch_ms(started);
  if (!tables->is_array() || tables->size() > ops::kMaxBackupTables) {
    return invalid_field("tables", "tables must be a list of at most " +
                                       std::to_string(ops::kMaxBackupTables) + " tables");
  }
  json out_tables = json::array();
  for (size_t i = 0; i < tables->size(); ++i) {
    FieldReader t((*tables)[i], "tables[" + std::to_string(i) + "]");
    ops::TableBackup b;
    int64_t rows = 0, bytes = 0;
    for (const char* name : {"name", "sha256", "rows", "bytes"}) t.require(name);
    t.read_string("name", b.name);
    t.read_string("sha256", b.sha256);
    t.read_whole("rows", rows, "a count");
    t.read_whole("bytes", bytes, "a count");
    if (rows < 0) t.fail("rows", "must be a count");
    if (bytes < 0) t.fail("bytes", "must be a count");
    if (auto err = t.finish()) return *err;
    b.rows = static_cast<uint64_t>(rows);
    b.bytes = static_cast<uint64_t>(bytes);
    m.tables.push_back(std::move(b));
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

// {"name", "order": "rowid"|"key"} of a table, read with `at` naming it.
void read_backup_tables(FieldReader& r, std::vector<ops::BackupTable>& out) {
  r.require("tables");
  const json* tables = r.read_json("tables");
  if (!tables) return;
  if (!tables->is_array() || tables->size() > ops::kMaxBackupTables) {
    r.fail("tables",
           "must be a list of at most " + std::to_string(ops::kMaxBackupTables) + " tables");
    return;
  }
  for (size_t i = 0; i < tables->size() && r.ok(); ++i) {
    std::string at = "tables[" + std::to_string(i) + "]";
    if (!(*tables)[i].is_object()) {
      r.fail(at, "must be an object {name, order}");
      return;
    }
    FieldReader t((*tables)[i], at);
    ops::BackupTable b;
    std::string order;
    t.require("name");
    t.require("order");
    t.read_string("name", b.name);
    t.read_string("order", order);
    auto parsed = ops::parse_row_order(order);
    if (t.ok() && !parsed) t.fail("order", "must be rowid or key");
    if (auto err = t.finish()) {
      r.fail(at, err->message);
      return;
    }
    b.order = *parsed;
    out.push_back(std::move(b));
  }
}

// {"id", "started_ms", "parts": [{"table", "part", "last_rowid"|null, "rows", "sha256",
// "bytes"}]}: a backup under way, as the Worker recorded it (D1's backup_progress).
Result<std::optional<ops::BackupProgress>> read_backup_progress(const json* in) {
  if (!in || in->is_null()) return std::optional<ops::BackupProgress>();
  if (!in->is_object()) return invalid_field("progress", "progress must be an object or null");
  FieldReader r(*in, "progress");
  ops::BackupProgress p;
  int64_t started = 0;
  r.require("id");
  r.read_string("id", p.id);
  read_whole_ms(r, "started_ms", started);
  r.require("parts");
  const json* parts = r.read_json("parts");
  if (auto err = r.finish()) return *err;
  p.started = from_epoch_ms(std::min(started, kMaxEpochMs));
  if (!parts->is_array() || parts->size() > ops::kMaxBackupParts) {
    return invalid_field("progress.parts", "progress.parts must be a list of at most " +
                                               std::to_string(ops::kMaxBackupParts) + " parts");
  }
  for (size_t i = 0; i < parts->size(); ++i) {
    if (!(*parts)[i].is_object()) {
      return invalid_field("progress.parts", "progress.parts must be objects");
    }
    FieldReader t((*parts)[i], "progress.parts[" + std::to_string(i) + "]");
    ops::BackupPart b;
    int64_t part = 0, rows = 0, bytes = 0;
    for (const char* name : {"table", "part", "rows", "sha256", "bytes", "last_rowid"}) {
      t.require(name);
    }
    t.read_string("table", b.table);
    t.read_string("sha256", b.sha256);
    t.read_whole("part", part, "a count");
    t.read_whole("rows", rows, "a count");
    t.read_whole("bytes", bytes, "a count");
    if (const json* last = t.read_json("last_rowid"); last && !last->is_null()) {
      int64_t v = 0;
      t.read_whole("last_rowid", v, "a rowid or null");
      b.last_rowid = v;
    }
    for (auto [name, v] : {std::pair{"part", part}, {"rows", rows}, {"bytes", bytes}}) {
      if (v < 0 || (std::string_view(name) == "part" && v > 999'999))
        t.fail(name, "must be a count");
    }
    if (auto err = t.finish()) return *err;
    b.part = static_cast<uint32_t>(part);
    b.rows = static_cast<uint64_t>(rows);
    b.bytes = static_cast<uint64_t>(bytes);
    p.parts.push_back(std::move(b));
  }
  return std::optional<ops::BackupProgress>(std::move(p));
}

// {"id", "started_ms", "tables": [{"table", "parts", "last_part", "last_rows", "last_rowid"|
// null}]}: a backup under way as each table's cursor (D1's backup_progress summed up per table;
// core/ops/backup.h TableCursor); "last_part" must be parts - 1 (parts 0..n, none missing).
Result<std::optional<ops::BackupProgress>> read_backup_cursors(const json& in) {
  FieldReader r(in, "progress");
  std::string id;
  int64_t started = 0;
  r.require("id");
  r.read_string("id", id);
  read_whole_ms(r, "started_ms", started);
  const json* tables = r.read_json("tables");
  if (auto err = r.finish()) return *err;
  if (!tables->is_array() || tables->size() > ops::kMaxBackupTables) {
    return invalid_field("progress.tables", "progress.tables must be a list of tables");
  }
  std::vector<ops::TableCursor> cursors;
  for (size_t i = 0; i < tables->size(); ++i) {
    const std::string at = "progress.tables[" + std::to_string(i) + "]";
    if (!(*tables)[i].is_object()) return invalid_field(at, at + " must be an object");
    FieldReader t((*tables)[i], at, {.nulls = FieldNulls::kAbsent});
    ops::TableCursor c;
    int64_t parts = 0, last_part = 0, rows = 0;
    for (const char* name : {"table", "parts", "last_part", "last_rows"}) t.require(name);
    t.read_string("table", c.table);
    t.read_int("parts", parts, 1, ops::kMaxBackupParts);
    t.read_int("last_part", last_part, 0, ops::kMaxBackupParts);
    t.read_int("last_rows", rows, 0, INT64_C(1) << 40);
    if (const json* last = t.read_json("last_rowid"); last && !last->is_null()) {
      int64_t v = 0;
      t.read_whole("last_rowid", v, "a rowid or null");
      c.last_rowid = v;
    }
    if (t.ok() && last_part + 1 != parts)
      t.fail("last_part", "must be parts - 1 (parts 0..n, none missing)");
    if (auto err = t.finish()) return *err;
    c.parts = static_cast<uint32_t>(parts);
    c.last_rows = static_cast<uint64_t>(rows);
    cursors.push_back(std::move(c));
  }
  auto p = ops::progress_of_cursors(std::move(id), from_epoch_ms(std::min(started, kMaxEpochMs)),
                                    cursors);
  if (!p.ok()) return p.error();
  return std::optional<ops::BackupProgress>(std::move(p).value());
}

// {"trigger": "start"|"continue", "tables": [{"name", "order"}], "progress": {...} (every part,
//  or each table's cursor: read_backup_cursors)|null, "step_rows", "step_parts"} -> {"action":
//  "idle"|"copy"|"yield"|"finish", "id", "started_ms", and for "copy": "table", "part", "key",
//  "order", "after_rowid"|null, "offset", "limit"; for "finish": "manifest_key"}: the next move of
//  a backup step (core/ops/backup.h).
Result<json> backup_step(Engine&, const json& in, TimePoint now) {
  FieldReader r(in);
  std::string trigger_name;
  r.require("trigger");
  r.read_string("trigger", trigger_name);
  auto trigger = ops::parse_backup_trigger(trigger_name);
  if (r.ok() && !trigger) r.fail("trigger", "must be start or continue");
  std::vector<ops::BackupTable> tables;
  read_backup_tables(r, tables);
  const json* progress_json = r.read_json("progress");
  int64_t rows = 0, parts = 0;
  r.require("step_rows");
  r.require("step_parts");
  r.read_whole("step_rows", rows, "a count");
  r.read_whole("step_parts", parts, "a count");
  if (rows < 0) r.fail("step_rows", "must be a count");
  if (parts < 0) r.fail("step_parts", "must be a count");
  if (auto err = r.finish()) return *err;
  // A progress as each table's cursor (what the Worker's steps send) or as every part.
  const bool cursors =
      progress_json && progress_json->is_object() && progress_json->contains("tables");
  auto progress =
      cursors ? read_backup_cursors(*progress_json) : read_backup_progress(progress_json);
  if (!progress.ok()) return progress.error();
  auto next = ops::next_backup_step(
      tables, progress.value(), *trigger,
      {.rows = static_cast<uint64_t>(rows), .parts = static_cast<uint64_t>(parts)}, now);
  if (!next.ok()) return next.error();
  const ops::BackupNext& n = next.value();
  json out{{"action", std::string(ops::backup_action_name(n.action))}};
  if (n.action == ops::BackupAction::kIdle) return out;
  out["id"] = n.id;
  out["started_ms"] = to_epoch_ms(n.started);
  if (n.action == ops::BackupAction::kCopy) {
    out["table"] = n.table;
    out["part"] = n.part;
    out["key"] = n.key;
    out["order"] = std::string(ops::row_order_name(n.order));
    out["after_rowid"] = n.after_rowid ? json(*n.after_rowid) : json(nullptr);
    out["offset"] = n.offset;
    out["limit"] = n.limit;
  }
  if (n.action == ops::BackupAction::kFinish) out["manifest_key"] = ops::backup_manifest_key(n.id);
  return out;
}

// {"tables": [{"name", "order"}], "progress": {...}, "schema": [SQL]} -> {"manifest": version
// 2, each table's parts (key, rows, sha256, bytes) in order}, finished now.
Result<json> backup_manifest_parts(Engine&, const json& in, TimePoint now) {
  FieldReader r(in);
  std::vector<ops::BackupTable> tables;
  read_backup_tables(r, tables);
  r.require("progress");
  const json* progress_json = r.read_json("progress");
  std::vector<std::string> schema;
  read_list(r, "schema", schema, ops::kMaxBackupStatements);
  if (auto err = r.finish()) return *err;
  auto progress = read_backup_progress(progress_json);
  if (!progress.ok()) return progress.error();
  if (!progress.value()) return invalid_field("progress", "progress must be an object");
  const ops::BackupProgress& p = *progress.value();
  auto next = ops::next_backup_step(tables, p, ops::BackupTrigger::kStart, {}, now);
  if (!next.ok()) return next.error();
  if (next.value().action != ops::BackupAction::kFinish) {
    return invalid_field("progress", "progress: table " + next.value().table + " is not done");
  }
  auto by_table = ops::backup_tables_of(tables, p);
  if (!by_table.ok()) return by_table.error();
  json out_tables = json::array();
  for (const ops::TableParts& t : by_table.value()) {
    json parts = json::array();
    uint64_t rows = 0;
    for (const ops::BackupPart& part : t.parts) {
      rows += part.rows;
      parts.push_back({{"key", ops::backup_part_key(p.id, t.name, part.part)},
                       {"rows", part.rows},
                       {"sha256", part.sha256},
                       {"bytes", part.bytes}});
    }
    out_tables.push_back({{"name", t.name}, {"rows", rows}, {"parts", parts}});
  }
  return json{{"manifest",
               {{"format", "r2watch-backup"},
                {"version", ops::kManifestVersionParts},
                {"id", p.id},
                {"started_ms", to_epoch_ms(p.started)},
                {"finished_ms", to_epoch_ms(now)},
                {"checksum", "sha256 of each part's uncompressed JSON lines"},
                {"tables", out_tables},
                {"schema", schema}}}};
}

// {"keep": BACKUP_KEEP|null, "current": id, "under_way": id|null (optional), "keys": [every key
// under .r2watch/backups/]} -> {"delete": [keys]}: all but the `keep` newest complete backups,
// the current one and the one made in steps that is under way.
Result<json> backup_prune(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  auto keep = keep_var(r);
  if (!keep.ok()) return keep.error();
  std::vector<std::string> keys;
  read_list(r, "keys", keys, ops::kMaxListedKeys);
  std::string current;
  r.require("current");
  r.read_string("current", current);
  std::optional<std::string> under_way;
  r.read_optional_string("under_way", under_way, 64);
  if (auto err = r.finish()) return *err;
  auto options = ops::backup_options(keep.value());
  if (!options.ok()) return options.error();
  return json{{"delete",
               ops::backup_keys_to_delete(keys, options.value(), current, under_way.value_or(""))}};
}

// {"vars": {"NAME": "days"}} (the retention variables the Worker has) and
// "probe_retention_days": the monitor's retentionDays or null -> the settings, or an error naming
// the variable.
// Read with `r`, whose caller reads the rest and finishes.
Result<ops::RetentionSettings> parse_retention(FieldReader& r) {
  std::map<std::string, std::string> vars;
  if (const json* v = r.read_json("vars"); v && !v->is_null()) {
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
  int64_t days = -1;
  r.read_int("probe_retention_days", days, 0, ops::kMaxRetentionDays);
  if (!r.ok()) return *r.finish();
  if (days >= 0) probe_days = static_cast<uint32_t>(days);
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
  FieldReader r(in, "", {.nulls = FieldNulls::kAbsent});
  auto settings = parse_retention(r);
  if (!settings.ok()) return settings.error();
  if (auto err = r.finish()) return *err;
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
  FieldReader r(in, "", {.nulls = FieldNulls::kAbsent});
  auto settings = parse_retention(r);
  if (!settings.ok()) return settings.error();
  std::string table;
  r.require("table");
  r.read_string("table", table);
  std::optional<TimePoint> oldest_time;
  std::optional<std::string> oldest_day;
  r.read_time("oldest_ms", oldest_time);
  r.read_optional_string("oldest_day", oldest_day);
  if (auto err = r.finish()) return *err;
  std::optional<ops::TableCutoff> cutoff;
  for (const ops::TableCutoff& c : ops::retention_cutoffs(settings.value(), now)) {
    if (c.policy->table == table) cutoff = c;
  }
  if (!cutoff) return invalid_field("table", "table has no retention policy");
  std::optional<int64_t> oldest_ms;
  if (oldest_time) oldest_ms = to_epoch_ms(*oldest_time);
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
  FieldReader r(in);
  std::vector<std::string> keys;
  read_list(r, "keys", keys, ops::kMaxListedKeys);
  if (auto err = r.finish()) return *err;
  std::vector<std::pair<ops::ArchiveKey, std::string>> found;
  for (const std::string& k : keys) {
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
  FieldReader r(in);
  std::string table, month;
  r.read_string("table", table);
  r.read_string("month", month);
  if (auto err = r.finish()) return *err;
  const ops::TablePolicy* p = ops::find_policy(table);
  if (!p || p->action != ops::RetentionAction::kArchive) {
    return invalid_field("table", "table must be a table that is archived");
  }
  auto ym = parse_year_month(month);
  if (!ym) return invalid_field("month", "month must be YYYY-MM");
  return json{{"key", ops::archive_key(p->table, *ym)}};
}

}  // namespace

// {} -> {"day": "YYYY-MM-DD", "started_ms"}: the day's work the daily cron starts now.
Result<json> daily_start(Engine&, const json& in, TimePoint now) {
  FieldReader r(in);
  if (auto err = r.finish()) return *err;
  const ops::DailyStart s = ops::daily_start(now);
  return json{{"day", format_date(s.day)}, {"started_ms", to_epoch_ms(s.started)}};
}

// {"work": the oldest unfinished day's work (codec::daily_work_from_json) | null,
//  "later_started"?: whether a later day's work has started} -> {"action": "idle"|"run"|
// "give_up"|"skip"|"finish", "task"?: its name, "tasks": the day's tasks}: the move of a
// 5-minute run (core/ops/daily.h).
Result<json> daily_next(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  r.require("work");
  const json* work_json = r.read_json("work");
  bool later = false;
  r.read_bool("later_started", later);
  if (auto err = r.finish()) return *err;
  auto work = codec::daily_work_from_json(work_json, "work");
  if (!work.ok()) return work.error();
  auto next =
      ops::next_daily_step(work.value(), later ? ops::LaterWork::kStarted : ops::LaterWork::kNone);
  if (!next.ok()) return next.error();
  json out{{"action", std::string(ops::daily_action_name(next.value().action))}};
  if (next.value().action == ops::DailyAction::kRun ||
      next.value().action == ops::DailyAction::kGiveUp ||
      next.value().action == ops::DailyAction::kSkip) {
    out["task"] = std::string(ops::daily_task_name(next.value().task));
  }
  if (work.value()) {
    json tasks = json::array();
    for (ops::DailyTask t : ops::daily_tasks(work.value()->started)) {
      tasks.push_back(std::string(ops::daily_task_name(t)));
    }
    out["tasks"] = tasks;
  }
  return out;
}

// {"buckets": [names], "after": name|null} -> {"bucket": name|null, "left_after"}: the bucket
// the next step of the day rollup rolls up (core/ops/daily.h).
Result<json> day_rollup_step(Engine&, const json& in, TimePoint) {
  FieldReader r(in, "", {.nulls = FieldNulls::kAbsent});
  std::vector<std::string> buckets;
  std::optional<std::string> after;
  r.require("buckets");
  r.read_strings("buckets", buckets, ops::kMaxDayRollupBuckets);
  r.read_optional_string("after", after);
  if (auto err = r.finish()) return *err;
  const ops::DayRollupStep s = ops::next_day_rollup_bucket(std::move(buckets), after);
  return json{{"bucket", json(s.bucket)}, {"left_after", s.left_after}};
}

// The request path's log line (r2watch.wasm); the jobs, backups and archives below are the
// console module's (wasm-bindings/modules.cc).
std::span<const CommandEntry> log_commands() {
  static constexpr CommandEntry kCommands[] = {{"log_line", &log_line}};
  return kCommands;
}

std::span<const CommandEntry> ops_commands() {
  static constexpr CommandEntry kCommands[] = {
      {"jobs_status", &jobs_status},
      {"jobs_runs_query", &jobs_runs_query},
      {"backup_plan", &backup_plan},
      {"backup_manifest", &backup_manifest},
      {"backup_prune", &backup_prune},
      {"retention_plan", &retention_plan},
      {"archive_window", &archive_window},
      {"archive_list", &archive_list},
      {"archive_key", &archive_key},
      {"backup_step", &backup_step},
      {"backup_manifest_parts", &backup_manifest_parts},
      {"daily_start", &daily_start},
      {"daily_next", &daily_next},
      {"day_rollup_step", &day_rollup_step},
  };
  return kCommands;
}

}  // namespace r2w::bindings
