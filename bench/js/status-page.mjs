// The public status page inside workerd (Miniflare, local D1) with 90 days of probe tallies
// (every hour of the last 2 days and every day of the 90, five operations, a few statuses) and
// 20 published incidents with 5 updates each: GET /api/status built from D1 (a cache miss,
// CACHE_TTL=0) beside the same answer from the Cache API (a hit), median and p95 wall time of
// REQUESTS calls each, and the D1 rows one build reads.
import { startWorker, call } from '../../worker-shim/test/helpers.mjs';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 60);
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const OPERATIONS = ['get', 'put', 'delete', 'list', 'head'];

async function seed(worker) {
  const now = Date.now();
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const thisHour = Math.floor(now / HOUR_MS) * HOUR_MS;
  const rows = [];
  for (const op of OPERATIONS) {
    for (let d = 0; d < 90; d++) {
      rows.push(['day', today - d * DAY_MS, op, 'scheduled', 'ok', 2870]);
      rows.push(['day', today - d * DAY_MS, op, 'scheduled', 'slow', 8]);
      if (d % 7 === 0) rows.push(['day', today - d * DAY_MS, op, 'scheduled', 'timeout', 2]);
      rows.push(['day', today - d * DAY_MS, op, 'manual', 'ok', 10]);
    }
    for (let h = 0; h < 48; h++) {
      rows.push(['hour', thisHour - h * HOUR_MS, op, 'scheduled', 'ok', 119]);
      rows.push(['hour', thisHour - h * HOUR_MS, op, 'scheduled', 'slow', 1]);
    }
  }
  const db = worker.db;
  const insert = db.prepare(
    `INSERT INTO status_probe_counts (period, start_ms, operation, trigger, status, checks, updated_at_ms)
     VALUES (?, ?, ?, ?, ?, ?, 0)`,
  );
  for (let i = 0; i < rows.length; i += 200) await db.batch(rows.slice(i, i + 200).map((r) => insert.bind(...r)));
  const statements = [];
  for (let i = 0; i < 20; i++) {
    const at = now - i * DAY_MS / 2;
    statements.push(
      db
        .prepare(
          `INSERT INTO status_incidents (id, alert_id, title, impact, status, published, started_at_ms, updated_at_ms, resolved_at_ms)
           VALUES (?, ?, ?, 'minor', ?, 1, ?, ?, ?)`,
        )
        .bind(`inc-${i}`, `alert-${i}`, `Incident ${i}`, i % 2 ? 'resolved' : 'monitoring', at, at, i % 2 ? at + HOUR_MS : null),
    );
    for (let u = 0; u < 5; u++) {
      statements.push(
        db
          .prepare(`INSERT INTO status_incident_updates (incident_id, status, message, posted_by, posted_at_ms) VALUES (?, 'identified', ?, 'admin', ?)`)
          .bind(`inc-${i}`, `Update ${u} of incident ${i}: we are on it.`, at + u * 60_000),
      );
    }
  }
  await db.batch(statements);
  return rows.length;
}

async function timings(worker) {
  const out = [];
  for (let i = 0; i < REQUESTS; i++) {
    const start = performance.now();
    const res = await call(worker, 'GET', '/api/status', undefined, { as: null });
    out.push(performance.now() - start);
    if (res.status !== 200) throw new Error(`GET /api/status answered ${res.status}`);
  }
  out.sort((a, b) => a - b);
  return { median: out[Math.floor(out.length / 2)], p95: out[Math.ceil(out.length * 0.95) - 1] };
}

const fmt = (ms) => `${ms.toFixed(1)} ms`;
const results = {};
for (const [name, ttl] of [['miss (built from D1, CACHE_TTL=0)', '0'], ['hit (Cache API, CACHE_TTL=60)', '60']]) {
  const worker = await startWorker({ vars: { CACHE_TTL: ttl } });
  try {
    const tallies = await seed(worker);
    await call(worker, 'GET', '/api/status', undefined, { as: null }); // warm the isolate (and the cache)
    const t = await timings(worker);
    const last = await call(worker, 'GET', '/api/status', undefined, { as: null });
    // The rows a build reads: the tallies of its windows, the incidents and their updates.
    const now = Date.now();
    const read = await worker.db.batch([
      worker.db.prepare(`SELECT COUNT(*) AS n FROM status_probe_counts WHERE period = 'hour' AND start_ms >= ?`).bind(Math.floor(now / HOUR_MS) * HOUR_MS - 23 * HOUR_MS),
      worker.db.prepare(`SELECT COUNT(*) AS n FROM status_probe_counts WHERE period = 'day' AND start_ms >= ?`).bind(Math.floor(now / DAY_MS) * DAY_MS - 89 * DAY_MS),
      worker.db.prepare('SELECT (SELECT COUNT(*) FROM status_incidents) + (SELECT COUNT(*) FROM status_incident_updates) AS n'),
    ]);
    const readRows = read.reduce((sum, r) => sum + r.results[0].n, 0);
    results[name] = { ...t, cache: last.headers.get('x-r2watch-cache'), tallies, readRows };
  } finally {
    await worker.dispose();
  }
}
console.log(`status page: ${REQUESTS} GET /api/status each, tallies of 90 days (${Object.values(results)[0].tallies} rows), 20 incidents x 5 updates`);
for (const [name, r] of Object.entries(results)) {
  console.log(`  ${name.padEnd(36)} median ${fmt(r.median).padStart(9)}   p95 ${fmt(r.p95).padStart(9)}   x-r2watch-cache: ${r.cache}`);
}
console.log(`  a build reads ${Object.values(results)[0].readRows} tally and incident rows; the probe results of 90 days at the default 30 s would be ${(90 * 2880 * 5).toLocaleString('en')} rows`);
