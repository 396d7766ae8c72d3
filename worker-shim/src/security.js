// Users, API tokens, quotas, the audit log and security events: the admin API, and the queries
// other parts of r2watch use (the storage routes' quota check, the alert engine's quota and
// security-event feeds). Every check is the engine's (core/security/).
import { HttpError, json, readJsonBody, ask } from './http.js';
import { storedObjectStatements, deletedObjectStatements, raiseUserPeaks } from './db/objects.js';
import {
  pruneBatchIds,
  pruneCounters,
  storageUsageRow,
  reserveUploadBatch,
  deleteReservation,
  quotaAndUsageRows,
  upsertQuota,
  deleteQuota,
  upsertObjectRecord,
  deleteObjectRecord,
  recountUserUsage,
  userRow,
  allUserRows,
  insertUser,
  setUserDisabled,
  tokenById,
  tokenRows,
  insertToken,
  revokeToken,
  auditRows,
  securityEventRows,
} from './db/security.js';
import { writes } from './write-behind.js';
import { forgetTokens } from './auth.js';


/** Query-string values as strings, for the engine to check. */
function queryOf(request) {
  return Object.fromEntries(new URL(request.url).searchParams);
}

const ADMIN = { role: 'admin' };

// ---- queries used elsewhere ------------------------------------------------------------------

/** What a user stores now: {bytes, objects, updated_at_ms} (zeros when nothing yet). */
export async function storageUsageOf(db, user) {
  return (await storageUsageRow(db, user)) ?? { bytes: 0, objects: 0, updated_at_ms: null };
}

/**
 * What an upload is checked against, and its reservation, in one transaction: the quota row,
 * the usage, the size of the object it replaces, and what uploads admitted before it and still
 * under way have reserved ({bytes, objects}). A user with a quota gets a reservation row of
 * `size` bytes (`id`), held until `expiresAtMs`, which recordStoredObject or releaseReservation
 * removes: parallel uploads each see the ones before them, so together they cannot overshoot.
 */
export async function reserveUpload(db, user, key, size, id, nowMs, expiresAtMs) {
  const [quota, usage, old, , reserved] = await reserveUploadBatch(db, { user, key, size, id, nowMs, expiresAtMs });
  return {
    quota: quota.results[0] ?? null,
    usage: usage.results[0] ?? { bytes: 0, objects: 0 },
    replacedSize: old.results[0]?.size ?? null,
    reserved: reserved.results[0] ?? { bytes: 0, objects: 0 },
  };
}

/** Gives back an upload's reservation (refused, or R2 failed). */
export async function releaseReservation(db, id) {
  await deleteReservation(db, id);
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
export { objectRecordsInRange } from './db/security.js';

/**
 * Applies the engine's reconciliation of one listing page (storage_reconcile_page): records
 * listed by R2 but missing or of another size are written, records R2 no longer lists are
 * deleted (each only if nothing changed it since `listedAtMs`), and the usage of every user
 * touched is recounted from their records, all in one transaction.
 */
export async function applyRecordFixes(db, plan, listedAtMs, nowMs = Date.now()) {
  if (!plan.upserts.length && !plan.deletes.length) return;
  const statements = [];
  for (const u of plan.upserts) statements.push(upsertObjectRecord(db, u, nowMs, listedAtMs));
  for (const d of plan.deletes) statements.push(deleteObjectRecord(db, d, listedAtMs));
  for (const user of plan.users) statements.push(...recountUserUsage(db, user, nowMs), raiseUserPeaks(db, nowMs, user));
  await db.batch(statements);
}

/**
 * Usage against quota, per user with a quota or with stored objects (or one user): what the
 * alert engine reads for quota alerts. [{user_id, bytes, objects, max_bytes, max_objects,
 * bytes_pct, objects_pct, over, warning_pct, warning}] (percentages null without a quota; the
 * warning level and whether it is reached are the engine's).
 */
export async function quotaStatuses(rt, userId = null) {
  const rows = await quotaAndUsageRows(rt.env.DB, userId);
  const users = rows.map((r) => ({
    user_id: r.user_id,
    quota: r.max_bytes === null ? null : { max_bytes: r.max_bytes, max_objects: r.max_objects },
    usage: { bytes: r.bytes ?? 0, objects: r.objects ?? 0 },
  }));
  return ask(rt, 'quota_status', { users }).users;
}

/** The status of a user with neither a quota nor stored objects (the engine's answer). */
function quotaStatusWithout(rt, userId) {
  return ask(rt, 'quota_status', { users: [{ user_id: userId, quota: null, usage: null }] }).users[0];
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

/**
 * Deletes counters of windows that have ended and the ids of old batches written behind (daily
 * job); how long each is kept is the engine's (security_configure).
 */
export async function pruneSecurityCounters(rt, nowMs) {
  const r = await pruneCounters(rt.env.DB, nowMs - rt.security.security_counter_retention_ms);
  // The ids of batches written behind: a retry comes within seconds.
  const ids = await pruneBatchIds(rt.env.DB, nowMs - rt.security.write_behind_id_retention_ms);
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

function randomHex(bytes) {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

function checkUserId(rt, id, code = 'invalid_field') {
  let decoded;
  try {
    decoded = decodeURIComponent(id);
  } catch {
    throw new HttpError('invalid_field', 'id is not a valid percent-encoded user id', { field: 'id' });
  }
  // The engine's user_validate names the problem with the id (answered under `code`: a user id
  // in a path is not found rather than invalid); role is there to pass.
  try {
    ask(rt, 'user_validate', { request: { id: decoded, role: 'readonly' } });
  } catch (e) {
    if (e instanceof HttpError) throw new HttpError(code, e.message, { field: e.field, errors: e.errors });
    throw e;
  }
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
    return json(status ?? (await quotaStatusWithout(rt, auth.subject)));
  }, { role: 'readonly', scope: 'usage', user: true });

  router.on('POST', '/api/admin/users', async (request, _params, rt, _ctx, auth) => {
    const body = await readJsonBody(request);
    const { user } = ask(rt, 'user_validate', `{"request":${body}}`);
    const now = Date.now();
    const result = await insertUser(rt.env.DB, user, now);
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
    return json({ users: (await allUserRows(rt.env.DB)).map(describeUser) });
  }, ADMIN);

  router.on('GET', '/api/admin/users/:id', async (_request, params, rt) => {
    const id = checkUserId(rt, params.id);
    const db = rt.env.DB;
    const row = await userRow(db, id);
    if (!row) throw new HttpError('not_found', `no user with id ${id}`, { field: 'id' });
    const tokens = await tokenRows(db, id);
    const [quota] = await quotaStatuses(rt, id);
    return json({ ...describeUser(row), tokens: tokens.map(describeToken), quota: quota ?? null });
  }, ADMIN);

  // Disabling a user refuses their API tokens at once in this isolate and within the token
  // cache's minute in every other (JWTs lapse within their lifetime).
  for (const [action, disabled] of [['disable', 1], ['enable', 0]]) {
    router.on('POST', `/api/admin/users/:id/${action}`, async (_request, params, rt) => {
      const id = checkUserId(rt, params.id);
      const db = rt.env.DB;
      const r = await setUserDisabled(db, id, disabled, Date.now());
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
    await upsertQuota(db, id, quota, Date.now());
    auth.auditDetails = quota;
    const [status] = await quotaStatuses(rt, id);
    return json(status);
  }, ADMIN);

  router.on('DELETE', '/api/admin/users/:id/quota', async (_request, params, rt) => {
    const id = checkUserId(rt, params.id);
    await deleteQuota(rt.env.DB, id);
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
    await insertToken(db, r, auth.user);
    auth.auditTarget = `token=${r.id}&user=${r.user_id}`;
    auth.auditDetails = { role: r.role, scopes: r.scopes, name: r.name };
    const row = await tokenById(db, r.id);
    return json({ ...describeToken(row), token: issued.token }, 201);
  }, ADMIN);

  router.on('GET', '/api/admin/tokens', async (request, _params, rt) => {
    const q = queryOf(request);
    for (const name of Object.keys(q)) {
      if (name !== 'user_id') throw new HttpError('invalid_query', `unknown query parameter ${name}`, { field: name });
    }
    if (q.user_id !== undefined) checkUserId(rt, q.user_id, 'invalid_query');
    return json({ tokens: (await tokenRows(rt.env.DB, q.user_id ?? null)).map(describeToken) });
  }, ADMIN);

  // Revokes a token (kept for the record; refused from the next request on in this isolate,
  // within the token cache's minute in every other).
  router.on('DELETE', '/api/admin/tokens/:id', async (_request, params, rt) => {
    if (!/^[0-9a-f]{16}$/.test(params.id)) {
      throw new HttpError('invalid_field', 'id must be a token id (16 hex digits)', { field: 'id' });
    }
    const { changes, row } = await revokeToken(rt.env.DB, params.id, Date.now());
    if (!row) throw new HttpError('not_found', `no token with id ${params.id}`, { field: 'id' });
    if (changes === 0) throw new HttpError('conflict', `token ${params.id} is already revoked`, { field: 'id' });
    forgetTokens(); // this isolate at once; the others within the token cache's minute
    return json(describeToken(row));
  }, ADMIN);

  router.on('GET', '/api/admin/audit', async (request, _params, rt) => {
    const q = ask(rt, 'log_query', { kind: 'audit', query: queryOf(request) });
    const entries = (await auditRows(rt.env.DB, q)).map((r) => ({
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
    return json({ events: (await securityEventRows(rt.env.DB, q)).map(describeEvent) });
  }, ADMIN);
}
