-- Security: users, API tokens, storage quotas and usage, rate-limit and auth-failure counters,
-- security events and the audit log. (0005 belongs to the alert engine.)

-- People and machines that may call the API. A JWT's `sub` is a user id; a JWT needs no row here
-- (its claims are signed), an API token always belongs to a row. Disabling a user refuses its
-- API tokens at once.
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT,
  role TEXT NOT NULL CHECK (role IN ('admin', 'user', 'readonly')),
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);

-- Long-lived API tokens. Only the SHA-256 of the token is stored; `id` is the token's public
-- part (r2w_<id>_<secret>) used to find the row.
CREATE TABLE IF NOT EXISTS api_tokens (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id),
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'user', 'readonly')),
  scopes_json TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  expires_at_ms INTEGER,
  last_used_at_ms INTEGER,
  revoked_at_ms INTEGER
);
CREATE INDEX IF NOT EXISTS idx_api_tokens_user ON api_tokens (user_id, created_at_ms);

-- Per-user storage quota (absent: no quota).
CREATE TABLE IF NOT EXISTS user_storage_quotas (
  user_id TEXT PRIMARY KEY,
  max_bytes INTEGER NOT NULL,
  max_objects INTEGER,
  updated_at_ms INTEGER NOT NULL
);

-- What each user stores now, kept by every upload and delete through the API (in the same
-- transaction as user_objects, so the two always agree).
CREATE TABLE IF NOT EXISTS user_storage_usage (
  user_id TEXT PRIMARY KEY,
  bytes INTEGER NOT NULL,
  objects INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);

-- The size of each object a user stored through the API (key as the user sees it, without the
-- users/<id>/ namespace). An upload's quota check reads the size of the object it replaces from
-- here, not from R2 (no extra R2 operation per upload).
CREATE TABLE IF NOT EXISTS user_objects (
  user_id TEXT NOT NULL,
  key TEXT NOT NULL,
  size INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (user_id, key)
);

-- Fixed-window counters: kind 'rate_ip' / 'rate_credential' (requests per minute) and
-- 'auth_fail' (failed authentications per client or credential). Old windows are deleted by
-- the daily job.
CREATE TABLE IF NOT EXISTS security_counters (
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  window_start_ms INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (kind, subject, window_start_ms)
);
CREATE INDEX IF NOT EXISTS idx_security_counters_window ON security_counters (window_start_ms);

-- Security events for the alert engine: one row per (kind, subject, window), its count kept
-- current while the window lasts. kind 'auth_failures': more failed authentications from one
-- client IP ('ip:...') or against one credential ('token:...', 'credential:...') than
-- AUTH_FAILURE_THRESHOLD within AUTH_FAILURE_WINDOW_SECONDS.
CREATE TABLE IF NOT EXISTS security_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  window_start_ms INTEGER NOT NULL,
  count INTEGER NOT NULL,
  threshold INTEGER NOT NULL,
  first_at_ms INTEGER NOT NULL,
  last_at_ms INTEGER NOT NULL,
  details_json TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_security_events_identity
  ON security_events (kind, subject, window_start_ms);
CREATE INDEX IF NOT EXISTS idx_security_events_time ON security_events (last_at_ms);

-- Every admin action and every change of data: who, what, target, result, from where, when.
CREATE TABLE IF NOT EXISTS audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  actor_role TEXT NOT NULL,
  via TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT,
  result TEXT NOT NULL CHECK (result IN ('ok', 'refused', 'error')),
  status INTEGER NOT NULL,
  ip TEXT,
  user_agent TEXT,
  details_json TEXT
);
CREATE INDEX IF NOT EXISTS idx_audit_log_time ON audit_log (at_ms);
CREATE INDEX IF NOT EXISTS idx_audit_log_actor_time ON audit_log (actor, at_ms);
CREATE INDEX IF NOT EXISTS idx_audit_log_action_time ON audit_log (action, at_ms);
