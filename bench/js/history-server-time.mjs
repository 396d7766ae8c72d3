// Server time of /api/usage/summary, /api/metrics/history?range=30d and the month's costs (the
// account's, one user's part, the split by user) with a month of minute rollups for 5 buckets
// and 50 users in local D1 (Miniflare, workerd), after the hour/day rollup jobs ran.
// Run after `make worker`: node bench/js/history-server-time.mjs (BENCH_DAYS=30, BENCH_USERS=50 by
// default; the calls of each minute go to one user in turn).
import { startWorker } from '../../worker-shim/test/helpers.mjs';
import { seedStoragePeaks, sketchSql } from './seed.mjs';

const DAYS = Number(process.env.BENCH_DAYS ?? 30);
const BUCKETS = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
const MINUTE = 60_000;
const USERS = Number(process.env.BENCH_USERS ?? 50);

const worker = await startWorker();
try {
  const now = Date.now();
  const start = Math.floor((now - DAYS * 86_400_000) / MINUTE) * MINUTE;
  const minutes = Math.floor((now - start) / MINUTE);
  const t0 = Date.now();
  // Generated inside SQLite in one statement: a few latency bins around 30 ms per row.
  const bucketList = BUCKETS.map((b, i) => `SELECT '${b}' AS bucket, ${i} AS b`).join(' UNION ALL ');
  await worker.db
    .prepare(
      `INSERT INTO storage_metrics (level, period_start_ms, bucket, prefix, user_id, operation, writer,
         r2_class, calls, errors, bytes_up, bytes_down, latency_sketch, updated_at_ms)
       WITH RECURSIVE m(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM m WHERE i < ? - 1),
            bk AS (${bucketList})
       SELECT 'minute', ? + m.i * ${MINUTE}, bk.bucket, 'data', 'u' || ((m.i + bk.b) % ${USERS}), 'get', 'bench', 'B',
              5 + ((m.i + bk.b) % 20), CASE WHEN m.i % 50 = 0 THEN 1 ELSE 0 END, 0,
              (5 + ((m.i + bk.b) % 20)) * 2048,
              ${sketchSql('m.i', 'bk.b')},
              0
         FROM m CROSS JOIN bk`,
    )
    .bind(minutes, start)
    .run();
  await seedStoragePeaks(worker.db, { users: USERS, days: DAYS, startMs: start, bucket: 'alpha' });
  const rows = (await worker.db.prepare('SELECT COUNT(*) AS n FROM storage_metrics').first()).n;
  console.log(`seeded ${rows} minute rows (${DAYS} days x ${BUCKETS.length} buckets) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const t1 = Date.now();
  let runs = 0;
  for (;;) {
    const res = await worker.fetch('/api/admin/jobs/collect-metrics', { method: 'POST' });
    const body = await res.json();
    runs++;
    if (res.status !== 200) throw new Error(JSON.stringify(body));
    if (body.rollups.hours.rows === 0 || body.rollups.hours.to_ms >= now || runs > 40) {
      if (body.rollups.days.rows === 0 || runs > 40) break;
    }
  }
  const hourRows = await worker.db.prepare("SELECT COUNT(*) AS n FROM storage_metrics WHERE level = 'hour'").first();
  console.log(`rolled up into ${hourRows.n} hour rows in ${runs} collect-metrics runs, ${((Date.now() - t1) / 1000).toFixed(1)} s`);

  for (const path of [
    '/api/usage/summary?period=month',
    '/api/usage/summary?period=day&bucket=alpha',
    '/api/metrics/history?range=30d',
    '/api/metrics/history?range=30d&bucket=alpha',
    '/api/metrics/history?range=24h',
    '/api/costs',
    '/api/costs?user=u7',
    '/api/costs/breakdown?by=user',
  ]) {
    const times = [];
    let bytes = 0;
    for (let i = 0; i < 7; i++) {
      const s = performance.now();
      const res = await worker.fetch(path);
      bytes = (await res.text()).length;
      times.push(performance.now() - s);
      if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    }
    times.sort((a, b) => a - b);
    console.log(`${path.padEnd(48)} median ${times[3].toFixed(1).padStart(7)} ms  (min ${times[0].toFixed(1)}, max ${times[6].toFixed(1)}), ${bytes} bytes`);
  }
} finally {
  await worker.dispose();
}
