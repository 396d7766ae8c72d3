// The day's work in steps (core/ops/daily.h, worker-shim/src/daily.js): the daily cron only
// starts it; the offset 5-minute cron (account-analytics) makes one step of it per run, in the engine's order, until it is
// finished, which a heartbeat of job "daily" made by the run that finished it says; a step killed after its
// report was sent is redone without sending it again; a day's work not finished in time makes
// job "daily" late.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, call, runCron, runDailyWork, startReceiver } from './helpers.mjs';

const MINUTE = 60_000;
const THURSDAY = Date.UTC(2026, 10, 26); // no weekly or monthly report due

const stepSummaries = async (w) =>
  (await w.db.prepare("SELECT summary_json FROM job_runs WHERE job = 'account-analytics' ORDER BY id").all()).results.map((r) => JSON.parse(r.summary_json));

test('the daily cron starts the day\'s work; the offset 5-minute cron makes it one step a run, in order, then says it is finished', { timeout: 180_000 }, async () => {
  const w = await startWorker();
  try {
    assert.equal((await runCron(w, '0 0 * * *', THURSDAY)).outcome, 'ok');
    const start = await w.db.prepare("SELECT summary_json FROM job_runs WHERE job = 'daily'").first();
    assert.deepEqual(JSON.parse(start.summary_json), { day: '2026-11-26', started: true });
    // Nothing of the work was done by the daily cron itself.
    assert.equal((await w.db.prepare('SELECT COUNT(*) AS n FROM reports').first()).n, 0);
    const row = await w.db.prepare('SELECT done, steps, finished_ms FROM daily_work').first();
    assert.deepEqual(row, { done: '[]', steps: 0, finished_ms: null });
    // A second start the same day starts nothing.
    assert.equal((await runCron(w, '0 0 * * *', THURSDAY + 30_000)).outcome, 'ok');
    const again = await w.db.prepare("SELECT summary_json FROM job_runs WHERE job = 'daily' ORDER BY id DESC").first();
    assert.equal(JSON.parse(again.summary_json).started, false);
    let runs = 0;
    for (; runs < 50; runs++) {
      if ((await w.db.prepare('SELECT finished_ms FROM daily_work').first()).finished_ms !== null) break;
      assert.equal((await runCron(w, '2-59/5 * * * *', THURSDAY + (runs + 1) * 5 * MINUTE)).outcome, 'ok');
    }
    const steps = (await stepSummaries(w)).map((s) => s.daily).filter(Boolean);
    assert.equal(steps.length, runs, 'one step a run');
    // Each task's steps come together, in the engine's order, and none after it is complete.
    const order = steps.map((s) => s.task).filter((t, i, all) => t !== all[i - 1]);
    assert.deepEqual(order, ['day_rollup', 'retention', 'security', 'tables', 'report_daily', 'backup']);
    for (let i = 1; i < steps.length; i++) {
      if (steps[i].task === steps[i - 1].task) assert.equal(steps[i - 1].complete, false, JSON.stringify(steps[i - 1]));
    }
    assert.equal(steps.at(-1).finished, true);
    const finish = await w.db.prepare("SELECT outcome, scheduled_ms, summary_json FROM job_runs WHERE job = 'daily' AND cron = '2-59/5 * * * *'").first();
    assert.equal(finish.outcome, 'ok');
    assert.equal(finish.scheduled_ms, THURSDAY);
    const summary = JSON.parse(finish.summary_json);
    assert.equal(summary.day, '2026-11-26');
    assert.equal(summary.steps, runs);
    assert.deepEqual(summary.reports, ['daily:2026-11-25']);
    assert.equal(summary.backup.state, 'complete');
    assert.equal(summary.backup.id, '20261126T000000Z');
    // The next run has nothing of the day's work left to do.
    assert.equal((await runCron(w, '2-59/5 * * * *', THURSDAY + 6 * 60 * MINUTE)).outcome, 'ok');
    assert.equal((await stepSummaries(w)).at(-1).daily, null);
    const jobs = (await call(w, 'GET', '/api/admin/jobs')).body.jobs;
    assert.deepEqual(jobs.map((j) => j.name).sort(), ['account-analytics', 'check-alerts', 'collect-metrics', 'cost', 'daily']);
  } finally {
    await w.dispose();
  }
});

test('a report step killed after sending is redone without sending the report again', { timeout: 180_000 }, async () => {
  const receiver = await startReceiver();
  const w = await startWorker({ vars: { ENVIRONMENT: 'development' } });
  try {
    assert.equal((await call(w, 'PUT', '/api/alerts/channels', { channels: [{ name: 'chat', type: 'slack', url: receiver.url('/slack') }] })).status, 200);
    const subs = await call(w, 'PUT', '/api/reports/subscriptions', { subscriptions: [{ report_type: 'daily', channels: ['chat'] }] });
    assert.equal(subs.status, 200, JSON.stringify(subs.body));
    // The step dies after the report went out, before D1 records the task done.
    await w.db
      .prepare(
        `CREATE TRIGGER kill_report_step BEFORE UPDATE ON daily_work WHEN NEW.done LIKE '%report_daily%'
         BEGIN SELECT RAISE(ABORT, 'killed after sending'); END`,
      )
      .run();
    assert.equal((await runCron(w, '0 0 * * *', THURSDAY)).outcome, 'ok');
    let at = THURSDAY;
    let killed = null;
    for (let i = 0; i < 20 && !killed; i++) {
      at += 5 * MINUTE;
      const run = await runCron(w, '2-59/5 * * * *', at);
      if (run.outcome !== 'ok') killed = run;
    }
    assert.ok(killed, 'the report step was killed');
    const slack = () => receiver.received.filter((r) => r.path === '/slack');
    for (let i = 0; i < 50 && slack().length < 1; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(slack().length, 1, 'sent before the step died');
    assert.match(JSON.parse((await w.db.prepare('SELECT done FROM daily_work').first()).done).join(','), /^(?!.*report_daily)/);
    await w.db.prepare('DROP TRIGGER kill_report_step').run();
    // The next runs redo the report step and finish the work; the report is not sent again.
    for (let i = 0; i < 40; i++) {
      if ((await w.db.prepare('SELECT finished_ms FROM daily_work').first()).finished_ms !== null) break;
      at += 5 * MINUTE;
      assert.equal((await runCron(w, '2-59/5 * * * *', at)).outcome, 'ok');
    }
    const finish = await w.db.prepare("SELECT outcome, summary_json FROM job_runs WHERE job = 'daily' AND cron = '2-59/5 * * * *'").first();
    assert.equal(finish.outcome, 'ok');
    assert.deepEqual(JSON.parse(finish.summary_json).reports, ['daily:2026-11-25']);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(slack().length, 1, 'not sent again');
    assert.equal((await w.db.prepare("SELECT COUNT(*) AS n FROM reports WHERE type = 'daily'").first()).n, 1);
  } finally {
    await w.dispose();
    await receiver.close();
  }
});

test('a day\'s work not finished 24 hours after it started makes job "daily" late, until it is finished', { timeout: 180_000 }, async () => {
  const w = await startWorker();
  try {
    const started = Date.now() - 25 * 60 * MINUTE;
    const day = new Date(started).toISOString().slice(0, 10);
    await w.db.prepare('INSERT INTO daily_work (day, started_ms) VALUES (?, ?)').bind(day, started).run();
    const daily = async () => (await call(w, 'GET', '/api/admin/jobs')).body.jobs.find((j) => j.name === 'daily');
    let job = await daily();
    assert.equal(job.health, 'late');
    assert.match(job.reason, new RegExp(`the work of ${day} is not finished 24 h after it started \\(0 of \\d tasks done\\)`));
    // One step a call (the admin route), until finished.
    for (let i = 0; i < 40; i++) {
      const step = await call(w, 'POST', '/api/admin/jobs/daily-step');
      assert.equal(step.status, 200, JSON.stringify(step.body));
      if (step.body.finished || step.body.action === 'idle') break;
    }
    job = await daily();
    assert.equal(job.health, 'ok', JSON.stringify(job));
    assert.equal((await call(w, 'POST', '/api/admin/jobs/daily-step')).body.action, 'idle');
  } finally {
    await w.dispose();
  }
});

test('the helper runs the work to its end, one step a call', { timeout: 180_000 }, async () => {
  const w = await startWorker();
  try {
    const daily = await runDailyWork(w, THURSDAY);
    assert.equal(daily.finish.outcome, 'ok');
    assert.ok(daily.steps >= 6, `${daily.steps} steps`);
  } finally {
    await w.dispose();
  }
});

test('a day\'s work not done when the next day\'s starts makes its reports and leaves the rest to the later one', { timeout: 180_000 }, async () => {
  const w = await startWorker();
  try {
    assert.equal((await runCron(w, '0 0 * * *', THURSDAY)).outcome, 'ok');
    assert.equal((await runCron(w, '0 0 * * *', THURSDAY + 86_400_000)).outcome, 'ok');
    const steps = [];
    for (let i = 0; i < 40; i++) {
      const step = await call(w, 'POST', '/api/admin/jobs/daily-step');
      assert.equal(step.status, 200, JSON.stringify(step.body));
      if (step.body.action === 'idle') break;
      steps.push(`${step.body.day} ${step.body.action} ${step.body.task ?? ''}`.trim());
    }
    // Thursday's: its report only (cost section, budgets, the day's operations, made); Friday's: everything.
    assert.deepEqual(steps.filter((s) => s.startsWith('2026-11-26')), [
      '2026-11-26 skip day_rollup', '2026-11-26 skip retention', '2026-11-26 skip security', '2026-11-26 skip tables',
      '2026-11-26 run report_daily', '2026-11-26 run report_daily', '2026-11-26 run report_daily', '2026-11-26 run report_daily', '2026-11-26 skip backup',
    ]);
    assert.ok(steps.includes('2026-11-27 run backup'), steps.join('\n'));
    const finished = (await w.db.prepare("SELECT scheduled_ms, outcome, summary_json FROM job_runs WHERE job = 'daily' AND summary_json LIKE '%\"finished\":true%' ORDER BY id").all()).results;
    assert.deepEqual(finished.map((r) => [r.scheduled_ms, r.outcome]), [[THURSDAY, 'ok'], [THURSDAY + 86_400_000, 'ok']]);
    const thursday = JSON.parse(finished[0].summary_json);
    assert.deepEqual(thursday.skipped, ['day_rollup', 'retention', 'security', 'tables', 'backup']);
    assert.deepEqual(thursday.reports, ['daily:2026-11-25']);
    assert.deepEqual(JSON.parse(finished[1].summary_json).reports, ['daily:2026-11-26']);
  } finally {
    await w.dispose();
  }
});

test('a monthly report made in steps (its operations a day a step) is the report made at once', { timeout: 180_000 }, async () => {
  const w = await startWorker();
  try {
    const OCT = Date.UTC(2026, 9, 1);
    const NOV = Date.UTC(2026, 10, 1);
    const DAY = 86_400_000;
    // Day rows for October's first 30 days (2 buckets, 2 prefixes, 3 users, 3 operations), hour
    // rows for its last day, and rows either side of the month (left out).
    const sketch = (i, n, ms) => JSON.stringify({ version: 1, zero: 0, bins: [[i, n]], sum: n * ms, min: ms, max: ms });
    const rows = [];
    for (let d = -1; d <= 31; d++) {
      const level = d === 30 ? 'hour' : 'day';
      const starts = d === 30 ? [0, 5, 23].map((h) => OCT + d * DAY + h * 3_600_000) : [OCT + d * DAY];
      for (const t of starts) {
        for (const bucket of ['media', 'logs']) {
          for (const prefix of ['img', 'raw']) {
            for (const user of ['u1', 'u2', 'u3']) {
              for (const [operation, r2Class] of [['get', 'B'], ['put', 'A'], ['list', 'A']]) {
                const calls = 1 + ((d * 7 + user.length + operation.length + prefix.length * 3) % 50);
                rows.push(w.db
                  .prepare(
                    `INSERT INTO storage_metrics (level, period_start_ms, bucket, prefix, user_id, operation, writer, r2_class,
                       calls, errors, bytes_up, bytes_down, latency_sketch, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, 'w', ?, ?, ?, ?, ?, ?, 0)`,
                  )
                  .bind(level, t, bucket, prefix, user, operation, r2Class, calls, calls % 3, calls * 1000, operation === 'get' ? calls * 1_000_000 : 0,
                    sketch(200 + ((d + calls) % 300), calls, 5 + ((d * calls) % 400))));
              }
            }
          }
        }
      }
    }
    for (let i = 0; i < rows.length; i += 100) await w.db.batch(rows.slice(i, i + 100));
    await w.db.batch([
      w.db.prepare("INSERT OR REPLACE INTO metrics_rollup_progress (level, complete_before_ms) VALUES ('hour', ?), ('day', ?)").bind(NOV + 3_600_000, OCT + 30 * DAY),
    ]);
    // In steps: the day's work of November 1st (last month's report among its tasks).
    const work = await runDailyWork(w, NOV + MINUTE);
    assert.equal(work.finish?.outcome, 'ok', JSON.stringify(work.finish));
    assert.ok(work.finish.summary.reports.includes('monthly:2026-10'), JSON.stringify(work.finish.summary));
    const reportText = async () => (await w.db.prepare("SELECT report_json FROM reports WHERE type = 'monthly' AND period = '2026-10'").first()).report_json;
    const stepped = await reportText();
    // Its operations were folded a day a step (the day rollup, first in the day's work, made
    // the 31st's day rows): 31 steps between the budgets and the report, 4 for the daily one.
    assert.ok(work.steps >= 2 + 31 + 1 + 4, `${work.steps} steps`);
    // At once (the reports route reads every row of the month in one run).
    const once = await call(w, 'POST', '/api/admin/jobs/reports?type=monthly&period=2026-10');
    assert.equal(once.status, 200, JSON.stringify(once.body));
    const whole = await reportText();
    assert.equal(stepped, whole);
    const report = JSON.parse(whole);
    assert.ok(report.performance.calls > 0 && report.performance.errors > 0, JSON.stringify(report.performance).slice(0, 300));
    assert.equal(report.performance.by_bucket_operation.length, 6);
  } finally {
    await w.dispose();
  }
});
