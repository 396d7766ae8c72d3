-- The day's work made in steps (core/ops/daily.h): the daily cron inserts the UTC day's row; the
-- 5-minute cron makes one step of the task due next per run and records here each task done
-- (`done`, a JSON list of task names in order; `failed`: those given up), the failed attempts
-- of the task due next, the steps made, what the tasks answered (`summary_json`), and when the
-- last task was done (`finished_ms`; then a heartbeat of job "daily" made by that run). Rows are
-- deleted after kDailyWorkRetention (30 days, core/ops/retention.cc).
CREATE TABLE IF NOT EXISTS daily_work (
  day TEXT PRIMARY KEY,
  started_ms INTEGER NOT NULL,
  done TEXT NOT NULL DEFAULT '[]',
  failed TEXT NOT NULL DEFAULT '[]',
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  steps INTEGER NOT NULL DEFAULT 0,
  summary_json TEXT NOT NULL DEFAULT '{}',
  -- where the task due next goes on (the day rollup: the days and the last bucket done)
  cursor TEXT,
  finished_ms INTEGER
);
