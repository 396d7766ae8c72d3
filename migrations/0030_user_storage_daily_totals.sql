-- Each day's sum of every user's storage peaks (user_storage_daily_peaks' peak_bytes added up
-- over its users and prefixes), so one user's share of the bill reads that user's peaks and one
-- total per day (everyone else's is the day's total less the user's) instead of every user's
-- rows. Kept in step by triggers on user_storage_daily_peaks, in the statement that changes a
-- peak (every writer: uploads, deletes, the reconciliation, the cost job; retention's deletes
-- take their rows off): each adds the change of the row it made (new less old), so a raise
-- written twice or a re-run of the cost job never counts twice. Existing peaks carried over.
-- Each trigger stands on one line (the statement splitters split at a ';' ending a line).
CREATE TABLE IF NOT EXISTS user_storage_daily_totals (
  day TEXT NOT NULL PRIMARY KEY,
  peak_bytes INTEGER NOT NULL
);
INSERT OR REPLACE INTO user_storage_daily_totals (day, peak_bytes)
SELECT day, SUM(peak_bytes) FROM user_storage_daily_peaks GROUP BY day;
CREATE TRIGGER IF NOT EXISTS user_storage_daily_totals_insert AFTER INSERT ON user_storage_daily_peaks BEGIN INSERT INTO user_storage_daily_totals (day, peak_bytes) VALUES (NEW.day, NEW.peak_bytes) ON CONFLICT (day) DO UPDATE SET peak_bytes = peak_bytes + excluded.peak_bytes; END;
CREATE TRIGGER IF NOT EXISTS user_storage_daily_totals_update AFTER UPDATE OF peak_bytes, day ON user_storage_daily_peaks BEGIN UPDATE user_storage_daily_totals SET peak_bytes = peak_bytes - OLD.peak_bytes WHERE day = OLD.day; INSERT INTO user_storage_daily_totals (day, peak_bytes) VALUES (NEW.day, NEW.peak_bytes) ON CONFLICT (day) DO UPDATE SET peak_bytes = peak_bytes + excluded.peak_bytes; END;
CREATE TRIGGER IF NOT EXISTS user_storage_daily_totals_delete AFTER DELETE ON user_storage_daily_peaks BEGIN UPDATE user_storage_daily_totals SET peak_bytes = peak_bytes - OLD.peak_bytes WHERE day = OLD.day; END;
