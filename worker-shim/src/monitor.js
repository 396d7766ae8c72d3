// The health monitor: synthetic probe rounds against R2 (on the collect-metrics cron and on
// demand), their results, the monitor's config, alerts and metrics in D1. The engine decides
// everything (whether a round runs, its steps, how each probe is judged, which events and
// alerts follow, what is stale or past retention); this file runs the calls and the queries.
import { HttpError, json, readJsonBody, ask } from './http.js';
import { guarded, withTimeout, TimeoutError } from './storage.js';
import { probeScheduler } from './probe-scheduler.js';
import { tallyStatements } from './db/status.js';


// API field <-> D1 column of health_check_config (durations in ms, flags as 0/1).
const CONFIG_COLUMNS = [
  ['checkInterval', 'check_interval_ms'],
  ['timeout', 'timeout_ms'],
  ['failureThreshold', 'failure_threshold'],
  ['recoveryTimeout', 'recovery_timeout_ms'],
  ['slowResponseThreshold', 'slow_response_threshold_ms'],
  ['enabled', 'enabled', 'flag'],
  ['testOperations', 'test_operations', 'json'],
  ['alertOnFailure', 'alert_on_failure', 'flag'],
  ['alertOnRecovery', 'alert_on_recovery', 'flag'],
  ['retentionDays', 'retention_days'],
];

function rowToConfig(row) {
  if (!row) return null; // the engine's defaults
  const config = {};
  for (const [field, column, kind] of CONFIG_COLUMNS) {
    const v = row[column];
    config[field] = kind === 'flag' ? v === 1 : kind === 'json' ? JSON.parse(v) : v;
  }
  return config;
}

function configValues(config) {
  return CONFIG_COLUMNS.map(([field, , kind]) => {
    const v = config[field];
    return kind === 'flag' ? (v ? 1 : 0) : kind === 'json' ? JSON.stringify(v) : v;
  });
}

/** The stored config (null: defaults) and the state carried between rounds (null: fresh). */
export async function loadMonitor(db) {
  const [config, state] = await db.batch([
    db.prepare('SELECT * FROM health_check_config WHERE id = 1'),
    db.prepare('SELECT state_json FROM health_monitor_state WHERE id = 1'),
  ]);
  const stateRow = state.results[0];
  return {
    config: rowToConfig(config.results[0]),
    state: stateRow ? JSON.parse(stateRow.state_json) : null,
  };
}

/** The last probe round's summary for /api/health, or null (none yet, or D1 unreadable). */
export async function latestProbeRound(db) {
  try {
    const row = await db.prepare('SELECT state_json FROM health_monitor_state WHERE id = 1').first();
    return row ? (JSON.parse(row.state_json).last_round ?? null) : null;
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
  const { keys, prefix, stale_after_ms: staleAfterMs } = plan.cleanup;
  try {
    if (keys.length) await withTimeout(bucket.delete(keys), plan.timeout_ms);
    const listing = await withTimeout(bucket.list({ prefix, limit: 100 }), plan.timeout_ms);
    const stale = ask(rt, 'health_cleanup', {
      keys: listing.objects.map((o) => o.key),
      stale_after_ms: staleAfterMs,
    }).delete;
    if (stale.length) await withTimeout(bucket.delete(stale), plan.timeout_ms);
  } catch (e) {
    console.warn(`r2watch: probe cleanup failed (the next round sweeps again): ${e.message}`);
  }
}

/** Writes a judged round in one batch: checks, hourly aggregates, state and alerts. */
async function saveRound(db, round, nowMs) {
  const statements = round.checks.map((c) =>
    db
      .prepare(
        `INSERT OR IGNORE INTO r2_health_checks
           (round_id, trigger, operation, ok, status, response_time_ms, error, checked_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(round.round_id, round.trigger, c.operation, c.ok ? 1 : 0, c.status,
        c.response_time_ms, c.error, c.checked_at_ms),
  );
  if (round.checks.length) {
    const times = round.checks.map((c) => c.checked_at_ms);
    // Recomputed from the stored checks of the hours this round touched: idempotent. (Bound
    // numbers may reach SQLite as REAL: CAST keeps the hour arithmetic integer division, or
    // the hour would be recomputed from this round's checks alone.)
    statements.push(
      db
        .prepare(
          `INSERT INTO r2_operation_metrics (operation, hour_start_ms, checks, failures, slow,
             response_time_sum_ms, response_time_max_ms, updated_at_ms)
           SELECT operation, (checked_at_ms / 3600000) * 3600000 AS hour, COUNT(*),
                  SUM(ok = 0), SUM(status = 'slow'), SUM(response_time_ms), MAX(response_time_ms), ?3
             FROM r2_health_checks
            WHERE checked_at_ms >= (CAST(?1 AS INTEGER) / 3600000) * 3600000
              AND checked_at_ms < (CAST(?2 AS INTEGER) / 3600000 + 1) * 3600000
            GROUP BY operation, hour
           ON CONFLICT (operation, hour_start_ms) DO UPDATE SET checks = excluded.checks,
             failures = excluded.failures, slow = excluded.slow,
             response_time_sum_ms = excluded.response_time_sum_ms,
             response_time_max_ms = excluded.response_time_max_ms,
             updated_at_ms = excluded.updated_at_ms`,
        )
        .bind(Math.min(...times), Math.max(...times), nowMs),
    );
    // The status page's uptime tallies of the same hours and days (db/status.js).
    statements.push(...tallyStatements(db, times, nowMs));
  }
  if (!round.ignored) {
    statements.push(
      db
        .prepare(
          `INSERT INTO health_monitor_state (id, state_json, updated_at_ms) VALUES (1, ?, ?)
           ON CONFLICT (id) DO UPDATE SET state_json = excluded.state_json,
             updated_at_ms = excluded.updated_at_ms`,
        )
        .bind(JSON.stringify(round.state), nowMs),
    );
  }
  for (const e of round.events) {
    if (e.action === 'open') {
      // At most one active alert per type (a partial unique index): a condition that stays
      // true, or a state lost between isolates, never opens a second one.
      statements.push(
        db
          .prepare(
            `INSERT OR IGNORE INTO service_alerts
               (type, severity, status, message, round_id, created_at_ms, updated_at_ms)
             VALUES (?, ?, 'active', ?, ?, ?, ?)`,
          )
          .bind(e.type, e.severity, e.message, round.round_id, e.at_ms, e.at_ms),
      );
    } else if (e.action === 'resolve') {
      statements.push(
        db
          .prepare(
            `UPDATE service_alerts SET status = 'resolved', resolved_at_ms = ?1,
               resolved_by = 'monitor', resolution_note = ?2, updated_at_ms = ?1
             WHERE type = ?3 AND status = 'active'`,
          )
          .bind(e.at_ms, e.message, e.type),
      );
    } else if (e.action === 'record') {
      statements.push(
        db
          .prepare(
            `INSERT INTO service_alerts (type, severity, status, message, round_id, created_at_ms,
               updated_at_ms, resolved_at_ms, resolved_by, resolution_note)
             VALUES (?, ?, 'resolved', ?, ?, ?, ?, ?, 'monitor', ?)`,
          )
          .bind(e.type, e.severity, e.message, round.round_id, e.at_ms, e.at_ms, e.at_ms,
            e.message),
      );
    }
  }
  await db.batch(statements);
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
    { config, state, trigger, round_id: plan.round_id, started_ms: nowMs, probes },
    evaluatedAt,
  );
  await saveRound(db, round, evaluatedAt);
  return { ran: true, ...round, next_round_ms: plan.next_round_ms };
}

/**
 * The collect-metrics cron's part of the probes: with the probe scheduler (a Durable Object
 * alarm at checkInterval), make sure its alarm runs and restart it when it stopped; without the
 * binding, or when the object cannot be reached, run the round from the cron as before.
 */
export async function scheduleProbes(rt, nowMs) {
  const scheduler = probeScheduler(rt.env);
  if (scheduler) {
    try {
      const { config } = await loadMonitor(rt.env.DB);
      if (config.enabled === false) return { scheduler: 'alarm', ran: false, reason: 'monitoring is stopped' };
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
  const now = Date.now();
  const columns = CONFIG_COLUMNS.map(([, column]) => column);
  await db
    .prepare(
      `INSERT INTO health_check_config (id, ${columns.join(', ')}, updated_at_ms)
       VALUES (1, ${columns.map(() => '?').join(', ')}, ?)
       ON CONFLICT (id) DO UPDATE SET
         ${columns.map((c) => `${c} = excluded.${c}`).join(', ')},
         updated_at_ms = excluded.updated_at_ms`,
    )
    .bind(...configValues(config), now)
    .run();
  ask(rt, 'health_config_apply', { config });
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
    const where = `checked_at_ms >= ?1 AND checked_at_ms <= ?2 AND (?3 IS NULL OR operation = ?3)`;
    const db = rt.env.DB;
    const [rows, total] = await db.batch([
      db
        .prepare(
          `SELECT round_id, trigger, operation, ok, status, response_time_ms, error, checked_at_ms
             FROM r2_health_checks WHERE ${where}
            ORDER BY checked_at_ms DESC, id DESC LIMIT ?4 OFFSET ?5`,
        )
        .bind(q.from_ms, q.to_ms, q.operation, q.limit, q.offset),
      db.prepare(`SELECT COUNT(*) AS n FROM r2_health_checks WHERE ${where}`)
        .bind(q.from_ms, q.to_ms, q.operation),
    ]);
    return json({
      checks: rows.results.map((r) => ({
        ...r,
        ok: r.ok === 1,
        checked_at: new Date(r.checked_at_ms).toISOString(),
      })),
      total: total.results[0].n,
      limit: q.limit,
      offset: q.offset,
    });
  }, READ_HEALTH);

  router.on('GET', '/api/health/metrics', async (request, _params, rt) => {
    const q = ask(rt, 'health_metrics_query', queryOf(request));
    const checks = await rt.env.DB.prepare(
      `SELECT operation, ok, response_time_ms FROM r2_health_checks
        WHERE checked_at_ms >= ? AND checked_at_ms <= ?`,
    )
      .bind(q.since_ms, q.until_ms)
      .raw();
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
    const { results } = await rt.env.DB.prepare(
      `SELECT * FROM service_alerts WHERE (?1 IS NULL OR status = ?1)
        ORDER BY created_at_ms DESC, id DESC LIMIT ?2 OFFSET ?3`,
    )
      .bind(q.status, q.limit, q.offset)
      .all();
    return json({ alerts: results.map(describeAlert), limit: q.limit, offset: q.offset });
  }, READ_HEALTH);

  router.on('POST', '/api/health/alerts/:id/resolve', async (request, params, rt) => {
    const body = JSON.parse(await readJsonBody(request));
    const { id, note } = ask(rt, 'health_alert_resolve', { ...body, id: params.id });
    const db = rt.env.DB;
    const now = Date.now();
    const [update, after] = await db.batch([
      db
        .prepare(
          `UPDATE service_alerts SET status = 'resolved', resolved_at_ms = ?1,
             resolved_by = 'operator', resolution_note = ?2, updated_at_ms = ?1
           WHERE id = ?3 AND status = 'active'`,
        )
        .bind(now, note, id),
      db.prepare('SELECT * FROM service_alerts WHERE id = ?').bind(id),
    ]);
    const row = after.results[0];
    if (!row) throw new HttpError('not_found', `no alert with id ${id}`, { field: 'id' });
    if (update.meta.changes === 0) {
      throw new HttpError('conflict', `alert ${id} is already resolved`, { field: 'id' });
    }
    return json(describeAlert(row));
  }, ADMIN);
}
