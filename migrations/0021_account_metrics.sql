-- Account-wide rollups: the figures of one (bucket, operation) in one hour or day, without the
-- user and key-prefix dimensions of storage_metrics, and of every bucket together (bucket '*',
-- which no bucket can be named), so every account-wide view (history,
-- usage summary, the month's bill) reads a number of rows that does not grow with users.
-- Each row is the exact sum of the storage_metrics rows of its bucket, operation and period
-- (latency sketches merged), r2watch's own keys ('.r2watch/') left out.
-- Writers: the rollup jobs recompute hour rows from minute rows and day rows from hour rows
-- (writer ''); every flush of an engine instance writes, under its own writer id, its
-- cumulative figures of the open hours (replace semantics: a retried flush never counts a call
-- twice). Readers take writer '' rows for complete periods (metrics_rollup_progress) and add
-- the writers' rows up for the rest (core/metrics/history.h plan_reads).
CREATE TABLE IF NOT EXISTS account_metrics (
  level TEXT NOT NULL CHECK (level IN ('hour', 'day')),
  period_start_ms INTEGER NOT NULL,
  bucket TEXT NOT NULL,
  operation TEXT NOT NULL,
  writer TEXT NOT NULL,
  r2_class TEXT NOT NULL,
  calls INTEGER NOT NULL,
  errors INTEGER NOT NULL,
  bytes_up INTEGER NOT NULL,
  bytes_down INTEGER NOT NULL,
  latency_sketch TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (level, period_start_ms, bucket, operation, writer)
);
-- One bucket's account-wide series over time.
CREATE INDEX IF NOT EXISTS idx_account_metrics_bucket_time
  ON account_metrics (level, bucket, period_start_ms);

-- One user's rows over time (per-user views: the user's summary, history and costs).
CREATE INDEX IF NOT EXISTS idx_storage_metrics_user_time
  ON storage_metrics (level, user_id, period_start_ms);

-- Every user's peaks of a day added up without reading the table (one user's share of the bill
-- adds up everyone else's: db/metrics.js userPeaks).
CREATE INDEX IF NOT EXISTS idx_user_storage_daily_peaks_day_user
  ON user_storage_daily_peaks (day, user_id, peak_bytes);

-- Existing hour and day rollups carried over: per (level, period, bucket, operation), and per
-- (level, period, operation) for every bucket together (bucket '*'), counts added and sketches
-- merged bin by bin (the same sums the engine's merge makes).
INSERT OR IGNORE INTO account_metrics (level, period_start_ms, bucket, operation, writer, r2_class,
  calls, errors, bytes_up, bytes_down, latency_sketch, updated_at_ms)
SELECT m.level, m.period_start_ms, m.b, m.operation, '', MIN(m.r2_class),
       SUM(m.calls), SUM(m.errors), SUM(m.bytes_up), SUM(m.bytes_down),
       json_object(
         'zero', SUM(json_extract(m.latency_sketch, '$.zero')),
         'bins', json((SELECT '[' || IFNULL(group_concat('[' || idx || ',' || n || ']', ','), '') || ']'
                         FROM (SELECT json_extract(b.value, '$[0]') AS idx, SUM(json_extract(b.value, '$[1]')) AS n
                                 FROM storage_metrics s, json_each(s.latency_sketch, '$.bins') b
                                WHERE s.level = m.level AND s.period_start_ms = m.period_start_ms
                                  AND (m.b = '*' OR s.bucket = m.b) AND s.operation = m.operation
                                  AND s.writer = '' AND s.prefix != '.r2watch'
                                GROUP BY idx ORDER BY idx))),
         'sum', SUM(json_extract(m.latency_sketch, '$.sum')),
         'min', MIN(json_extract(m.latency_sketch, '$.min')),
         'max', MAX(json_extract(m.latency_sketch, '$.max'))),
       MAX(m.updated_at_ms)
  FROM (SELECT bucket AS b, * FROM storage_metrics WHERE level IN ('hour', 'day')
        UNION ALL SELECT '*' AS b, * FROM storage_metrics WHERE level IN ('hour', 'day')) m
 WHERE m.writer = '' AND m.prefix != '.r2watch'
 GROUP BY m.level, m.period_start_ms, m.b, m.operation;

-- The minutes flushed since the last complete hour, as one writer's rows of their hours (the
-- engines running before this migration wrote no account-wide rows for the open hours).
INSERT OR IGNORE INTO account_metrics (level, period_start_ms, bucket, operation, writer, r2_class,
  calls, errors, bytes_up, bytes_down, latency_sketch, updated_at_ms)
SELECT 'hour', m.hour_ms, m.b, m.operation, 'migration-0021', MIN(m.r2_class),
       SUM(m.calls), SUM(m.errors), SUM(m.bytes_up), SUM(m.bytes_down),
       json_object(
         'zero', SUM(json_extract(m.latency_sketch, '$.zero')),
         'bins', json((SELECT '[' || IFNULL(group_concat('[' || idx || ',' || n || ']', ','), '') || ']'
                         FROM (SELECT json_extract(b.value, '$[0]') AS idx, SUM(json_extract(b.value, '$[1]')) AS n
                                 FROM storage_metrics s, json_each(s.latency_sketch, '$.bins') b
                                WHERE s.level = 'minute' AND (s.period_start_ms / 3600000) * 3600000 = m.hour_ms
                                  AND (m.b = '*' OR s.bucket = m.b) AND s.operation = m.operation
                                  AND s.prefix != '.r2watch'
                                GROUP BY idx ORDER BY idx))),
         'sum', SUM(json_extract(m.latency_sketch, '$.sum')),
         'min', MIN(json_extract(m.latency_sketch, '$.min')),
         'max', MAX(json_extract(m.latency_sketch, '$.max'))),
       MAX(m.updated_at_ms)
  FROM (SELECT (period_start_ms / 3600000) * 3600000 AS hour_ms, bucket AS b, * FROM storage_metrics WHERE level = 'minute'
        UNION ALL SELECT (period_start_ms / 3600000) * 3600000 AS hour_ms, '*' AS b, * FROM storage_metrics WHERE level = 'minute') m
 WHERE m.prefix != '.r2watch'
   AND m.period_start_ms >= IFNULL((SELECT complete_before_ms FROM metrics_rollup_progress WHERE level = 'hour'), 0)
 GROUP BY m.hour_ms, m.b, m.operation;
