-- The account's operations as one row per bucket and hour (was one per bucket, hour, action
-- type, action status and HTTP status): the collector writes a window's rows in one statement
-- per 512 KB, and rows kept grow with buckets x hours. `groups` holds the hour's groups as a
-- JSON list of [action_type, action_status, status_code, requests, response_bytes]; requests
-- and internal_errors are their totals (the spike and error-rate alerts read only those).
-- Existing rows are carried over.
CREATE TABLE IF NOT EXISTS account_operations_hourly_v2 (
  hour_ms INTEGER NOT NULL,
  bucket TEXT NOT NULL,
  requests INTEGER NOT NULL,
  internal_errors INTEGER NOT NULL,
  groups TEXT NOT NULL,
  PRIMARY KEY (hour_ms, bucket)
);
INSERT INTO account_operations_hourly_v2 (hour_ms, bucket, requests, internal_errors, groups)
SELECT hour_ms, bucket, SUM(requests),
       SUM(CASE WHEN action_status = 'internalError' THEN requests ELSE 0 END),
       json_group_array(json_array(action_type, action_status, status_code, requests, response_bytes))
  FROM account_operations_hourly
 GROUP BY hour_ms, bucket;
DROP INDEX IF EXISTS idx_account_operations_bucket_hour;
DROP TABLE account_operations_hourly;
ALTER TABLE account_operations_hourly_v2 RENAME TO account_operations_hourly;
