#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.h"
#include "core/common/time.h"

namespace r2w::ops {

// Backups of D1 to R2, decided here: where each object goes, what the manifest says, how many
// backups are kept and which objects are deleted. The Worker reads the tables, compresses them,
// computes the checksums and writes the objects (worker-shim/src/backup.js).
//
// One backup is a folder `.r2watch/backups/<id>/` (inside the prefix the storage API reserves;
// id: the UTC start time, "20261130T000000Z"), with one object per table, `<table>.jsonl.gz`
// (one JSON object per row, gzip), and `manifest.json`, written LAST: a backup without its
// manifest is incomplete (a run that failed half-way) and is never restored; the next run
// deletes it.

inline constexpr std::string_view kBackupRoot = ".r2watch/backups/";
inline constexpr std::string_view kManifestName = "manifest.json";
inline constexpr uint32_t kManifestVersion = 1;
// The most tables a backup holds, schema statements its manifest keeps, and keys one listing
// (backups or archives) hands in.
inline constexpr size_t kMaxBackupTables = 512;
inline constexpr size_t kMaxBackupStatements = 2'048;
inline constexpr size_t kMaxListedKeys = 100'000;

struct BackupOptions {
  // Complete backups kept (BACKUP_KEEP) [7]; 1..365.
  uint32_t keep = 7;
};

// BACKUP_KEEP: nullopt or empty gives the default; anything but a whole number in 1..365 is an
// "invalid_field" error naming BACKUP_KEEP.
Result<BackupOptions> backup_options(const std::optional<std::string>& keep_var);

std::string backup_id(TimePoint started);                                   // "20261130T000000Z"
std::string backup_prefix(std::string_view id);                             // kBackupRoot + "<id>/"
std::string backup_table_key(std::string_view id, std::string_view table);  // ".../<t>.jsonl.gz"
std::string backup_manifest_key(std::string_view id);                       // ".../manifest.json"

// A table name that can go into a key and an SQL identifier: [A-Za-z0-9_], 1..128 chars.
bool valid_table_name(std::string_view table);

// What one table's object holds: its rows, and the lower-case hex SHA-256 of the uncompressed
// JSON lines (what a restore reads back is checked against it) and the compressed size.
struct TableBackup {
  std::string name;
  uint64_t rows = 0;
  std::string sha256;
  uint64_t bytes = 0;
};

struct BackupManifest {
  std::string id;
  TimePoint started;
  TimePoint finished;
  std::vector<TableBackup> tables;
  std::vector<std::string> schema;  // CREATE statements (tables, then indexes), in order
};

// Refuses a table name or checksum that is not as above (naming "tables[i].name" / ".sha256").
Status check_manifest(const BackupManifest& m);

// Of every key listed under kBackupRoot: the keys of backups to delete, so that the `keep`
// newest complete backups remain, and nothing else but `current` (the backup being written).
std::vector<std::string> backup_keys_to_delete(const std::vector<std::string>& listed,
                                               const BackupOptions& options,
                                               std::string_view current);

// The backup id in a key under kBackupRoot, if it has one.
std::optional<std::string> backup_id_of_key(std::string_view key);

}  // namespace r2w::ops
