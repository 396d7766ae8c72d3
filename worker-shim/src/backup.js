// Backups of D1 to R2 (part of the daily job; `POST /api/admin/jobs/backup`). The engine decides
// where every object goes, what the manifest says and which old backups are deleted
// (core/ops/backup.h); this file reads the tables, compresses and checksums each one (gzip via
// CompressionStream, SHA-256 via WebCrypto) and writes the objects, the manifest last.
import {
  tableNames, schemaStatements, tableRows, backupTables, backupProgress, backupCursors, recordBackupPart, clearBackupProgress, partRows, ROWID,
} from './db/backup.js';
import { HttpError, ask, json } from './http.js';
import { faultsEnabled } from './runtime.js';

const encoder = new TextEncoder();

/** Gzip via CompressionStream (also the archive's, archive.js). */
export async function gzip(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** SHA-256 as lowercase hex (WebCrypto). */
export async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function listKeys(bucket, prefix) {
  const keys = [];
  let cursor;
  do {
    const page = await bucket.list({ prefix, cursor });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys;
}

/**
 * Writes one backup of every table and prunes old ones. `failAfterTables` (tests, fault
 * injection only): throw after writing that many tables, as a run that dies half-way would.
 * Answers {id, manifest_key, tables, rows, bytes, deleted_objects}.
 */
export async function backupToR2(rt, nowMs, { failAfterTables = null } = {}) {
  const db = rt.env.DB;
  const bucket = rt.env.BUCKET;
  const keep = rt.env.BACKUP_KEEP ?? null;
  const plan = ask(rt, 'backup_plan', { tables: await tableNames(db), keep }, nowMs);
  const schema = await schemaStatements(db);
  const written = [];
  for (const { table, key } of plan.objects) {
    if (failAfterTables !== null && written.length >= failAfterTables) {
      throw new Error(`backup ${plan.id} failed after ${written.length} tables (injected)`);
    }
    const rows = await tableRows(db, table);
    const text = encoder.encode(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    const body = await gzip(text);
    await bucket.put(key, body, { httpMetadata: { contentType: 'application/gzip' } });
    written.push({ name: table, rows: rows.length, sha256: await sha256Hex(text), bytes: body.byteLength });
  }
  const { manifest } = ask(rt, 'backup_manifest', { id: plan.id, started_ms: nowMs, tables: written, schema }, Date.now());
  await bucket.put(plan.manifest_key, JSON.stringify(manifest), { httpMetadata: { contentType: 'application/json' } });
  const keys = await listKeys(bucket, plan.prefix);
  const underWay = (await backupProgress(db))?.id ?? null;
  const { delete: doomed } = ask(rt, 'backup_prune', { keep, current: plan.id, under_way: underWay, keys }, nowMs);
  for (let i = 0; i < doomed.length; i += 1000) await bucket.delete(doomed.slice(i, i + 1000));
  return {
    id: plan.id,
    manifest_key: plan.manifest_key,
    tables: written.length,
    rows: written.reduce((n, t) => n + t.rows, 0),
    bytes: written.reduce((n, t) => n + t.bytes, 0),
    deleted_objects: doomed.length,
  };
}

/**
 * One step of a backup made in steps (core/ops/backup.h): `trigger` 'start' (the daily job:
 * starts one unless one is under way, which it continues) or 'continue' (the 5-minute cron).
 * Copies parts while the engine says so, each into its own object, then recorded in D1; when
 * every table is done, writes the manifest (version 2), forgets the progress and prunes old
 * backups. `failAfterParts` (tests, fault injection only): throw after writing that many parts'
 * objects, before recording the last, as a step that dies there would.
 * Answers {action: 'idle'} or {id, state: 'complete' | 'under_way', manifest_key (complete),
 * tables (complete), parts, rows, bytes (this step), deleted_objects}.
 */
export async function backupStep(rt, nowMs, trigger, { failAfterParts = null } = {}) {
  const db = rt.env.DB;
  const bucket = rt.env.BUCKET;
  const tables = await backupTables(db);
  // Each table's cursor, not every part so far: what a step hands the engine does not grow with
  // the backup (it did, and a step late in a large backup cost more than 10 ms).
  let progress = await backupCursors(db);
  const step = { parts: 0, rows: 0, bytes: 0 };
  for (;;) {
    const next = ask(rt, 'backup_step', { trigger, tables, progress, step_rows: step.rows, step_parts: step.parts }, nowMs);
    if (next.action === 'idle') return { action: 'idle' };
    if (next.action === 'yield') return { id: next.id, state: 'under_way', ...step };
    if (next.action === 'finish') {
      const schema = await schemaStatements(db);
      // The manifest lists every part: read once, at the end.
      progress = await backupProgress(db);
      const { manifest } = ask(rt, 'backup_manifest_parts', { tables, progress, schema }, Date.now());
      await bucket.put(next.manifest_key, JSON.stringify(manifest), { httpMetadata: { contentType: 'application/json' } });
      await clearBackupProgress(db, next.id);
      const keep = rt.env.BACKUP_KEEP ?? null;
      const keys = await listKeys(bucket, '.r2watch/backups/');
      const { delete: doomed } = ask(rt, 'backup_prune', { keep, current: next.id, keys }, nowMs);
      for (let i = 0; i < doomed.length; i += 1000) await bucket.delete(doomed.slice(i, i + 1000));
      return { id: next.id, state: 'complete', manifest_key: next.manifest_key, tables: manifest.tables.length, ...step, deleted_objects: doomed.length };
    }
    const rows = await partRows(db, next);
    let lastRowid = null;
    if (next.order === 'rowid') {
      for (const row of rows) {
        lastRowid = row[ROWID];
        delete row[ROWID];
      }
    }
    const text = encoder.encode(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    const body = await gzip(text);
    await bucket.put(next.key, body, { httpMetadata: { contentType: 'application/gzip' } });
    if (failAfterParts !== null && step.parts + 1 >= failAfterParts) {
      throw new Error(`backup ${next.id} step failed after part ${next.key} (injected)`);
    }
    const part = { table: next.table, part: next.part, last_rowid: lastRowid, rows: rows.length, sha256: await sha256Hex(text), bytes: body.byteLength };
    await recordBackupPart(db, next.id, next.started_ms, part);
    const cursor = { table: next.table, parts: next.part + 1, last_part: next.part, last_rows: rows.length, last_rowid: lastRowid };
    progress = {
      id: next.id,
      started_ms: next.started_ms,
      tables: [...(progress?.tables ?? []).filter((t) => t.table !== next.table), cursor],
    };
    step.parts += 1;
    step.rows += rows.length;
    step.bytes += body.byteLength;
  }
}

export function registerBackupRoutes(router) {
  // One step of a backup made in steps (what the daily job, `trigger=start`, and the 5-minute
  // cron, `trigger=continue`, run). `?fail_after_parts=N` (only where FAULT_INJECTION is on)
  // makes it fail after writing the Nth part's object, before recording it.
  router.on('POST', '/api/admin/jobs/backup-step', async (request, _params, rt) => {
    const url = new URL(request.url);
    for (const name of url.searchParams.keys()) {
      if (!['trigger', 'fail_after_parts'].includes(name)) throw new HttpError('invalid_query', `unknown query parameter ${name}`, { field: name });
    }
    const trigger = url.searchParams.get('trigger') ?? 'continue';
    const failText = url.searchParams.get('fail_after_parts');
    if (failText !== null && (!faultsEnabled(rt.env) || !/^[1-9]\d{0,3}$/.test(failText))) {
      throw new HttpError('invalid_query', 'fail_after_parts must be a count, and only where FAULT_INJECTION is on', { field: 'fail_after_parts' });
    }
    return json(await backupStep(rt, Date.now(), trigger, { failAfterParts: failText === null ? null : Number(failText) }));
  }, { role: 'admin' });

  // Runs a backup now. `?fail_after_tables=N` (only where FAULT_INJECTION is on) makes it fail
  // half-way, to show that such a run leaves no manifest.
  router.on('POST', '/api/admin/jobs/backup', async (request, _params, rt) => {
    const url = new URL(request.url);
    for (const name of url.searchParams.keys()) {
      if (name !== 'fail_after_tables') throw new HttpError('invalid_query', `unknown query parameter ${name}`, { field: name });
    }
    const failText = url.searchParams.get('fail_after_tables');
    if (failText !== null && (!faultsEnabled(rt.env) || !/^\d{1,3}$/.test(failText))) {
      throw new HttpError('invalid_query', 'fail_after_tables must be a count, and only where FAULT_INJECTION is on', { field: 'fail_after_tables' });
    }
    return json(await backupToR2(rt, Date.now(), { failAfterTables: failText === null ? null : Number(failText) }));
  }, { role: 'admin' });
}
