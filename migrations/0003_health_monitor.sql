-- The health monitor: its config, its state between probe rounds, probe results, their hourly
-- aggregates per operation, and service alerts.

-- Runtime config (one row; absent means the defaults of core/health/monitor-config.h).
CREATE TABLE IF NOT EXISTS health_check_config (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  check_interval_ms INTEGER NOT NULL,
  timeout_ms INTEGER NOT NULL,
  failure_threshold INTEGER NOT NULL,
  recovery_timeout_ms INTEGER NOT NULL,
  slow_response_threshold_ms INTEGER NOT NULL,
  enabled INTEGER NOT NULL,
  test_operations TEXT NOT NULL, -- JSON array of operation names
  alert_on_failure INTEGER NOT NULL,
  alert_on_recovery INTEGER NOT NULL,
  retention_days INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);

-- What event derivation carries from one round to the next (versioned JSON, one row).
CREATE TABLE IF NOT EXISTS health_monitor_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  state_json TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL
);

-- One row per probe. (round_id, operation) identifies it, so a retried write stores it once.
CREATE TABLE IF NOT EXISTS r2_health_checks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  round_id TEXT NOT NULL,
  trigger TEXT NOT NULL CHECK (trigger IN ('scheduled', 'manual')),
  operation TEXT NOT NULL,
  ok INTEGER NOT NULL,
  status TEXT NOT NULL,
  response_time_ms INTEGER NOT NULL,
  error TEXT,
  checked_at_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_r2_health_checks_identity
  ON r2_health_checks (round_id, operation);
-- History newest first, metrics over a time range, retention.
CREATE INDEX IF NOT EXISTS idx_r2_health_checks_time ON r2_health_checks (checked_at_ms);
CREATE INDEX IF NOT EXISTS idx_r2_health_checks_operation_time
  ON r2_health_checks (operation, checked_at_ms);

-- Probe results aggregated per operation and hour, recomputed from r2_health_checks after each
-- round (so a retried round never counts twice). Kept past the checks' retention.
CREATE TABLE IF NOT EXISTS r2_operation_metrics (
  operation TEXT NOT NULL,
  hour_start_ms INTEGER NOT NULL,
  checks INTEGER NOT NULL,
  failures INTEGER NOT NULL,
  slow INTEGER NOT NULL,
  response_time_sum_ms INTEGER NOT NULL,
  response_time_max_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (operation, hour_start_ms)
);

-- Alerts raised from health events. A condition that stays true is one active alert: the
-- partial unique index allows one active alert per type.
CREATE TABLE IF NOT EXISTS service_alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  status TEXT NOT NULL CHECK (status IN ('active', 'resolved')),
  message TEXT NOT NULL,
  round_id TEXT,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  resolved_at_ms INTEGER,
  resolved_by TEXT CHECK (resolved_by IN ('monitor', 'operator')),
  resolution_note TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_service_alerts_one_active
  ON service_alerts (type) WHERE status = 'active';
CREATE INDEX IF NOT EXISTS idx_service_alerts_status_time
  ON service_alerts (status, created_at_ms);
CREATE INDEX IF NOT EXISTS idx_service_alerts_time ON service_alerts (created_at_ms);
