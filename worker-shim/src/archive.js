// Retention of every growing table (part of the daily job; `POST /api/admin/jobs/archive`). The
// engine decides each table's period, which rows are past it and which archive object a slice of
// them goes to (core/ops/retention.h); this file reads the rows, writes them to R2 as gzip JSON
// lines, one object per table and month under .r2watch/archive/, reads the object back to verify
// it, and only then deletes the rows from D1. A run that fails anywhere leaves every row either
// in D1 or in a verified archive object (or both); the next run merges by each row's key, so a
// row is never archived twice and never deleted unarchived.
import { oldestPastCutoff, rowsInWindow, deleteArchivedRows, deletePastCutoff, schemaTables } from './db/retention.js';
import { loadMonitor } from './monitor.js';
import { gzip, sha256Hex } from './backup.js';
import { faultsEnabled } from './runtime.js';
import { HttpError, json, ask } from './http.js';

const encoder = new TextEncoder();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The engine's view of an R2 fault for this operation (FAULT_INJECTION only), as storage.js. */
async function injectedFault(rt, operation) {
  if (!faultsEnabled(rt.env) || !rt.engine.faultsActive()) return;
  const delay = rt.engine.faultLatencyMs(operation);
  if (delay > 0) await sleep(delay);
  if (rt.engine.faultFails(operation, Math.random())) throw new Error(`injected fault on ${operation}`);
}

/**
 * What the engine's retention commands read: every `*_RETENTION_DAYS` variable the Worker has
 * (the engine takes the ones it knows) and the health monitor's retention_days.
 */
async function retentionInput(rt) {
  const vars = {};
  // for...in: where fault injection is on, rt.env is a view over the Worker's env (its
  // variables are inherited, not own properties: src/instrument.js).
  for (const name in rt.env) {
    const value = rt.env[name];
    if (/^[A-Z_]+_RETENTION_DAYS$/.test(name) && (typeof value === 'string' || typeof value === 'number')) vars[name] = String(value);
  }
  const { config } = await loadMonitor(rt.env.DB);
  return { vars, probe_retention_days: config?.retention_days ?? null };
}

/** The rows of one archive object (null when there is none). */
export async function readArchive(rt, key) {
  await injectedFault(rt, 'get');
  const object = await rt.env.BUCKET.get(key);
  if (!object) return null;
  const text = await new Response(object.body.pipeThrough(new DecompressionStream('gzip'))).text();
  return { text, rows: text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line)) };
}

function keyOf(t, row) {
  return JSON.stringify(t.key.map((k) => row[k]));
}

/**
 * Writes `rows` into the table-month's object, merged with what it holds already (by the table's
 * key: a row archived by an earlier run that died before its delete is stored once), then reads
 * it back and compares the checksum. Throws when any of it fails; then nothing may be deleted.
 */
async function mergeAndWrite(rt, t, key, rows) {
  const existing = await readArchive(rt, key);
  const merged = new Map();
  for (const r of existing?.rows ?? []) merged.set(keyOf(t, r), r);
  for (const r of rows) merged.set(keyOf(t, r), r);
  const all = [...merged.values()].sort((a, b) => {
    const ta = a[t.time_column];
    const tb = b[t.time_column];
    if (ta !== tb) return ta < tb ? -1 : 1;
    const ka = keyOf(t, a);
    const kb = keyOf(t, b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  const text = all.map((r) => `${JSON.stringify(r)}\n`).join('');
  const plain = encoder.encode(text);
  const sha256 = await sha256Hex(plain);
  const body = await gzip(plain);
  await injectedFault(rt, 'put');
  await rt.env.BUCKET.put(key, body, {
    httpMetadata: { contentType: 'application/gzip' },
    customMetadata: { table: t.table, rows: String(all.length), sha256 },
  });
  const back = await readArchive(rt, key);
  if (!back || (await sha256Hex(encoder.encode(back.text))) !== sha256) {
    throw new Error(`archive ${key} did not read back as written`);
  }
  return { rows: all.length, bytes: body.byteLength, added: all.length - (existing?.rows.length ?? 0) };
}

/**
 * One run of the retention: every table past its period is archived (then deleted) or deleted,
 * as the engine's plan says, at most steps_per_run archive steps (`more` says the next run goes
 * on). Answers {archived: {table: rows}, deleted: {table: rows}, objects_written, more}.
 */
export async function enforceTableRetention(rt, nowMs) {
  const db = rt.env.DB;
  const input = await retentionInput(rt);
  const plan = ask(rt, 'retention_plan', input, nowMs);
  const archived = {};
  const deleted = {};
  let steps = 0;
  let objectsWritten = 0;
  let more = false;
  for (const t of plan.tables) {
    if (t.action === 'delete') {
      deleted[t.table] = await deletePastCutoff(db, t);
      continue;
    }
    archived[t.table] = 0;
    deleted[t.table] = 0;
    for (;;) {
      const oldest = await oldestPastCutoff(db, t);
      if (oldest === null) break;
      if (steps >= plan.steps_per_run) {
        more = true;
        break;
      }
      steps += 1;
      const at = t.time_kind === 'day' ? { oldest_day: oldest } : { oldest_ms: oldest };
      const w = ask(rt, 'archive_window', { ...input, table: t.table, ...at }, nowMs);
      // The window's rows, page by page, up to one write's worth.
      const rows = [];
      for (;;) {
        const page = await rowsInWindow(db, t, w, plan.rows_per_read, rows.length);
        rows.push(...page);
        if (page.length < plan.rows_per_read || rows.length >= plan.rows_per_write) break;
      }
      if (rows.length === 0) break;
      await mergeAndWrite(rt, t, w.key, rows);
      objectsWritten += 1;
      archived[t.table] += rows.length;
      const gone = await deleteArchivedRows(db, t, w, rows);
      deleted[t.table] += gone;
      // Every row read changed since (an alert reopened): the next run looks again.
      if (gone === 0) break;
    }
  }
  return { archived, deleted, objects_written: objectsWritten, more };
}

async function listArchiveObjects(bucket, prefix) {
  const objects = [];
  let cursor;
  do {
    const page = await bucket.list({ prefix, cursor, include: ['customMetadata'] });
    objects.push(...page.objects);
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return objects;
}

function noQuery(request) {
  for (const name of new URL(request.url).searchParams.keys()) {
    throw new HttpError('invalid_query', `unknown query parameter ${name}`, { field: name });
  }
}

export function registerArchiveRoutes(router) {
  // Runs the retention of every table now (the daily job's part; a heartbeat in job_runs).
  router.on('POST', '/api/admin/jobs/archive', async (request, _params, rt) => {
    noQuery(request);
    return json(await enforceTableRetention(rt, Date.now()));
  }, { role: 'admin' });

  // Every table's period, variable, cutoff and action now, the tables bounded otherwise, and
  // any table of the database that is in neither list (none, when every table is bounded).
  router.on('GET', '/api/admin/retention', async (request, _params, rt) => {
    noQuery(request);
    const plan = ask(rt, 'retention_plan', await retentionInput(rt), Date.now());
    const known = new Set([...plan.tables, ...plan.other_tables].map((t) => t.table));
    const unbounded = (await schemaTables(rt.env.DB)).filter((name) => !known.has(name));
    return json({ tables: plan.tables, other_tables: plan.other_tables, unbounded_tables: unbounded });
  }, { role: 'admin' });

  // The archive objects: table, month, rows, compressed size.
  router.on('GET', '/api/admin/archive', async (request, _params, rt) => {
    noQuery(request);
    const plan = ask(rt, 'retention_plan', {}, Date.now());
    const objects = await listArchiveObjects(rt.env.BUCKET, plan.archive_prefix);
    const bySize = new Map(objects.map((o) => [o.key, o]));
    const { archives } = ask(rt, 'archive_list', { keys: objects.map((o) => o.key) }, Date.now());
    return json({
      archives: archives.map((a) => {
        const o = bySize.get(a.key);
        return {
          ...a,
          rows: Number(o.customMetadata?.rows ?? 0),
          bytes: o.size,
          uploaded_ms: o.uploaded.getTime(),
        };
      }),
    });
  }, { role: 'admin' });

  // One table-month's archived rows, as they were in D1.
  router.on('GET', '/api/admin/archive/:table/:month', async (request, params, rt) => {
    noQuery(request);
    const { key } = ask(rt, 'archive_key', { table: params.table, month: params.month }, Date.now());
    const archive = await readArchive(rt, key);
    if (!archive) throw new HttpError('not_found', `no archive of ${params.table} for ${params.month}`);
    return json({ table: params.table, month: params.month, key, rows: archive.rows });
  }, { role: 'admin' });
}
