// Retention of every growing table (core/ops/retention.h, src/archive.js): rows past their
// period are archived to R2 as gzip JSON lines, one object per table and month under
// .r2watch/archive/, verified, and only then deleted; an admin reads them back; a run that R2
// fails half-way is resumed by the next one, which stores every row exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { startWorker, call, runDailyWork } from './helpers.mjs';

const DAY_MS = 86_400_000;

async function archivedRows(w, key) {
  const object = await w.bucket.get(key);
  if (!object) return null;
  const bytes = new Uint8Array(await object.arrayBuffer());
  assert.deepEqual([...bytes.slice(0, 2)], [0x1f, 0x8b], `${key} is gzip`);
  return gunzipSync(bytes).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

async function allArchived(w, table) {
  const listed = await w.bucket.list({ prefix: `.r2watch/archive/${table}/` });
  const rows = [];
  for (const o of listed.objects) rows.push(...(await archivedRows(w, o.key)));
  return rows;
}

function insertAudit(w, actor, atMs) {
  return w.db
    .prepare(
      `INSERT INTO audit_log (at_ms, actor, actor_role, via, action, target, result, status, ip, user_agent, details_json)
       VALUES (?, ?, 'admin', 'token', 'DELETE /api/storage/files/*key', 'k', 'ok', 200, '203.0.113.9', 'curl', '{"n":1}')`,
    )
    .bind(atMs, actor);
}

function insertAlert(w, id, state, updatedMs) {
  return w.db
    .prepare(
      `INSERT INTO alerts (id, fingerprint, rule_id, name, type, severity, state, bucket, prefix, user_id, value,
         threshold, detail, labels_json, escalation_level, muted_by, updated_at_ms)
       VALUES (?, ?, 'r1', 'errors', 'error_rate', 'high', ?, 'b', '', '', 0.5, 0.1, 'd', '{}', 0, '', ?)`,
    )
    .bind(id, `fp-${id}`, state, updatedMs);
}

test('rows past retention are archived to R2 by table and month, read back by an admin, and deleted only then', { timeout: 180_000 }, async () => {
  const w = await startWorker();
  try {
    const now = Date.UTC(2026, 10, 30);
    const auditCutoff = now - 365 * DAY_MS; // AUDIT_LOG_RETENTION_DAYS default
    await w.db.batch([
      insertAudit(w, 'march-1', Date.UTC(2025, 2, 3)),
      insertAudit(w, 'march-2', Date.UTC(2025, 2, 31, 23, 59)),
      insertAudit(w, 'april-1', Date.UTC(2025, 3, 1)),
      insertAudit(w, 'edge', auditCutoff),
      insertAudit(w, 'recent', now - DAY_MS),
      insertAlert(w, 'a-resolved', 'resolved', Date.UTC(2025, 4, 10)),
      insertAlert(w, 'a-firing', 'firing', Date.UTC(2025, 4, 10)),
      w.db.prepare(
        `INSERT INTO storage_daily_peaks (day, bucket, prefix, storage_class, peak_bytes, objects, updated_at_ms)
         VALUES ('2025-01-15', 'b', 'p', 'standard', 100, 1, 0), ('2026-11-01', 'b', 'p', 'standard', 200, 2, 0)`,
      ),
      w.db.prepare(
        `INSERT INTO storage_metrics VALUES ('hour', ?, 'b', 'p', '', 'get', '', 'B', 7, 1, 0, 0,
           '{"zero":0,"bins":[],"sum":0,"min":null,"max":null}', 0)`,
      ).bind(now - 400 * DAY_MS),
      // Probe results: the monitor keeps 30 days by default, the status page needs 90.
      w.db.prepare(
        `INSERT INTO r2_health_checks (round_id, trigger, operation, ok, status, response_time_ms, error, checked_at_ms)
         VALUES ('day-60', 'scheduled', 'get', 1, 'ok', 5, NULL, ?), ('day-100', 'scheduled', 'get', 1, 'ok', 5, NULL, ?)`,
      ).bind(now - 60 * DAY_MS, now - 100 * DAY_MS),
    ]);
    // A month larger than one D1 page (2,000 rows): read page by page, one object.
    const FEB = 4_100;
    const bulk = [];
    for (let i = 0; i < FEB; i += 9) {
      const n = Math.min(9, FEB - i);
      const params = [];
      for (let j = 0; j < n; j++) params.push(Date.UTC(2025, 1, 1) + (i + j) * 60_000, `feb-${i + j}`);
      bulk.push(
        w.db
          .prepare(
            `INSERT INTO audit_log (at_ms, actor, actor_role, via, action, result, status)
             VALUES ${Array.from({ length: n }, () => "(?, ?, 'admin', 'token', 'PUT', 'ok', 200)").join(', ')}`,
          )
          .bind(...params),
      );
    }
    await w.db.batch(bulk);
    const before = (await w.db.prepare("SELECT * FROM audit_log WHERE actor = 'march-1'").first());

    const daily = await runDailyWork(w, now);
    assert.equal(daily.finish?.outcome, 'ok', JSON.stringify(daily));

    // D1 keeps what is within retention (the cutoff itself included) and what is not over.
    const actors = (await w.db.prepare("SELECT actor FROM audit_log WHERE via = 'token' ORDER BY at_ms").all()).results.map((r) => r.actor);
    assert.deepEqual(actors, ['edge', 'recent']);
    const alerts = (await w.db.prepare('SELECT id FROM alerts ORDER BY id').all()).results.map((r) => r.id);
    assert.deepEqual(alerts, ['a-firing']);
    const peaks = (await w.db.prepare('SELECT day FROM storage_daily_peaks').all()).results.map((r) => r.day);
    assert.deepEqual(peaks, ['2026-11-01']);
    assert.equal((await w.db.prepare("SELECT COUNT(*) AS n FROM storage_metrics WHERE level = 'hour'").first()).n, 0);
    const checks = (await w.db.prepare('SELECT round_id FROM r2_health_checks').all()).results.map((r) => r.round_id);
    assert.deepEqual(checks, ['day-60']);

    // R2 has one gzip JSON-lines object per table and month, each row as it was in D1.
    const march = await archivedRows(w, '.r2watch/archive/audit_log/2025-03.jsonl.gz');
    assert.deepEqual(march.map((r) => r.actor), ['march-1', 'march-2']);
    assert.deepEqual(march[0], before);
    assert.deepEqual((await archivedRows(w, '.r2watch/archive/audit_log/2025-04.jsonl.gz')).map((r) => r.actor), ['april-1']);
    const feb = await archivedRows(w, '.r2watch/archive/audit_log/2025-02.jsonl.gz');
    assert.equal(feb.length, FEB);
    assert.equal(new Set(feb.map((r) => r.actor)).size, FEB);
    assert.deepEqual((await archivedRows(w, '.r2watch/archive/alerts/2025-05.jsonl.gz')).map((r) => r.id), ['a-resolved']);
    assert.deepEqual((await archivedRows(w, '.r2watch/archive/storage_daily_peaks/2025-01.jsonl.gz')).map((r) => r.peak_bytes), [100]);

    // An admin lists the archives and reads one table-month back.
    const list = await call(w, 'GET', '/api/admin/archive');
    assert.equal(list.status, 200);
    const byKey = Object.fromEntries(list.body.archives.map((a) => [`${a.table}/${a.month}`, a]));
    assert.equal(byKey['audit_log/2025-03'].rows, 2);
    assert.ok(byKey['audit_log/2025-03'].bytes > 0);
    assert.ok(byKey['storage_metrics/' + new Date(now - 400 * DAY_MS).toISOString().slice(0, 7)]);
    const read = await call(w, 'GET', '/api/admin/archive/audit_log/2025-03');
    assert.equal(read.status, 200);
    assert.deepEqual(read.body.rows, march);
    assert.equal((await call(w, 'GET', '/api/admin/archive/audit_log/2020-01')).status, 404);
    const badTable = await call(w, 'GET', '/api/admin/archive/circuit_breaker_events/2025-03');
    assert.equal(badTable.status, 422);
    assert.equal(badTable.body.error.field, 'table');
    const badMonth = await call(w, 'GET', '/api/admin/archive/audit_log/2025-13');
    assert.equal(badMonth.body.error.field, 'month');
    const user = await call(w, 'GET', '/api/admin/archive', undefined, { as: null });
    assert.equal(user.status, 401);

    // The run says what it did; a second run finds nothing more and rewrites nothing.
    const summary = daily.finish.summary.tables;
    assert.equal(summary.archived.audit_log, FEB + 3);
    assert.equal(summary.deleted.audit_log, FEB + 3);
    assert.equal(summary.deleted.r2_health_checks, 1);
    const uploaded = (await w.bucket.head('.r2watch/archive/audit_log/2025-03.jsonl.gz')).uploaded.getTime();
    // (Another day's work: the same day's is not made twice.)
    await w.db.prepare('DELETE FROM daily_work').run();
    assert.equal((await runDailyWork(w, now + 60_000)).finish?.outcome, 'ok');
    assert.equal((await w.bucket.head('.r2watch/archive/audit_log/2025-03.jsonl.gz')).uploaded.getTime(), uploaded);
    assert.equal((await archivedRows(w, '.r2watch/archive/audit_log/2025-03.jsonl.gz')).length, 2);
  } finally {
    await w.dispose();
  }
});

test('R2 failing mid-way: each failed run is recorded, the next resumes, and every row is archived exactly once and deleted only once archived', { timeout: 300_000 }, async () => {
  const w = await startWorker();
  try {
    const now = Date.now();
    const ids = [];
    const statements = [];
    // Four months of audit rows past retention (AUDIT_LOG_RETENTION_DAYS = 365), 5 a month.
    for (let m = 0; m < 4; m++) {
      for (let i = 0; i < 5; i++) {
        const actor = `old-${m}-${i}`;
        ids.push(actor);
        statements.push(insertAudit(w, actor, now - (400 + 31 * m) * DAY_MS + i * 60_000));
      }
    }
    await w.db.batch(statements);
    const inD1 = async () => new Set((await w.db.prepare("SELECT actor FROM audit_log WHERE actor LIKE 'old-%'").all()).results.map((r) => r.actor));
    const check = async () => {
      const archived = (await allArchived(w, 'audit_log')).map((r) => r.actor);
      assert.equal(new Set(archived).size, archived.length, `no row archived twice: ${archived}`);
      const d1 = await inD1();
      for (const id of ids) assert.ok(d1.has(id) || archived.includes(id), `${id} is in D1 or in the archive`);
      return { archived, d1 };
    };

    // Half of R2's calls fail (reads of the object, writes, and the read that verifies a write).
    assert.equal((await call(w, 'PUT', '/api/admin/faults', { operation: 'all', error_rate: 0.5 })).status, 200);
    let failures = 0;
    let writtenNotDeleted = 0;
    for (let run = 0; run < 40; run++) {
      const res = await call(w, 'POST', '/api/admin/jobs/archive');
      if (res.status === 200 && !res.body.more && res.body.archived.audit_log === 0) break;
      if (res.status !== 200) failures += 1;
      const { archived, d1 } = await check();
      if (archived.some((id) => d1.has(id))) writtenNotDeleted += 1;
    }
    assert.ok(failures >= 1, 'R2 failed at least one run');
    // The runs are in job_runs with their failures (trigger http, job archive).
    const runs = (await w.db.prepare("SELECT outcome, error FROM job_runs WHERE job = 'archive' AND trigger = 'http'").all()).results;
    assert.equal(runs.filter((r) => r.outcome === 'error').length, failures);
    assert.ok(runs.filter((r) => r.outcome === 'error').every((r) => /injected fault|did not read back/.test(r.error)), JSON.stringify(runs));

    // R2 back: one more run finishes the work.
    await call(w, 'DELETE', '/api/admin/faults');
    const last = await call(w, 'POST', '/api/admin/jobs/archive');
    assert.equal(last.status, 200, JSON.stringify(last.body));
    const { archived, d1 } = await check();
    assert.deepEqual([...archived].sort(), [...ids].sort());
    assert.equal(d1.size, 0);
    const list = (await call(w, 'GET', '/api/admin/archive')).body.archives.filter((a) => a.table === 'audit_log');
    assert.equal(list.reduce((n, a) => n + a.rows, 0), ids.length);
    console.log(`# ${failures} failed runs, ${writtenNotDeleted} times an object held rows still in D1`);
  } finally {
    await w.dispose();
  }
});

test('every table of the schema has a retention decision, and a bad period is refused naming its variable', { timeout: 120_000 }, async () => {
  const w = await startWorker({ vars: { AUDIT_LOG_RETENTION_DAYS: '5' } });
  try {
    await w.db.batch([insertAudit(w, 'old', Date.now() - 400 * DAY_MS)]);
    const res = await call(w, 'POST', '/api/admin/jobs/archive');
    assert.equal(res.status, 422);
    assert.equal(res.body.error.field, 'AUDIT_LOG_RETENTION_DAYS');
    assert.equal((await w.db.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE actor = 'old'").first()).n, 1);
    // A refused request is not a run.
    assert.equal((await w.db.prepare("SELECT COUNT(*) AS n FROM job_runs WHERE job = 'archive'").first()).n, 0);
  } finally {
    await w.dispose();
  }
  const ok = await startWorker();
  try {
    const plan = await call(ok, 'GET', '/api/admin/retention');
    assert.equal(plan.status, 200);
    assert.deepEqual(plan.body.unbounded_tables, []);
    const audit = plan.body.tables.find((t) => t.table === 'audit_log');
    assert.equal(audit.variable, 'AUDIT_LOG_RETENTION_DAYS');
    assert.equal(audit.days, 365);
    assert.equal(audit.action, 'archive');
    assert.equal(plan.body.tables.find((t) => t.table === 'r2_health_checks').days, 90);
  } finally {
    await ok.dispose();
  }
});

test('the daily job with R2 refusing writes: the report and the backup still run, the run is recorded failed, and the next day archives', { timeout: 180_000 }, async () => {
  const w = await startWorker();
  try {
    const now = Date.UTC(2026, 10, 30);
    await w.db.batch([insertAudit(w, 'old', Date.UTC(2025, 2, 3))]);
    assert.equal((await call(w, 'PUT', '/api/admin/faults', { operation: 'put', error_rate: 1 })).status, 200);
    const daily = await runDailyWork(w, now);
    assert.equal(daily.start.outcome, 'ok');
    const failed = daily.finish;
    assert.equal(failed.outcome, 'error');
    assert.match(failed.error, /tables: injected fault on put/);
    assert.equal((await w.db.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE actor = 'old'").first()).n, 1);
    assert.equal((await w.bucket.list({ prefix: '.r2watch/archive/' })).objects.length, 0);
    // The rest of the day's work was done: the daily report and a complete backup.
    assert.equal((await w.db.prepare("SELECT COUNT(*) AS n FROM reports WHERE type = 'daily'").first()).n, 1);
    const backups = (await w.bucket.list({ prefix: '.r2watch/backups/' })).objects.map((o) => o.key);
    assert.ok(backups.some((k) => k.endsWith('/manifest.json')), backups.join(', '));

    await call(w, 'DELETE', '/api/admin/faults');
    assert.equal((await runDailyWork(w, now + DAY_MS)).finish?.outcome, 'ok');
    assert.equal((await w.db.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE actor = 'old'").first()).n, 0);
    assert.deepEqual((await archivedRows(w, '.r2watch/archive/audit_log/2025-03.jsonl.gz')).map((r) => r.actor), ['old']);
  } finally {
    await w.dispose();
  }
});
