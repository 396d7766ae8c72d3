// CPU time of every API call the dashboard makes, for an account of 10 buckets, 50 alert rules and
// 20 users (a month of minute rollups, rolled up by the Worker's collect-metrics job), against
// Workers' free-plan CPU limit of 10 ms per request. Measured as workerd's CPU time (user +
// system, from /proc) over BENCH_CALLS (10) calls of each route, divided by the calls: the
// Worker's CPU and local D1's together (Miniflare runs D1 inside workerd), so an upper bound of
// the Worker's own. Beside it, "of which D1": the wall time of the Worker's D1 calls in the same
// calls (db/instrumented.js, FAULT_INJECTION), which on Cloudflare runs elsewhere; the 10 ms goal
// is judged on the rest, the Worker's part. Seeding writes D1 directly (as bench/js/scale.mjs does).
// Run after `make worker`: node bench/js/dashboard-cpu.mjs.
import { startWorker, call } from '../../worker-shim/test/helpers.mjs';
import { BUCKETS, RULES, USERS, DAYS, LIMIT_MS, workerdCpuMs, seedSmallAccount, d1IsolateMs, cpuLine } from './small-account.mjs';

const CALLS = Number(process.env.BENCH_CALLS ?? 10);

const worker = await startWorker({ handleRuntimeStdio: (stdout, stderr) => { stdout.resume(); stderr.pipe(process.stderr); } });
try {
  const now = Date.now();
  await seedSmallAccount(worker, now);
  await call(worker, 'POST', '/api/admin/jobs/check-alerts');
  console.log(`dashboard calls at ${BUCKETS} buckets, ${RULES} alert rules, ${USERS} users, ${DAYS} days: workerd CPU per call (Worker + local D1), the wall time of its D1 calls, and the Worker's own CPU between the two bounds (bench/js/small-account.mjs cpuLine); the ${LIMIT_MS} ms limit judged on the Worker's part`);
  const paths = [
    '/api/metrics/overview?range=24h',
    '/api/metrics/history?range=24h',
    '/api/metrics/overview?range=30d',
    '/api/metrics/history?range=30d',
    '/api/storage/usage',
    '/api/costs',
    '/api/admin/quotas',
    '/api/health',
    '/api/health/circuit-breaker',
    '/api/health/metrics?hours=24',
    '/api/alerts?state=firing',
    '/api/health/alerts?status=active',
    '/api/health/history?limit=10',
    '/api/health/alerts?limit=10',
    '/api/account/buckets',
    '/api/account/reconcile',
    '/api/pricing',
    '/api/usage/summary?period=month',
  ];
  for (const path of paths) {
    await (await worker.fetch(path)).arrayBuffer(); // warm
    const d1Before = await d1IsolateMs(worker);
    const cpu0 = workerdCpuMs();
    let status = 0;
    for (let i = 0; i < CALLS; i++) {
      const res = await worker.fetch(path);
      await res.arrayBuffer();
      status = res.status;
    }
    const perCall = (workerdCpuMs() - cpu0) / CALLS;
    const d1PerCall = ((await d1IsolateMs(worker)) - d1Before) / CALLS;
    console.log(`${path.padEnd(40)} ${String(status).padEnd(4)} per call ${cpuLine(perCall, d1PerCall)}`);
  }
} finally {
  await worker.dispose();
}
