// Who is calling, may they, and how often: the per-request security gate, and the audit log.
// Every decision (token checks, roles and scopes, whose data, rate limits, what is a security
// event) is the engine's (core/security/); this file reads headers and D1 and writes counters,
// events and audit rows. See docs/security.md.
import { HttpError, retryAfterSeconds } from './http.js';
import { excessiveRequestsEvent, rateLimitedEvent } from './db/security-events.js';

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

function counter(db, kind, subject, windowStartMs) {
  return db
    .prepare(
      `INSERT INTO security_counters (kind, subject, window_start_ms, count) VALUES (?, ?, ?, 1)
       ON CONFLICT (kind, subject, window_start_ms) DO UPDATE SET count = count + 1
       RETURNING count`,
    )
    .bind(kind, subject, windowStartMs);
}

const TOKEN_ROW = `SELECT t.id, t.user_id, t.token_hash, t.role, t.scopes_json, t.expires_at_ms,
    t.revoked_at_ms, t.last_used_at_ms, u.disabled AS user_disabled
  FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?`;

/**
 * Authenticates and authorizes a request for a route's `access`; returns its Auth or throws the
 * HttpError to answer (401, 403, 429, 503, 400 for a bad ?user=). Counts the request against the
 * client IP and the credential (fixed one-minute windows) and failed authentications against
 * both (a security event past the threshold); refusals by role are audited.
 */
export async function authenticate(request, rt, access, url) {
  const now = Date.now();
  const db = rt.env.DB;
  const ip = clientIp(request);
  const userAgent = request.headers.get('user-agent') ?? '';
  const input = {
    authorization: request.headers.get('authorization'),
    access: { role: access.role, scope: access.scope },
    user: access.user ? url.searchParams.get('user') : null,
  };
  let answer = rt.engine.call('auth_authenticate', input, now);
  if (answer.decision === 'lookup') {
    const row = await db.prepare(TOKEN_ROW).bind(answer.token_id).first();
    answer = rt.engine.call('auth_authenticate', { ...input, token: row ?? null }, now);
  }
  if (answer.decision === 'deny' && answer.code === 'secret_missing') {
    throw new HttpError(answer.code, answer.message, { field: answer.field });
  }

  // Counters, in one batch: requests per IP and per credential; failures per IP and credential.
  const { rate, failures } = answer;
  const statements = [];
  const limiter = rateLimitBindings(rt.env);
  if (!limiter) statements.push(counter(db, 'rate_ip', `ip:${ip}`, rate.window_start_ms));
  if (answer.decision === 'allow' && !limiter) {
    statements.push(counter(db, 'rate_credential', answer.rate_subject, rate.window_start_ms));
  }
  const failureSubjects = [];
  if (answer.decision === 'deny' && answer.count_failure) {
    failureSubjects.push(`ip:${ip}`);
    if (answer.credential) failureSubjects.push(answer.credential);
    for (const s of failureSubjects) statements.push(counter(db, 'auth_fail', s, failures.window_start_ms));
  }
  // Excessive use: every allowed request counts against its user's hour (the engine's window).
  let usage = null;
  let usageAt = -1;
  if (answer.decision === 'allow') {
    usage = rt.engine.call('usage_hour_judge', {}, now);
    usageAt = statements.length;
    statements.push(counter(db, 'requests_hour', `user:${answer.principal.user}`, usage.window_start_ms));
  }
  if (answer.decision === 'allow' && answer.touch_token) {
    statements.push(
      db.prepare('UPDATE api_tokens SET last_used_at_ms = ? WHERE id = ?').bind(now, answer.principal.token_id),
    );
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
    rateAnswer = await limitWithBindings(limiter, ip, answer);
  } else if (results.length) {
    rateAnswer = rt.engine.call(
      'rate_limit_decide',
      {
        ip_count: countAt(0),
        token_count: answer.decision === 'allow' ? countAt(1) : null,
        window_start_ms: rate.window_start_ms,
      },
      now,
    );
  }
  if (usage && results.length) {
    const count = countAt(usageAt);
    const judged = rt.engine.call('usage_hour_judge', { count }, now);
    if (judged.excessive) {
      await writeEvent(
        excessiveRequestsEvent(db, {
          subject: `user:${answer.principal.user}`,
          windowStartMs: judged.window_start_ms,
          windowMs: judged.window_ms,
          count,
          limit: judged.limit,
          nowMs: now,
          ip,
          userAgent,
        }),
      );
    }
  }
  if (rateAnswer && !rateAnswer.allowed) {
    const wait = retryAfterSeconds(rateAnswer.retry_after_ms);
    const err = new HttpError(
      'rate_limited',
      `too many requests from this ${rateAnswer.limited_by === 'ip' ? 'client address' : 'credential'} (limit ${rateAnswer.limit} a minute); retry in ${wait} s`,
      { headers: { 'retry-after': wait } },
    );
    // Counted as a security event per subject and window; the window's first refusal is audited.
    const limited = await writeEvent(
      rateLimitedEvent(db, {
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

  if (answer.decision === 'deny') {
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

  const p = answer.principal;
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

/** The Workers Rate Limiting bindings, where configured (production): {ip, credential}. */
function rateLimitBindings(env) {
  if (env.RATE_LIMIT_IP?.limit && env.RATE_LIMIT_CREDENTIAL?.limit) {
    return { ip: env.RATE_LIMIT_IP, credential: env.RATE_LIMIT_CREDENTIAL };
  }
  return null;
}

// The binding answers only yes or no per period (60 s in wrangler.toml).
async function limitWithBindings(limiter, ip, answer) {
  const ipOk = (await limiter.ip.limit({ key: `ip:${ip}` })).success;
  if (!ipOk) return { allowed: false, retry_after_ms: 60_000, limited_by: 'ip', limit: 'the configured number of requests' };
  if (answer.decision === 'allow') {
    const ok = (await limiter.credential.limit({ key: answer.rate_subject })).success;
    if (!ok) return { allowed: false, retry_after_ms: 60_000, limited_by: 'token', limit: 'the configured number of requests' };
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
  const { alarming, threshold } = rt.engine.call('security_failures_judge', { counts }, now);
  if (!alarming.length) return;
  const db = rt.env.DB;
  try {
    await db.batch(
      alarming.map((a) =>
        db
          .prepare(
            `INSERT INTO security_events (kind, subject, window_start_ms, count, threshold, first_at_ms,
               last_at_ms, details_json)
             VALUES ('auth_failures', ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (kind, subject, window_start_ms) DO UPDATE SET count = MAX(count, excluded.count),
               last_at_ms = excluded.last_at_ms, details_json = excluded.details_json`,
          )
          .bind(
            a.subject,
            failures.window_start_ms,
            a.count,
            threshold,
            now,
            now,
            JSON.stringify({ ip: about.ip, user_agent: about.userAgent, last_reason: about.reason, window_ms: failures.window_ms }),
          ),
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
 * Writes one audit_log row. `action` is "METHOD /route/pattern"; the result is ok (2xx/3xx),
 * refused (4xx) or error (5xx).
 */
export async function writeAudit(rt, { auth, request, url, pattern, params = {}, status, message }) {
  const result = status < 400 ? 'ok' : status < 500 ? 'refused' : 'error';
  const details = { ...(auth?.auditDetails ?? {}) };
  if (message && status >= 400) details.message = message;
  await rt.env.DB.prepare(
    `INSERT INTO audit_log (at_ms, actor, actor_role, via, action, target, result, status, ip, user_agent,
       details_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(
      Date.now(),
      auth?.user ?? 'unknown',
      auth?.role ?? 'unknown',
      auth?.via ?? 'unknown',
      `${request.method} ${pattern ?? url.pathname}`,
      auth?.auditTarget ?? targetOf(params, auth) ?? null,
      result,
      status,
      clientIp(request),
      request.headers.get('user-agent') ?? '',
      JSON.stringify(details),
    )
    .run();
}
