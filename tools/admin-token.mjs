// Makes an admin API token for a local r2watch (make dev, the Worker tests, the load test) and
// the SQL that stores it: the user 'admin' and the token's SHA-256, as the Worker stores tokens
// it issues (core/security/credentials.h: "r2w_" + 16 hex id + "_" + 64 hex secret).
// Production never uses this: there an admin creates tokens with POST /api/admin/tokens, and the
// first admin is created with `npm run bootstrap-admin -- --remote` (see docs/security.md).
import { createHash, randomBytes } from 'node:crypto';

export function newApiToken() {
  const id = randomBytes(8).toString('hex');
  const token = `r2w_${id}_${randomBytes(32).toString('hex')}`;
  return { token, id, hash: createHash('sha256').update(token).digest('hex') };
}

/** SQL statements creating user `userId` (if missing) with `role` and storing `t`. */
export function tokenStatements(t, { userId = 'admin', role = 'admin', name = 'bootstrap', nowMs = Date.now() } = {}) {
  const q = (s) => `'${String(s).replace(/'/g, "''")}'`;
  return [
    `INSERT OR IGNORE INTO users (id, name, email, role, disabled, created_at_ms, updated_at_ms)
     VALUES (${q(userId)}, ${q(userId)}, NULL, ${q(role)}, 0, ${nowMs}, ${nowMs})`,
    `INSERT INTO api_tokens (id, user_id, name, role, scopes_json, token_hash, created_at_ms, created_by)
     VALUES (${q(t.id)}, ${q(userId)}, ${q(name)}, ${q(role)}, '["*"]', ${q(t.hash)}, ${nowMs}, 'bootstrap')`,
  ];
}

/** A fresh random JWT secret (64 hex digits: 32 bytes). */
export function newJwtSecret() {
  return randomBytes(32).toString('hex');
}
