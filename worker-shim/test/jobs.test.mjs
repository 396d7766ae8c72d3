// Job heartbeats: every run of a cron's job records start, end, outcome, duration and what it
// did; GET /api/admin/jobs lists each job's schedule, last run, last success and next due time;
// /api/health turns degraded when a job is two runs late and unhealthy at five; a job that
// throws records its failure. Locally, the development-only route runs a cron through the
// Worker's own scheduled handler (what `make dev`'s scheduler calls).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, call, runCron } from './helpers.mjs';

const MINUTE = 60_000;
const jobsOf = async (worker) => (await call(worker, 'GET', '/api/admin/jobs')).body;
const jobNamed = (body, name) => body.jobs.find((j) => j.name === name);

test('a cron run leaves a heartbeat: schedule, last run, last success, next due time', async () => {
  const worker = await startWorker();
  try {
    const before = await jobsOf(worker);
    assert.deepEqual(before.jobs.map((j) => j.name).sort(), ['account-analytics', 'check-alerts', 'collect-metrics', 'cost', 'daily']);
    const collect = jobNamed(before, 'collect-metrics');
    assert.equal(collect.cron, '*/5 * * * *');
    assert.equal(collect.interval_ms, 5 * MINUTE);
    assert.equal(collect.last_started_ms, null);
    assert.equal(collect.health, 'ok');
    assert.ok(collect.next_due_ms > Date.now() && collect.next_due_ms <= Date.now() + 5 * MINUTE);
    assert.equal(collect.next_due_ms % (5 * MINUTE), 0);

    const scheduled = Math.floor(Date.now() / (5 * MINUTE)) * 5 * MINUTE;
    const result = await runCron(worker, '*/5 * * * *', scheduled);
    assert.equal(result.outcome, 'ok');
    const after = await jobsOf(worker);
    const ran = jobNamed(after, 'collect-metrics');
    assert.equal(ran.last_outcome, 'ok');
    assert.ok(ran.last_ended_ms >= ran.last_started_ms);
    assert.equal(ran.last_success_ms, ran.last_started_ms);
    const [run] = after.recent_runs.filter((r) => r.job === 'collect-metrics');
    assert.equal(run.trigger, 'cron');
    assert.equal(run.cron, '*/5 * * * *');
    assert.equal(run.scheduled_ms, scheduled);
    assert.equal(run.outcome, 'ok');
    assert.ok(run.duration_ms >= 0);
    assert.ok(run.summary.inventory, JSON.stringify(run.summary)); // what it did
  } finally {
    await worker.dispose();
  }
});

test('a job that throws records its failure, and the next run resumes', async () => {
  const worker = await startWorker();
  try {
    await worker.db.prepare('ALTER TABLE cost_snapshots RENAME TO cost_snapshots_away').run();
    const failed = await runCron(worker, '0 */6 * * *');
    assert.equal(failed.outcome, 'exception');
    let cost = jobNamed(await jobsOf(worker), 'cost');
    assert.equal(cost.last_outcome, 'error');
    assert.equal(cost.last_success_ms, null);
    const [run] = (await call(worker, 'GET', '/api/admin/jobs?job=cost')).body.recent_runs;
    assert.match(run.error, /cost_snapshots/);
    await worker.db.prepare('ALTER TABLE cost_snapshots_away RENAME TO cost_snapshots').run();
    assert.equal((await runCron(worker, '0 */6 * * *')).outcome, 'ok');
    cost = jobNamed(await jobsOf(worker), 'cost');
    assert.equal(cost.last_outcome, 'ok');
    assert.ok(cost.last_success_ms);
  } finally {
    await worker.dispose();
  }
});

test('health turns degraded when a job is two runs late and unhealthy at five', async () => {
  const worker = await startWorker();
  try {
    const now = Date.now();
    const at = (ms) => Math.floor(ms / MINUTE) * MINUTE;
    // r2watch has known its jobs for a day; every job but the 5-minute one ran on time.
    await worker.db.batch([
      ...['check-alerts', 'collect-metrics', 'cost', 'daily', 'monthly'].map((job) =>
        worker.db.prepare('INSERT INTO job_registry (job, first_seen_ms) VALUES (?, ?)').bind(job, now - 86_400_000),
      ),
      ...[['check-alerts', at(now)], ['cost', now - 3_600_000], ['daily', now - 3_600_000], ['monthly', now - 3_600_000]].map(([job, t]) =>
        worker.db.prepare(`INSERT INTO job_runs (job, trigger, scheduled_ms, started_ms, ended_ms, outcome) VALUES (?, 'cron', ?, ?, ?, 'ok')`).bind(job, t, t, t + 10),
      ),
    ]);
    const setCollect = async (startedMs) => {
      await worker.db.prepare(`DELETE FROM job_runs WHERE job = 'collect-metrics'`).run();
      await worker.db.prepare(`INSERT INTO job_runs (job, trigger, scheduled_ms, started_ms, ended_ms, outcome) VALUES ('collect-metrics', 'cron', ?, ?, ?, 'ok')`).bind(startedMs, startedMs, startedMs + 10).run();
    };
    const five = Math.floor(now / (5 * MINUTE)) * 5 * MINUTE;
    await setCollect(five);
    let health = await call(worker, 'GET', '/api/health', undefined, { as: null });
    assert.equal(health.body.components.jobs.status, 'healthy', JSON.stringify(health.body));

    await setCollect(five - 15 * MINUTE); // two or three runs missed
    health = await call(worker, 'GET', '/api/health', undefined, { as: null });
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'degraded');
    assert.equal(health.body.components.jobs.status, 'degraded');
    assert.match(health.body.components.jobs.reason, /job collect-metrics: \d scheduled runs missed since its last success/);

    await setCollect(five - 60 * MINUTE); // five or more
    health = await call(worker, 'GET', '/api/health', undefined, { as: null });
    assert.equal(health.status, 503);
    assert.equal(health.body.components.jobs.status, 'unhealthy');
    assert.equal(jobNamed(await jobsOf(worker), 'collect-metrics').health, 'stale');

    // The default job_stale rule fires on it, naming the job.
    const round = await call(worker, 'POST', '/api/admin/jobs/check-alerts');
    assert.equal(round.status, 200, JSON.stringify(round.body));
    const firing = await call(worker, 'GET', '/api/alerts?state=firing');
    const stale = firing.body.alerts.find((a) => a.rule_id === 'job_stale');
    assert.ok(stale, JSON.stringify(firing.body.alerts.map((a) => a.rule_id)));
    assert.ok(stale.value >= 5);
    assert.match(JSON.stringify(stale), /collect-metrics/);

    // The cron runs again: healthy.
    assert.equal((await runCron(worker, '*/5 * * * *', five)).outcome, 'ok');
    health = await call(worker, 'GET', '/api/health', undefined, { as: null });
    assert.equal(health.body.components.jobs.status, 'healthy', JSON.stringify(health.body.components));
  } finally {
    await worker.dispose();
  }
});

test('locally, a cron runs through the scheduled handler on request; elsewhere the route does not exist', async () => {
  const local = await startWorker({ vars: { ENVIRONMENT: 'development' } });
  try {
    const res = await call(local, 'POST', '/api/admin/jobs/scheduled?cron=' + encodeURIComponent('* * * * *'));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.job, 'check-alerts');
    assert.equal(res.body.run.trigger, 'cron');
    assert.equal(res.body.run.outcome, 'ok');
    const bad = await call(local, 'POST', '/api/admin/jobs/scheduled?cron=' + encodeURIComponent('*/7 * * * *'));
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'cron');
  } finally {
    await local.dispose();
  }
  const production = await startWorker({ vars: { ENVIRONMENT: 'production' } });
  try {
    const res = await call(production, 'POST', '/api/admin/jobs/scheduled?cron=' + encodeURIComponent('* * * * *'));
    assert.equal(res.status, 404);
  } finally {
    await production.dispose();
  }
});

test('a default rule added by a later release is installed once, and stays deleted once deleted', async () => {
  const worker = await startWorker();
  try {
    const ids = async () => (await call(worker, 'GET', '/api/alerts/rules')).body.rules.map((r) => r.id);
    assert.ok((await ids()).includes('job_stale'));
    // An installation from before the account's and the jobs' rules existed.
    await worker.db.batch([
      worker.db.prepare(`DELETE FROM alert_rules WHERE id IN ('job_stale', 'bucket_request_spike')`),
      worker.db.prepare(`DELETE FROM alert_default_rules WHERE id IN ('job_stale', 'bucket_request_spike')`),
    ]);
    const upgraded = await ids();
    assert.ok(upgraded.includes('job_stale') && upgraded.includes('bucket_request_spike'), upgraded.join(' '));
    assert.equal((await call(worker, 'DELETE', '/api/alerts/rules/job_stale')).status, 204);
    assert.ok(!(await ids()).includes('job_stale'));
    assert.ok(!(await ids()).includes('job_stale'), 'a deleted default is not installed again');
  } finally {
    await worker.dispose();
  }
});

test('a job run by hand over HTTP leaves a heartbeat like the cron; a refused request leaves none', { timeout: 180_000 }, async () => {
  const worker = await startWorker();
  try {
    const ran = await call(worker, 'POST', '/api/admin/jobs/cost');
    assert.equal(ran.status, 200);
    const [run] = (await call(worker, 'GET', '/api/admin/jobs?job=cost')).body.recent_runs;
    assert.equal(run.trigger, 'http');
    assert.equal(run.outcome, 'ok');
    assert.ok(run.duration_ms >= 0);
    assert.deepEqual(run.summary, ran.body);
    // It counts as the cost job's last run and last success.
    const cost = jobNamed(await jobsOf(worker), 'cost');
    assert.equal(cost.last_outcome, 'ok');
    assert.equal(cost.last_success_ms, run.started_ms);

    // A backup that fails half-way is recorded as failed, with why.
    const failed = await call(worker, 'POST', '/api/admin/jobs/backup?fail_after_tables=1');
    assert.equal(failed.status, 500);
    const [backup] = (await call(worker, 'GET', '/api/admin/jobs?job=backup')).body.recent_runs;
    assert.equal(backup.trigger, 'http');
    assert.equal(backup.outcome, 'error');
    assert.match(backup.error, /failed after 1 tables/);

    // Bad input: refused before anything runs, no run recorded.
    const refused = await call(worker, 'POST', '/api/admin/jobs/backup?fail_after_tables=x');
    assert.equal(refused.status, 400);
    assert.equal((await call(worker, 'GET', '/api/admin/jobs?job=backup')).body.recent_runs.length, 1);

    // Every job route has its heartbeat: one run per route called.
    for (const path of ['/api/admin/jobs/collect-metrics', '/api/admin/jobs/metrics-flush', '/api/admin/jobs/retention', '/api/admin/jobs/check-alerts', '/api/admin/jobs/archive']) {
      assert.equal((await call(worker, 'POST', path)).status, 200, path);
    }
    const jobs = (await worker.db.prepare("SELECT job FROM job_runs WHERE trigger = 'http' AND outcome = 'ok' ORDER BY id").all()).results.map((r) => r.job);
    assert.deepEqual(jobs, ['cost', 'collect-metrics', 'metrics-flush', 'retention', 'check-alerts', 'archive']);
  } finally {
    await worker.dispose();
  }
});
