-- The storage a bill is computed from: each day's peak bytes per bucket, key prefix and storage
-- class, raised by every finished inventory walk of that day (the peak only ever goes up).
CREATE TABLE IF NOT EXISTS storage_daily_peaks (
  day TEXT NOT NULL,
  bucket TEXT NOT NULL,
  prefix TEXT NOT NULL,
  storage_class TEXT NOT NULL,
  peak_bytes INTEGER NOT NULL,
  objects INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (day, bucket, prefix, storage_class)
);
CREATE INDEX IF NOT EXISTS idx_storage_daily_peaks_bucket_day ON storage_daily_peaks (bucket, day);
