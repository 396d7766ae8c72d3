// Health and breaker routes: /api/health and /api/health/circuit-breaker*.
import { ask, json, readJsonBody } from './http.js';
import { BREAKER_ID } from './runtime.js';
import { pingDatabase, readBreakerTransitions } from './db/health.js';
import { latestProbeRound } from './monitor.js';
import { jobsForHealth } from './jobs.js';
import { accountHealth } from './account.js';
import { writes } from './write-behind.js';

// Who may call what: service health is readable by every role; changing it is for admins.
const READ_HEALTH = { role: 'readonly', scope: 'health' };
const ADMIN = { role: 'admin' };

export async function checkDatabase(db) {
  const started = Date.now();
  try {
    await pingDatabase(db);
    return { database_ok: true, database_latency_ms: Date.now() - started };
  } catch (e) {
    return {
      database_ok: false,
      database_latency_ms: Date.now() - started,
      database_error: String(e.message ?? e),
    };
  }
}

async function recentTransitions(db, limit) {
  const results = await readBreakerTransitions(db, BREAKER_ID, limit);
  return results.map((r) => ({
    from: r.from_state,
    to: r.to_state,
    reason: r.reason,
    at: new Date(r.at_ms).toISOString(),
    at_ms: r.at_ms,
    figures: {
      calls: r.calls,
      failures: r.failures,
      slow_calls: r.slow_calls,
      failure_rate_pct: r.failure_rate_pct,
      slow_call_rate_pct: r.slow_call_rate_pct,
      consecutive_failures: r.consecutive_failures,
      ema_response_ms: r.ema_response_ms,
    },
  }));
}

/** Runs an engine command that changes the breaker, then persists the breaker. */
async function changeBreaker(rt, command, input) {
  const now = Date.now();
  ask(rt, command, input, now);
  const saved = await rt.persistBreaker(now);
  const body = { ...saved.status, options: saved.options, transitions: saved.transitions };
  // Where isolates share one breaker: the shared state after the change, or why it was not reached.
  if (rt.sharedBreaker) body.shared = saved.shared ?? null;
  return json(body);
}

/**
 * The health verdict from what /api/health observes too (the database, the last probe round,
 * the jobs' heartbeats, the analytics binding), for the views that show it.
 */
export async function observedVerdict(rt, nowMs) {
  const db = await checkDatabase(rt.env.DB);
  const probeRound = db.database_ok ? await latestProbeRound(rt.env.DB) : null;
  const jobs = db.database_ok ? await jobsForHealth(rt, nowMs).catch(() => null) : null;
  const verdict = ask(
    rt,
    'health_verdict',
    { ...db, analytics_bound: Boolean(rt.env.ANALYTICS), probe_round: probeRound, jobs },
    nowMs,
  );
  return { db, verdict };
}

export function registerHealthRoutes(router) {
  router.on('GET', '/api/health', async (_request, _params, rt) => {
    const db = await checkDatabase(rt.env.DB);
    if (rt.loadError && db.database_ok) {
      db.database_error = `saved state could not be loaded at start: ${rt.loadError}`;
    }
    const probeRound = db.database_ok ? await latestProbeRound(rt.env.DB) : null;
    // Where isolates share one breaker: ask it now, so the verdict says whether it answers.
    await rt.sharedBreaker?.syncNow();
    const now = Date.now();
    // The jobs' heartbeats: a Worker whose crons stopped is not healthy.
    const jobs = db.database_ok ? await jobsForHealth(rt, now).catch(() => null) : null;
    const verdict = ask(
      rt,
      'health_verdict',
      { ...db, analytics_bound: Boolean(rt.env.ANALYTICS), probe_round: probeRound, jobs },
      now,
    );
    const body = {
      status: verdict.status,
      timestamp: new Date(now).toISOString(),
      components: verdict.components,
      reasons: verdict.reasons,
      figures: {
        error_rate_pct: verdict.operations.error_rate_pct,
        avg_response_ms: verdict.operations.avg_response_ms,
        calls: verdict.operations.calls,
        errors: verdict.operations.errors,
        by_operation: verdict.operations.by_operation,
      },
      configuration_errors: [...(rt.metricsError ? [rt.metricsError] : []), ...rt.securityErrors],
      circuit_breaker: {
        state: verdict.breaker.state,
        retry_after_ms: verdict.breaker.retry_after_ms,
        window: verdict.breaker.window,
        // This isolate's link to the shared breaker (standing, the shared state adopted), where
        // isolates share one (BREAKERS bound); absent otherwise.
        ...(verdict.shared_breaker ? { shared: verdict.shared_breaker } : {}),
      },
      // The last synthetic probe round (POST /api/health/check or the 5-minute cron), or null.
      probes: verdict.probe_round,
      // The account-analytics collector (Cloudflare's GraphQL API): off, ok, backfilling,
      // backing_off, failing or stale, in words; unclassified action types as warnings.
      account: await accountHealth(rt, now),
      // Counters, audit rows, stored-object records and token last use written behind the
      // answers (src/write-behind.js): what waits, and how many batches failed (each is kept
      // and sent again with the next).
      writes_behind: writes.stats(),
    };
    return json(body, verdict.http_status);
  }, { public: true });

  router.on('GET', '/api/health/circuit-breaker', async (_request, _params, rt) => {
    const status = ask(rt, 'breaker_status', {}, Date.now());
    const { recent_limit: recent } = ask(rt, 'health_breaker_events_query', {});
    const transitions = await recentTransitions(rt.env.DB, recent);
    const body = { ...status, recent_transitions: transitions };
    // Where isolates share one breaker: this isolate's state above is its local copy; `shared`
    // is the authoritative breaker (or {error}), `sync` this isolate's link to it.
    if (rt.sharedBreaker) {
      await rt.sharedBreaker.syncNow();
      body.scope = 'local_copy';
      body.sync = ask(rt, 'breaker_sync_status', {}, Date.now());
      body.shared = await rt.sharedBreaker.view();
    }
    return json(body);
  }, READ_HEALTH);

  router.on('POST', '/api/health/circuit-breaker/reset', async (_request, _params, rt) =>
    changeBreaker(rt, 'breaker_command', { action: 'reset' }),
  ADMIN);
  router.on('POST', '/api/health/circuit-breaker/force-open', async (_request, _params, rt) =>
    changeBreaker(rt, 'breaker_command', { action: 'force_open' }),
  ADMIN);
  router.on('POST', '/api/health/circuit-breaker/disable', async (_request, _params, rt) =>
    changeBreaker(rt, 'breaker_command', { action: 'disable' }),
  ADMIN);

  router.on('GET', '/api/health/circuit-breaker/config', async (_request, _params, rt) =>
    json(ask(rt, 'breaker_status', {}, Date.now()).options),
  READ_HEALTH);
  router.on('PUT', '/api/health/circuit-breaker/config', async (request, _params, rt) => {
    const body = await readJsonBody(request);
    return changeBreaker(rt, 'breaker_configure', body);
  }, ADMIN);

  router.on('GET', '/api/health/circuit-breaker/events', async (request, _params, rt) => {
    const query = Object.fromEntries(new URL(request.url).searchParams);
    const { limit } = ask(rt, 'health_breaker_events_query', query);
    return json({ transitions: await recentTransitions(rt.env.DB, limit) });
  }, READ_HEALTH);
}
