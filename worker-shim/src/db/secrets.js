// Sealed values in D1 (src/sealed.js): the only SQL of the secrets domain. Every column that
// holds a sealed value is listed in SEALED_PLACES, so a rotation re-seals all of them.

/** The columns that hold sealed values: `place` is also the additional data of their seal. */
export const SEALED_PLACES = [{ place: 'alert_config.settings_json', table: 'alert_config', column: 'settings_json', key: 'id' }];

/** Every stored value of one place: [{key, text}] (rows where it is NULL left out). */
export async function sealedValues(db, { table, column, key }) {
  const { results } = await db.prepare(`SELECT ${key} AS key, ${column} AS text FROM ${table} WHERE ${column} IS NOT NULL`).all();
  return results;
}

/** The statement that writes one place's new text for one row, unless it changed meanwhile. */
export function replaceSealedValue(db, { table, column, key }, row, text) {
  return db.prepare(`UPDATE ${table} SET ${column} = ? WHERE ${key} = ? AND ${column} = ?`).bind(text, row.key, row.text);
}
