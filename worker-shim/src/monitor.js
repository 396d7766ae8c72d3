// The health monitor: synthetic probe rounds against R2 (on the collect-metrics cron and on
// demand), their results, the monitor's config, alerts and metrics in D1. The engine decides
// everything (whether a round runs, its steps, how each probe is judged, which events and
// alerts follow, what is stale or past retention); this file runs the calls and the queries.
import { HttpError, json, readJsonBody, ask } from './http.js';
import { guarded, withTimeout, TimeoutError } from './storage.js';
import { probeScheduler } from './probe-scheduler.js';
import {
  readLatestProbeRound,
  readMonitor,
  readProbeChecks,
  readProbeHistory,
  readServiceAlerts,
  resolveServiceAlert,
  writeMonitorConfig,
  writeRound,
} from './db/health.js';


/** The stored config (null: defaults) and the state carried between rounds (null: fresh). */
export const loadMonitor = readMonitor;

/** The last probe round's summary for /api/health, or null (none yet, or D1 unreadable). */
export async function latestProbeRound(db) {
  try {
    return await readLatestProbeRound(db);
  } catch {
    return null;
  }
}

// How each probe step becomes an R2 call; GET and HEAD answer whether the object was there.
const R2_CALLS = {
  get: (bucket, step) => async () => {
    const object = await bucket.get(step.key);
    if (object) await object.arrayBuffer();
    return object !== null;
  },
  put: (bucket, step) => async () => {
    await bucket.put(step.key, step.body, { httpMetadata: { contentType: 'text/plain' } });
    return true;
  },
  head: (bucket, step) => async () => (await bucket.head(step.key)) !== null,
  list: (bucket, step) => async () => {
    await bucket.list({ prefix: step.prefix, limit: step.limit });
    return true;
  },
  delete: (bucket, step) => async () => {
    await bucket.delete(step.key);
    return true;
  },
};

/** Runs one probe through the breaker (as every R2 call) and reports what was seen. */
async function probe(rt, step, timeoutMs) {
  const at = Date.now();
  const timing = {};
  const seen = { operation: step.operation, at_ms: at };
  try {
    const call = R2_CALLS[step.operation](rt.env.BUCKET, step);
    const key = step.key ?? step.prefix;
    const found = await guarded(rt, step.operation, call, undefined, { key, timeoutMs, timing });
    return { ...seen, outcome: 'ok', found, latency_ms: timing.latencyMs };
  } catch (e) {
    if (!(e instanceof HttpError)) throw e; // an engine trap or D1 failure is not a probe result
    if (e.code === 'circuit_open') return { ...seen, outcome: 'refused', error: e.message };
    return {
      ...seen,
      outcome: e.cause instanceof TimeoutError ? 'timeout' : 'error',
      latency_ms: timing.latencyMs ?? Date.now() - at,
      error: String(e.cause?.message ?? e.message),
    };
  }
}

/**
 * Deletes the round's object and sweeps probe objects that earlier rounds left behind. Outside
 * the breaker and the injected faults on purpose: housekeeping must happen even while the
 * breaker refuses calls, and it is not a probe. Failures are logged; the next round sweeps.
 */
async function cleanUp(rt, plan) {
  const bucket = rt.env.BUCKET;
  const { keys, prefix, stale_after_ms: staleAfterMs, list_limit: listLimit } = plan.cleanup;
  try {
    if (keys.length) await withTimeout(bucket.delete(keys), plan.timeout_ms);
    const listing = await withTimeout(bucket.list({ prefix, limit: listLimit }), plan.timeout_ms);
    const stale = ask(rt, 'health_cleanup', {
      keys: listing.objects.map((o) => o.key),
      stale_after_ms: staleAfterMs,
    }).delete;
    if (stale.length) await withTimeout(bucket.delete(stale), plan.timeout_ms);
  } catch (e) {
    console.warn(`r2watch: probe cleanup failed (the next round sweeps again): ${e.message}`);
  }
}

/**
 * Runs one probe round: asks the engine whether to run and what, runs each probe through the
 * breaker, cleans up whatever happened, has the engine judge the round, stores it.
 * @param {import('./runtime.js').Runtime} rt
 * @param {{trigger: 'scheduled'|'manual', nowMs?: number}} options `nowMs` is the round's time
 *   (the cron's scheduledTime for scheduled rounds)
 */
export async function runProbeRound(rt, { trigger, nowMs = Date.now() }) {
  const db = rt.env.DB;
  const { config, state } = await loadMonitor(db);
  const nonce = crypto.randomUUID().replaceAll('-', '');
  const plan = ask(rt, 'health_probe_plan', { config, state, trigger, nonce }, nowMs);
  if (!plan.run) return { ran: false, reason: plan.reason, next_round_ms: plan.next_round_ms };
  const probes = [];
  try {
    for (const step of plan.steps) probes.push(await probe(rt, step, plan.timeout_ms));
  } finally {
    await cleanUp(rt, plan);
  }
  const evaluatedAt = Date.now();
  const round = ask(
    rt,
    'health_round_evaluate',
    {
      config,
      state,
      trigger,
      round_id: plan.round_id,
      started_ms: nowMs,
      probes,
      // The breaker's state, from the request path's engine (the round is judged in the console's).
      breaker_state: ask(rt, 'breaker_status', {}, evaluatedAt).state,
    },
    evaluatedAt,
  );
  await writeRound(db, round, evaluatedAt);
  return { ran: true, ...round, next_round_ms: plan.next_round_ms };
}

/**
 * The collect-metrics cron's part of the probes: with the probe scheduler (a Durable Object
 * alarm at check_interval_ms), make sure its alarm runs and restart it when it stopped; without the
 * binding, or when the object cannot be reached, run the round from the cron as before.
 */
export async function scheduleProbes(rt, nowMs) {
  const scheduler = probeScheduler(rt.env);
  if (scheduler) {
    try {
      const { config } = await loadMonitor(rt.env.DB);
      if (config?.enabled === false) return { scheduler: 'alarm', ran: false, reason: 'monitoring is stopped' };
      const alarm = await scheduler.ensure();
      return { scheduler: 'alarm', ...alarm };
    } catch (e) {
      console.error(`r2watch: probe scheduler unreachable, probing from the cron: ${e.message}`);
      return { scheduler: 'cron', scheduler_error: e.message, ...(await runProbeRound(rt, { trigger: 'scheduled', nowMs })) };
    }
  }
  return { scheduler: 'cron', ...(await runProbeRound(rt, { trigger: 'scheduled', nowMs })) };
}

/** After a change of the monitor's config: the alarm fires now and takes the new interval. */
async function rescheduleProbes(rt) {
  const scheduler = probeScheduler(rt.env);
  if (!scheduler) return;
  try {
    await scheduler.ensure({ now: true });
  } catch (e) {
    console.error(`r2watch: probe scheduler unreachable: ${e.message}`);
  }
}

/** Query-string parameters as strings, for the engine to check. */
function queryOf(request) {
  return Object.fromEntries(new URL(request.url).searchParams);
}

function describeAlert(row) {
  return {
    id: row.id,
    type: row.type,
    severity: row.severity,
    status: row.status,
    message: row.message,
    round_id: row.round_id,
    created_at: new Date(row.created_at_ms).toISOString(),
    resolved_at: row.resolved_at_ms === null ? null : new Date(row.resolved_at_ms).toISOString(),
    resolved_by: row.resolved_by,
    resolution_note: row.resolution_note,
  };
}

/** Validates and stores a config update, then applies it to the breaker at once. */
async function updateConfig(rt, update) {
  const db = rt.env.DB;
  const { config: current } = await loadMonitor(db);
  const { config } = ask(rt, 'health_config_update', { current, update });
  await writeMonitorConfig(db, config, Date.now());
  ask(rt, 'health_config_apply', { config: { version: 2, ...config } });
  const saved = await rt.persistBreaker();
  return {
    config,
    monitoring: config.enabled ? 'running' : 'stopped',
    breaker: { state: saved.status.state, options: saved.options },
  };
}

// Who may call what: probe results, config and service alerts are readable by every role;
// running probes, changing config and resolving alerts is for admins.
const READ_HEALTH = { role: 'readonly', scope: 'health' };
const ADMIN = { role: 'admin' };

export function registerMonitorRoutes(router) {
  router.on('POST', '/api/health/check', async (_request, _params, rt) =>
    json(await runProbeRound(rt, { trigger: 'manual' })),
  ADMIN);

  router.on('GET', '/api/health/history', async (request, _params, rt) => {
    const q = ask(rt, 'health_history_query', queryOf(request));
    const { rows, total } = await readProbeHistory(rt.env.DB, q);
    return json({
      checks: rows.map((r) => ({
        ...r,
        ok: r.ok === 1,
        checked_at: new Date(r.checked_at_ms).toISOString(),
      })),
      total,
      limit: q.limit,
      offset: q.offset,
    });
  }, READ_HEALTH);

  router.on('GET', '/api/health/metrics', async (request, _params, rt) => {
    const q = ask(rt, 'health_metrics_query', queryOf(request));
    const checks = await readProbeChecks(rt.env.DB, q.since_ms, q.until_ms);
    const stats = ask(rt, 'health_metrics', { checks });
    return json({
      hours: q.hours,
      since: new Date(q.since_ms).toISOString(),
      checks: stats.checks,
      operations: stats.operations,
    });
  }, READ_HEALTH);

  router.on('GET', '/api/health/config', async (_request, _params, rt) => {
    const { config: current } = await loadMonitor(rt.env.DB);
    const { config } = ask(rt, 'health_config_update', { current });
    return json({ config, monitoring: config.enabled ? 'running' : 'stopped' });
  }, READ_HEALTH);

  router.on('PUT', '/api/health/config', async (request, _params, rt) => {
    const answer = await updateConfig(rt, JSON.parse(await readJsonBody(request)));
    await rescheduleProbes(rt);
    return json(answer);
  }, ADMIN);
  router.on('POST', '/api/health/monitoring/start', async (_request, _params, rt) => {
    const answer = await updateConfig(rt, { enabled: true });
    await rescheduleProbes(rt);
    return json(answer);
  }, ADMIN);
  router.on('GET', '/api/health/probe-scheduler', async (_request, _params, rt) => {
    const scheduler = probeScheduler(rt.env);
    if (!scheduler) return json({ scheduler: 'cron', alarm_ms: null });
    return json({ scheduler: 'alarm', ...(await scheduler.status()) });
  }, READ_HEALTH);
  router.on('POST', '/api/health/monitoring/stop', async (_request, _params, rt) => {
    const answer = await updateConfig(rt, { enabled: false });
    try {
      await probeScheduler(rt.env)?.stop();
    } catch (e) {
      console.error(`r2watch: probe scheduler unreachable: ${e.message}`); // its next alarm finds monitoring stopped
    }
    return json(answer);
  }, ADMIN);

  router.on('GET', '/api/health/alerts', async (request, _params, rt) => {
    const q = ask(rt, 'health_alerts_query', queryOf(request));
    const alerts = await readServiceAlerts(rt.env.DB, q);
    return json({ alerts: alerts.map(describeAlert), limit: q.limit, offset: q.offset });
  }, READ_HEALTH);

  router.on('POST', '/api/health/alerts/:id/resolve', async (request, params, rt) => {
    const body = JSON.parse(await readJsonBody(request));
    const { id, note } = ask(rt, 'health_alert_resolve', { ...body, id: params.id });
    const { row, resolved } = await resolveServiceAlert(rt.env.DB, id, note, Date.now());
    if (!row) throw new HttpError('not_found', `no alert with id ${id}`, { field: 'id' });
    if (!resolved) {
      throw new HttpError('conflict', `alert ${id} is already resolved`, { field: 'id' });
    }
    return json(describeAlert(row));
  }, ADMIN);
}
