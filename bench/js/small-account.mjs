// The small account of issue #16's CPU goal, shared by bench/js/dashboard-cpu.mjs and
// bench/js/cron-cpu.mjs: 10 buckets, 50 alert rules and 20 users, with a month of rollups
// (one minute row per bucket every 5 minutes, spread over the users, rolled up by the Worker's
// own collect-metrics job). Seeding writes D1 directly (as bench/js/scale.mjs does).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { call } from '../../worker-shim/test/helpers.mjs';

export const BUCKETS = 10;
export const RULES = 50;
export const USERS = 20;
export const DAYS = 30;
// Workers' free-plan CPU limit per request and per scheduled run.
export const LIMIT_MS = 10;
const SLOT = 5 * 60_000;
const TICKS = 100; // clock ticks per second (/proc/<pid>/stat)

export const bucketName = (b) => `bucket-${String(b + 1).padStart(2, '0')}`;

/** workerd's CPU time so far (user + system of this process's workerd children), in ms. */
export function workerdCpuMs() {
  const pids = execFileSync('pgrep', ['-P', String(process.pid), '-f', 'workerd'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  let ticks = 0;
  for (const pid of pids) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
  }
  return (ticks * 1000) / TICKS;
}

/**
 * The wall time of every D1 call the Worker's isolate has made so far (all lanes, cron runs
 * included: db/instrumented.js under FAULT_INJECTION), read from a cheap call's
 * x-r2watch-d1-isolate-ms less that call's own request-lane D1 time. Read it before and after
 * what is measured (outside the CPU window): the difference is "of which D1", which on
 * Cloudflare runs elsewhere and is not the Worker's CPU (local D1 runs inside workerd, so its
 * time is in workerd's CPU here). Wall time, so an upper bound of local D1's CPU.
 */
export async function d1IsolateMs(worker) {
  const res = await worker.fetch('/api/pricing');
  await res.arrayBuffer();
  const total = Number(res.headers.get('x-r2watch-d1-isolate-ms'));
  const own = Number(/d1;dur=(\d+)/.exec(res.headers.get('server-timing') ?? '')?.[1] ?? 0);
  if (!Number.isFinite(total)) throw new Error('no x-r2watch-d1-isolate-ms header: FAULT_INJECTION must be on');
  return total - own;
}

/**
 * "CPU 12.3 ms, D1 calls 4.0 ms: Worker 8.3-12.3 ms (limit 10 ms: within)". The Worker's own CPU
 * lies between workerd's CPU less the wall time of its D1 calls (a lower bound: that wall time
 * also holds waits for a busy machine, local D1's CPU is at most that) and workerd's CPU (an
 * upper bound). Judged on the Worker's part: "within" when even the upper bound is, "within
 * without D1" when only the lower bound is (D1 runs elsewhere on Cloudflare), else "OVER".
 */
export function cpuLine(cpuMs, d1Ms) {
  const low = Math.max(0, cpuMs - d1Ms);
  const verdict = cpuMs <= LIMIT_MS ? 'within' : low <= LIMIT_MS ? 'within without D1' : 'OVER';
  return (
    `CPU ${cpuMs.toFixed(1).padStart(6)} ms, D1 calls ${d1Ms.toFixed(1).padStart(6)} ms: ` +
    `Worker ${low.toFixed(1).padStart(5)}-${cpuMs.toFixed(1).padEnd(5)} ms (limit ${LIMIT_MS} ms: ${verdict})`
  );
}

/** Seeds the account into a started Worker (`now`: the bench's clock) and rolls it up. */
export async function seedSmallAccount(worker, now) {
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
}
