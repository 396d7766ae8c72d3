// Who is calling, may they, and how often: the per-request security gate, and the audit log.
// Every decision (token checks, roles and scopes, whose data, rate limits, what is a security
// event) is the engine's (core/security/); this file reads headers and D1 and writes counters,
// events and audit rows. See docs/security.md.
import { HttpError, retryAfterSeconds, ask } from './http.js';
import { authFailuresEvent, excessiveRequestsEvent, rateLimitedEvent } from './db/security-events.js';
import { auditRow, counterAdd, tokenRow, touchToken } from './db/security.js';
import { writes } from './write-behind.js';
import { clockNow } from './instrument.js';

/**
 * What a handler learns about an authenticated request.
 * @typedef {{user: string, role: 'admin'|'user'|'readonly', scopes: string[], via: string,
 *   tokenId: string|null, isAdmin: boolean, subject: string, filter: string|null, ip: string,
 *   userAgent: string, auditTarget?: string, auditDetails?: object}} Auth
 * `subject`: the one user whose objects the request works on (the caller, or for an admin the
 * user named by ?user=); `filter`: the user that reads are narrowed to, or null for an admin who
 * named no one (every user's figures). Handlers may set `auditTarget` / `auditDetails`.
 */

/** The client's address: Cloudflare's CF-Connecting-IP (not forgeable behind Cloudflare). */
export function clientIp(request) {
  return request.headers.get('cf-connecting-ip') ?? 'unknown';
}

// Token rows read from D1, per isolate: id -> {row, fetchedAtMs}. A row is used again while the
// engine finds it fresh (security::kTokenCacheTtl, 60 s): a warm request reads no token row.
// A revoked token or a disabled user is refused everywhere within that time, and at once in the
// isolate that revoked or disabled it (forgetTokens).
const tokenRows = new Map();

/** Drops the isolate's cached token rows (after a token or user changed here). */
export function forgetTokens() {
  tokenRows.clear();
}

function rememberToken(rt, id, row, nowMs) {
  tokenRows.delete(id);
  const max = rt.security.token_cache_max_entries;
  while (tokenRows.size > 0 && tokenRows.size >= max) tokenRows.delete(tokenRows.keys().next().value);
  if (max > 0) tokenRows.set(id, { row, fetchedAtMs: nowMs });
}

/** The engine's answer for an API token: from the cached row while fresh, else from D1's. */
async function authenticateToken(rt, input, tokenId, now) {
  const cached = tokenRows.get(tokenId);
  if (cached) {
    const answer = ask(rt, 'auth_authenticate', { ...input, token: cached.row, token_fetched_at_ms: cached.fetchedAtMs }, now);
    if (answer.decision !== 'lookup') return answer;
    tokenRows.delete(tokenId);
  }
  const row = await tokenRow(rt.env.DB, tokenId);
  if (row) rememberToken(rt, tokenId, row, now);
  return ask(rt, 'auth_authenticate', { ...input, token: row ?? null }, now);
}

/** The most statements the engine lets one batch of writes behind carry (security_configure). */
function batchLimit(rt) {
  return rt.security.write_behind_max_statements;
}

/** Starts writing what is queued, after the response (ctx.waitUntil). */
export function flushWrites(rt, ctx) {
  if (writes.pending()) ctx.waitUntil(writes.flush(rt.backgroundDb ?? rt.env.DB, batchLimit(rt)));
}

/** Waits until what this isolate queued is written (or a write failed): a read of D1 sees it. */
export function settleWrites(rt) {
  return writes.settle(rt.env.DB, batchLimit(rt));
}

/**
 * Authenticates and authorizes a request for a route's `access`; returns its Auth or throws the
 * HttpError to answer (401, 403, 429, 503, 400 for a bad ?user=). Counts the request against the
 * client IP and the credential (fixed one-minute windows) and failed authentications against
 * both (a security event past the threshold); refusals by role are audited.
 *
 * An allowed request with a token row seen in the last minute waits on no D1 round trip: its
 * counters, the token's last use and the excessive-use check are written behind the answer
 * (src/write-behind.js), and the rate decision is made on the isolate's estimate until it nears
 * the limit (then the counts are written first, security::rate_needs_confirm). Refusals count in
 * D1 before they answer, as do routes other than storage's, which also wait for the isolate's
 * writes behind (read-your-writes).
 */
export async function authenticate(request, rt, access, url) {
  const now = clockNow(rt);
  const db = rt.env.DB;
  const ip = clientIp(request);
  const userAgent = request.headers.get('user-agent') ?? '';
  const input = {
    authorization: request.headers.get('authorization'),
    access: { role: access.role, scope: access.scope },
    user: access.user ? url.searchParams.get('user') : null,
  };
  let answer = ask(rt, 'auth_authenticate', input, now);
  if (answer.decision === 'lookup') answer = await authenticateToken(rt, input, answer.token_id, now);
  if (answer.decision === 'deny' && answer.code === 'secret_missing') {
    throw new HttpError(answer.code, answer.message, { field: answer.field });
  }
  const limiter = rateLimitBindings(rt.env);
  if (answer.decision === 'allow') {
    const auth = await admit(rt, answer, { ip, userAgent, limiter, now });
    if (access.scope !== 'storage') await settleWrites(rt);
    return auth;
  }

  // A refusal: counters in one batch, before answering: requests per IP; failures per IP and
  // credential.
  const { rate, failures } = answer;
  const statements = [];
  if (!limiter) statements.push(counterAdd(db, 'rate_ip', `ip:${ip}`, rate.window_start_ms));
  const failureSubjects = [];
  if (answer.count_failure) {
    failureSubjects.push(`ip:${ip}`);
    if (answer.credential) failureSubjects.push(answer.credential);
    for (const s of failureSubjects) statements.push(counterAdd(db, 'auth_fail', s, failures.window_start_ms));
  }
  let results = [];
  try {
    if (statements.length) results = await db.batch(statements);
  } catch (e) {
    // Counting must not take the API down with D1: the request goes on uncounted.
    console.error(`r2watch: security counters not written: ${e.message}`);
  }
  const countAt = (i) => results[i]?.results?.[0]?.count ?? 0;

  let rateAnswer;
  if (limiter) {
    rateAnswer = await limitWithBindings(rt, limiter, ip, answer);
  } else if (results.length) {
    rateAnswer = ask(
      rt,
      'rate_limit_decide',
      { ip_count: countAt(0), token_count: null, window_start_ms: rate.window_start_ms },
      now,
    );
  }
  if (rateAnswer && !rateAnswer.allowed) await refuseRate(rt, rateAnswer, answer, { ip, userAgent, now });

  if (failureSubjects.length && results.length) {
    const offset = statements.length - failureSubjects.length;
    const counts = failureSubjects.map((subject, i) => ({ subject, count: countAt(offset + i) }));
    await recordSecurityEvents(rt, counts, failures, { ip, userAgent, reason: answer.message }, now);
  }
  const headers = answer.code === 'unauthenticated' ? { 'www-authenticate': 'Bearer realm="r2watch"' } : {};
  const err = new HttpError(answer.code, answer.message, { field: answer.field, headers });
  // A known caller refused by role, scope or another user's id: the fetch handler audits it.
  // `subject`: whose data the request was for (the ?user= it named, else the caller's own).
  if (answer.actor) {
    err.actor = {
      user: answer.actor,
      role: answer.actor_role,
      via: answer.actor_via,
      subject: input.user ?? answer.actor,
      ip,
      userAgent,
    };
  }
  throw err;
}

/**
 * An allowed request: counted behind the answer (requests per IP and credential, the user's
 * hour), the token's last use queued when due; refused (429) when a rate limit says so.
 */
async function admit(rt, answer, { ip, userAgent, limiter, now }) {
  const p = answer.principal;
  const { rate } = answer;
  // Excessive use: every allowed request counts against its user's hour (the engine's window);
  // the count D1 answers for the batch is judged, and an excessive one is a security event.
  const usage = ask(rt, 'usage_hour_judge', {}, now);
  const subject = `user:${p.user}`;
  writes.count('requests_hour', subject, usage.window_start_ms, (count) => {
    const judged = ask(rt, 'usage_hour_judge', { count }, usage.window_start_ms);
    if (!judged.excessive) return;
    const event = {
      subject,
      windowStartMs: usage.window_start_ms,
      windowMs: usage.window_ms,
      count,
      limit: judged.limit,
      nowMs: Date.now(),
      ip,
      userAgent,
    };
    writes.add({ build: (db) => [excessiveRequestsEvent(db, event)] });
  });
  if (answer.touch_token) {
    const at = now;
    writes.add({ build: (db) => [touchToken(db, p.token_id, at)] });
    const cached = tokenRows.get(p.token_id);
    if (cached) cached.row = { ...cached.row, last_used_at_ms: at };
  }

  let rateAnswer = null;
  if (limiter) {
    rateAnswer = await limitWithBindings(rt, limiter, ip, answer);
  } else {
    const keys = [
      ['rate_ip', `ip:${ip}`, rate.window_start_ms],
      ['rate_credential', answer.rate_subject, rate.window_start_ms],
    ];
    const decide = (counts, estimated) =>
      ask(
        rt,
        'rate_limit_decide',
        { ip_count: counts[0], token_count: counts[1], window_start_ms: rate.window_start_ms, estimated },
        now,
      );
    rateAnswer = decide(keys.map((k) => writes.count(...k)), true);
    if (rateAnswer.confirm) {
      // Near a limit: the counts go to D1 now and the decision is made on D1's (with every
      // isolate's). D1 failing: the request goes on, its counts queued (as before this change).
      const exact = await writes.confirm(rt.env.DB, keys, now);
      rateAnswer = exact ? decide(exact, false) : null;
    }
  }
  if (rateAnswer && !rateAnswer.allowed) await refuseRate(rt, rateAnswer, answer, { ip, userAgent, now });

  return {
    user: p.user,
    role: p.role,
    scopes: p.scopes,
    via: p.via,
    tokenId: p.token_id,
    isAdmin: p.role === 'admin',
    subject: answer.scope.subject,
    filter: answer.scope.filter,
    ip,
    userAgent,
  };
}

/** Throws the 429 of a rate limit, after counting it as a security event (audited once a window). */
async function refuseRate(rt, rateAnswer, answer, { ip, userAgent, now }) {
  const { rate } = answer;
  const wait = retryAfterSeconds(rateAnswer.retry_after_ms);
  const err = new HttpError(
    'rate_limited',
    `too many requests from this ${rateAnswer.limited_by === 'ip' ? 'client address' : 'credential'} (limit ${rateAnswer.limit} a minute); retry in ${wait} s`,
    { headers: { 'retry-after': wait } },
  );
  // Counted as a security event per subject and window; the window's first refusal is audited.
  const limited = await writeEvent(
    rateLimitedEvent(rt.env.DB, {
      subject: rateAnswer.limited_by === 'ip' ? `ip:${ip}` : answer.rate_subject,
      windowStartMs: rate.window_start_ms,
      windowMs: rate.window_ms,
      limit: typeof rateAnswer.limit === 'number' ? rateAnswer.limit : 0,
      nowMs: now,
      ip,
      userAgent,
      limitedBy: rateAnswer.limited_by,
    }),
  );
  if (limited?.results?.[0]?.count === 1) {
    const p = answer.decision === 'allow' ? answer.principal : null;
    err.actor = {
      user: p?.user ?? 'unknown',
      role: p?.role ?? 'unknown',
      via: p?.via ?? 'unknown',
      subject: p?.user ?? 'unknown',
      ip,
      userAgent,
    };
  }
  throw err;
}

/** The Workers Rate Limiting bindings, where configured (production): {ip, credential}. */
function rateLimitBindings(env) {
  if (env.RATE_LIMIT_IP?.limit && env.RATE_LIMIT_CREDENTIAL?.limit) {
    return { ip: env.RATE_LIMIT_IP, credential: env.RATE_LIMIT_CREDENTIAL };
  }
  return null;
}

// The binding answers only yes or no per period; a refusal waits the period the engine names.
async function limitWithBindings(rt, limiter, ip, answer) {
  const retryAfterMs = rt.security.rate_binding_retry_after_ms;
  const ipOk = (await limiter.ip.limit({ key: `ip:${ip}` })).success;
  if (!ipOk) return { allowed: false, retry_after_ms: retryAfterMs, limited_by: 'ip', limit: 'the configured number of requests' };
  if (answer.decision === 'allow') {
    const ok = (await limiter.credential.limit({ key: answer.rate_subject })).success;
    if (!ok) return { allowed: false, retry_after_ms: retryAfterMs, limited_by: 'token', limit: 'the configured number of requests' };
  }
  return { allowed: true };
}

/** Runs one security-event statement; a failure is logged, never answered (returns null). */
async function writeEvent(statement) {
  try {
    return await statement.all();
  } catch (e) {
    console.error(`r2watch: security event not written: ${e.message}`);
    return null;
  }
}

/** Upserts a security event for each subject whose failures the engine judges alarming. */
async function recordSecurityEvents(rt, counts, failures, about, now) {
  const { alarming, threshold } = ask(rt, 'security_failures_judge', { counts }, now);
  if (!alarming.length) return;
  const db = rt.env.DB;
  try {
    await db.batch(
      alarming.map((a) =>
        authFailuresEvent(db, {
          subject: a.subject,
          windowStartMs: failures.window_start_ms,
          windowMs: failures.window_ms,
          count: a.count,
          threshold,
          nowMs: now,
          ip: about.ip,
          userAgent: about.userAgent,
          reason: about.reason,
        }),
      ),
    );
  } catch (e) {
    console.error(`r2watch: security event not written: ${e.message}`);
  }
}

/** Whether a request is audited: every change of data, and everything on an admin route. */
export function audited(method, access) {
  if (access.public || access.audit === false) return false;
  return !['GET', 'HEAD'].includes(method) || access.role === 'admin';
}

function targetOf(params, auth) {
  const parts = Object.entries(params).map(([k, v]) => `${k}=${safeDecode(v)}`);
  // Acting for another user: `user=` names them (never "undefined" when no one was named).
  if (auth?.subject && auth.subject !== auth.user) parts.unshift(`user=${String(auth.subject).slice(0, 200)}`);
  return parts.length ? parts.join('&') : null;
}

function safeDecode(v) {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/**
 * Queues one audit_log row, written behind the answer (src/write-behind.js): `action` is
 * "METHOD /route/pattern"; the result is ok (2xx/3xx), refused (4xx) or error (5xx). The row
 * carries the time of the request; a batch that fails is sent again, never twice.
 */
export function writeAudit(rt, { auth, request, url, pattern, params = {}, status, message }) {
  const result = status < 400 ? 'ok' : status < 500 ? 'refused' : 'error';
  const details = { ...(auth?.auditDetails ?? {}) };
  if (message && status >= 400) details.message = message;
  const row = {
    atMs: Date.now(),
    actor: auth?.user ?? 'unknown',
    actorRole: auth?.role ?? 'unknown',
    via: auth?.via ?? 'unknown',
    action: `${request.method} ${pattern ?? url.pathname}`,
    target: auth?.auditTarget ?? targetOf(params, auth) ?? null,
    result,
    status,
    ip: clientIp(request),
    userAgent: request.headers.get('user-agent') ?? '',
    detailsJson: JSON.stringify(details),
  };
  writes.add({ build: (db) => [auditRow(db, row)] });
}
