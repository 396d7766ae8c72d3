-- The public status page (/status, /api/status): probe tallies for uptime, and incidents (alerts
-- an admin made public) with the updates the admin posted.

-- How many probes of one operation, trigger and status fell in one UTC hour ('hour') or day
-- ('day'). Recomputed from r2_health_checks (hours) and from the hour rows (days) after every
-- probe round, so a retried round never counts twice; kept past the checks' retention (the day
-- rows for at least 90 days: the page's longest window; the hour rows for at least 2 days).
CREATE TABLE IF NOT EXISTS status_probe_counts (
  period TEXT NOT NULL CHECK (period IN ('hour', 'day')),
  start_ms INTEGER NOT NULL,
  operation TEXT NOT NULL,
  trigger TEXT NOT NULL,
  status TEXT NOT NULL,
  checks INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (period, start_ms, operation, trigger, status)
);

-- The probe results already stored count too.
INSERT OR IGNORE INTO status_probe_counts
  (period, start_ms, operation, trigger, status, checks, updated_at_ms)
SELECT 'hour', (checked_at_ms / 3600000) * 3600000, operation, trigger, status, COUNT(*), 0
  FROM r2_health_checks
 GROUP BY (checked_at_ms / 3600000) * 3600000, operation, trigger, status;
INSERT OR IGNORE INTO status_probe_counts
  (period, start_ms, operation, trigger, status, checks, updated_at_ms)
SELECT 'day', (start_ms / 86400000) * 86400000, operation, trigger, status, SUM(checks), 0
  FROM status_probe_counts WHERE period = 'hour'
 GROUP BY (start_ms / 86400000) * 86400000, operation, trigger, status;

-- An alert made public: the words the public reads (never the alert's own detail or scope).
-- One incident per alert; taking it off the page keeps the row (published = 0).
CREATE TABLE IF NOT EXISTS status_incidents (
  id TEXT PRIMARY KEY,
  alert_id TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  impact TEXT NOT NULL CHECK (impact IN ('none', 'minor', 'major', 'critical')),
  status TEXT NOT NULL CHECK (status IN ('investigating', 'identified', 'monitoring', 'resolved')),
  published INTEGER NOT NULL,
  started_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  resolved_at_ms INTEGER
);
-- The page reads the published incidents not resolved long ago.
CREATE INDEX IF NOT EXISTS idx_status_incidents_published
  ON status_incidents (published, resolved_at_ms);

CREATE TABLE IF NOT EXISTS status_incident_updates (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('investigating', 'identified', 'monitoring', 'resolved')),
  message TEXT NOT NULL,
  posted_by TEXT NOT NULL,
  posted_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_status_incident_updates_incident
  ON status_incident_updates (incident_id, posted_at_ms);
