// The retention's archive inside workerd (Miniflare, local D1 and R2): 24,000 audit rows past
// AUDIT_LOG_RETENTION_DAYS over 12 months, archived to R2 (read, merge, gzip, write, read back
// and verify, delete: POST /api/admin/jobs/archive), beside its peer in the same run, a backup
// of the same database (read, gzip, checksum and write every table once: POST
// /api/admin/jobs/backup). Prints rows per second of each and their ratio.
import { startWorker, call } from '../../worker-shim/test/helpers.mjs';

const ROWS = Number(process.env.BENCH_ARCHIVE_ROWS ?? 24_000);
const MONTHS = 12;
const DAY_MS = 86_400_000;
const PER_STATEMENT = 9; // 11 parameters a row, D1 binds at most 100

const worker = await startWorker();
try {
  const now = Date.now();
  const start = now - (400 + 31 * MONTHS) * DAY_MS;
  const span = 31 * MONTHS * DAY_MS;
  const statements = [];
  for (let i = 0; i < ROWS; i += PER_STATEMENT) {
    const n = Math.min(PER_STATEMENT, ROWS - i);
    const params = [];
    for (let j = 0; j < n; j++) {
      params.push(start + Math.floor(((i + j) * span) / ROWS), `actor-${(i + j) % 50}`, 'admin', 'token', 'PUT /api/storage/files/*key',
        `users/u${(i + j) % 50}/file-${i + j}.bin`, 'ok', 200, '203.0.113.9', 'curl/8.5', '{"bytes":4096}');
    }
    statements.push(
      worker.db
        .prepare(
          `INSERT INTO audit_log (at_ms, actor, actor_role, via, action, target, result, status, ip, user_agent, details_json)
           VALUES ${Array.from({ length: n }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        )
        .bind(...params),
    );
  }
  for (let i = 0; i < statements.length; i += 200) await worker.db.batch(statements.slice(i, i + 200));

  let t = performance.now();
  const backup = await call(worker, 'POST', '/api/admin/jobs/backup');
  const backupMs = performance.now() - t;
  if (backup.status !== 200) throw new Error(`backup: ${JSON.stringify(backup.body)}`);

  t = performance.now();
  let archived = 0;
  let objects = 0;
  for (;;) {
    const res = await call(worker, 'POST', '/api/admin/jobs/archive');
    if (res.status !== 200) throw new Error(`archive: ${JSON.stringify(res.body)}`);
    archived += res.body.archived.audit_log;
    objects += res.body.objects_written;
    if (!res.body.more) break;
  }
  const archiveMs = performance.now() - t;
  if (archived !== ROWS) throw new Error(`archived ${archived} of ${ROWS} rows`);
  const left = (await worker.db.prepare('SELECT COUNT(*) AS n FROM audit_log WHERE at_ms < ?').bind(now - 365 * DAY_MS).first()).n;
  if (left !== 0) throw new Error(`${left} rows past retention left in D1`);

  const archiveRate = (ROWS / archiveMs) * 1000;
  const backupRate = (backup.body.rows / backupMs) * 1000;
  console.log(`archive: ${ROWS} audit rows in ${objects} objects (${MONTHS} months), ${archiveMs.toFixed(0)} ms, ${archiveRate.toFixed(0)} rows/s (written, read back, verified, deleted)`);
  console.log(`backup (peer): ${backup.body.rows} rows of ${backup.body.tables} tables, ${backupMs.toFixed(0)} ms, ${backupRate.toFixed(0)} rows/s (written once)`);
  console.log(`archive / backup throughput: ${(archiveRate / backupRate).toFixed(2)}`);
} finally {
  await worker.dispose();
}
