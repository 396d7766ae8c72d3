-- Reports of every type (daily, weekly, monthly), one per period, with their sections
-- (cost, performance, errors, alerts, storage, recommendations) in report_json and the key of
-- the copy written to R2 (.r2watch/reports/<type>/<period>.json). A re-run of the same period
-- replaces the row. The daily and monthly cost reports kept so far move here (cost_reports is
-- no longer written).
CREATE TABLE IF NOT EXISTS reports (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL CHECK (type IN ('daily', 'weekly', 'monthly')),
  period TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  r2_key TEXT,
  report_json TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_reports_identity ON reports (type, period);
CREATE INDEX IF NOT EXISTS idx_reports_time ON reports (type, created_at_ms);
INSERT OR IGNORE INTO reports (id, type, period, created_at_ms, r2_key, report_json)
  SELECT id, type, period, created_at_ms, NULL, report_json FROM cost_reports;

-- Which report types go to which channels (PUT /api/reports/subscriptions): one row, the
-- engine's normalized list [{report_type, channels: [name, ...]}].
CREATE TABLE IF NOT EXISTS report_subscriptions (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  subscriptions_json TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
