-- Multipart uploads made through the storage API (worker-shim/src/multipart.js). R2's Workers
-- binding cannot list an upload's parts, so r2watch records each upload and each part it has
-- stored: the parts are listed from here, a complete is checked against them before R2 is
-- asked, and an upload id r2watch never issued (or another user's) is refused without an R2
-- call. `id` is r2watch's id for the upload, `r2_upload_id` R2's. The upload holds a quota
-- reservation for its object (`reservation`: no bytes, the object's count) and each stored part
-- one for its bytes (multipart_parts.reservation, counting no object) until the upload
-- completes or is aborted. Rows of an upload go when it completes or is aborted; R2 aborts an upload left
-- incomplete after 7 days (expires_at_ms), after which its rows are refused as expired.
CREATE TABLE IF NOT EXISTS multipart_uploads (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  key TEXT NOT NULL,
  r2_key TEXT NOT NULL,
  prefix TEXT NOT NULL,
  r2_upload_id TEXT NOT NULL,
  reservation TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_multipart_uploads_user ON multipart_uploads (user_id, created_at_ms);
CREATE INDEX IF NOT EXISTS idx_multipart_uploads_expiry ON multipart_uploads (expires_at_ms);

CREATE TABLE IF NOT EXISTS multipart_parts (
  upload_id TEXT NOT NULL,
  part_number INTEGER NOT NULL,
  etag TEXT NOT NULL,
  size INTEGER NOT NULL,
  reservation TEXT NOT NULL,
  uploaded_at_ms INTEGER NOT NULL,
  PRIMARY KEY (upload_id, part_number)
);
