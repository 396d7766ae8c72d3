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
/**
 * The GraphQL stand-in's account for the benches that run with the account collector on
 * (tools/graphql-standin.mjs): 10 buckets, 6 action types each (successes and a few 404s),
 * every hour of the last 31 days, and each bucket's storage every day.
 */
export function standInAccount(now) {
  const HOUR_MS = 3_600_000;
  const DAY_MS = 86_400_000;
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
  return { operations, storage };
}

/**
 * Runs the account collector (its admin route) until it is up to date with the stand-in's
 * account: the 31 days' backfill, then the hour `lastHour` (at most 40 runs).
 */
export async function collectorUpToDate(worker, lastHour) {
  for (let runs = 0; runs < 40; runs++) {
    const res = await call(worker, 'POST', '/api/admin/jobs/account-analytics');
    if (res.status !== 200) throw new Error(JSON.stringify(res.body));
    if (res.body.queries === 0 || res.body.verdicts.every((v) => v.end_ms >= lastHour)) return;
  }
}

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

/** Turns the isolate's D1 replay on or off (db/instrumented.js); answers its counts so far. */
async function replayMode(worker, mode) {
  const res = await worker.fetch('/api/pricing', { headers: { 'x-r2watch-d1-replay': mode } });
  await res.arrayBuffer();
  const counts = /replayed=(\d+), missed=(\d+)/.exec(res.headers.get('x-r2watch-d1-replay') ?? '');
  if (!counts) throw new Error('no x-r2watch-d1-replay header: FAULT_INJECTION must be on');
  return { replayed: Number(counts[1]), missed: Number(counts[2]) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Measures `once()` (`prepare()` before each run, outside the CPU window) `runs` times after a
 * warm run, twice: against local D1 (workerd's CPU, the Worker's and local D1's together, and the
 * wall time of its D1 calls), then with D1 replayed from the isolate's memory
 * (db/instrumented.js: every call met in a recording run is answered without reaching D1), whose
 * workerd CPU is the Worker's own, as on Cloudflare where D1 runs elsewhere. Answers medians per
 * run: {cpu, d1, own, missed} (`missed`: D1 calls per run that replay could not answer, run for
 * real, so counted in `own`).
 */
export async function measureCpu(worker, { runs, once, prepare = null }) {
  const sample = async () => {
    if (prepare) await prepare();
    const d1Before = await d1IsolateMs(worker);
    const cpu0 = workerdCpuMs();
    await once();
    const cpu = workerdCpuMs() - cpu0;
    return { cpu, d1: (await d1IsolateMs(worker)) - d1Before };
  };
  if (prepare) await prepare();
  await once(); // warm
  const real = [];
  for (let i = 0; i < runs; i++) real.push(await sample());
  await replayMode(worker, 'on');
  if (prepare) await prepare();
  await once(); // recorded
  const before = await replayMode(worker, 'on');
  const own = [];
  for (let i = 0; i < runs; i++) own.push((await sample()).cpu);
  const after = await replayMode(worker, 'off');
  // The replay-mode reads of d1IsolateMs are one call each (two per sample), answered from memory.
  return {
    cpu: median(real.map((r) => r.cpu)),
    d1: median(real.map((r) => r.d1)),
    own: median(own),
    missed: (after.missed - before.missed) / runs,
  };
}

/**
 * "CPU 12.3 ms (D1 calls 40.1 ms wall), Worker's own 6.2 ms (limit 10 ms: within)": judged on
 * the Worker's own CPU (D1 replayed); the D1 wall time is printed for what it is, not subtracted
 * (it also holds waits for a busy machine).
 */
export function cpuLine({ cpu, d1, own, missed }, per = 1) {
  const [c, d, o, m] = [cpu / per, d1 / per, own / per, missed / per];
  return (
    `CPU ${c.toFixed(1).padStart(6)} ms (D1 calls ${d.toFixed(1).padStart(6)} ms wall), ` +
    `Worker's own ${o.toFixed(1).padStart(6)} ms${m > 0 ? ` (${m.toFixed(1)} D1 calls not replayed)` : ''} ` +
    `(limit ${LIMIT_MS} ms: ${o <= LIMIT_MS ? 'within' : 'OVER'})`
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

/**
 * Prints one dashboard call's CPU: `calls` fetches of `path` measured together (D1 once as it
 * is, once replayed), per call, after the path padded to `width`.
 */
export async function printCallCpu(worker, path, calls, width) {
  let status = 0;
  const once = async () => {
    for (let i = 0; i < calls; i++) {
      const res = await worker.fetch(path);
      await res.arrayBuffer();
      status = res.status;
    }
  };
  const figures = await measureCpu(worker, { runs: 1, once });
  console.log(`${path.padEnd(width)} ${String(status).padEnd(4)} per call ${cpuLine(figures, calls)}`);
}
