-- The alert engine: rules, settings (channels, escalation, suppression), the engine's state of
-- each alert, alert history, silences, the notification outbox and every delivery attempt.

-- Alert rules (core/alerts/rule.h); rule_json is the engine's normalized rule. The defaults
-- are installed once, on first start (alert_config.defaults_installed_at_ms).
CREATE TABLE IF NOT EXISTS alert_rules (
  id TEXT PRIMARY KEY,
  rule_json TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);

-- One row: channels and delivery settings (settings_json, unmasked: it may hold inline URLs;
-- the API answers them masked), the suppression ledger, and when the defaults were installed.
CREATE TABLE IF NOT EXISTS alert_config (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  settings_json TEXT NOT NULL,
  ledger_json TEXT,
  defaults_installed_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);

-- The engine's memory of each alert (rule + scope = fingerprint), versioned JSON, handed back
-- to the next round. Rows the engine no longer needs are deleted.
CREATE TABLE IF NOT EXISTS alert_states (
  fingerprint TEXT PRIMARY KEY,
  alert_id TEXT NOT NULL,
  status TEXT NOT NULL,
  state_json TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL
);

-- Alert history: one row per episode (pending -> firing -> resolved), kept after the state is
-- forgotten. GET /api/alerts filters by state, severity and bucket, newest first.
CREATE TABLE IF NOT EXISTS alerts (
  id TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  state TEXT NOT NULL CHECK (state IN ('inactive', 'pending', 'firing', 'resolved')),
  bucket TEXT NOT NULL,
  prefix TEXT NOT NULL,
  user_id TEXT NOT NULL,
  value REAL NOT NULL,
  threshold REAL NOT NULL,
  detail TEXT NOT NULL,
  labels_json TEXT NOT NULL,
  started_at_ms INTEGER,
  fired_at_ms INTEGER,
  resolved_at_ms INTEGER,
  acknowledged_at_ms INTEGER,
  acknowledged_by TEXT,
  ack_note TEXT,
  resolved_by TEXT,
  resolve_note TEXT,
  escalation_level INTEGER NOT NULL,
  muted_by TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_alerts_time ON alerts (updated_at_ms);
CREATE INDEX IF NOT EXISTS idx_alerts_state_time ON alerts (state, updated_at_ms);
CREATE INDEX IF NOT EXISTS idx_alerts_severity_time ON alerts (severity, updated_at_ms);
CREATE INDEX IF NOT EXISTS idx_alerts_bucket_time ON alerts (bucket, updated_at_ms);

-- Silences and maintenance windows (time range + matchers, comment, author). Deleting one
-- ends it at once (deleted_at_ms), the row stays for the record.
CREATE TABLE IF NOT EXISTS silences (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('silence', 'maintenance')),
  silence_json TEXT NOT NULL,
  starts_at_ms INTEGER NOT NULL,
  ends_at_ms INTEGER NOT NULL,
  comment TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  deleted_at_ms INTEGER
);
CREATE INDEX IF NOT EXISTS idx_silences_end ON silences (ends_at_ms);

-- Notifications to send, keyed by the engine's idempotency key: a state change stores its
-- notification once however often the job runs. A sender claims a row (pending/retry ->
-- sending) before sending, so two runs never send it twice.
CREATE TABLE IF NOT EXISTS alert_outbox (
  key TEXT PRIMARY KEY,
  channel TEXT NOT NULL,
  channel_type TEXT NOT NULL,
  kind TEXT NOT NULL,
  alert_ids_json TEXT NOT NULL,
  body_json TEXT NOT NULL,
  path TEXT,
  secret_field TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'retry', 'sent', 'failed')),
  attempts INTEGER NOT NULL,
  next_attempt_at_ms INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_alert_outbox_due ON alert_outbox (status, next_attempt_at_ms);
CREATE INDEX IF NOT EXISTS idx_alert_outbox_time ON alert_outbox (created_at_ms);

-- Every delivery attempt: channel, target (masked), status, response code, attempt, time.
CREATE TABLE IF NOT EXISTS alert_notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  notification_key TEXT NOT NULL,
  channel TEXT NOT NULL,
  channel_type TEXT NOT NULL,
  kind TEXT NOT NULL,
  target TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('sent', 'failed')),
  response_code INTEGER,
  attempt INTEGER NOT NULL,
  error TEXT,
  at_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_alert_notifications_attempt
  ON alert_notifications (notification_key, attempt);
CREATE INDEX IF NOT EXISTS idx_alert_notifications_time ON alert_notifications (at_ms);
