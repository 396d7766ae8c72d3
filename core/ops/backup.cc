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
                                               std::string_view current) {
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
    if (!id || *id == current || kept.contains(*id)) continue;
    out.push_back(key);
  }
  return out;
}

}  // namespace r2w::ops
