// The storage API: every R2 call goes through `guarded`, which asks the engine's breaker
// first, applies injected faults where enabled, measures the call and reports it back.
import { HttpError, json, retryAfterSeconds, ask } from './http.js';
import { faultsEnabled } from './runtime.js';
import { writeEvent } from './analytics.js';
import { reserveUpload, releaseReservation, recordStoredObjectLater, recordDeletedObjectLater } from './security.js';

/** The bucket name metrics are recorded under (the R2 binding does not expose its name). */
export function bucketName(env) {
  return env.BUCKET_NAME || 'r2watch-data';
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A call that did not finish within its time limit. */
export class TimeoutError extends Error {}

/** Settles with `promise`, or rejects with a TimeoutError after `ms` (the call itself goes on). */
export function withTimeout(promise, ms) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/**
 * Runs one R2 operation under the breaker.
 * @param {import('./runtime.js').Runtime} rt
 * @param {'get'|'put'|'delete'|'list'|'head'} operation
 * @param {() => Promise<any>} call the R2 call
 * @param {(result: any) => number} [bytesOf] bytes moved by a successful call (uploaded for a
 *   put, downloaded otherwise)
 * @param {{key?: string, user?: string, timeoutMs?: number, timing?: {latencyMs?: number}}}
 *   [about] the object key (or list prefix) and the user, for the metrics series; `timeoutMs`
 *   fails the call (as a TimeoutError, counted by the breaker like any failure) when it takes
 *   longer; `timing.latencyMs` receives the measured latency.
 */
export async function guarded(rt, operation, call, bytesOf = () => 0, about = {}) {
  const engine = rt.engine;
  if (!engine.acquire(Date.now())) {
    await rt.persistBreaker(); // OPEN -> HALF_OPEN timeouts are transitions too
    const waitMs = engine.retryAfterMs();
    throw new HttpError(
      'circuit_open',
      `R2 ${operation} refused: the circuit breaker is open after recent failures; retry in ${retryAfterSeconds(waitMs)} s`,
      { headers: { 'retry-after': retryAfterSeconds(waitMs) } },
    );
  }
  const started = Date.now();
  let result;
  let failure = null;
  const attempt = async () => {
    if (faultsEnabled(rt.env) && engine.faultsActive()) {
      const delay = engine.faultLatencyMs(operation);
      if (delay > 0) await sleep(delay);
      if (engine.faultFails(operation, Math.random())) {
        throw new Error(`injected fault on ${operation}`);
      }
    }
    return call();
  };
  try {
    result = about.timeoutMs ? await withTimeout(attempt(), about.timeoutMs) : await attempt();
  } catch (e) {
    failure = e;
  }
  const ended = Date.now();
  if (about.timing) about.timing.latencyMs = ended - started;
  const bytes = failure ? 0 : bytesOf(result);
  const bytesUp = operation === 'put' ? bytes : 0;
  const bytesDown = operation === 'put' ? 0 : bytes;
  const bucket = bucketName(rt.env);
  const key = about.key ?? '';
  const user = about.user ?? '';
  const series = engine.series(bucket, key, user);
  const latencyMs = ended - started;
  const pending = engine.record(series.id, operation, failure === null, latencyMs, bytesUp, bytesDown, ended);
  writeEvent(rt, {
    bucket,
    operation,
    r2Class: engine.r2Class(operation),
    ok: failure === null,
    prefix: series.prefix,
    user,
    error: failure?.message,
    latencyMs,
    bytesUp,
    bytesDown,
  });
  if (pending > 0) await rt.persistBreaker(ended);
  if (failure) {
    const err = new HttpError('storage_error', `R2 ${operation} failed: ${failure.message}`);
    err.cause = failure;
    throw err;
  }
  return result;
}


function decodeKey(raw) {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError('invalid_field', 'key is not a valid percent-encoded path', { field: 'key' });
  }
}

/**
 * The headers of an object response: its stored metadata, and what the engine adds for its
 * content type (`storage_object_headers`: nosniff always, a download for active types such as
 * HTML, SVG, XML and scripts).
 */
function objectHeaders(rt, object) {
  const headers = new Headers();
  object.writeHttpMetadata(headers);
  headers.set('etag', object.httpEtag);
  headers.set('content-length', String(object.size));
  headers.set('last-modified', object.uploaded.toUTCString());
  const { headers: added } = ask(rt, 'storage_object_headers', { content_type: object.httpMetadata?.contentType ?? null });
  for (const [name, value] of Object.entries(added)) headers.set(name, value);
  return headers;
}

/** An object as its owner sees it: `namespace` ("users/<id>/") is taken off its key. */
function describe(object, namespace = '') {
  return {
    key: object.key.startsWith(namespace) ? object.key.slice(namespace.length) : object.key,
    size: object.size,
    etag: object.etag,
    uploaded: object.uploaded.toISOString(),
    content_type: object.httpMetadata?.contentType ?? null,
  };
}

function notFound(key) {
  return new HttpError('not_found', `no object with key ${JSON.stringify(key)}`, { field: 'key' });
}

/** Refuses query parameters other than `allowed` (400 naming the first unknown one). */
function onlyParams(request, allowed) {
  for (const name of new URL(request.url).searchParams.keys()) {
    if (!allowed.includes(name)) {
      throw new HttpError('invalid_query', `unknown query parameter ${name}`, { field: name });
    }
  }
}

/**
 * The key of a request, checked, and where it lives: every user's objects are under their own
 * namespace "users/<id>/" (core/storage/user-namespace.h), the one of `auth.subject` (the caller,
 * or the user an admin named with ?user=).
 */
function keyOf(rt, params, auth) {
  return ask(rt, 'storage_check_key', { key: decodeKey(params.key), user: auth.subject });
}

// Reading one's objects needs readonly; writing and deleting needs user. ?user= is an admin's.
const READ_STORAGE = { role: 'readonly', scope: 'storage', user: true };
const WRITE_STORAGE = { role: 'user', scope: 'storage', user: true };

export function registerStorageRoutes(router) {
  // Upload: refused with 413 before anything is written to R2 when the body is larger than
  // MAX_UPLOAD_BYTES or would take the user over their quota (the size of an object it
  // replaces is freed first). The user's usage is kept in user_prefix_usage / user_objects.
  router.on('PUT', '/api/storage/files/*key', async (request, params, rt, _ctx, auth) => {
    onlyParams(request, ['user']);
    const { key, r2_key: r2Key, prefix } = keyOf(rt, params, auth);
    const about = { key, user: auth.subject };
    const declared = request.headers.get('content-length');
    const db = rt.env.DB;
    // The size is the declared length (the runtime holds a body to it); without one, the body.
    let body = null;
    let size;
    if (declared !== null && /^\d{1,16}$/.test(declared)) {
      size = Number(declared);
      ask(rt, 'quota_check', { quota: null, usage: null, new_size: size }); // MAX_UPLOAD_BYTES
    } else {
      body = await request.arrayBuffer();
      size = body.byteLength;
    }
    const now = Date.now();
    const reservation = crypto.randomUUID();
    const state = await reserveUpload(db, auth.subject, key, size, reservation, now,
      now + rt.security.upload_reservation_ms);
    let object;
    try {
      ask(rt, 'quota_check', {
        quota: state.quota,
        usage: state.usage,
        reserved: state.reserved,
        replaced_size: state.replacedSize,
        new_size: size,
      });
      body ??= await request.arrayBuffer();
      const contentType = request.headers.get('content-type') ?? 'application/octet-stream';
      object = await guarded(
        rt,
        'put',
        () => rt.env.BUCKET.put(r2Key, body, { httpMetadata: { contentType } }),
        () => body.byteLength,
        about,
      );
    } catch (e) {
      if (state.quota) await releaseReservation(db, reservation).catch(() => {}); // expires anyway
      throw e;
    }
    recordStoredObjectLater(rt, { user: auth.subject, key, r2Key, prefix, size: body.byteLength, reservation });
    auth.auditDetails = { bytes: body.byteLength, replaced_bytes: state.replacedSize };
    return json(describe(object, r2Key.slice(0, r2Key.length - key.length)), 201);
  }, WRITE_STORAGE);

  router.on('GET', '/api/storage/files/*key', async (request, params, rt, _ctx, auth) => {
    onlyParams(request, ['user']);
    const { key, r2_key: r2Key } = keyOf(rt, params, auth);
    const object = await guarded(rt, 'get', () => rt.env.BUCKET.get(r2Key), (o) => o?.size ?? 0, {
      key,
      user: auth.subject,
    });
    if (!object) throw notFound(key);
    return new Response(object.body, { headers: objectHeaders(rt, object) });
  }, READ_STORAGE);

  router.on('HEAD', '/api/storage/files/*key', async (request, params, rt, _ctx, auth) => {
    onlyParams(request, ['user']);
    const { key, r2_key: r2Key } = keyOf(rt, params, auth);
    const object = await guarded(rt, 'head', () => rt.env.BUCKET.head(r2Key), undefined, {
      key,
      user: auth.subject,
    });
    if (!object) return new Response(null, { status: 404 });
    return new Response(null, { headers: objectHeaders(rt, object) });
  }, READ_STORAGE);

  router.on('DELETE', '/api/storage/files/*key', async (request, params, rt, _ctx, auth) => {
    onlyParams(request, ['user']);
    const { key, r2_key: r2Key, prefix } = keyOf(rt, params, auth);
    await guarded(rt, 'delete', () => rt.env.BUCKET.delete(r2Key), undefined, { key, user: auth.subject });
    recordDeletedObjectLater(rt, auth.subject, key, prefix);
    return new Response(null, { status: 204 });
  }, WRITE_STORAGE);

  // A user lists only their own namespace; keys come back as the user wrote them.
  router.on('GET', '/api/storage/files', async (request, _params, rt, _ctx, auth) => {
    onlyParams(request, ['prefix', 'cursor', 'limit', 'user']);
    const url = new URL(request.url);
    const query = { user: auth.subject };
    for (const name of ['prefix', 'cursor', 'limit']) {
      const value = url.searchParams.get(name);
      if (value !== null) query[name] = value;
    }
    const q = ask(rt, 'storage_list_query', query);
    const options = { limit: q.limit, include: ['httpMetadata'], prefix: q.r2_prefix };
    if (q.cursor) options.cursor = q.cursor;
    const listing = await guarded(rt, 'list', () => rt.env.BUCKET.list(options), undefined, {
      key: q.prefix,
      user: auth.subject,
    });
    return json({
      objects: listing.objects.map((o) => describe(o, q.namespace)),
      truncated: listing.truncated,
      cursor: listing.truncated ? listing.cursor : null,
    });
  }, READ_STORAGE);
}
