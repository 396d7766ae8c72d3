// Backups the Worker wrote to R2 (worker-shim/src/backup.js; layout in core/ops/backup.h), read
// out of wrangler's local state (`wrangler dev --persist-to DIR`: R2 under DIR/v3/r2, keyed by
// bucket_name; D1 under DIR/v3/d1, keyed by database_id) through Miniflare, as the Worker sees
// them. Used by `npm run restore -- --from-r2 KEY` and `npm run verify-backup -- KEY`.
import { Miniflare } from 'miniflare';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

// wrangler.toml's top-level bindings (what `make dev` uses).
export const BUCKET_NAME = 'r2watch-data';
export const DATABASE_ID = '00000000-0000-4000-8000-000000000000';

/** Local R2 and D1 of a wrangler state directory: {bucket, db, dispose}. */
export async function openLocalState(persistTo) {
  const mf = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response("") } }',
    compatibilityDate: '2026-04-01',
    r2Buckets: { BUCKET: BUCKET_NAME },
    d1Databases: { DB: DATABASE_ID },
    r2Persist: join(persistTo, 'v3', 'r2'),
    d1Persist: join(persistTo, 'v3', 'd1'),
  });
  await mf.ready;
  return { bucket: await mf.getR2Bucket('BUCKET'), db: await mf.getD1Database('DB'), dispose: () => mf.dispose() };
}

export const sha256Hex = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** An object's JSON lines, checked against its row count and SHA-256: the text (Buffer). */
async function readLines(bucket, { key, rows, sha256 }) {
  const body = await bucket.get(key);
  if (!body) throw new Error(`${key} is missing`);
  const text = gunzipSync(Buffer.from(await body.arrayBuffer()));
  if (sha256Hex(text) !== sha256) throw new Error(`${key}: SHA-256 does not match the manifest`);
  const count = text.toString('utf8').split('\n').filter(Boolean).length;
  if (count !== rows) throw new Error(`${key}: ${count} rows, the manifest says ${rows}`);
  return text;
}

/**
 * The backup whose manifest is at `manifestKey`: {manifest, tables: [{name, rows, sha256}]}
 * (sha256: of the table's JSON lines, all its parts in order). Reads version 1 (one object per
 * table) and version 2 (a backup made in steps: each table's parts, each with its own count and
 * SHA-256). Throws when the manifest is missing (an incomplete backup is never restored), an
 * object is missing, or its rows do not match the manifest's count and SHA-256.
 */
export async function readBackup(bucket, manifestKey) {
  const object = await bucket.get(manifestKey);
  if (!object) throw new Error(`no manifest at ${manifestKey}: not a complete backup`);
  const manifest = JSON.parse(await object.text());
  if (manifest.format !== 'r2watch-backup' || ![1, 2].includes(manifest.version)) {
    throw new Error(`${manifestKey}: not an r2watch backup manifest (version 1 or 2)`);
  }
  const tables = [];
  for (const t of manifest.tables) {
    const parts = manifest.version === 1 ? [t] : t.parts;
    const texts = [];
    for (const part of parts) texts.push(await readLines(bucket, part));
    const text = Buffer.concat(texts);
    const rows = text.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    if (rows.length !== t.rows) throw new Error(`${t.name}: ${rows.length} rows, the manifest says ${t.rows}`);
    tables.push({ name: t.name, rows, sha256: sha256Hex(text) });
  }
  return { manifest, tables };
}

function literal(v) {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'NULL';
  if (typeof v === 'boolean') return v ? '1' : '0';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return `'${s.replace(/'/g, "''")}'`;
}

const ident = (name) => `"${name.replace(/"/g, '""')}"`;

/** The backup as one SQL script (schema, then every row): what tools/restore.mjs loads. */
export function backupSql({ manifest, tables }) {
  // Triggers come after the rows (as SQLite's .dump writes them): the rows are loaded as they
  // were, none of them firing a trigger (a sum a trigger keeps is restored, not added to twice).
  const isTrigger = (s) => /^\s*CREATE\s+TRIGGER\b/i.test(s);
  const out = manifest.schema.filter((s) => !isTrigger(s)).map((s) => `${s};`);
  for (const { name, rows } of tables) {
    for (const row of rows) {
      const cols = Object.keys(row);
      out.push(`INSERT INTO ${ident(name)} (${cols.map(ident).join(', ')}) VALUES (${cols.map((c) => literal(row[c])).join(', ')});`);
    }
  }
  out.push(...manifest.schema.filter(isTrigger).map((s) => `${s};`));
  return `${out.join('\n')}\n`;
}

/** Every table's row count and SHA-256 of its JSON lines, computed as the Worker computes them. */
export async function tableDigests(db, names) {
  const out = {};
  for (const name of names) {
    const { results } = await db.prepare(`SELECT * FROM ${ident(name)}`).all();
    out[name] = { rows: results.length, sha256: sha256Hex(results.map((r) => `${JSON.stringify(r)}\n`).join('')) };
  }
  return out;
}
