-- A backup of D1 to R2 made in steps (core/ops/backup.h, "A backup made in steps"): one row per
-- part written (its object is written first, then this row), so the next step goes on after the
-- last recorded part of each table (the rowid cursor: last_rowid; by offset for a WITHOUT ROWID
-- table), and a step that died after writing a part redoes it under the same key. The rows of a
-- backup are deleted once its manifest is written. This table is never backed up itself.
CREATE TABLE IF NOT EXISTS backup_progress (
  backup_id TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  table_name TEXT NOT NULL,
  part INTEGER NOT NULL,
  last_rowid INTEGER,
  rows INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  PRIMARY KEY (backup_id, table_name, part)
);
