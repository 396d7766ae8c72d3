// The request gate's SQL (src/auth.js) and the writes behind the answers (src/write-behind.js):
// token rows, counters, token last use, audit rows, and the ids of applied batches.

const TOKEN_ROW = `SELECT t.id, t.user_id, t.token_hash, t.role, t.scopes_json, t.expires_at_ms,
    t.revoked_at_ms, t.last_used_at_ms, u.disabled AS user_disabled
  FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?`;

/** The api_tokens row of `id` joined with its user's `disabled`, or null. */
export function tokenRow(db, id) {
  return db.prepare(TOKEN_ROW).bind(id).first();
}

/** Adds `n` to a fixed-window counter; answers the count after it (RETURNING count). */
export function counterAdd(db, kind, subject, windowStartMs, n = 1) {
  return db
    .prepare(
      `INSERT INTO security_counters (kind, subject, window_start_ms, count) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (kind, subject, window_start_ms) DO UPDATE SET count = count + ?4
       RETURNING count`,
    )
    .bind(kind, subject, windowStartMs, n);
}

/** A token's last use, never moved back (writes behind may land out of order). */
export function touchToken(db, tokenId, atMs) {
  return db
    .prepare('UPDATE api_tokens SET last_used_at_ms = ?1 WHERE id = ?2 AND (last_used_at_ms IS NULL OR last_used_at_ms < ?1)')
    .bind(atMs, tokenId);
}

/** One audit_log row. */
export function auditRow(db, r) {
  return db
    .prepare(
      `INSERT INTO audit_log (at_ms, actor, actor_role, via, action, target, result, status, ip, user_agent,
         details_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(r.atMs, r.actor, r.actorRole, r.via, r.action, r.target, r.result, r.status, r.ip, r.userAgent, r.detailsJson);
}

/**
 * The first statement of every batch written behind: its id. A batch sent again after its
 * answer was lost fails on this key and rolls back whole (see isBatchApplied).
 */
export function batchApplied(db, id, atMs) {
  return db.prepare('INSERT INTO write_behind_batches (id, at_ms) VALUES (?, ?)').bind(id, atMs);
}

/** True for the error of a batch that D1 had applied already (its id is there). */
export function isBatchApplied(error) {
  return /UNIQUE constraint failed: write_behind_batches\.id/.test(String(error?.message ?? error));
}

/** Forgets the ids of batches older than `beforeMs` (a retry comes within seconds, not a day). */
export function pruneBatchIds(db, beforeMs) {
  return db.prepare('DELETE FROM write_behind_batches WHERE at_ms < ?').bind(beforeMs).run();
}
