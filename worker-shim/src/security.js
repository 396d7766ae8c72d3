// Users, API tokens, quotas, the audit log and security events: the admin API, and the queries
// other parts of r2watch use (the storage routes' quota check, the alert engine's quota and
// security-event feeds). Every check is the engine's (core/security/).
import { HttpError, fromEngineError, json, readJsonBody, ask } from './http.js';
import { EngineError } from './engine.js';
import { storedObjectStatements, deletedObjectStatements, raiseUserPeaks } from './db/objects.js';
import { pruneBatchIds } from './db/security.js';
import { writes } from './write-behind.js';
import { forgetTokens } from './auth.js';


/** Query-string values as strings, for the engine to check. */
function queryOf(request) {
  return Object.fromEntries(new URL(request.url).searchParams);
}

const ADMIN = { role: 'admin' };

// ---- queries used elsewhere ------------------------------------------------------------------

// What each user stores now: the sum of their prefixes (user_prefix_usage, kept by every upload
// and delete), one row per user.
const USAGE_BY_USER = `(SELECT user_id, SUM(bytes) AS bytes, SUM(objects) AS objects,
    MAX(updated_at_ms) AS updated_at_ms FROM user_prefix_usage GROUP BY user_id)`;

function usageOf(db, user) {
  return db.prepare(`SELECT bytes, objects, updated_at_ms FROM ${USAGE_BY_USER} WHERE user_id = ?`).bind(user);
}

/** What a user stores now: {bytes, objects, updated_at_ms} (zeros when nothing yet). */
export async function storageUsageOf(db, user) {
  return (await usageOf(db, user).first()) ?? { bytes: 0, objects: 0, updated_at_ms: null };
}

/**
 * What an upload is checked against, and its reservation, in one transaction: the quota row,
 * the usage, the size of the object it replaces, and what uploads admitted before it and still
 * under way have reserved ({bytes, objects}). A user with a quota gets a reservation row of
 * `size` bytes (`id`), held until `expiresAtMs`, which recordStoredObject or releaseReservation
 * removes: parallel uploads each see the ones before them, so together they cannot overshoot.
 */
export async function reserveUpload(db, user, key, size, id, nowMs, expiresAtMs) {
  const [quota, usage, old, , reserved] = await db.batch([
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
  return {
    quota: quota.results[0] ?? null,
    usage: usage.results[0] ?? { bytes: 0, objects: 0 },
    replacedSize: old.results[0]?.size ?? null,
    reserved: reserved.results[0] ?? { bytes: 0, objects: 0 },
  };
}

/** Gives back an upload's reservation (refused, or R2 failed). */
export async function releaseReservation(db, id) {
  await db.prepare('DELETE FROM quota_reservations WHERE id = ?').bind(id).run();
}

export { raiseUserPeaks } from './db/objects.js';

/**
 * Records a stored object of `size` bytes under `prefix` (the engine's storage_check_key):
 * its row in user_objects, the user's prefix usage, and today's peaks before and after, in one
 * transaction that reads the replaced object's size itself (so concurrent uploads add up).
 */
export async function recordStoredObject(db, record) {
  await db.batch(storedObjectStatements(db, record));
}

/**
 * Records a deleted object (if it was recorded): prefix usage less its size, today's
 * peak of the prefix kept (raised before the delete), in one transaction.
 */
export async function recordDeletedObject(db, user, key, prefix, nowMs = Date.now()) {
  const [, update] = await db.batch(deletedObjectStatements(db, { user, key, prefix, nowMs }));
  return update.meta.changes;
}

/**
 * The same records, written behind the answer (src/write-behind.js): the upload's reservation
 * stays until its record is written (in the same transaction), so quotas still see the bytes.
 * Both are idempotent: written twice, they change nothing more.
 */
export function recordStoredObjectLater(rt, record) {
  const r = { nowMs: Date.now(), ...record };
  writes.add({ build: (db) => storedObjectStatements(db, r) });
}

export function recordDeletedObjectLater(rt, user, key, prefix) {
  const r = { user, key, prefix, nowMs: Date.now() };
  writes.add({ build: (db) => deletedObjectStatements(db, r) });
}

/**
 * The stored-object records of one listing page's key range (R2 keys after `after`, exclusive,
 * through `through`, inclusive; null: open), for the inventory's reconciliation.
 */
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

/**
 * Applies the engine's reconciliation of one listing page (storage_reconcile_page): records
 * listed by R2 but missing or of another size are written, records R2 no longer lists are
 * deleted (each only if nothing changed it since `listedAtMs`), and the usage of every user
 * touched is recounted from their records, all in one transaction.
 */
export async function applyRecordFixes(db, plan, listedAtMs, nowMs = Date.now()) {
  if (!plan.upserts.length && !plan.deletes.length) return;
  const statements = [];
  for (const u of plan.upserts) {
    statements.push(
      db.prepare(
        `INSERT INTO user_objects (user_id, key, size, prefix, r2_key, updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (user_id, key) DO UPDATE SET size = excluded.size, prefix = excluded.prefix,
           r2_key = excluded.r2_key, updated_at_ms = excluded.updated_at_ms
         WHERE user_objects.updated_at_ms < ?7`,
      ).bind(u.user_id, u.key, u.size, u.prefix, u.r2_key, nowMs, listedAtMs),
    );
  }
  for (const d of plan.deletes) {
    statements.push(
      db.prepare('DELETE FROM user_objects WHERE user_id = ? AND key = ? AND updated_at_ms < ?')
        .bind(d.user_id, d.key, listedAtMs),
    );
  }
  for (const user of plan.users) {
    statements.push(
      db.prepare('DELETE FROM user_prefix_usage WHERE user_id = ?').bind(user),
      db.prepare(
        `INSERT INTO user_prefix_usage (user_id, prefix, bytes, objects, updated_at_ms)
         SELECT user_id, prefix, SUM(size), COUNT(*), ?2 FROM user_objects WHERE user_id = ?1 GROUP BY prefix`,
      ).bind(user, nowMs),
      raiseUserPeaks(db, nowMs, user),
    );
  }
  await db.batch(statements);
}

/**
 * Usage against quota, per user with a quota or with stored objects (or one user): what the
 * alert engine reads for quota alerts. [{user_id, bytes, objects, max_bytes, max_objects,
 * bytes_pct, objects_pct, over}] (percentages null without a quota).
 */
export async function quotaStatuses(rt, userId = null) {
  const { results } = await rt.env.DB.prepare(
    `SELECT id AS user_id, q.max_bytes, q.max_objects, s.bytes, s.objects
       FROM (SELECT user_id AS id FROM user_storage_quotas UNION SELECT user_id FROM user_prefix_usage) ids
       LEFT JOIN user_storage_quotas q ON q.user_id = ids.id
       LEFT JOIN ${USAGE_BY_USER} s ON s.user_id = ids.id
      WHERE (?1 IS NULL OR ids.id = ?1) ORDER BY ids.id`,
  )
    .bind(userId)
    .all();
  const users = results.map((r) => ({
    user_id: r.user_id,
    quota: r.max_bytes === null ? null : { max_bytes: r.max_bytes, max_objects: r.max_objects },
    usage: { bytes: r.bytes ?? 0, objects: r.objects ?? 0 },
  }));
  return rt.engine.call('quota_status', { users }, Date.now()).users;
}

function describeEvent(r) {
  return {
    id: r.id,
    kind: r.kind,
    subject: r.subject,
    count: r.count,
    threshold: r.threshold,
    window_start: new Date(r.window_start_ms).toISOString(),
    first_at: new Date(r.first_at_ms).toISOString(),
    last_at: new Date(r.last_at_ms).toISOString(),
    details: JSON.parse(r.details_json),
  };
}

/** Deletes counters of windows that have ended (daily job). */
export async function pruneSecurityCounters(rt, nowMs) {
  const r = await rt.env.DB.prepare('DELETE FROM security_counters WHERE window_start_ms < ?')
    .bind(nowMs - 86_400_000)
    .run();
  // The ids of batches written behind: a retry comes within seconds (the engine's retention).
  const ids = await pruneBatchIds(rt.env.DB, nowMs - (rt.security?.write_behind_id_retention_ms ?? 86_400_000));
  return { counters_deleted: r.meta.changes, write_batch_ids_deleted: ids.meta.changes };
}

// ---- rows as the API shows them --------------------------------------------------------------

const iso = (ms) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

function describeUser(r) {
  return {
    id: r.id,
    name: r.name,
    email: r.email,
    role: r.role,
    disabled: r.disabled === 1,
    created_at: iso(r.created_at_ms),
    updated_at: iso(r.updated_at_ms),
  };
}

/** A token without its hash: the token itself is shown only when it is created. */
function describeToken(r) {
  return {
    id: r.id,
    user_id: r.user_id,
    name: r.name,
    role: r.role,
    scopes: JSON.parse(r.scopes_json),
    created_at: iso(r.created_at_ms),
    created_by: r.created_by,
    expires_at: iso(r.expires_at_ms),
    last_used_at: iso(r.last_used_at_ms),
    revoked_at: iso(r.revoked_at_ms),
    active: r.revoked_at_ms === null && (r.expires_at_ms === null || r.expires_at_ms > Date.now()),
  };
}

const TOKEN_COLUMNS = `id, user_id, name, role, scopes_json, created_at_ms, created_by, expires_at_ms,
  last_used_at_ms, revoked_at_ms`;

function randomHex(bytes) {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

async function userRow(db, id) {
  return db.prepare('SELECT * FROM users WHERE id = ?').bind(id).first();
}

function checkUserId(rt, id, code = 'invalid_field') {
  let decoded;
  try {
    decoded = decodeURIComponent(id);
  } catch {
    throw new HttpError('invalid_field', 'id is not a valid percent-encoded user id', { field: 'id' });
  }
  // The engine's user_validate names the problem with the id; role is there to pass.
  const probe = rt.engine.callRaw('user_validate', { request: { id: decoded, role: 'readonly' } }, Date.now());
  if (!probe.ok) throw fromEngineError({ ...JSON.parse(probe.text).error, code });
  return decoded;
}

// ---- routes ----------------------------------------------------------------------------------

export function registerSecurityRoutes(router) {
  router.on('GET', '/api/auth/whoami', async (_request, _params, _rt, _ctx, auth) =>
    json({ user: auth.user, role: auth.role, scopes: auth.scopes, via: auth.via, token_id: auth.tokenId }),
  { role: 'readonly', scope: null });

  // One's own quota and usage (an admin: anyone's with ?user=).
  router.on('GET', '/api/quota', async (request, _params, rt, _ctx, auth) => {
    for (const name of new URL(request.url).searchParams.keys()) {
      if (name !== 'user') throw new HttpError('invalid_query', `unknown query parameter ${name}`, { field: name });
    }
    const [status] = await quotaStatuses(rt, auth.subject);
    return json(status ?? { user_id: auth.subject, bytes: 0, objects: 0, max_bytes: null, max_objects: null, bytes_pct: null, objects_pct: null, over: false });
  }, { role: 'readonly', scope: 'usage', user: true });

  router.on('POST', '/api/admin/users', async (request, _params, rt, _ctx, auth) => {
    const body = await readJsonBody(request);
    const { user } = ask(rt, 'user_validate', `{"request":${body}}`);
    const now = Date.now();
    const result = await rt.env.DB.prepare(
      `INSERT INTO users (id, name, email, role, disabled, created_at_ms, updated_at_ms)
       VALUES (?, ?, ?, ?, 0, ?, ?) ON CONFLICT (id) DO NOTHING`,
    )
      .bind(user.id, user.name, user.email, user.role, now, now)
      .run();
    if (result.meta.changes === 0) {
      throw new HttpError('conflict', `a user with id ${user.id} exists already`, { field: 'id' });
    }
    auth.auditTarget = `user=${user.id}`;
    auth.auditDetails = { role: user.role };
    return json(describeUser(await userRow(rt.env.DB, user.id)), 201);
  }, ADMIN);

  router.on('GET', '/api/admin/users', async (request, _params, rt) => {
    if ([...new URL(request.url).searchParams.keys()].length) {
      throw new HttpError('invalid_query', 'this route takes no query parameters');
    }
    const { results } = await rt.env.DB.prepare('SELECT * FROM users ORDER BY id').all();
    return json({ users: results.map(describeUser) });
  }, ADMIN);

  router.on('GET', '/api/admin/users/:id', async (_request, params, rt) => {
    const id = checkUserId(rt, params.id);
    const db = rt.env.DB;
    const row = await userRow(db, id);
    if (!row) throw new HttpError('not_found', `no user with id ${id}`, { field: 'id' });
    const { results: tokens } = await db
      .prepare(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE user_id = ? ORDER BY created_at_ms`)
      .bind(id)
      .all();
    const [quota] = await quotaStatuses(rt, id);
    return json({ ...describeUser(row), tokens: tokens.map(describeToken), quota: quota ?? null });
  }, ADMIN);

  // Disabling a user refuses their API tokens at once in this isolate and within the token
  // cache's minute in every other (JWTs lapse within their lifetime).
  for (const [action, disabled] of [['disable', 1], ['enable', 0]]) {
    router.on('POST', `/api/admin/users/:id/${action}`, async (_request, params, rt) => {
      const id = checkUserId(rt, params.id);
      const db = rt.env.DB;
      const r = await db.prepare('UPDATE users SET disabled = ?, updated_at_ms = ? WHERE id = ?')
        .bind(disabled, Date.now(), id)
        .run();
      if (r.meta.changes === 0) throw new HttpError('not_found', `no user with id ${id}`, { field: 'id' });
      forgetTokens(); // this isolate at once; the others within the token cache's minute
      return json(describeUser(await userRow(db, id)));
    }, ADMIN);
  }

  router.on('PUT', '/api/admin/users/:id/quota', async (request, params, rt, _ctx, auth) => {
    const id = checkUserId(rt, params.id);
    const body = await readJsonBody(request);
    const { quota } = ask(rt, 'quota_validate', `{"request":${body},"user":${JSON.stringify(id)}}`);
    const db = rt.env.DB;
    if (!(await userRow(db, id))) throw new HttpError('not_found', `no user with id ${id}`, { field: 'id' });
    await db.prepare(
      `INSERT INTO user_storage_quotas (user_id, max_bytes, max_objects, updated_at_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET max_bytes = excluded.max_bytes,
         max_objects = excluded.max_objects, updated_at_ms = excluded.updated_at_ms`,
    )
      .bind(id, quota.max_bytes, quota.max_objects, Date.now())
      .run();
    auth.auditDetails = quota;
    const [status] = await quotaStatuses(rt, id);
    return json(status);
  }, ADMIN);

  router.on('DELETE', '/api/admin/users/:id/quota', async (_request, params, rt) => {
    const id = checkUserId(rt, params.id);
    await rt.env.DB.prepare('DELETE FROM user_storage_quotas WHERE user_id = ?').bind(id).run();
    return new Response(null, { status: 204 });
  }, ADMIN);

  // Usage against quota for every user (the alert engine's quota feed, also over HTTP).
  router.on('GET', '/api/admin/quotas', async (_request, _params, rt) =>
    json({ users: await quotaStatuses(rt) }),
  ADMIN);

  router.on('POST', '/api/admin/tokens', async (request, _params, rt, _ctx, auth) => {
    const body = await readJsonBody(request);
    const parsed = JSON.parse(body);
    const db = rt.env.DB;
    const user = typeof parsed.user_id === 'string' ? await userRow(db, parsed.user_id) : null;
    const issued = ask(rt, 'token_issue', {
      request: parsed,
      user: user ?? null,
      random: randomHex(40),
    });
    const r = issued.record;
    await db.prepare(
      `INSERT INTO api_tokens (id, user_id, name, role, scopes_json, token_hash, created_at_ms, created_by,
         expires_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
      .bind(r.id, r.user_id, r.name, r.role, JSON.stringify(r.scopes), r.token_hash, r.created_at_ms, auth.user, r.expires_at_ms)
      .run();
    auth.auditTarget = `token=${r.id}&user=${r.user_id}`;
    auth.auditDetails = { role: r.role, scopes: r.scopes, name: r.name };
    const row = await db.prepare(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE id = ?`).bind(r.id).first();
    return json({ ...describeToken(row), token: issued.token }, 201);
  }, ADMIN);

  router.on('GET', '/api/admin/tokens', async (request, _params, rt) => {
    const q = queryOf(request);
    for (const name of Object.keys(q)) {
      if (name !== 'user_id') throw new HttpError('invalid_query', `unknown query parameter ${name}`, { field: name });
    }
    if (q.user_id !== undefined) checkUserId(rt, q.user_id, 'invalid_query');
    const { results } = await rt.env.DB.prepare(
      `SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE (?1 IS NULL OR user_id = ?1) ORDER BY created_at_ms, id`,
    )
      .bind(q.user_id ?? null)
      .all();
    return json({ tokens: results.map(describeToken) });
  }, ADMIN);

  // Revokes a token (kept for the record; refused from the next request on in this isolate,
  // within the token cache's minute in every other).
  router.on('DELETE', '/api/admin/tokens/:id', async (_request, params, rt) => {
    if (!/^[0-9a-f]{16}$/.test(params.id)) {
      throw new HttpError('invalid_field', 'id must be a token id (16 hex digits)', { field: 'id' });
    }
    const db = rt.env.DB;
    const now = Date.now();
    const [update, row] = await db.batch([
      db.prepare('UPDATE api_tokens SET revoked_at_ms = ? WHERE id = ? AND revoked_at_ms IS NULL').bind(now, params.id),
      db.prepare(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE id = ?`).bind(params.id),
    ]);
    if (!row.results[0]) throw new HttpError('not_found', `no token with id ${params.id}`, { field: 'id' });
    if (update.meta.changes === 0) throw new HttpError('conflict', `token ${params.id} is already revoked`, { field: 'id' });
    forgetTokens(); // this isolate at once; the others within the token cache's minute
    return json(describeToken(row.results[0]));
  }, ADMIN);

  router.on('GET', '/api/admin/audit', async (request, _params, rt) => {
    const q = ask(rt, 'log_query', { kind: 'audit', query: queryOf(request) });
    const { results } = await rt.env.DB.prepare(
      `SELECT * FROM audit_log
        WHERE (?1 IS NULL OR at_ms >= ?1) AND (?2 IS NULL OR actor = ?2) AND (?3 IS NULL OR action = ?3)
          AND (?4 IS NULL OR result = ?4) AND (?5 IS NULL OR id < ?5)
        ORDER BY id DESC LIMIT ?6`,
    )
      .bind(q.since_ms, q.actor, q.action, q.result, q.before_id, q.limit)
      .all();
    const entries = results.map((r) => ({
      id: r.id,
      at: iso(r.at_ms),
      actor: r.actor,
      actor_role: r.actor_role,
      via: r.via,
      action: r.action,
      target: r.target,
      result: r.result,
      status: r.status,
      ip: r.ip,
      user_agent: r.user_agent,
      details: r.details_json ? JSON.parse(r.details_json) : null,
    }));
    const next = entries.length === q.limit ? entries[entries.length - 1].id : null;
    return json({ entries, next_before_id: next });
  }, ADMIN);

  router.on('GET', '/api/admin/security-events', async (request, _params, rt) => {
    const q = ask(rt, 'log_query', { kind: 'security_events', query: queryOf(request) });
    const { results } = await rt.env.DB.prepare(
      `SELECT * FROM security_events WHERE (?1 IS NULL OR last_at_ms >= ?1) AND (?2 IS NULL OR kind = ?2)
          AND (?3 IS NULL OR id < ?3) ORDER BY id DESC LIMIT ?4`,
    )
      .bind(q.since_ms, q.kind, q.before_id, q.limit)
      .all();
    return json({ events: results.map(describeEvent) });
  }, ADMIN);
}
