// CPU time of every scheduled job, for the account of bench/js/dashboard-cpu.mjs (10 buckets,
// 50 alert rules, 20 users, a month of minute rows rolled up by the Worker), with the account
// collector on against the GraphQL stand-in (tools/graphql-standin.mjs) serving 10 buckets over
// the last 31 days, against Workers' free-plan CPU limit of 10 ms per scheduled run.
// Each job runs through the Worker's own scheduled handler (Miniflare's scheduled(), as
// Cloudflare's cron does: heartbeat and log line included), BENCH_RUNS (5) times, each run
// from the state a cron run meets (below), and is measured as workerd's CPU time (user +
// system, /proc) per run: the Worker's and local D1's together, an upper bound of the Worker's;
// beside it the wall time of its D1 calls and the Worker's own CPU: the same runs again with D1
// answered from the isolate's memory (bench/js/small-account.mjs measureCpu), as on Cloudflare
// where D1 runs elsewhere. The limit is judged on the Worker's own.
//  - check-alerts: the 50 rules, every minute;
//  - collect-metrics: a probe round when due, flush, the hour just completed rolled up (its
//    progress put back one hour before each run), the inventory walk;
//  - account-analytics: a collector that is up to date (its 2-hour re-pull and today's storage);
//  - cost: the month's bill snapshot;
//  - daily: the daily cron itself (it only starts the day's work: core/ops/daily.h), then each
//    step of the day's work as the offset 5-minute cron makes one per run (through the admin route
//    POST /api/admin/jobs/daily-step, so with the request's own cost, printed beside them as a
//    step with nothing to do): the day rollup (put back one day), retention, security counters,
//    table retention, each step of the daily, weekly (Mondays) and monthly report (that of this
//    month, from a day's work started on the 1st of next month), a backup step (at most 400
//    rows); beside them the parts
//    in one run as they were (the backup in one run: version 1, the whole D1), each judged
//    against the 10 ms limit; then a run of the cron that makes the steps (account-analytics,
//    its own work and a backup step), and the number of 5-minute runs the whole day's work took;
//  - monthly (retired from wrangler.toml, run by old configurations): last month's report.
// Then the dashboard's calls that read the account's figures once the collector is on (the
// bill's default source, the bucket list, the reconciliation, the usage summary), per call as
// bench/js/dashboard-cpu.mjs measures them (BENCH_CALLS, 10, after one warm call).
// Run after `make worker`: node bench/js/cron-cpu.mjs.
import { startWorker, call, runCron } from '../../worker-shim/test/helpers.mjs';
import { startStandIn } from '../../tools/graphql-standin.mjs';
import { BUCKETS, RULES, USERS, DAYS, LIMIT_MS, standInAccount, collectorUpToDate, seedSmallAccount, measureCpu, cpuLine, printCallCpu } from './small-account.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

const now = Date.now();
const lastHour = Math.floor(now / HOUR_MS) * HOUR_MS;
const standIn = await startStandIn({ account: standInAccount(now) });
const vars = { CLOUDFLARE_ACCOUNT_ID: standIn.accountId, CLOUDFLARE_API_TOKEN: standIn.token, CLOUDFLARE_GRAPHQL_URL: standIn.url };

const worker = await startWorker({ vars, handleRuntimeStdio: (stdout, stderr) => { stdout.resume(); stderr.resume(); } });
try {
  await seedSmallAccount(worker, now);
  // The collector's backfill (31 days), until it is up to date.
  await collectorUpToDate(worker, lastHour);
  await call(worker, 'POST', '/api/admin/jobs/check-alerts');
  const progress = async () => {
    const { results } = await worker.db.prepare('SELECT level, complete_before_ms FROM metrics_rollup_progress').all();
    return Object.fromEntries(results.map((r) => [r.level, r.complete_before_ms]));
  };
  const done = await progress();
  const setProgress = (level, ms) =>
    worker.db.prepare('UPDATE metrics_rollup_progress SET complete_before_ms = ? WHERE level = ?').bind(ms, level).run();
  const hourBack = () => setProgress('hour', done.hour - HOUR_MS);
  const dayBack = async () => {
    await hourBack();
    await setProgress('day', done.day - DAY_MS);
  };

  const cron = (expression) => async () => {
    const result = await runCron(worker, expression, Date.now());
    if (result.outcome !== 'ok') throw new Error(`${expression}: ${JSON.stringify(result)}`);
  };
  const route = (path) => async () => {
    const res = await call(worker, 'POST', path);
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  };
  const STEPS = 10;
  const steps = (n, trigger = 'start') => async () => {
    for (let i = 0; i < n; i++) await route(`/api/admin/jobs/backup-step?trigger=${trigger}`)();
  };
  // The day's work: started at today's 00:00 UTC (its clock), with the tasks before `task` done.
  const dayStart = Math.floor(now / DAY_MS) * DAY_MS;
  const dayLabel = new Date(dayStart).toISOString().slice(0, 10);
  const setWork = (done, cursor = null, start = dayStart) => worker.db.batch([
    worker.db.prepare('DELETE FROM daily_work'),
    worker.db.prepare('INSERT INTO daily_work (day, started_ms, done, cursor) VALUES (?, ?, ?, ?)').bind(new Date(start).toISOString().slice(0, 10), start, JSON.stringify(done), cursor),
  ]);
  const dayDone = () => setProgress('day', done.day);
  await setWork([]);
  await dayBack();
  const first = await call(worker, 'POST', '/api/admin/jobs/daily-step');
  if (first.status !== 200 || !first.body.tasks) throw new Error(JSON.stringify(first.body));
  const tasks = first.body.tasks;
  const before = (task) => tasks.slice(0, tasks.indexOf(task));
  const dailyStep = route('/api/admin/jobs/daily-step');
  // A step of `task` from where `cursor` says the step before left it (the day rolled up but
  // for the day rollup's own).
  const stepOf = (task, { prepare = dayDone, cursor = null, label = task, start = dayStart, done = before(task) } = {}) => [`  step: ${label} (daily-step route)`, dailyStep, async () => {
    await prepare();
    await setWork(done, cursor, start);
  }];
  // A report is made in steps (cost section, budgets, the period's operations a day of day
  // rows or an hour of hour rows a step (this month's today: hour rows, not yet rolled up),
  // the report made and sent): each one measured from the cursor the step before left. The
  // monthly report from a day's work started on the 1st of next month (last month's report:
  // this month, which the account's days cover).
  const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth() + 1, 1);
  await setWork([], null, monthStart);
  const monthTasks = (await call(worker, 'POST', '/api/admin/jobs/daily-step')).body.tasks;
  const reportSteps = [];
  const reportTasks = [...tasks.filter((t) => t.startsWith('report_')).map((t) => [t, dayStart, before(t)]),
    ['report_monthly', monthStart, monthTasks.slice(0, monthTasks.indexOf('report_monthly'))]];
  for (const [task, start, done] of reportTasks) {
    await dayDone();
    await setWork(done, null, start);
    const cursors = [null];
    for (;;) {
      await dailyStep();
      const row = await worker.db.prepare('SELECT cursor, done FROM daily_work').first();
      if (JSON.parse(row.done).includes(task)) break;
      if (cursors.length > 100) throw new Error(`${task}: not made in 100 steps`);
      cursors.push(row.cursor);
    }
    const n = cursors.length;
    const what = (i) => (i === 0 ? 'cost section' : i === 1 ? 'budgets' : i === n - 1 ? 'made and sent' : `operations, part ${i - 1}`);
    cursors.forEach((cursor, i) => reportSteps.push(stepOf(task, { cursor, start, done, label: `${task} ${i + 1}/${n}, ${what(i)}` })));
  }
  const jobs = [
    // Before the daily job starts a backup: a step with nothing to do, the route's own cost
    // (request, heartbeat), beside the steps below.
    ['  backup step, nothing under way (route cost)', steps(STEPS, 'continue'), null, STEPS],
    ['  daily step, nothing to do (route cost)', dailyStep, () => worker.db.prepare('DELETE FROM daily_work').run()],
    ['check-alerts (50 rules)', cron('* * * * *')],
    ['collect-metrics (probes, 1 hour rolled up)', cron('*/5 * * * *'), async () => {
      await worker.db.prepare('DELETE FROM daily_work').run();
      await hourBack();
    }],
    ['account-analytics (10 buckets, up to date)', cron('2-59/5 * * * *')],
    ['cost (the month\'s bill snapshot)', cron('0 */6 * * *')],
    ['daily (the cron: starts the day\'s work)', cron('0 0 * * *'), () => worker.db.prepare('DELETE FROM daily_work').run()],
    stepOf('day_rollup', { prepare: dayBack, label: 'day_rollup (one bucket)' }),
    ...['retention', 'security', 'tables'].map((t) => stepOf(t)),
    ...reportSteps,
    // 10 steps a run (CPU figures come in 10 ms ticks), divided by 10: one step.
    ['  step: backup, <= 400 rows (backup-step route)', steps(STEPS), null, STEPS],
    // The cron that makes the day's steps: its own work (the collector up to date) and a step.
    ['account-analytics making a backup step', cron('2-59/5 * * * *'), async () => {
      await dayDone();
      await setWork(before('backup'));
    }],
    ['  (before) day rollup in one run (collect-metrics route)', route('/api/admin/jobs/collect-metrics'), dayBack],
    ['  (before) table retention in one run (archive route)', route('/api/admin/jobs/archive')],
    ['  (before) daily report (reports route)', route('/api/admin/jobs/reports?type=daily')],
    ['  (before) monthly report in one run (reports route)', route(`/api/admin/jobs/reports?type=monthly&period=${new Date(now).toISOString().slice(0, 7)}`)],
    ['  (before) backup in one run (backup route)', route('/api/admin/jobs/backup')],
    ['  probe round alone (health check route)', route('/api/health/check')],
    ['monthly (retired cron: last month\'s report)', cron('0 0 1 * *')],
  ];
  console.log(
    `scheduled jobs at ${BUCKETS} buckets, ${RULES} alert rules, ${USERS} users, ${DAYS} days: workerd CPU per run ` +
      `(Worker + local D1, median of ${RUNS} runs by CPU), the wall time of its D1 calls and the Worker's own CPU (D1 replayed from memory); the ${LIMIT_MS} ms limit judged on the Worker's own`,
  );
  for (const [name, run, prepare, per = 1] of jobs) {
    const figures = await measureCpu(worker, { runs: RUNS, once: run, prepare });
    console.log(`${name.padEnd(52)} ${per === 1 ? 'median run' : 'per step  '} ${cpuLine(figures, per)}`);
  }
  // The whole day's work as the crons make it: the daily cron, then the offset 5-minute cron
  // every 5 minutes until it is finished (its backup: rows / 400 runs).
  await worker.db.prepare('DELETE FROM daily_work').run();
  await worker.db.prepare('DELETE FROM backup_progress').run();
  await dayBack();
  await runCron(worker, '0 0 * * *', dayStart);
  let runs = 0;
  for (; runs < 2000; runs++) {
    if ((await worker.db.prepare('SELECT finished_ms FROM daily_work').first()).finished_ms !== null) break;
    const r = await runCron(worker, '2-59/5 * * * *', dayStart + 2 * 60_000 + runs * 5 * 60_000);
    if (r.outcome !== 'ok') throw new Error(`5-minute run ${runs + 1}: ${JSON.stringify(r)}`);
  }
  const work = await worker.db.prepare('SELECT steps, finished_ms FROM daily_work').first();
  console.log(
    `the day's work (${tasks.join(', ')}): ${runs} five-minute runs (${work.steps} steps, finished ` +
      `${((work.finished_ms - dayStart) / 3_600_000).toFixed(1)} h after 00:00 by the runs' clock)`,
  );
  const CALLS = Number(process.env.BENCH_CALLS ?? 10);
  console.log(`dashboard calls reading the account's figures (collector on, ${BUCKETS} buckets, 31 days): workerd CPU per call, the wall time of its D1 calls and the Worker's own CPU (D1 replayed from memory); the ${LIMIT_MS} ms limit judged on the Worker's own`);
  for (const path of ['/api/costs', '/api/costs?source=r2watch', '/api/account/buckets', '/api/account/reconcile', '/api/usage/summary?period=month']) {
    await printCallCpu(worker, path, CALLS, 52);
  }
} finally {
  await worker.dispose();
  await standIn.close?.();
}
