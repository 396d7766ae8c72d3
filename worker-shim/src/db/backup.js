// D1 as the backup reads it: the only SQL of the backup domain.

// Every table of the database but SQLite's and Cloudflare's own.
const OWN = "name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'";

/** Every table's name, in name order. */
export async function tableNames(db) {
  const { results } = await db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND ${OWN} ORDER BY name`).all();
  return results.map((r) => r.name);
}

/** The schema as CREATE statements: tables first, then indexes, views and triggers. */
export async function schemaStatements(db) {
  const { results } = await db
    .prepare(
      `SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND ${OWN}
        ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, name`,
    )
    .all();
  return results.map((r) => r.sql);
}

/** Every row of one table, in its storage order (rowid, or the key of a WITHOUT ROWID table). */
export async function tableRows(db, table) {
  const { results } = await db.prepare(`SELECT * FROM "${table.replace(/"/g, '""')}"`).all();
  return results;
}

/** Every table as the stepped backup reads it: [{name, order: 'rowid' | 'key' (WITHOUT ROWID)}]. */
export async function backupTables(db) {
  const { results } = await db
    .prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'table' AND ${OWN} ORDER BY name`)
    .all();
  return results.map((r) => ({ name: r.name, order: /WITHOUT\s+ROWID/i.test(r.sql ?? '') ? 'key' : 'rowid' }));
}

/** The backup under way (the oldest, should there be two): {id, started_ms, parts} or null. */
export async function backupProgress(db) {
  const { results } = await db
    .prepare(
      `SELECT backup_id, started_ms, table_name, part, last_rowid, rows, sha256, bytes FROM backup_progress
        WHERE backup_id = (SELECT MIN(backup_id) FROM backup_progress) ORDER BY table_name, part`,
    )
    .all();
  if (!results.length) return null;
  return {
    id: results[0].backup_id,
    started_ms: results[0].started_ms,
    parts: results.map((r) => ({ table: r.table_name, part: r.part, last_rowid: r.last_rowid, rows: r.rows, sha256: r.sha256, bytes: r.bytes })),
  };
}

/**
 * The backup under way (the oldest, should there be two) as each table's cursor, what a step
 * decides by: {id, started_ms, tables: [{table, parts, last_part, last_rows, last_rowid}]} or
 * null. One row per table, however many parts the backup has written.
 */
export async function backupCursors(db) {
  const { results } = await db
    .prepare(
      `WITH cur AS (SELECT MIN(backup_id) AS id FROM backup_progress),
            t AS (SELECT table_name, COUNT(*) AS parts, MAX(part) AS last_part FROM backup_progress, cur
                   WHERE backup_id = cur.id GROUP BY table_name)
       SELECT b.backup_id, b.started_ms, t.table_name, t.parts, t.last_part, b.rows AS last_rows, b.last_rowid
         FROM t JOIN backup_progress b ON b.table_name = t.table_name AND b.part = t.last_part, cur
        WHERE b.backup_id = cur.id ORDER BY t.table_name`,
    )
    .all();
  if (!results.length) return null;
  return {
    id: results[0].backup_id,
    started_ms: results[0].started_ms,
    tables: results.map((r) => ({ table: r.table_name, parts: r.parts, last_part: r.last_part, last_rows: r.last_rows, last_rowid: r.last_rowid })),
  };
}

/** Records one part written (after its object is): a redone part replaces its row. */
export async function recordBackupPart(db, id, startedMs, p) {
  await db
    .prepare(
      `INSERT OR REPLACE INTO backup_progress (backup_id, started_ms, table_name, part, last_rowid, rows, sha256, bytes)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(id, startedMs, p.table, p.part, p.last_rowid, p.rows, p.sha256, p.bytes)
    .run();
}

/** Forgets a backup's parts (its manifest is written). */
export async function clearBackupProgress(db, id) {
  await db.prepare('DELETE FROM backup_progress WHERE backup_id = ?').bind(id).run();
}

// The rowid column a part's rows carry (removed before they are written).
export const ROWID = '__r2watch_rowid';

/**
 * One part's rows, as the engine's step says: {table, order, after_rowid, offset, limit}. rowid
 * tables: after `after_rowid` in rowid order, each row with its rowid as ROWID first; WITHOUT
 * ROWID tables: from `offset` in key order.
 */
export async function partRows(db, { table, order, after_rowid: after, offset, limit }) {
  const name = `"${table.replace(/"/g, '""')}"`;
  if (order === 'key') {
    return (await db.prepare(`SELECT * FROM ${name} LIMIT ? OFFSET ?`).bind(limit, offset).all()).results;
  }
  const where = after === null ? '' : 'WHERE rowid > ?';
  const stmt = db.prepare(`SELECT rowid AS ${ROWID}, * FROM ${name} ${where} ORDER BY rowid LIMIT ?`);
  return (await (after === null ? stmt.bind(limit) : stmt.bind(after, limit)).all()).results;
}
