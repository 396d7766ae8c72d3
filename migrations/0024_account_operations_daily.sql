-- The account's operations summed per UTC day, bucket, action type and HTTP status code (the
-- groups of account_operations_hourly added up), so that the month-long reads (the bill, the
-- bucket list's month, the reconciliation) read one row per day and group instead of expanding
-- every hour's JSON groups (a month of 10 buckets was 7,440 hours and ~90,000 groups per read).
-- The collector keeps it in step with the hours it writes, in the same batch (db/account.js
-- saveStep): the groups of the hours a window replaces are taken off their days and the new
-- ones added, so a re-pulled window never counts twice. Existing hours are carried over.
CREATE TABLE IF NOT EXISTS account_operations_daily (
  day TEXT NOT NULL,
  bucket TEXT NOT NULL,
  action_type TEXT NOT NULL,
  status_code INTEGER NOT NULL,
  requests INTEGER NOT NULL,
  response_bytes INTEGER NOT NULL,
  PRIMARY KEY (day, bucket, action_type, status_code)
);
INSERT OR IGNORE INTO account_operations_daily (day, bucket, action_type, status_code, requests, response_bytes)
SELECT strftime('%Y-%m-%d', h.hour_ms / 1000, 'unixepoch'), h.bucket, g.value->>0, g.value->>2,
       SUM(g.value->>3), SUM(g.value->>4)
  FROM account_operations_hourly h, json_each(h.groups) g
 GROUP BY 1, 2, 3, 4;
