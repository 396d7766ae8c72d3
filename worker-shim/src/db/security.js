// The security domain's SQL, the only place it is written: the request gate's (src/auth.js) and
// the writes behind the answers (src/write-behind.js): token rows, counters, token last use,
// audit rows, the ids of applied batches; and the admin API's and the storage routes' (src/
// security.js): usage, quotas, upload reservations, stored-object records, users, tokens, the
// audit log and security events as read back. Security events as written: db/security-events.js.

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

/** Deletes the counters of windows that started before `beforeMs`; answers D1's result. */
export function pruneCounters(db, beforeMs) {
  return db.prepare('DELETE FROM security_counters WHERE window_start_ms < ?').bind(beforeMs).run();
}

// ---- usage, quotas and upload reservations ----------------------------------------------------

// What each user stores now: the sum of their prefixes (user_prefix_usage, kept by every upload
// and delete), one row per user.
const USAGE_BY_USER = `(SELECT user_id, SUM(bytes) AS bytes, SUM(objects) AS objects,
    MAX(updated_at_ms) AS updated_at_ms FROM user_prefix_usage GROUP BY user_id)`;

function usageOf(db, user) {
  return db.prepare(`SELECT bytes, objects, updated_at_ms FROM ${USAGE_BY_USER} WHERE user_id = ?`).bind(user);
}

/** What a user stores now: {bytes, objects, updated_at_ms}, or null when nothing yet. */
export function storageUsageRow(db, user) {
  return usageOf(db, user).first();
}

/**
 * In one transaction: the quota row, the usage, the size of the object `key` replaces, a
 * reservation row of `size` bytes (`id`, held until `expiresAtMs`) for a user with a quota, and
 * what reservations made before it and still held add up to. Answers D1's five results.
 */
export function reserveUploadBatch(db, { user, key, size, id, nowMs, expiresAtMs }) {
  return db.batch([
    db.prepare('SELECT max_bytes, max_objects FROM user_storage_quotas WHERE user_id = ?').bind(user),
    usageOf(db, user),
    db.prepare('SELECT size FROM user_objects WHERE user_id = ? AND key = ?').bind(user, key),
    db.prepare(
      `INSERT INTO quota_reservations (id, user_id, key, bytes, objects, created_at_ms, expires_at_ms)
       SELECT ?1, ?2, ?3, ?4,
              CASE WHEN EXISTS (SELECT 1 FROM user_objects WHERE user_id = ?2 AND key = ?3) THEN 0 ELSE 1 END,
              ?5, ?6
        WHERE EXISTS (SELECT 1 FROM user_storage_quotas WHERE user_id = ?2)`,
    ).bind(id, user, key, size, nowMs, expiresAtMs),
    db.prepare(
      `SELECT COALESCE(SUM(bytes), 0) AS bytes, COALESCE(SUM(objects), 0) AS objects
         FROM quota_reservations
        WHERE user_id = ?1 AND expires_at_ms > ?2
          AND seq < COALESCE((SELECT seq FROM quota_reservations WHERE id = ?3), 0)`,
    ).bind(user, nowMs, id),
  ]);
}

/** Deletes one upload reservation. */
export function deleteReservation(db, id) {
  return db.prepare('DELETE FROM quota_reservations WHERE id = ?').bind(id).run();
}

/**
 * Every user with a quota or with stored objects (or only `userId`): {user_id, max_bytes,
 * max_objects, bytes, objects} (nulls where there is no quota or no usage), by user id.
 */
export async function quotaAndUsageRows(db, userId = null) {
  const { results } = await db
    .prepare(
      `SELECT id AS user_id, q.max_bytes, q.max_objects, s.bytes, s.objects
         FROM (SELECT user_id AS id FROM user_storage_quotas UNION SELECT user_id FROM user_prefix_usage) ids
         LEFT JOIN user_storage_quotas q ON q.user_id = ids.id
         LEFT JOIN ${USAGE_BY_USER} s ON s.user_id = ids.id
        WHERE (?1 IS NULL OR ids.id = ?1) ORDER BY ids.id`,
    )
    .bind(userId)
    .all();
  return results;
}

/** Sets a user's quota. */
export function upsertQuota(db, userId, quota, nowMs) {
  return db
    .prepare(
      `INSERT INTO user_storage_quotas (user_id, max_bytes, max_objects, updated_at_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET max_bytes = excluded.max_bytes,
         max_objects = excluded.max_objects, updated_at_ms = excluded.updated_at_ms`,
    )
    .bind(userId, quota.max_bytes, quota.max_objects, nowMs)
    .run();
}

/** Removes a user's quota. */
export function deleteQuota(db, userId) {
  return db.prepare('DELETE FROM user_storage_quotas WHERE user_id = ?').bind(userId).run();
}

// ---- stored-object records (the inventory's reconciliation) ----------------------------------

/** The records of R2 keys after `after` (exclusive) through `through` (inclusive; null: open). */
export async function objectRecordsInRange(db, after, through) {
  const { results } = await db
    .prepare(
      `SELECT user_id, key, size, updated_at_ms FROM user_objects
        WHERE (?1 IS NULL OR r2_key > ?1) AND (?2 IS NULL OR r2_key <= ?2)`,
    )
    .bind(after, through)
    .all();
  return results;
}

/** A record written from a listing, unless it changed since `listedAtMs`. */
export function upsertObjectRecord(db, u, nowMs, listedAtMs) {
  return db
    .prepare(
      `INSERT INTO user_objects (user_id, key, size, prefix, r2_key, updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
       ON CONFLICT (user_id, key) DO UPDATE SET size = excluded.size, prefix = excluded.prefix,
         r2_key = excluded.r2_key, updated_at_ms = excluded.updated_at_ms
       WHERE user_objects.updated_at_ms < ?7`,
    )
    .bind(u.user_id, u.key, u.size, u.prefix, u.r2_key, nowMs, listedAtMs);
}

/** A record R2 no longer lists, deleted unless it changed since `listedAtMs`. */
export function deleteObjectRecord(db, d, listedAtMs) {
  return db.prepare('DELETE FROM user_objects WHERE user_id = ? AND key = ? AND updated_at_ms < ?').bind(d.user_id, d.key, listedAtMs);
}

/** A user's prefix usage recounted from their records: two statements. */
export function recountUserUsage(db, user, nowMs) {
  return [
    db.prepare('DELETE FROM user_prefix_usage WHERE user_id = ?').bind(user),
    db
      .prepare(
        `INSERT INTO user_prefix_usage (user_id, prefix, bytes, objects, updated_at_ms)
         SELECT user_id, prefix, SUM(size), COUNT(*), ?2 FROM user_objects WHERE user_id = ?1 GROUP BY prefix`,
      )
      .bind(user, nowMs),
  ];
}

// ---- users and API tokens --------------------------------------------------------------------

/** One users row, or null. */
export function userRow(db, id) {
  return db.prepare('SELECT * FROM users WHERE id = ?').bind(id).first();
}

/** Every users row, by id. */
export async function allUserRows(db) {
  const { results } = await db.prepare('SELECT * FROM users ORDER BY id').all();
  return results;
}

/** Adds a user unless the id is taken; answers D1's result (meta.changes 0: taken). */
export function insertUser(db, user, nowMs) {
  return db
    .prepare(
      `INSERT INTO users (id, name, email, role, disabled, created_at_ms, updated_at_ms)
       VALUES (?, ?, ?, ?, 0, ?, ?) ON CONFLICT (id) DO NOTHING`,
    )
    .bind(user.id, user.name, user.email, user.role, nowMs, nowMs)
    .run();
}

/** Disables (1) or enables (0) a user; answers D1's result (meta.changes 0: no such user). */
export function setUserDisabled(db, id, disabled, nowMs) {
  return db.prepare('UPDATE users SET disabled = ?, updated_at_ms = ? WHERE id = ?').bind(disabled, nowMs, id).run();
}

// api_tokens as the admin API shows them (never the hash).
const TOKEN_COLUMNS = `id, user_id, name, role, scopes_json, created_at_ms, created_by, expires_at_ms,
  last_used_at_ms, revoked_at_ms`;

/** One token (without its hash), or null. */
export function tokenById(db, id) {
  return db.prepare(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE id = ?`).bind(id).first();
}

/** The tokens of one user (or every user's, userId null), oldest first. */
export async function tokenRows(db, userId = null) {
  const { results } = await db
    .prepare(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE (?1 IS NULL OR user_id = ?1) ORDER BY created_at_ms, id`)
    .bind(userId)
    .all();
  return results;
}

/** Stores an issued token (the engine's token_issue record) made by `createdBy`. */
export function insertToken(db, r, createdBy) {
  return db
    .prepare(
      `INSERT INTO api_tokens (id, user_id, name, role, scopes_json, token_hash, created_at_ms, created_by,
         expires_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(r.id, r.user_id, r.name, r.role, JSON.stringify(r.scopes), r.token_hash, r.created_at_ms, createdBy, r.expires_at_ms)
    .run();
}

/** Revokes a token unless it is revoked already; answers {changes, row} (row null: no such token). */
export async function revokeToken(db, id, nowMs) {
  const [update, row] = await db.batch([
    db.prepare('UPDATE api_tokens SET revoked_at_ms = ? WHERE id = ? AND revoked_at_ms IS NULL').bind(nowMs, id),
    db.prepare(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE id = ?`).bind(id),
  ]);
  return { changes: update.meta.changes, row: row.results[0] ?? null };
}

// ---- the audit log and security events -------------------------------------------------------

/** audit_log rows of the engine's checked log_query, newest first. */
export async function auditRows(db, q) {
  const { results } = await db
    .prepare(
      `SELECT * FROM audit_log
        WHERE (?1 IS NULL OR at_ms >= ?1) AND (?2 IS NULL OR actor = ?2) AND (?3 IS NULL OR action = ?3)
          AND (?4 IS NULL OR result = ?4) AND (?5 IS NULL OR id < ?5)
        ORDER BY id DESC LIMIT ?6`,
    )
    .bind(q.since_ms, q.actor, q.action, q.result, q.before_id, q.limit)
    .all();
  return results;
}

/** security_events rows of the engine's checked log_query, newest first. */
export async function securityEventRows(db, q) {
  const { results } = await db
    .prepare(
      `SELECT * FROM security_events WHERE (?1 IS NULL OR last_at_ms >= ?1) AND (?2 IS NULL OR kind = ?2)
          AND (?3 IS NULL OR id < ?3) ORDER BY id DESC LIMIT ?4`,
    )
    .bind(q.since_ms, q.kind, q.before_id, q.limit)
    .all();
  return results;
}
