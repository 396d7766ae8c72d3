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
// deletes it. That is the backup in one run (manifest version 1); the daily job's backup is made
// in steps, in parts (manifest version 2: "A backup made in steps" below).

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
// newest complete backups remain, and nothing else but `current` (the backup being written)
// and `under_way` (a backup made in steps that is not finished, if any).
std::vector<std::string> backup_keys_to_delete(const std::vector<std::string>& listed,
                                               const BackupOptions& options,
                                               std::string_view current,
                                               std::string_view under_way = {});

// The backup id in a key under kBackupRoot, if it has one.
std::optional<std::string> backup_id_of_key(std::string_view key);

// ---- A backup made in steps (manifest version 2) ----------------------------------------------
//
// The daily job starts a backup and the 5-minute cron continues an unfinished one, one step per
// run. A step copies parts: each part holds at most kBackupPartRows rows of one table (in rowid
// order, or key order for a WITHOUT ROWID table), in an object of its own,
// `<table>.<part, 6 digits>.jsonl.gz`, with its own row count and SHA-256. The Worker records
// each part in D1 (kBackupProgressTable) after writing its object, so a step that dies after
// writing a part redoes that part, under the same key, on the next step: nothing is lost, nothing
// is copied twice. A table is done when its last part holds fewer than kBackupPartRows rows.
// The manifest (version 2: each table's parts) is written last, when every table is done; then
// the progress rows are deleted.

inline constexpr uint32_t kManifestVersionParts = 2;
// The backup's own progress (migration 0026): never backed up itself.
inline constexpr std::string_view kBackupProgressTable = "backup_progress";
// Rows per part, and per step: sized so a step stays within Workers' 10 ms CPU at the cron
// bench's size (bench/js/cron-cpu.mjs prints a step's CPU beside 10 ms).
inline constexpr uint64_t kBackupPartRows = 200;
inline constexpr uint64_t kBackupStepRows = 400;
// The most parts one step writes (tables of a few rows each), and one backup holds.
inline constexpr uint64_t kBackupStepParts = 128;
inline constexpr size_t kMaxBackupParts = 100'000;

std::string backup_part_key(std::string_view id, std::string_view table, uint32_t part);

// Both crons fire at 00:00 UTC: the 5-minute one makes no step in the first minute of a UTC day,
// when the daily job makes one, so that two steps never run at once.
inline constexpr Duration kBackupDailyQuiet = std::chrono::minutes(1);

enum class RowOrder : uint8_t { kRowid, kKey };  // kKey: a WITHOUT ROWID table, read by offset
std::string_view row_order_name(RowOrder o);
std::optional<RowOrder> parse_row_order(std::string_view name);

struct BackupTable {
  std::string name;
  RowOrder order = RowOrder::kRowid;
};

// One part written and recorded.
struct BackupPart {
  std::string table;
  uint32_t part = 0;
  std::optional<int64_t> last_rowid;  // the part's last rowid (kRowid tables with rows)
  uint64_t rows = 0;
  std::string sha256;  // of the part's uncompressed JSON lines
  uint64_t bytes = 0;  // gzip
};

struct BackupProgress {
  std::string id;
  TimePoint started;
  std::vector<BackupPart> parts;
};

enum class BackupTrigger : uint8_t { kStart, kContinue };  // the daily job; the 5-minute cron
std::optional<BackupTrigger> parse_backup_trigger(std::string_view name);

enum class BackupAction : uint8_t { kIdle, kCopy, kYield, kFinish };
std::string_view backup_action_name(BackupAction a);

struct BackupStepUse {
  uint64_t rows = 0;   // rows copied so far in this step
  uint64_t parts = 0;  // parts written so far in this step
};

struct BackupNext {
  BackupAction action = BackupAction::kIdle;
  std::string id;
  TimePoint started;
  // kCopy: the part to write next: rows of `table` after `after_rowid` (kRowid; none: from the
  // first) or from `offset` (kKey), at most `limit`, into `key`.
  std::string table;
  RowOrder order = RowOrder::kRowid;
  uint32_t part = 0;
  std::string key;
  std::optional<int64_t> after_rowid;
  uint64_t offset = 0;
  uint64_t limit = 0;
};

// What the next move of a step is: nothing (no backup under way and not the daily start, or a
// continue within kBackupDailyQuiet of 00:00 UTC), copy a
// part, stop this step (its budget is used), or write the manifest (every table done). Refuses
// a table name that cannot be a key, or a progress that is not consistent (naming the field).
Result<BackupNext> next_backup_step(const std::vector<BackupTable>& tables,
                                    const std::optional<BackupProgress>& progress,
                                    BackupTrigger trigger, BackupStepUse used, TimePoint now);

// Where each table of a backup under way stands, all a step needs to decide (so a step does not
// hand over every part recorded so far, a list that grows with the backup): its parts so far
// (numbered 0..parts-1) and its last part's rows and last rowid. Every part before the last is
// full (a table is done when its last part holds fewer than kBackupPartRows rows).
struct TableCursor {
  std::string table;
  uint32_t parts = 0;  // at least 1
  uint64_t last_rows = 0;
  std::optional<int64_t> last_rowid;
};
// The progress a step decides by, from the cursors: each table's parts, those before the last
// full (kBackupPartRows rows; no checksum: the manifest is made from the recorded parts). Refuses
// a cursor with no part or more rows than a part holds (naming "progress.tables[i]").
Result<BackupProgress> progress_of_cursors(std::string id, TimePoint started,
                                           const std::vector<TableCursor>& cursors);

// The tables backed up (all but kBackupProgressTable), each with its parts in order.
struct TableParts {
  std::string name;
  std::vector<BackupPart> parts;
};
Result<std::vector<TableParts>> backup_tables_of(const std::vector<BackupTable>& tables,
                                                 const BackupProgress& progress);

}  // namespace r2w::ops
