// CPU time of every API call the dashboard makes, for an account of 10 buckets, 50 alert rules and
// 20 users (a month of minute rollups, rolled up by the Worker's collect-metrics job), against
// Workers' free-plan CPU limit of 10 ms per request. Measured as workerd's CPU time (user +
// system, from /proc) over BENCH_CALLS (10) calls of each route, divided by the calls: the
// Worker's CPU and local D1's together (Miniflare runs D1 inside workerd), so an upper bound of
// the Worker's own. Seeding writes D1 directly (as bench/js/scale.mjs does).
// Run after `make worker`: node bench/js/dashboard-cpu.mjs.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startWorker, call } from '../../worker-shim/test/helpers.mjs';

const BUCKETS = 10;
const RULES = 50;
const USERS = 20;
const DAYS = 30;
const SLOT = 5 * 60_000;
const CALLS = Number(process.env.BENCH_CALLS ?? 10);
const LIMIT_MS = 10;
const TICKS = 100; // clock ticks per second (/proc/<pid>/stat)

function workerdCpuMs() {
  const pids = execFileSync('pgrep', ['-P', String(process.pid), '-f', 'workerd'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  let ticks = 0;
  for (const pid of pids) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
  }
  return (ticks * 1000) / TICKS;
}

const worker = await startWorker({ handleRuntimeStdio: (stdout, stderr) => { stdout.resume(); stderr.pipe(process.stderr); } });
try {
  const now = Date.now();
  const start = Math.floor((now - DAYS * 86_400_000) / SLOT) * SLOT;
  await worker.db
    .prepare(
      `INSERT INTO storage_metrics (level, period_start_ms, bucket, prefix, user_id, operation, writer,
         r2_class, calls, errors, bytes_up, bytes_down, latency_sketch, updated_at_ms)
       WITH RECURSIVE m(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM m WHERE i + 1 < ?),
            bn(b) AS (SELECT 0 UNION ALL SELECT b + 1 FROM bn WHERE b < ${BUCKETS} - 1)
       SELECT 'minute', ? + m.i * ${SLOT}, printf('bucket-%02d', bn.b + 1), 'data', 'u' || ((m.i + bn.b) % ${USERS}),
              CASE WHEN m.i % 4 = 0 THEN 'put' ELSE 'get' END, 'bench', CASE WHEN m.i % 4 = 0 THEN 'A' ELSE 'B' END,
              5 + ((m.i + bn.b) % 20), CASE WHEN m.i % 50 = 0 THEN 1 ELSE 0 END, 4096, 2048,
              '{"zero":0,"bins":[[' || (170 + ((m.i * 7 + bn.b) % 40)) || ',' || (3 + ((m.i + bn.b) % 20)) ||
                '],[' || (230 + ((m.i * 7 + bn.b) % 40)) || ',2]],"sum":' || ((5 + ((m.i + bn.b) % 20)) * 35) ||
                ',"min":25,"max":90}', 0
         FROM m CROSS JOIN bn`,
    )
    .bind(Math.floor((now - start) / SLOT), start)
    .run();
  for (let u = 0; u < USERS; u++) {
    const res = await call(worker, 'POST', '/api/admin/users', { id: `u${u}`, role: 'user' });
    if (res.status !== 201) throw new Error(JSON.stringify(res.body));
  }
  const existing = (await call(worker, 'GET', '/api/alerts/rules')).body.rules.length;
  for (let i = existing; i < RULES; i++) {
    const res = await call(worker, 'POST', '/api/alerts/rules', {
      id: `bench-${i}`, name: `bench ${i}`, type: 'error_rate', threshold: 20 + i, window_ms: 30 * 60_000, min_calls: 5,
    });
    if (res.status !== 201) throw new Error(JSON.stringify(res.body));
  }
  for (let runs = 0; runs < 20; runs++) {
    const body = (await call(worker, 'POST', '/api/admin/jobs/collect-metrics')).body;
    const reached = (r) => r.rows === 0 || r.to_ms >= now;
    if (reached(body.rollups.hours) && reached(body.rollups.days)) break;
  }
  await call(worker, 'POST', '/api/admin/jobs/check-alerts');
  console.log(`dashboard calls at ${BUCKETS} buckets, ${RULES} alert rules, ${USERS} users, ${DAYS} days: workerd CPU per call (Worker + local D1) against the ${LIMIT_MS} ms limit`);
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
    const cpu0 = workerdCpuMs();
    let status = 0;
    for (let i = 0; i < CALLS; i++) {
      const res = await worker.fetch(path);
      await res.arrayBuffer();
      status = res.status;
    }
    const perCall = (workerdCpuMs() - cpu0) / CALLS;
    console.log(`${path.padEnd(40)} ${String(status).padEnd(4)} CPU ${perCall.toFixed(1).padStart(6)} ms per call (limit ${LIMIT_MS} ms: ${perCall <= LIMIT_MS ? 'within' : 'OVER'})`);
  }
} finally {
  await worker.dispose();
}
