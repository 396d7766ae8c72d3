// Tables past their retention (the engine's retention_plan and archive_window): the only SQL of
// the retention domain. Table and column names come from the engine's plan and are checked
// again here before they reach a statement.

// Which rows a table's retention reads (core/ops/retention.h, RowFilter): what is not over yet
// (an active alert, an unsent notification, an open GitHub issue) is kept whatever its age.
const FILTERS = {
  all: '1 = 1',
  aggregated_metrics: "level IN ('hour', 'day')",
  resolved_alerts: "state IN ('resolved', 'inactive')",
  done_outbox: "status IN ('sent', 'failed')",
  closed_issues: 'closed_at_ms IS NOT NULL',
  resolved_service_alerts: "status = 'resolved'",
};

// D1 binds at most 100 parameters per statement; statements go in batches of this many.
const MAX_PARAMS = 99;
const STATEMENTS_PER_BATCH = 100;

function ident(name) {
  if (typeof name !== 'string' || !/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a table or column name: ${name}`);
  return `"${name}"`;
}

function filterOf(t) {
  const f = FILTERS[t.filter];
  if (!f) throw new Error(`no SQL for the retention filter ${t.filter}`);
  return f;
}

/** The cutoff bound for the table's time column (ms, or a YYYY-MM-DD day). */
function before(t) {
  return t.time_kind === 'day' ? t.before_day : t.before_ms;
}

/** The oldest time past the cutoff among the rows the retention reads, or null when none. */
export async function oldestPastCutoff(db, t) {
  const col = ident(t.time_column);
  const row = await db
    .prepare(`SELECT MIN(${col}) AS oldest FROM ${ident(t.table)} WHERE ${filterOf(t)} AND ${col} < ?`)
    .bind(before(t))
    .first();
  return row?.oldest ?? null;
}

function windowBounds(t, w) {
  return t.time_kind === 'day' ? [w.from_day, w.to_day] : [w.from_ms, w.to_ms];
}

/** Up to `limit` rows of one archive window (from <= time < to) from `offset`, oldest first. */
export async function rowsInWindow(db, t, w, limit, offset = 0) {
  const col = ident(t.time_column);
  const order = [col, ...t.key.map(ident)].join(', ');
  const { results } = await db
    .prepare(
      `SELECT * FROM ${ident(t.table)} WHERE ${filterOf(t)} AND ${col} >= ? AND ${col} < ?
        ORDER BY ${order} LIMIT ? OFFSET ?`,
    )
    .bind(...windowBounds(t, w), limit, offset)
    .all();
  return results;
}

/**
 * Deletes the given rows (by the table's key) if they are still in the window and still over:
 * a row changed since it was archived (an alert reopened) stays. Answers the rows deleted.
 */
export async function deleteArchivedRows(db, t, w, rows) {
  if (rows.length === 0) return 0;
  const col = ident(t.time_column);
  const keyCols = t.key.map(ident);
  const head = `DELETE FROM ${ident(t.table)} WHERE ${filterOf(t)} AND ${col} >= ? AND ${col} < ? AND `;
  const perStatement = Math.max(1, Math.floor((MAX_PARAMS - 2) / keyCols.length));
  const statements = [];
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement);
    const params = [...windowBounds(t, w)];
    let match;
    if (keyCols.length === 1) {
      match = `${keyCols[0]} IN (${chunk.map(() => '?').join(', ')})`;
      for (const r of chunk) params.push(r[t.key[0]]);
    } else {
      const tuple = `(${keyCols.map(() => '?').join(', ')})`;
      match = `(${keyCols.join(', ')}) IN (VALUES ${chunk.map(() => tuple).join(', ')})`;
      for (const r of chunk) for (const k of t.key) params.push(r[k]);
    }
    statements.push(db.prepare(head + match).bind(...params));
  }
  let deleted = 0;
  for (let i = 0; i < statements.length; i += STATEMENTS_PER_BATCH) {
    const results = await db.batch(statements.slice(i, i + STATEMENTS_PER_BATCH));
    deleted += results.reduce((n, r) => n + r.meta.changes, 0);
  }
  return deleted;
}

/** Deletes every row past the cutoff of a table that is not archived; answers the count. */
export async function deletePastCutoff(db, t) {
  const result = await db
    .prepare(`DELETE FROM ${ident(t.table)} WHERE ${filterOf(t)} AND ${ident(t.time_column)} < ?`)
    .bind(before(t))
    .run();
  return result.meta.changes;
}

/** Every table of the database (the schema check of GET /api/admin/retention). */
export async function schemaTables(db) {
  const { results } = await db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name")
    .all();
  return results.map((r) => r.name);
}

/** Deletes the quota reservations of uploads that never finished (expired before `nowMs`). */
export function deleteExpiredReservations(db, nowMs) {
  return db.prepare('DELETE FROM quota_reservations WHERE expires_at_ms < ?').bind(nowMs);
}
