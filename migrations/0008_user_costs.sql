-- What each user stores per key prefix, and each day's peak of it: a user's own bill is
-- computed from these (the bucket-wide storage_daily_peaks cover every user's objects at once).

-- What a user stores now under each prefix (the first path segment of the key as the user wrote
-- it, "(root)" for none: core/metrics/inventory.h key_prefix), kept by every upload and delete
-- through the API in the same transaction as user_objects. A user's total is the sum of their
-- prefixes, so user_storage_usage (which held only that total) is dropped below.
CREATE TABLE IF NOT EXISTS user_prefix_usage (
  user_id TEXT NOT NULL,
  prefix TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  objects INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (user_id, prefix)
);

-- Each day's peak of user_prefix_usage (UTC day, YYYY-MM-DD), raised before and after every
-- upload and delete and by the 6-hourly cost job; a peak only ever goes up.
CREATE TABLE IF NOT EXISTS user_storage_daily_peaks (
  user_id TEXT NOT NULL,
  day TEXT NOT NULL,
  prefix TEXT NOT NULL,
  peak_bytes INTEGER NOT NULL,
  objects INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (user_id, day, prefix)
);
CREATE INDEX IF NOT EXISTS idx_user_storage_daily_peaks_day ON user_storage_daily_peaks (day);

-- Objects stored before this migration: their prefixes, once (the same rule as key_prefix).
INSERT OR IGNORE INTO user_prefix_usage (user_id, prefix, bytes, objects, updated_at_ms)
SELECT user_id,
       CASE WHEN instr(key, '/') > 1 THEN substr(key, 1, instr(key, '/') - 1) ELSE '(root)' END AS prefix,
       SUM(size), COUNT(*), MAX(updated_at_ms)
  FROM user_objects GROUP BY user_id, prefix;

-- The per-user totals are the sums of user_prefix_usage now.
DROP TABLE IF EXISTS user_storage_usage;
