#include "core/ops/backup.h"

#include <algorithm>
#include <set>

#include "core/common/civil-date.h"
#include "core/common/format.h"

namespace r2w::ops {

namespace {

constexpr uint32_t kMaxKeep = 365;
constexpr size_t kMaxTableName = 128;
constexpr size_t kIdLength = 16;  // YYYYMMDDTHHMMSSZ

bool is_id(std::string_view s) {
  if (s.size() != kIdLength || s[8] != 'T' || s[15] != 'Z') return false;
  for (size_t i = 0; i < kIdLength; ++i) {
    if (i == 8 || i == 15) continue;
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

}  // namespace

Result<BackupOptions> backup_options(const std::optional<std::string>& keep_var) {
  BackupOptions o;
  if (!keep_var || keep_var->empty()) return o;
  const std::string& v = *keep_var;
  bool digits =
      v.size() <= 3 && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
  uint32_t n = 0;
  for (char c : v) n = n * 10 + static_cast<uint32_t>(c - '0');
  if (!digits || n < 1 || n > kMaxKeep) {
    return invalid_field("BACKUP_KEEP", "BACKUP_KEEP must be a whole number of backups, 1..365");
  }
  o.keep = n;
  return o;
}

std::string backup_id(TimePoint started) {
  int64_t ms = to_epoch_ms(started);
  int64_t day_ms = 86'400'000;
  int64_t days = ms >= 0 ? ms / day_ms : -((-ms + day_ms - 1) / day_ms);
  int64_t in_day = (ms - days * day_ms) / 1000;
  CivilDate d = date_from_days(days);
  std::string id;
  append_padded(id, d.year, 4);
  append_padded(id, d.month, 2);
  append_padded(id, d.day, 2);
  id.push_back('T');
  append_padded(id, in_day / 3600, 2);
  append_padded(id, in_day / 60 % 60, 2);
  append_padded(id, in_day % 60, 2);
  id.push_back('Z');
  return id;
}

std::string backup_prefix(std::string_view id) {
  return std::string(kBackupRoot) + std::string(id) + "/";
}

std::string backup_table_key(std::string_view id, std::string_view table) {
  return backup_prefix(id) + std::string(table) + ".jsonl.gz";
}

std::string backup_manifest_key(std::string_view id) {
  return backup_prefix(id) + std::string(kManifestName);
}

bool valid_table_name(std::string_view table) {
  if (table.empty() || table.size() > kMaxTableName) return false;
  return std::all_of(table.begin(), table.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

Status check_manifest(const BackupManifest& m) {
  if (!is_id(m.id)) return invalid_field("id", "id must be a backup id (YYYYMMDDTHHMMSSZ)");
  std::set<std::string> seen;
  for (size_t i = 0; i < m.tables.size(); ++i) {
    const TableBackup& t = m.tables[i];
    std::string at = "tables[" + std::to_string(i) + "]";
    if (!valid_table_name(t.name) || !seen.insert(t.name).second) {
      return invalid_field(at + ".name", at + ".name must be a table name ([A-Za-z0-9_]), once");
    }
    bool hex = t.sha256.size() == 64 && std::all_of(t.sha256.begin(), t.sha256.end(), [](char c) {
                 return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
               });
    if (!hex) return invalid_field(at + ".sha256", at + ".sha256 must be 64 lower-case hex digits");
  }
  return Ok{};
}

std::optional<std::string> backup_id_of_key(std::string_view key) {
  if (!key.starts_with(kBackupRoot)) return std::nullopt;
  std::string_view rest = key.substr(kBackupRoot.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || !is_id(rest.substr(0, slash))) return std::nullopt;
  return std::string(rest.substr(0, slash));
}

std::vector<std::string> backup_keys_to_delete(const std::vector<std::string>& listed,
                                               const BackupOptions& options,
                                               std::string_view current,
                                               std::string_view under_way) {
  std::set<std::string, std::greater<>> complete;  // newest first (ids sort as times)
  for (const std::string& key : listed) {
    auto id = backup_id_of_key(key);
    if (id && key == backup_manifest_key(*id)) complete.insert(*id);
  }
  std::set<std::string> kept;
  for (const std::string& id : complete) {
    if (kept.size() == options.keep) break;
    kept.insert(id);
  }
  std::vector<std::string> out;
  for (const std::string& key : listed) {
    auto id = backup_id_of_key(key);
    if (!id || *id == current || *id == under_way || kept.contains(*id)) continue;
    out.push_back(key);
  }
  return out;
}

std::string backup_part_key(std::string_view id, std::string_view table, uint32_t part) {
  std::string key = backup_prefix(id) + std::string(table) + ".";
  append_padded(key, part, 6);
  key += ".jsonl.gz";
  return key;
}

std::string_view row_order_name(RowOrder o) { return o == RowOrder::kKey ? "key" : "rowid"; }

std::optional<RowOrder> parse_row_order(std::string_view name) {
  if (name == "rowid") return RowOrder::kRowid;
  if (name == "key") return RowOrder::kKey;
  return std::nullopt;
}

std::optional<BackupTrigger> parse_backup_trigger(std::string_view name) {
  if (name == "start") return BackupTrigger::kStart;
  if (name == "continue") return BackupTrigger::kContinue;
  return std::nullopt;
}

std::string_view backup_action_name(BackupAction a) {
  switch (a) {
    case BackupAction::kIdle:
      return "idle";
    case BackupAction::kCopy:
      return "copy";
    case BackupAction::kYield:
      return "yield";
    case BackupAction::kFinish:
      return "finish";
  }
  return "idle";
}

namespace {

Status check_progress(const BackupProgress& p) {
  if (!is_id(p.id)) return invalid_field("progress.id", "progress.id must be a backup id");
  if (p.parts.size() > kMaxBackupParts) {
    return invalid_field("progress.parts", "progress.parts: too many parts");
  }
  std::set<std::pair<std::string, uint32_t>> seen;
  for (size_t i = 0; i < p.parts.size(); ++i) {
    const BackupPart& part = p.parts[i];
    std::string at = "progress.parts[" + std::to_string(i) + "]";
    if (!valid_table_name(part.table)) {
      return invalid_field(at + ".table", at + ".table must be a table name ([A-Za-z0-9_])");
    }
    if (!seen.insert({part.table, part.part}).second) {
      return invalid_field(at + ".part", at + ".part is there twice");
    }
    if (part.rows > kBackupPartRows) {
      return invalid_field(at + ".rows", at + ".rows is more than a part holds");
    }
    bool hex = part.sha256.size() == 64 &&
               std::all_of(part.sha256.begin(), part.sha256.end(),
                           [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
    if (!hex) return invalid_field(at + ".sha256", at + ".sha256 must be 64 lower-case hex digits");
  }
  return Ok{};
}

}  // namespace

Result<BackupProgress> progress_of_cursors(std::string id, TimePoint started,
                                           const std::vector<TableCursor>& cursors) {
  BackupProgress p{.id = std::move(id), .started = started};
  size_t total = 0;
  for (size_t i = 0; i < cursors.size(); ++i) {
    const TableCursor& c = cursors[i];
    const std::string at = "progress.tables[" + std::to_string(i) + "]";
    if (c.parts == 0 || c.last_rows > kBackupPartRows) {
      return invalid_field(at, at + " must have parts, the last of at most a part's rows");
    }
    total += c.parts;
    if (total > kMaxBackupParts) return invalid_field("progress.tables", "too many parts");
    for (uint32_t k = 0; k < c.parts; ++k) {
      const bool last = k + 1 == c.parts;
      p.parts.push_back(BackupPart{.table = c.table,
                                   .part = k,
                                   .last_rowid = last ? c.last_rowid : std::nullopt,
                                   .rows = last ? c.last_rows : kBackupPartRows,
                                   .sha256 = std::string(64, '0'),
                                   .bytes = 0});
    }
  }
  return p;
}

Result<std::vector<TableParts>> backup_tables_of(const std::vector<BackupTable>& tables,
                                                 const BackupProgress& progress) {
  std::vector<TableParts> out;
  std::set<std::string> names;
  for (size_t i = 0; i < tables.size(); ++i) {
    if (!valid_table_name(tables[i].name) || !names.insert(tables[i].name).second) {
      std::string at = "tables[" + std::to_string(i) + "]";
      return invalid_field(at + ".name", at + ".name must be a table name ([A-Za-z0-9_]), once");
    }
    if (tables[i].name == kBackupProgressTable) continue;
    TableParts t{.name = tables[i].name, .parts = {}};
    for (const BackupPart& p : progress.parts) {
      if (p.table == t.name) t.parts.push_back(p);
    }
    std::sort(t.parts.begin(), t.parts.end(),
              [](const BackupPart& a, const BackupPart& b) { return a.part < b.part; });
    for (size_t k = 0; k < t.parts.size(); ++k) {
      if (t.parts[k].part != k) {
        return invalid_field("progress.parts", "progress.parts of " + t.name + " are not 0..n");
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

Result<BackupNext> next_backup_step(const std::vector<BackupTable>& tables,
                                    const std::optional<BackupProgress>& progress,
                                    BackupTrigger trigger, BackupStepUse used, TimePoint now) {
  BackupNext next;
  constexpr int64_t kDayMs = 86'400'000;
  int64_t in_day = ((to_epoch_ms(now) % kDayMs) + kDayMs) % kDayMs;
  if (trigger == BackupTrigger::kContinue &&
      in_day < std::chrono::duration_cast<std::chrono::milliseconds>(kBackupDailyQuiet).count()) {
    return next;  // the daily job's step, not this one
  }
  if (!progress && trigger == BackupTrigger::kContinue) {
    // No backup under way: nothing to do (tables are still checked below for the start).
    return next;
  }
  BackupProgress p = progress ? *progress : BackupProgress{.id = backup_id(now), .started = now};
  if (progress) {
    if (auto checked = check_progress(p); !checked.ok()) return checked.error();
  }
  auto by_table = backup_tables_of(tables, p);
  if (!by_table.ok()) return by_table.error();
  next.id = p.id;
  next.started = p.started;
  for (const TableParts& t : by_table.value()) {
    if (!t.parts.empty() && t.parts.back().rows < kBackupPartRows) continue;  // done
    if (used.parts >= kBackupStepParts || used.rows + kBackupPartRows > kBackupStepRows) {
      next.action = BackupAction::kYield;
      return next;
    }
    RowOrder order = RowOrder::kRowid;
    for (const BackupTable& bt : tables) {
      if (bt.name == t.name) order = bt.order;
    }
    next.action = BackupAction::kCopy;
    next.table = t.name;
    next.order = order;
    next.part = static_cast<uint32_t>(t.parts.size());
    next.key = backup_part_key(p.id, t.name, next.part);
    next.limit = kBackupPartRows;
    if (order == RowOrder::kRowid) {
      if (!t.parts.empty()) {
        if (!t.parts.back().last_rowid) {
          return invalid_field("progress.parts", "a full part of " + t.name + " has no last_rowid");
        }
        next.after_rowid = t.parts.back().last_rowid;
      }
    } else {
      next.offset = static_cast<uint64_t>(t.parts.size()) * kBackupPartRows;
    }
    return next;
  }
  next.action = BackupAction::kFinish;
  return next;
}

}  // namespace r2w::ops
