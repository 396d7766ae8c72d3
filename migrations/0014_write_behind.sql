-- Writes behind the answers (worker-shim/src/write-behind.js): counters, audit rows, stored-object
-- records and token last use go to D1 after the response, in batches. Each batch carries an id,
-- inserted first in the same transaction: a batch whose answer was lost and that is sent again
-- fails on this key and changes nothing, so a retry never counts twice. Rows older than a day
-- are deleted by the daily job (pruneSecurityCounters).
CREATE TABLE IF NOT EXISTS write_behind_batches (
  id TEXT PRIMARY KEY,
  at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_write_behind_batches_time ON write_behind_batches (at_ms);
