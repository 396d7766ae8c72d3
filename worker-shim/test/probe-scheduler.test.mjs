// Probe rounds every check_interval_ms, from the probe scheduler's Durable Object alarm (10 s at the
// shortest): crons fire once a minute at best, so a 30-second check_interval_ms used to mean 5
// minutes. The collect-metrics cron is the fallback that restarts a stopped alarm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, call, runCron, sleep } from './helpers.mjs';

async function scheduledRounds(worker) {
  const { results } = await worker.db
    .prepare(`SELECT round_id, MIN(checked_at_ms) AS at_ms FROM r2_health_checks WHERE trigger = 'scheduled' GROUP BY round_id ORDER BY at_ms`)
    .all();
  return results;
}

async function waitFor(what, predicate, timeoutMs) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

test('the alarm runs a probe round every check_interval_ms, not every cron', { timeout: 60_000 }, async () => {
  const worker = await startWorker({ probeScheduler: true });
  try {
    const tooShort = await call(worker, 'PUT', '/api/health/config', { check_interval_ms: 5000 });
    assert.equal(tooShort.status, 422);
    assert.equal(tooShort.body.error.field ?? tooShort.body.error.errors?.[0]?.field, 'check_interval_ms');

    const set = await call(worker, 'PUT', '/api/health/config', { check_interval_ms: 10_000, enabled: true });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    // The change sets the alarm at once: the first round comes within moments, the next one
    // check_interval_ms later, with no cron in between.
    const first = await waitFor('the first scheduled round', async () => (await scheduledRounds(worker))[0], 8000);
    const status = await call(worker, 'GET', '/api/health/probe-scheduler');
    assert.equal(status.body.scheduler, 'alarm');
    assert.ok(status.body.alarm_ms > Date.now() && status.body.alarm_ms <= first.at_ms + 10_500, JSON.stringify(status.body));
    const rounds = await waitFor('a second scheduled round', async () => {
      const r = await scheduledRounds(worker);
      return r.length >= 2 ? r : null;
    }, 16_000);
    const gap = rounds[1].at_ms - rounds[0].at_ms;
    assert.ok(gap >= 9_500 && gap < 14_000, `rounds ${gap} ms apart`);
    const health = await call(worker, 'GET', '/api/health', undefined, { as: null });
    assert.ok(health.body.probes, 'the last round is in /api/health');
  } finally {
    await worker.dispose();
  }
});

test('stopping monitoring stops the alarm; the cron restarts an alarm that stopped', { timeout: 60_000 }, async () => {
  const worker = await startWorker({ probeScheduler: true });
  try {
    await call(worker, 'PUT', '/api/health/config', { check_interval_ms: 10_000, enabled: true });
    await waitFor('the first scheduled round', async () => (await scheduledRounds(worker))[0], 8000);
    assert.equal((await call(worker, 'POST', '/api/health/monitoring/stop')).status, 200);
    assert.equal((await call(worker, 'GET', '/api/health/probe-scheduler')).body.alarm_ms, null);
    // While monitoring is stopped the cron leaves it stopped.
    const stopped = await runCron(worker, '*/5 * * * *');
    assert.equal(stopped.outcome, 'ok');
    assert.equal((await call(worker, 'GET', '/api/health/probe-scheduler')).body.alarm_ms, null);

    // Monitoring on again, but the alarm was lost (as if the object had been reset): the
    // 5-minute cron notices and restarts it, and a round follows once check_interval_ms has passed
    // since the last one.
    await worker.db.prepare('UPDATE health_check_config SET enabled = 1 WHERE id = 1').run();
    const before = (await scheduledRounds(worker)).length;
    assert.equal((await runCron(worker, '*/5 * * * *')).outcome, 'ok');
    const [run] = (await call(worker, 'GET', '/api/admin/jobs?job=collect-metrics')).body.recent_runs;
    assert.equal(run.summary.probes.scheduler, 'alarm');
    assert.equal(run.summary.probes.restarted, true);
    await waitFor('a round from the restarted alarm', async () => (await scheduledRounds(worker)).length > before, 15_000);
  } finally {
    await worker.dispose();
  }
});

test('without the Durable Object the cron runs the probe rounds, as before', async () => {
  const worker = await startWorker();
  try {
    assert.equal((await runCron(worker, '*/5 * * * *')).outcome, 'ok');
    const [run] = (await call(worker, 'GET', '/api/admin/jobs?job=collect-metrics')).body.recent_runs;
    assert.equal(run.summary.probes.scheduler, 'cron');
    assert.equal(run.summary.probes.ran, true);
    assert.equal((await scheduledRounds(worker)).length, 1);
  } finally {
    await worker.dispose();
  }
});
