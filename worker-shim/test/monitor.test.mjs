// The health monitor inside workerd with real local R2 and D1: probe rounds on the cron and on
// demand, nothing left in the bucket, /api/health reflecting the probes, alerts raised once and
// resolved on recovery, runtime config validated and applied to the breaker, retention.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, call, sleep, runCron, runDailyWork } from './helpers.mjs';

const COLLECT = '*/5 * * * *';

/** Cron times 30 s apart (the default check_interval_ms), ending in the recent past. */
function cronClock() {
  let t = Date.now() - 10 * 60_000;
  return () => (t += 30_000);
}

async function probeObjects(worker) {
  return (await worker.bucket.list({ prefix: '.r2watch/' })).objects.map((o) => o.key);
}

async function checksInD1(worker) {
  const { results } = await worker.db
    .prepare('SELECT round_id, operation, ok, status FROM r2_health_checks ORDER BY id')
    .all();
  return results;
}

async function alertsOf(worker, type) {
  const { results } = await worker.db
    .prepare('SELECT * FROM service_alerts WHERE type = ? ORDER BY id')
    .bind(type)
    .all();
  return results;
}

test('a cron run records five probes and leaves no object behind', async () => {
  const worker = await startWorker();
  try {
    await worker.bucket.put('user/data.txt', 'mine');
    const run = await runCron(worker, COLLECT);
    assert.equal(run.outcome, 'ok');
    const checks = await checksInD1(worker);
    assert.deepEqual(
      checks.map((c) => `${c.operation}:${c.status}`),
      ['get:ok', 'put:ok', 'head:ok', 'list:ok', 'delete:ok'],
    );
    assert.equal(new Set(checks.map((c) => c.round_id)).size, 1);
    assert.deepEqual(await probeObjects(worker), []);
    assert.ok(await worker.bucket.head('user/data.txt'), 'user objects are left alone');

    const metrics = await worker.db
      .prepare('SELECT operation, checks, failures FROM r2_operation_metrics ORDER BY operation')
      .all();
    assert.deepEqual(
      metrics.results.map((m) => `${m.operation}:${m.checks}:${m.failures}`),
      ['delete:1:0', 'get:1:0', 'head:1:0', 'list:1:0', 'put:1:0'],
    );
    const health = await call(worker, 'GET', '/api/health');
    assert.equal(health.body.status, 'healthy');
    assert.equal(health.body.probes.attempted, 5);
  } finally {
    await worker.dispose();
  }
});

test('a round that fails half way still leaves nothing behind', async () => {
  const worker = await startWorker();
  try {
    // DELETE (the probe that removes the object) fails; HEAD is slow.
    await call(worker, 'PUT', '/api/admin/faults', { operation: 'delete', error_rate: 1 });
    const round = await call(worker, 'POST', '/api/health/check');
    assert.equal(round.status, 200);
    assert.deepEqual(
      round.body.checks.map((c) => `${c.operation}:${c.status}`),
      ['get:ok', 'put:ok', 'head:ok', 'list:ok', 'delete:error'],
    );
    assert.match(round.body.checks[4].error, /injected fault on delete/);
    assert.deepEqual(await probeObjects(worker), []);

    // A probe object left by a round that died long ago is swept by the next round.
    await worker.bucket.put(`.r2watch/health/${Date.now() - 3_600_000}-old`, 'x');
    await call(worker, 'DELETE', '/api/admin/faults');
    await call(worker, 'POST', '/api/health/check');
    assert.deepEqual(await probeObjects(worker), []);
  } finally {
    await worker.dispose();
  }
});

test('faults on PUT: degraded, unhealthy when the breaker opens, one alert, then recovery', async () => {
  const worker = await startWorker();
  const nextCron = cronClock();
  try {
    assert.equal((await runCron(worker, COLLECT, nextCron())).outcome, 'ok');
    assert.equal((await call(worker, 'GET', '/api/health')).body.status, 'healthy');

    await call(worker, 'PUT', '/api/admin/faults', { operation: 'put', error_rate: 1 });
    await runCron(worker, COLLECT, nextCron());
    const degraded = await call(worker, 'GET', '/api/health');
    assert.equal(degraded.status, 200);
    assert.equal(degraded.body.status, 'degraded');
    assert.equal(degraded.body.components.storage.status, 'degraded');
    assert.match(degraded.body.components.storage.reason, /failing in the last probe round: put/);
    assert.equal(degraded.body.circuit_breaker.state, 'closed');

    // Users' PUTs fail too: three in a row open the breaker (failure_threshold 3).
    for (let i = 0; i < 3; i++) {
      assert.equal((await call(worker, 'PUT', `/api/storage/files/u${i}`, 'x')).status, 502);
    }
    const unhealthy = await call(worker, 'GET', '/api/health');
    assert.equal(unhealthy.status, 503);
    assert.equal(unhealthy.body.status, 'unhealthy');

    // Rounds while the breaker is open: every probe is refused, one critical alert, not more.
    for (let i = 0; i < 3; i++) await runCron(worker, COLLECT, nextCron());
    const refused = await checksInD1(worker);
    assert.deepEqual(
      refused.slice(-5).map((c) => c.status),
      ['circuit_open', 'circuit_open', 'circuit_open', 'circuit_open', 'circuit_open'],
    );
    const active = await call(worker, 'GET', '/api/health/alerts?status=active');
    assert.equal(active.status, 200);
    assert.deepEqual(
      active.body.alerts.map((a) => `${a.type}:${a.severity}`),
      ['circuit_breaker_open:critical'],
    );
    assert.equal((await alertsOf(worker, 'circuit_breaker_open')).length, 1);

    // Faults stop; with a short recovery_timeout_ms the next round's first probe is the trial call.
    await call(worker, 'DELETE', '/api/admin/faults');
    const cfg = await call(worker, 'PUT', '/api/health/config', { recovery_timeout_ms: 1000 });
    assert.equal(cfg.status, 200);
    await sleep(1100);
    await runCron(worker, COLLECT, nextCron());

    const [opened] = await alertsOf(worker, 'circuit_breaker_open');
    assert.equal(opened.status, 'resolved');
    assert.equal(opened.resolved_by, 'monitor');
    assert.match(opened.resolution_note, /circuit_breaker_open cleared after/);
    const recovered = await alertsOf(worker, 'service_recovered');
    assert.equal(recovered.length, 1);
    assert.equal(recovered[0].status, 'resolved');
    assert.equal(recovered[0].severity, 'low');
    const listed = await call(worker, 'GET', '/api/health/alerts');
    assert.deepEqual(
      listed.body.alerts.map((a) => `${a.type}:${a.status}`),
      ['service_recovered:resolved', 'circuit_breaker_open:resolved'],
    );
    assert.equal((await call(worker, 'GET', '/api/health/alerts?status=active')).body.alerts.length, 0);
    const healthy = await call(worker, 'GET', '/api/health');
    assert.equal(healthy.body.status, 'healthy');
    assert.equal(healthy.body.circuit_breaker.state, 'closed');
    assert.deepEqual(await probeObjects(worker), []);
  } finally {
    await worker.dispose();
  }
});

test('a bad config update is refused with 422 naming each field, and the old config stays', async () => {
  const worker = await startWorker();
  try {
    const good = await call(worker, 'PUT', '/api/health/config', {
      failure_threshold: 5,
      recovery_timeout_ms: 45000,
      slow_response_threshold_ms: 1500,
      test_operations: ['put', 'get'],
    });
    assert.equal(good.status, 200);
    assert.equal(good.body.config.failure_threshold, 5);
    // Applied to the breaker at once.
    const breaker = await call(worker, 'GET', '/api/health/circuit-breaker/config');
    assert.equal(breaker.body.consecutive_failure_threshold, 5);
    assert.equal(breaker.body.wait_in_open_ms, 45000);
    assert.equal(breaker.body.slow_call_duration_ms, 1500);

    const bad = await call(worker, 'PUT', '/api/health/config', {
      timeout_ms: 50,
      failure_threshold: 'many',
      test_operations: ['copy'],
      alert_on_failure: 'yes',
    });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.error.code, 'invalid_field');
    assert.deepEqual(bad.body.error.errors.map((e) => e.field).sort(), [
      'alert_on_failure',
      'failure_threshold',
      'test_operations',
      'timeout_ms',
    ]);
    for (const field of ['timeout_ms', 'failure_threshold', 'test_operations', 'alert_on_failure']) {
      assert.match(bad.body.error.message, new RegExp(field));
    }
    const after = await call(worker, 'GET', '/api/health/config');
    assert.deepEqual(after.body.config, good.body.config);
    assert.equal(
      (await call(worker, 'GET', '/api/health/circuit-breaker/config')).body
        .consecutive_failure_threshold,
      5,
    );
    assert.equal((await call(worker, 'PUT', '/api/health/config', '{"timeout_ms": ')).status, 400);

    // Only the configured operations are probed.
    const round = await call(worker, 'POST', '/api/health/check');
    assert.deepEqual(round.body.checks.map((c) => c.operation), ['get', 'put']);
    assert.deepEqual(await probeObjects(worker), []);
  } finally {
    await worker.dispose();
  }
});

test('a stopped monitor runs no probes on cron, and starting it again does', async () => {
  const worker = await startWorker();
  const nextCron = cronClock();
  try {
    const stopped = await call(worker, 'POST', '/api/health/monitoring/stop');
    assert.equal(stopped.body.monitoring, 'stopped');
    await runCron(worker, COLLECT, nextCron());
    assert.equal((await checksInD1(worker)).length, 0);
    assert.equal((await call(worker, 'GET', '/api/health/config')).body.monitoring, 'stopped');

    const started = await call(worker, 'POST', '/api/health/monitoring/start');
    assert.equal(started.body.config.enabled, true);
    await runCron(worker, COLLECT, nextCron());
    assert.equal((await checksInD1(worker)).length, 5);
  } finally {
    await worker.dispose();
  }
});

test('history, metrics and operator resolution of alerts', async () => {
  const worker = await startWorker();
  try {
    await call(worker, 'POST', '/api/health/check');
    await call(worker, 'PUT', '/api/admin/faults', { operation: 'list', error_rate: 1 });
    await call(worker, 'POST', '/api/health/check');
    await call(worker, 'DELETE', '/api/admin/faults');

    const page = await call(worker, 'GET', '/api/health/history?limit=3&offset=0');
    assert.equal(page.status, 200);
    assert.equal(page.body.total, 10);
    assert.deepEqual(page.body.checks.map((c) => c.operation), ['delete', 'list', 'head']);
    assert.equal(page.body.checks[1].ok, false);
    const puts = await call(worker, 'GET', '/api/health/history?operation=put');
    assert.deepEqual(puts.body.checks.map((c) => c.operation), ['put', 'put']);
    const future = await call(worker, 'GET', `/api/health/history?from_ms=${Date.now() + 60_000}`);
    assert.equal(future.body.total, 0);
    const badLimit = await call(worker, 'GET', '/api/health/history?limit=0');
    assert.equal(badLimit.status, 400);
    assert.equal(badLimit.body.error.field, 'limit');
    assert.equal((await call(worker, 'GET', '/api/health/history?colour=red')).status, 400);

    const metrics = await call(worker, 'GET', '/api/health/metrics?hours=24');
    assert.equal(metrics.status, 200);
    assert.equal(metrics.body.checks, 10);
    assert.equal(metrics.body.operations.list.checks, 2);
    assert.equal(metrics.body.operations.list.success_rate_pct, 50);
    assert.equal(metrics.body.operations.get.error_rate_pct, 0);
    assert.equal(typeof metrics.body.operations.get.p95_response_ms, 'number');
    assert.equal((await call(worker, 'GET', '/api/health/metrics?hours=0')).status, 400);

    // An operator forces the breaker open: the next round raises the alert; resolve it by hand.
    await call(worker, 'POST', '/api/health/circuit-breaker/force-open');
    const round = await call(worker, 'POST', '/api/health/check');
    assert.deepEqual(round.body.events.map((e) => `${e.type}:${e.action}`), [
      'circuit_breaker_open:open',
    ]);
    const [alert] = (await call(worker, 'GET', '/api/health/alerts?status=active')).body.alerts;
    assert.equal(alert.type, 'circuit_breaker_open');
    const empty = await call(worker, 'POST', `/api/health/alerts/${alert.id}/resolve`, { note: ' ' });
    assert.equal(empty.status, 422);
    assert.equal(empty.body.error.field, 'note');
    const resolved = await call(worker, 'POST', `/api/health/alerts/${alert.id}/resolve`, {
      note: 'forced open for maintenance',
    });
    assert.equal(resolved.status, 200);
    assert.equal(resolved.body.status, 'resolved');
    assert.equal(resolved.body.resolved_by, 'operator');
    assert.equal(resolved.body.resolution_note, 'forced open for maintenance');
    const again = await call(worker, 'POST', `/api/health/alerts/${alert.id}/resolve`, { note: 'x' });
    assert.equal(again.status, 409);
    assert.equal((await call(worker, 'POST', '/api/health/alerts/999/resolve', { note: 'x' })).status, 404);
    assert.equal((await call(worker, 'POST', '/api/health/alerts/abc/resolve', { note: 'x' })).status, 404);
    // The condition still holds: acknowledged, so no second alert while it lasts.
    await call(worker, 'POST', '/api/health/check');
    assert.equal((await alertsOf(worker, 'circuit_breaker_open')).length, 1);
  } finally {
    await worker.dispose();
  }
});

test('the daily job deletes health checks past the retention window, never before 90 days (the status page)', async () => {
  const worker = await startWorker();
  try {
    const now = Date.now();
    const insert = worker.db.prepare(
      `INSERT INTO r2_health_checks (round_id, trigger, operation, ok, status, response_time_ms,
         error, checked_at_ms) VALUES (?, 'scheduled', 'get', 1, 'ok', 5, NULL, ?)`,
    );
    // retention_days below 90 keeps 90 days all the same.
    await call(worker, 'PUT', '/api/health/config', { retention_days: 7 });
    await worker.db.batch([
      insert.bind('old', now - 90 * 86_400_000 - 60_000),
      insert.bind('day-8', now - 8 * 86_400_000),
    ]);
    assert.equal((await runDailyWork(worker, now)).finish?.outcome, 'ok');
    assert.deepEqual((await checksInD1(worker)).map((c) => c.round_id), ['day-8']);
    // Above 90 days, retention_days rules.
    await call(worker, 'PUT', '/api/health/config', { retention_days: 120 });
    await worker.db.batch([
      insert.bind('day-121', now - 120 * 86_400_000 - 60_000),
      insert.bind('day-119', now - 120 * 86_400_000 + 60_000),
    ]);
    // (As another day's work: the same day's is not made twice.)
    await worker.db.prepare('DELETE FROM daily_work').run();
    assert.equal((await runDailyWork(worker, now)).finish?.outcome, 'ok');
    assert.deepEqual((await checksInD1(worker)).map((c) => c.round_id).sort(), ['day-119', 'day-8']);
  } finally {
    await worker.dispose();
  }
});

test('a probe past the timeout fails as a timeout and one past the slow threshold is slow', async () => {
  const worker = await startWorker();
  try {
    const cfg = await call(worker, 'PUT', '/api/health/config', {
      timeout_ms: 1000,
      slow_response_threshold_ms: 100,
    });
    assert.equal(cfg.status, 200);
    await call(worker, 'PUT', '/api/admin/faults', { operation: 'head', latency_ms: 1500 });
    await call(worker, 'PUT', '/api/admin/faults', { operation: 'list', latency_ms: 300 });
    const round = await call(worker, 'POST', '/api/health/check');
    const byOp = Object.fromEntries(round.body.checks.map((c) => [c.operation, c]));
    assert.equal(byOp.head.status, 'timeout');
    assert.equal(byOp.head.ok, false);
    assert.match(byOp.head.error, /no answer within 1000 ms/);
    assert.equal(byOp.list.status, 'slow');
    assert.equal(byOp.list.ok, true);
    assert.deepEqual(round.body.summary.slow_operations, ['list']);
    // The breaker counted the timeout as a failure, like any R2 call.
    const breaker = await call(worker, 'GET', '/api/health/circuit-breaker');
    assert.ok(breaker.body.totals.failures >= 1);
    assert.deepEqual(await probeObjects(worker), []);
  } finally {
    await worker.dispose();
  }
});
