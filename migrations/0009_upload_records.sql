-- Quota reservations: an upload admitted against a quota reserves its bytes (and one object
-- when it adds a key) until its stored-object record replaces the reservation, in the same
-- transaction. Each upload is checked against the usage plus the reservations made before it
-- (seq order), so parallel uploads never overshoot a quota together. A Worker that dies
-- mid-upload leaves a row that stops counting at expires_at_ms (core/security/quota.h
-- kUploadReservationLifetime) and is deleted by the daily retention job.
CREATE TABLE IF NOT EXISTS quota_reservations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL,
  key TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  objects INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_quota_reservations_user ON quota_reservations (user_id, expires_at_ms);

-- Each stored object's prefix (core/metrics/inventory.h key_prefix, as user_prefix_usage keys
-- it), so a user's prefix usage can be recounted from user_objects when the records are
-- reconciled with R2's listing. Existing rows get it by the same rule as migration 0008.
ALTER TABLE user_objects ADD COLUMN prefix TEXT;
UPDATE user_objects
   SET prefix = CASE WHEN instr(key, '/') > 1 THEN substr(key, 1, instr(key, '/') - 1) ELSE '(root)' END
 WHERE prefix IS NULL;

-- And where it lives in the bucket (storage_check_key's r2_key: "users/<id>/<key>", see
-- core/storage/user-namespace.h), so the inventory can read the records of one listing page's
-- key range through an index.
ALTER TABLE user_objects ADD COLUMN r2_key TEXT;
UPDATE user_objects SET r2_key = 'users/' || user_id || '/' || key WHERE r2_key IS NULL;
CREATE INDEX IF NOT EXISTS idx_user_objects_r2_key ON user_objects (r2_key);

-- The last R2 key of the inventory's previous page: the next page reconciles the records after
-- it.
ALTER TABLE storage_inventory_progress ADD COLUMN last_key TEXT;
