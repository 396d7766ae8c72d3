// The storage API: every R2 call goes through `guarded`, which asks the engine's breaker
// first, applies injected faults where enabled, measures the call and reports it back.
import { HttpError, json, retryAfterSeconds, ask, fromEngineError, readAtMost } from './http.js';
import { faultsEnabled } from './runtime.js';
import { writeEvent } from './analytics.js';
import { registerMultipartRoutes } from './multipart.js';
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
 * Where fault injection is on (tests, never production): counts the engine calls of one
 * storage request before its first R2 call and after its last R2 answer, for the response's
 * x-r2watch-engine-calls ("<before> <after>"; issue #14: one before R2, one after). Exact when
 * one request is in flight at a time, like instrument.js's figures. Null elsewhere.
 */
function engineTrace(rt) {
  return faultsEnabled(rt.env) ? { engine: rt.engine, start: rt.engine.calls, r2Start: null, r2End: null } : null;
}

/** `response` with the trace's counts (when there is a trace and it saw an R2 call). */
function traced(trace, response) {
  if (!trace || trace.r2Start === null || trace.engine.broken) return response;
  const after = trace.engine.calls - trace.r2End;
  response.headers.set('x-r2watch-engine-calls', `${trace.r2Start - trace.start} ${after}`);
  return response;
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
 *   longer; `timing.latencyMs` receives the measured latency; `trace` (engineTrace) learns when
 *   R2 was called and answered.
 */
export async function guarded(rt, operation, call, bytesOf = () => 0, about = {}) {
  const engine = rt.engine;
  const now = Date.now();
  rt.sharedBreaker?.poll(now); // a background sync with the shared breaker when one is due
  if (!engine.acquire(now)) {
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
    if (about.trace) about.trace.r2Start ??= engine.calls;
    return call();
  };
  try {
    result = about.timeoutMs ? await withTimeout(attempt(), about.timeoutMs) : await attempt();
  } catch (e) {
    failure = e;
  }
  const ended = Date.now();
  if (about.trace) about.trace.r2End = engine.calls;
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
  if (pending > 0) {
    rt.sharedBreaker?.kick(); // in the background: the other isolates learn of it at their next sync
    await rt.persistBreaker(ended);
  }
  if (failure) {
    const err = new HttpError('storage_error', `R2 ${operation} failed: ${failure.message}`);
    err.cause = failure;
    throw err;
  }
  return result;
}


export function decodeKey(raw) {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError('invalid_field', 'key is not a valid percent-encoded path', { field: 'key' });
  }
}

/** A request's headers as the engine reads them: {lowercase name: value}. */
export function headersOf(request) {
  return Object.fromEntries(request.headers);
}

/**
 * Reads a body that declared no length, refusing it (`overLimit`, the engine's error: 411, or
 * 413 under a small MAX_UPLOAD_BYTES) as soon as it passes `limit` bytes: at most `limit` + one
 * chunk is ever held.
 */
function readBounded(request, limit, overLimit) {
  return readAtMost(request, limit, () => fromEngineError(overLimit));
}

/**
 * The body of a request that declared `size` bytes, as a stream R2 takes without holding it:
 * R2 needs the length of a stream up front, which a FixedLengthStream carries (and enforces).
 */
export function streamedBody(request, size) {
  if (size === 0 || !request.body) return new Uint8Array(0);
  const { readable, writable } = new FixedLengthStream(size);
  request.body.pipeTo(writable).catch(() => {}); // a short or long body fails the R2 call
  return readable;
}

// The answer of a ranged R2 get that R2 found unsatisfiable (no bytes at that offset).
const RANGE_REFUSED = Symbol('range refused');

/** Whether an R2 error is R2's "range not satisfiable" (InvalidRange, 10039). */
function isInvalidRange(e) {
  return /10039|range is not satisfiable|InvalidRange/i.test(String(e?.message ?? e));
}

/**
 * Bytes an R2 read moved (a ranged read moves its range), for the metrics recorded in `guarded`
 * right after R2 answers. Not a rule: R2 reports the range it read in the forms a request may
 * give (offset/length, open-ended, suffix), and this measures that range against the object's
 * size. Which range to ask for and what to answer are the engine's (storage_read_plan,
 * storage_read_answer); moving this count into it would take a third engine call or the plan's
 * range into the hot-path record (engine.js), see docs/architecture.md.
 */
function bytesRead(object) {
  if (!object || object === RANGE_REFUSED || !object.body) return 0;
  const r = object.range;
  if (!r) return object.size;
  if (r.suffix !== undefined) return Math.min(r.suffix, object.size);
  const offset = r.offset ?? 0;
  return Math.max(0, Math.min(r.length ?? object.size - offset, object.size - offset));
}

/** What the engine needs of a stored object to answer a read. */
function versionOf(object) {
  return {
    etag: object.etag,
    size: object.size,
    uploaded_ms: object.uploaded.getTime(),
    content_type: object.httpMetadata?.contentType ?? null,
    custom_metadata: object.customMetadata ?? {},
  };
}

/**
 * A GET or HEAD of one object. The engine reads the request first (the key; the R2 range of a
 * GET's Range) and, once R2 has answered, decides the answer (`storage_read_answer`: 200, 206,
 * 304, 412 or 416, with ETag, Last-Modified, Content-Range, nosniff, a download for active
 * types and the x-r2watch-meta-* headers). A body R2 sent that the answer does not use (a 304,
 * or a range that If-Range turned down) is cancelled; in the rare case the answer needs other
 * bytes than were read (If-Range named another version, or the object changed between calls),
 * they are read again.
 */
async function readObject(request, params, rt, auth, method) {
  const trace = engineTrace(rt);
  const headers = headersOf(request);
  const plan = ask(rt, 'storage_read_plan', { key: decodeKey(params.key), user: auth.subject, method, headers });
  const about = { key: plan.key, user: auth.subject, trace };
  const bucket = rt.env.BUCKET;
  const head = () => guarded(rt, 'head', () => bucket.head(plan.r2_key), undefined, about);
  const get = (range) =>
    guarded(
      rt,
      'get',
      async () => {
        try {
          return await bucket.get(plan.r2_key, range ? { range } : {});
        } catch (e) {
          if (range && isInvalidRange(e)) return RANGE_REFUSED; // the client's range, not a fault
          throw e;
        }
      },
      bytesRead,
      about,
    );
  let object = method === 'HEAD' ? await head() : await get(plan.range);
  let fetchedRange = plan.range;
  if (object === RANGE_REFUSED) {
    object = await head(); // the object's size and validators, for the 416 (or 304) answer
    fetchedRange = null;
  }
  if (!object) {
    if (method === 'HEAD') return traced(trace, new Response(null, { status: 404 }));
    throw notFound(plan.key);
  }
  const answer = ask(rt, 'storage_read_answer', { method, headers, object: versionOf(object) });
  const cancel = () => object.body?.cancel().catch(() => {});
  if (answer.error) {
    cancel();
    return traced(trace, json({ error: answer.error }, answer.status, answer.headers));
  }
  const out = new Headers();
  if (answer.status !== 304) object.writeHttpMetadata(out);
  for (const [name, value] of Object.entries(answer.headers)) out.set(name, value);
  if (method === 'HEAD' || answer.status === 304) {
    cancel();
    return traced(trace, new Response(null, { status: answer.status, headers: out }));
  }
  const wanted = answer.range ? { offset: answer.range.offset, length: answer.range.length } : null;
  const haveWanted = object.body && (wanted ? fetchedRange !== null : fetchedRange === null);
  if (!haveWanted) {
    cancel();
    object = await get(wanted);
    if (!object || object === RANGE_REFUSED) throw new HttpError('conflict', 'the object changed while it was read; retry');
  }
  return traced(trace, new Response(object.body, { status: answer.status, headers: out }));
}

/** An object as its owner sees it: `namespace` ("users/<id>/") is taken off its key. */
export function describe(object, namespace = '') {
  return {
    key: object.key.startsWith(namespace) ? object.key.slice(namespace.length) : object.key,
    size: object.size,
    etag: object.etag,
    uploaded: object.uploaded.toISOString(),
    content_type: object.httpMetadata?.contentType ?? null,
  };
}

export function notFound(key) {
  return new HttpError('not_found', `no object with key ${JSON.stringify(key)}`, { field: 'key' });
}

/**
 * The names of a request's query parameters, for the engine's plan of a storage route to check
 * (which parameters each route takes is the core's rule: core/storage/object-key.h).
 */
export function queryNames(request) {
  return [...new URL(request.url).searchParams.keys()];
}

/**
 * The key of a request, checked, and where it lives: every user's objects are under their own
 * namespace "users/<id>/" (core/storage/user-namespace.h), the one of `auth.subject` (the caller,
 * or the user an admin named with ?user=).
 */
function keyOf(rt, request, params, auth) {
  return ask(rt, 'storage_check_key', { key: decodeKey(params.key), user: auth.subject, query: queryNames(request) });
}

// Reading one's objects needs readonly; writing and deleting needs user. ?user= is an admin's.
export const READ_STORAGE = { role: 'readonly', scope: 'storage', user: true };
export const WRITE_STORAGE = { role: 'user', scope: 'storage', user: true };

export function registerStorageRoutes(router) {
  registerMultipartRoutes(router);
  // Upload: a body that declares Content-Length is streamed to R2 (never held in memory);
  // one without is buffered up to a small limit and refused with 411 beyond it. Refused with
  // 413 before anything is read or written to R2 when the length is above MAX_UPLOAD_BYTES or
  // would take the user over their quota (the size of an object it replaces is freed first).
  // x-r2watch-meta-<name> headers are stored as the object's custom metadata. If-Match and
  // If-None-Match make the write conditional (R2 applies them atomically; 412 when they fail).
  // The user's usage is kept in user_prefix_usage / user_objects.
  router.on('PUT', '/api/storage/files/*key', async (request, params, rt, _ctx, auth) => {
    const trace = engineTrace(rt);
    const db = rt.env.DB;
    const headers = headersOf(request);
    const asked = { key: decodeKey(params.key), user: auth.subject, mode: 'put', headers, query: queryNames(request) };
    const now = Date.now();
    const reservation = crypto.randomUUID();
    const reserve = (key, size) =>
      reserveUpload(db, auth.subject, key, size, reservation, now, now + rt.security.upload_reservation_ms);
    const quotaState = (state, size) => ({
      quota: state.quota,
      usage: state.usage,
      reserved: state.reserved,
      replaced_size: state.replacedSize,
      new_size: size,
    });
    // A body that declares its length: the reservation is read (and made) first, and the engine
    // answers the plan and the quota check in one call (the engine checks the length it was
    // given is the declared one, and refuses a bad key or header before anything is written to
    // R2; the reservation is then given back). Else the plan says how much body to buffer, and
    // the quota is checked once its size is known.
    const declared = Number(headers['content-length'] ?? NaN);
    let plan, state, size, body = null;
    const checked = Number.isSafeInteger(declared) && declared >= 0;
    if (checked) {
      size = declared;
      state = await reserve(asked.key, size);
      try {
        plan = ask(rt, 'storage_write_plan', { ...asked, quota_state: quotaState(state, size) });
      } catch (e) {
        if (state.quota) await releaseReservation(db, reservation).catch(() => {}); // expires anyway
        throw e;
      }
    } else {
      plan = ask(rt, 'storage_write_plan', asked);
      size = plan.body.declared_bytes;
      if (size === null) {
        body = await readBounded(request, plan.body.buffer_limit_bytes, plan.body.over_limit);
        size = body.byteLength;
      }
      state = await reserve(plan.key, size);
    }
    const { key, r2_key: r2Key, prefix } = plan;
    const about = { key, user: auth.subject, trace };
    let object;
    try {
      if (!checked) ask(rt, 'quota_check', quotaState(state, size));
      const value = body ?? streamedBody(request, size);
      const options = { httpMetadata: { contentType: plan.content_type }, customMetadata: plan.custom_metadata };
      if (plan.only_if) options.onlyIf = new Headers(plan.only_if); // R2 checks them with the write
      object = await guarded(rt, 'put', () => rt.env.BUCKET.put(r2Key, value, options), (o) => (o ? size : 0), about);
      if (!object) {
        throw new HttpError('precondition_failed', 'the stored object does not meet If-Match / If-None-Match; nothing was written', {
          field: plan.only_if['if-match'] ? 'if-match' : 'if-none-match',
        });
      }
    } catch (e) {
      if (state.quota) await releaseReservation(db, reservation).catch(() => {}); // expires anyway
      throw e;
    }
    recordStoredObjectLater(rt, { user: auth.subject, key, r2Key, prefix, size, reservation });
    auth.auditDetails = { bytes: size, replaced_bytes: state.replacedSize };
    return traced(trace, json(describe(object, r2Key.slice(0, r2Key.length - key.length)), 201));
  }, WRITE_STORAGE);

  // Reads: Range (206; 416 when unsatisfiable; a malformed one is ignored), conditional
  // requests (304, 412), ETag, Last-Modified and custom metadata as x-r2watch-meta-* headers.
  router.on('GET', '/api/storage/files/*key', (request, params, rt, _ctx, auth) =>
    readObject(request, params, rt, auth, 'GET'), READ_STORAGE);

  router.on('HEAD', '/api/storage/files/*key', (request, params, rt, _ctx, auth) =>
    readObject(request, params, rt, auth, 'HEAD'), READ_STORAGE);

  router.on('DELETE', '/api/storage/files/*key', async (request, params, rt, _ctx, auth) => {
    const trace = engineTrace(rt);
    const { key, r2_key: r2Key, prefix } = keyOf(rt, request, params, auth);
    await guarded(rt, 'delete', () => rt.env.BUCKET.delete(r2Key), undefined, { key, user: auth.subject, trace });
    recordDeletedObjectLater(rt, auth.subject, key, prefix);
    return traced(trace, new Response(null, { status: 204 }));
  }, WRITE_STORAGE);

  // A user lists only their own namespace; keys come back as the user wrote them.
  router.on('GET', '/api/storage/files', async (request, _params, rt, _ctx, auth) => {
    const trace = engineTrace(rt);
    const url = new URL(request.url);
    const query = { user: auth.subject, query: queryNames(request) };
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
      trace,
    });
    return traced(trace, json({
      objects: listing.objects.map((o) => describe(o, q.namespace)),
      truncated: listing.truncated,
      cursor: listing.truncated ? listing.cursor : null,
    }));
  }, READ_STORAGE);
}
