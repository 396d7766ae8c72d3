-- The GitHub issue opened for each alert on each github channel: later notices about the same
-- alert (repeat, escalation, acknowledged, resolved) comment on it and the resolution closes
-- it. Written when GitHub answers the issue's creation; `closed_at_ms` once it is closed.
CREATE TABLE IF NOT EXISTS alert_github_issues (
  channel TEXT NOT NULL,
  alert_id TEXT NOT NULL,
  repository TEXT NOT NULL,
  issue_number INTEGER NOT NULL,
  issue_url TEXT,
  opened_at_ms INTEGER NOT NULL,
  closed_at_ms INTEGER,
  PRIMARY KEY (channel, alert_id)
);
