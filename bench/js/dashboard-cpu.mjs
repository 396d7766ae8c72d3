// CPU time of every API call the dashboard makes, for an account of 10 buckets, 50 alert rules and
// 20 users (a month of minute rollups, rolled up by the Worker's collect-metrics job), against
// Workers' free-plan CPU limit of 10 ms per request. Measured as workerd's CPU time (user +
// system, from /proc) over BENCH_CALLS (10) calls of each route, divided by the calls: the
// Worker's CPU and local D1's together (Miniflare runs D1 inside workerd), so an upper bound of
// the Worker's own; beside it the wall time of its D1 calls, and the Worker's own CPU: the same
// calls measured again with D1 answered from the isolate's memory (bench/js/small-account.mjs
// measureCpu), as on Cloudflare where D1 runs elsewhere. The 10 ms goal is judged on that.
// Seeding writes D1 directly (as bench/js/scale.mjs does).
// Run after `make worker`: node bench/js/dashboard-cpu.mjs.
import { startWorker, call } from '../../worker-shim/test/helpers.mjs';
import { BUCKETS, RULES, USERS, DAYS, LIMIT_MS, seedSmallAccount, printCallCpu } from './small-account.mjs';

const CALLS = Number(process.env.BENCH_CALLS ?? 10);

const worker = await startWorker({ handleRuntimeStdio: (stdout, stderr) => { stdout.resume(); stderr.pipe(process.stderr); } });
try {
  const now = Date.now();
  await seedSmallAccount(worker, now);
  await call(worker, 'POST', '/api/admin/jobs/check-alerts');
  console.log(`dashboard calls at ${BUCKETS} buckets, ${RULES} alert rules, ${USERS} users, ${DAYS} days: workerd CPU per call (Worker + local D1), the wall time of its D1 calls, and the Worker's own CPU (D1 replayed from memory); the ${LIMIT_MS} ms limit judged on the Worker's own`);
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
    await printCallCpu(worker, path, CALLS, 40);
  }
} finally {
  await worker.dispose();
}
