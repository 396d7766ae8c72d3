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
