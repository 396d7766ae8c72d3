-- Operation rollups and storage inventory.

-- Figures of one (bucket, key prefix, user, operation) in one minute, hour or day. Minute rows
-- are written by each engine instance under its own `writer` id with its cumulative figures for
-- the minute (replace semantics: rewriting never double-counts); readers add the writers up.
-- Hour and day rows (writer '') are recomputed from the level below, so re-running is harmless.
-- `latency_sketch` is the mergeable latency sketch as JSON (core/metrics/latency-sketch.h).
CREATE TABLE IF NOT EXISTS storage_metrics (
  level TEXT NOT NULL CHECK (level IN ('minute', 'hour', 'day')),
  period_start_ms INTEGER NOT NULL,
  bucket TEXT NOT NULL,
  prefix TEXT NOT NULL,
  user_id TEXT NOT NULL,
  operation TEXT NOT NULL,
  writer TEXT NOT NULL,
  r2_class TEXT NOT NULL,
  calls INTEGER NOT NULL,
  errors INTEGER NOT NULL,
  bytes_up INTEGER NOT NULL,
  bytes_down INTEGER NOT NULL,
  latency_sketch TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (level, period_start_ms, bucket, prefix, user_id, operation, writer)
);
-- Time-range queries for one bucket (history, usage summaries filtered by bucket).
CREATE INDEX IF NOT EXISTS idx_storage_metrics_bucket_time
  ON storage_metrics (level, bucket, period_start_ms);

-- How far hour and day rollups are complete: rollups resume from here.
CREATE TABLE IF NOT EXISTS metrics_rollup_progress (
  level TEXT PRIMARY KEY,
  complete_before_ms INTEGER NOT NULL
);

-- A walk of the bucket listing in progress (one row per bucket): resumed by the next run.
CREATE TABLE IF NOT EXISTS storage_inventory_progress (
  bucket TEXT PRIMARY KEY,
  cursor TEXT,
  state_json TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL
);

-- Finished walks: the bucket's contents at a point in time. Growth comes from these.
CREATE TABLE IF NOT EXISTS storage_inventory_snapshots (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  bucket TEXT NOT NULL,
  taken_at_ms INTEGER NOT NULL,
  objects INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  inventory_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_storage_inventory_snapshots_bucket_time
  ON storage_inventory_snapshots (bucket, taken_at_ms);
