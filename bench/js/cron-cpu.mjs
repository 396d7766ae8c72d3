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
//  - daily: the day rollup (put back one day), retention, table retention, the daily report
//    and the first step of a backup of D1 to R2, and each part of it alone (through its admin
//    route, so with the request's own cost): the backup in one run (version 1, the whole D1)
//    beside one step of the backup made in steps (at most 400 rows; the 5-minute cron makes the
//    next ones), each judged against the 10 ms limit;
//  - monthly: last month's report.
// Then the dashboard's calls that read the account's figures once the collector is on (the
// bill's default source, the bucket list, the reconciliation, the usage summary), per call as
// bench/js/dashboard-cpu.mjs measures them (BENCH_CALLS, 10, after one warm call).
// Run after `make worker`: node bench/js/cron-cpu.mjs.
import { startWorker, call, runCron } from '../../worker-shim/test/helpers.mjs';
import { startStandIn } from '../../tools/graphql-standin.mjs';
import { BUCKETS, RULES, USERS, DAYS, LIMIT_MS, bucketName, seedSmallAccount, measureCpu, cpuLine, printCallCpu } from './small-account.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

// The stand-in's account: 10 buckets, 6 action types each, every hour of the last 31 days.
const now = Date.now();
const lastHour = Math.floor(now / HOUR_MS) * HOUR_MS;
const actions = { GetObject: 9_000, HeadObject: 800, PutObject: 1_200, ListObjects: 60, DeleteObject: 40, CopyObject: 10 };
const operations = [];
for (let h = lastHour - 31 * 24 * HOUR_MS; h <= lastHour; h += HOUR_MS) {
  for (let b = 0; b < BUCKETS; b++) {
    for (const [action, perHour] of Object.entries(actions)) {
      const n = perHour + ((h / HOUR_MS + b * 7) % 13) * 10;
      operations.push({ hour: h, bucket: bucketName(b), action, status: 'success', code: 200, requests: n, bytes: action === 'GetObject' ? n * 50_000 : 0 });
      operations.push({ hour: h, bucket: bucketName(b), action, status: 'userError', code: 404, requests: 1 + (n % 7), bytes: 0 });
    }
  }
}
const storage = [];
for (let d = Math.floor(now / DAY_MS) * DAY_MS - 31 * DAY_MS; d <= now; d += DAY_MS) {
  for (let b = 0; b < BUCKETS; b++) {
    const age = Math.round((now - d) / DAY_MS);
    storage.push({ day: d, bucket: bucketName(b), storageClass: 'Standard', payloadSize: 5e10 - age * 1e8, metadataSize: 1e8, objectCount: 100_000 - age * 100, uploadCount: b % 3 });
  }
}
const standIn = await startStandIn({ account: { operations, storage } });
const vars = { CLOUDFLARE_ACCOUNT_ID: standIn.accountId, CLOUDFLARE_API_TOKEN: standIn.token, CLOUDFLARE_GRAPHQL_URL: standIn.url };

const worker = await startWorker({ vars, handleRuntimeStdio: (stdout, stderr) => { stdout.resume(); stderr.resume(); } });
try {
  await seedSmallAccount(worker, now);
  // The collector's backfill (31 days), until it is up to date.
  for (let runs = 0; runs < 40; runs++) {
    const res = await call(worker, 'POST', '/api/admin/jobs/account-analytics');
    if (res.status !== 200) throw new Error(JSON.stringify(res.body));
    if (res.body.queries === 0 || res.body.verdicts.every((v) => v.end_ms >= lastHour)) break;
  }
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
  const jobs = [
    // Before the daily job starts a backup: a step with nothing to do, the route's own cost
    // (request, heartbeat), beside the step below.
    ['  backup step, nothing under way (route cost)', steps(STEPS, 'continue'), null, STEPS],
    ['check-alerts (50 rules)', cron('* * * * *')],
    ['collect-metrics (probes, 1 hour rolled up)', cron('*/5 * * * *'), hourBack],
    ['account-analytics (10 buckets, up to date)', cron('2-59/5 * * * *')],
    ['cost (the month\'s bill snapshot)', cron('0 */6 * * *')],
    ['daily (all of it)', cron('0 0 * * *'), dayBack],
    ['  day rollup alone (collect-metrics route)', route('/api/admin/jobs/collect-metrics'), dayBack],
    ['  retention alone (route)', route('/api/admin/jobs/retention')],
    ['  table retention alone (archive route)', route('/api/admin/jobs/archive')],
    ['  daily report alone (reports route)', route('/api/admin/jobs/reports?type=daily')],
    ['  backup in one run (backup route)', route('/api/admin/jobs/backup')],
    // 10 steps a run (CPU figures come in 10 ms ticks), divided by 10: one step.
    ['  backup step, <= 400 rows (backup-step route)', steps(STEPS), null, STEPS],
    ['  probe round alone (health check route)', route('/api/health/check')],
    ['monthly (last month\'s report)', cron('0 0 1 * *')],
  ];
  console.log(
    `scheduled jobs at ${BUCKETS} buckets, ${RULES} alert rules, ${USERS} users, ${DAYS} days: workerd CPU per run ` +
      `(Worker + local D1, median of ${RUNS} runs by CPU), the wall time of its D1 calls and the Worker's own CPU (D1 replayed from memory); the ${LIMIT_MS} ms limit judged on the Worker's own`,
  );
  for (const [name, run, prepare, per = 1] of jobs) {
    const figures = await measureCpu(worker, { runs: RUNS, once: run, prepare });
    console.log(`${name.padEnd(46)} ${per === 1 ? 'median run' : 'per step  '} ${cpuLine(figures, per)}`);
  }
  const CALLS = Number(process.env.BENCH_CALLS ?? 10);
  console.log(`dashboard calls reading the account's figures (collector on, ${BUCKETS} buckets, 31 days): workerd CPU per call, the wall time of its D1 calls and the Worker's own CPU (D1 replayed from memory); the ${LIMIT_MS} ms limit judged on the Worker's own`);
  for (const path of ['/api/costs', '/api/costs?source=r2watch', '/api/account/buckets', '/api/account/reconcile', '/api/usage/summary?period=month']) {
    await printCallCpu(worker, path, CALLS, 46);
  }
} finally {
  await worker.dispose();
  await standIn.close?.();
}
