-- Job heartbeats: one row per run of a scheduled job (the cron's scheduled handler, the local
-- schedule driver of `make dev`, or an admin's POST /api/admin/jobs/...), written when it starts
-- and completed when it ends. /api/health and GET /api/admin/jobs judge each job by them
-- (core/ops/jobs.h); rows older than kJobRunRetention (30 days) are deleted by the daily job.
CREATE TABLE IF NOT EXISTS job_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job TEXT NOT NULL,
  trigger TEXT NOT NULL CHECK (trigger IN ('cron', 'http')),
  cron TEXT,
  scheduled_ms INTEGER NOT NULL,
  started_ms INTEGER NOT NULL,
  ended_ms INTEGER,
  outcome TEXT NOT NULL CHECK (outcome IN ('running', 'ok', 'error')),
  duration_ms INTEGER,
  summary_json TEXT,
  error TEXT
);
CREATE INDEX IF NOT EXISTS idx_job_runs_job_started ON job_runs (job, started_ms);

-- When r2watch first knew of each job (its first reading of the schedule): runs due before it
-- are not counted as missed.
CREATE TABLE IF NOT EXISTS job_registry (
  job TEXT PRIMARY KEY,
  first_seen_ms INTEGER NOT NULL
);

-- Which default alert rules have been installed (once each): a default added by a later release
-- (the account's rules, job_stale) is installed on the next start, and one an operator deleted
-- stays deleted. Installations from before this table had the first release's ten defaults.
CREATE TABLE IF NOT EXISTS alert_default_rules (
  id TEXT PRIMARY KEY,
  installed_at_ms INTEGER NOT NULL
);
INSERT OR IGNORE INTO alert_default_rules (id, installed_at_ms)
SELECT 'monthly_cost', defaults_installed_at_ms FROM alert_config WHERE id = 1;
INSERT OR IGNORE INTO alert_default_rules (id, installed_at_ms)
SELECT 'daily_cost_rise', defaults_installed_at_ms FROM alert_config WHERE id = 1;
INSERT OR IGNORE INTO alert_default_rules (id, installed_at_ms)
SELECT 'high_error_rate', defaults_installed_at_ms FROM alert_config WHERE id = 1;
INSERT OR IGNORE INTO alert_default_rules (id, installed_at_ms)
SELECT 'slow_response', defaults_installed_at_ms FROM alert_config WHERE id = 1;
INSERT OR IGNORE INTO alert_default_rules (id, installed_at_ms)
SELECT 'quota_usage', defaults_installed_at_ms FROM alert_config WHERE id = 1;
INSERT OR IGNORE INTO alert_default_rules (id, installed_at_ms)
SELECT 'large_upload', defaults_installed_at_ms FROM alert_config WHERE id = 1;
INSERT OR IGNORE INTO alert_default_rules (id, installed_at_ms)
SELECT 'failed_access', defaults_installed_at_ms FROM alert_config WHERE id = 1;
INSERT OR IGNORE INTO alert_default_rules (id, installed_at_ms)
SELECT 'critical_response_time', defaults_installed_at_ms FROM alert_config WHERE id = 1;
INSERT OR IGNORE INTO alert_default_rules (id, installed_at_ms)
SELECT 'critical_error_rate', defaults_installed_at_ms FROM alert_config WHERE id = 1;
INSERT OR IGNORE INTO alert_default_rules (id, installed_at_ms)
SELECT 'storage_growth', defaults_installed_at_ms FROM alert_config WHERE id = 1;
