// Account-wide views at scale: 1,000 users x 20 buckets x 30 days of minute rollups in local D1
// (Miniflare, workerd), rolled up by the Worker's own collect-metrics job; then the median
// server time and the D1 rows read (meta.rows_read, summed by the Worker into the
// x-r2watch-d1-rows-read header) of each account-wide 30-day view (the month's costs split by
// user among them: its answer lists every user) and of one user's, each printed beside its goal.
//
// Seeding: through the HTTP API 1,000 x 20 x 30 would take hours, so the bench writes D1
// directly, through the same Miniflare D1 binding (and persistence directory) the Worker
// reads: one INSERT ... WITH RECURSIVE generates the minute rows inside SQLite, as a flush
// would have written them (writer 'bench'). Each bucket has a call every BENCH_SLOT_MINUTES (5)
// minutes, by one user in turn (so all 1,000 users have calls in every bucket over the month),
// a GET at each slot and a PUT at every 4th; each user has a daily storage peak. The hour and
// day rollups (per user and account-wide) are then made by POST /api/admin/jobs/collect-metrics,
// as the cron makes them.
// Run after `make worker`: node bench/js/scale.mjs (BENCH_USERS=1000, BENCH_BUCKETS=20,
// BENCH_DAYS=30, BENCH_SLOT_MINUTES=5). BENCH_STATE=dir keeps the seeded and rolled-up D1 in
// `dir` and reuses it on the next run (to measure again without seeding).
import { existsSync } from 'node:fs';
import { startWorker } from '../../worker-shim/test/helpers.mjs';
import { seedStoragePeaks, sketchSql } from './seed.mjs';

const USERS = Number(process.env.BENCH_USERS ?? 1000);
const BUCKET_COUNT = Number(process.env.BENCH_BUCKETS ?? 20);
const DAYS = Number(process.env.BENCH_DAYS ?? 30);
const SLOT = Number(process.env.BENCH_SLOT_MINUTES ?? 5) * 60_000;
const ROWS_READ_GOAL = 10_000;
const RUNS = 11; // calls per route: the median is printed
const fmt = (n) => n.toLocaleString('en-US');

const STATE = process.env.BENCH_STATE;
// The Worker's request log lines (stdout) are left out; its errors are shown.
const handleRuntimeStdio = (stdout, stderr) => {
  stdout.resume();
  stderr.pipe(process.stderr);
};
// A kept state is migrated already (the migrations' carry-overs would read every row again).
const reuse = Boolean(STATE && existsSync(STATE));
const worker = await startWorker({ handleRuntimeStdio, migrate: !reuse, ...(STATE ? { persistDir: STATE } : {}) });
try {
  const seeded = STATE && (await worker.db.prepare("SELECT COUNT(*) AS n FROM account_metrics WHERE level = 'day'").first()).n > 0;
  if (!seeded) await seed();
  await measure();
} finally {
  await worker.dispose();
}

async function seed() {
  const now = Date.now();
  const start = Math.floor((now - DAYS * 86_400_000) / SLOT) * SLOT;
  const slots = Math.floor((now - start) / SLOT);
  const t0 = Date.now();
  for (const [operation, r2Class, every] of [['get', 'B', 1], ['put', 'A', 4]]) {
    await worker.db
      .prepare(
        `INSERT INTO storage_metrics (level, period_start_ms, bucket, prefix, user_id, operation, writer,
           r2_class, calls, errors, bytes_up, bytes_down, latency_sketch, updated_at_ms)
         WITH RECURSIVE m(i) AS (SELECT 0 UNION ALL SELECT i + ${every} FROM m WHERE i + ${every} < ?),
              bn(b) AS (SELECT 0 UNION ALL SELECT b + 1 FROM bn WHERE b < ${BUCKET_COUNT} - 1),
              bk AS (SELECT printf('bucket-%02d', b + 1) AS bucket, b FROM bn)
         SELECT 'minute', ? + m.i * ${SLOT}, bk.bucket, 'data', 'u' || ((m.i * 7 + bk.b * 13) % ${USERS}), '${operation}', 'bench', '${r2Class}',
                5 + ((m.i + bk.b) % 20), CASE WHEN m.i % 50 = 0 THEN 1 ELSE 0 END,
                ${operation === 'put' ? '(5 + ((m.i + bk.b) % 20)) * 4096' : '0'},
                ${operation === 'get' ? '(5 + ((m.i + bk.b) % 20)) * 2048' : '0'},
                ${sketchSql('m.i', 'bk.b')},
                0
           FROM m CROSS JOIN bk`,
      )
      .bind(slots, start)
      .run();
  }
  await seedStoragePeaks(worker.db, { users: USERS, days: DAYS, startMs: start, bucket: 'r2watch-data' });
  const minuteRows = (await worker.db.prepare('SELECT COUNT(*) AS n FROM storage_metrics').first()).n;
  console.log(
    `seeded ${fmt(USERS)} users x ${BUCKET_COUNT} buckets x ${DAYS} days: ${fmt(minuteRows)} minute rows ` +
      `in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );

  const t1 = Date.now();
  let runs = 0;
  for (;;) {
    const res = await worker.fetch('/api/admin/jobs/collect-metrics', { method: 'POST' });
    const body = await res.json();
    runs++;
    if (res.status !== 200) throw new Error(JSON.stringify(body));
    const reached = (r) => r.rows === 0 || r.to_ms >= now;
    if ((reached(body.rollups.hours) && reached(body.rollups.days)) || runs > 60) break;
  }
  const count = async (sql) => (await worker.db.prepare(sql).first()).n;
  console.log(
    `rolled up in ${runs} collect-metrics runs, ${((Date.now() - t1) / 1000).toFixed(1)} s: ` +
      `per user ${fmt(await count("SELECT COUNT(*) AS n FROM storage_metrics WHERE level = 'hour'"))} hour rows, ` +
      `${fmt(await count("SELECT COUNT(*) AS n FROM storage_metrics WHERE level = 'day'"))} day rows; ` +
      `account-wide ${fmt(await count("SELECT COUNT(*) AS n FROM account_metrics WHERE level = 'hour'"))} hour rows, ` +
      `${fmt(await count("SELECT COUNT(*) AS n FROM account_metrics WHERE level = 'day'"))} day rows`,
  );

}

async function measure() {
  console.log(`${fmt(USERS)} users x ${BUCKET_COUNT} buckets x ${DAYS} days: median server time and D1 rows read per call`);
  // The floor of any call on this machine now (no rollups read): the others are read beside it.
  const routes = [
    ['/api/health', null, null],
    ['/api/usage/summary?period=month', 50, ROWS_READ_GOAL],
    ['/api/metrics/history?range=30d', 100, ROWS_READ_GOAL],
    ['/api/costs', 100, ROWS_READ_GOAL],
    ['/api/costs?user=u7', 50, null],
    // The month's bill split by bucket (account-wide rows) and by user (an answer that lists
    // every user).
    ['/api/costs/breakdown?by=bucket', 100, ROWS_READ_GOAL],
    ['/api/costs/breakdown?by=user', 100, ROWS_READ_GOAL],
    ['/api/metrics/history?range=30d&user=u7', null, null],
    ['/api/usage/summary?period=month&user=u7', null, null],
    // One user's views that read everyone else's storage as one total per day.
    ['/api/costs/breakdown?by=prefix&user=u7', null, null],
    ['/api/costs/anomaly?user=u7', null, null],
  ];
  for (const [path, msGoal, rowsGoal] of routes) {
    const times = [];
    let rowsRead = null;
    for (let i = 0; i < RUNS; i++) {
      const s = performance.now();
      const res = await worker.fetch(path);
      await res.arrayBuffer();
      times.push(performance.now() - s);
      // The floor's health may say 503 on a kept state (the crons' missed runs): still a floor.
      if (res.status !== 200 && !(path === '/api/health' && res.status === 503)) throw new Error(`${path}: ${res.status}`);
      rowsRead = res.headers.get('x-r2watch-d1-rows-read');
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(RUNS / 2)];
    const msText = `median ${median.toFixed(1).padStart(7)} ms` + (msGoal ? ` (goal <= ${msGoal} ms: ${median <= msGoal ? 'met' : 'MISSED'})` : '');
    const rowsText =
      `rows read ${rowsRead === null ? 'n/a' : fmt(Number(rowsRead))}` +
      (rowsGoal && rowsRead !== null ? ` (goal <= ${fmt(rowsGoal)}: ${Number(rowsRead) <= rowsGoal ? 'met' : 'MISSED'})` : '');
    console.log(`${path.padEnd(44)} ${msText.padEnd(44)} ${rowsText}`);
  }
}
