-- The account's figures from Cloudflare's GraphQL Analytics API (every bucket, not only the one
-- r2watch serves): operations per hour, bucket, action type, action status and HTTP status,
-- and each day's peak storage per bucket and storage class. Rows grow with buckets x action
-- types x hours, not with requests. A re-pulled window replaces its rows (late data replaces,
-- never adds).
CREATE TABLE IF NOT EXISTS account_operations_hourly (
  hour_ms INTEGER NOT NULL,
  bucket TEXT NOT NULL,
  action_type TEXT NOT NULL,
  action_status TEXT NOT NULL,
  status_code INTEGER NOT NULL,
  requests INTEGER NOT NULL,
  response_bytes INTEGER NOT NULL,
  PRIMARY KEY (hour_ms, bucket, action_type, action_status, status_code)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idx_account_operations_bucket_hour ON account_operations_hourly (bucket, hour_ms);

CREATE TABLE IF NOT EXISTS account_storage_daily (
  day TEXT NOT NULL,
  bucket TEXT NOT NULL,
  storage_class TEXT NOT NULL,
  payload_bytes INTEGER NOT NULL,
  metadata_bytes INTEGER NOT NULL,
  objects INTEGER NOT NULL,
  pending_uploads INTEGER NOT NULL,
  PRIMARY KEY (day, bucket, storage_class)
) WITHOUT ROWID;

-- The collector's watermarks, backoff and last error (the engine's state, as it wrote it).
CREATE TABLE IF NOT EXISTS account_collector_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  state_json TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
