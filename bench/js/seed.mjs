// Seeding shared by the benchmarks that fill a local D1 directly (history-server-time, scale).

/** SQL of a latency sketch (DDSketch JSON) varying with the row numbers `i` and `b`. */
export function sketchSql(i, b) {
  return `'{"zero":0,"bins":[[' || (170 + ((${i} * 7 + ${b}) % 40)) || ',' || (3 + ((${i} + ${b}) % 20)) ||
    '],[' || (230 + ((${i} * 7 + ${b}) % 40)) || ',2]],"sum":' || ((5 + ((${i} + ${b}) % 20)) * 35) ||
    ',"min":25,"max":90}'`;
}

/**
 * Each day from `startMs` for `days` + 1 days: every user's own storage peak under `data`
 * (user j holds (j + 1) GB), and `bucket`'s users/ peak, the sum of them all.
 */
export async function seedStoragePeaks(db, { users, days, startMs, bucket }) {
  await db
    .prepare(
      `WITH RECURSIVE d(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM d WHERE i < ? - 1),
            u(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM u WHERE j < ${users} - 1)
       INSERT INTO user_storage_daily_peaks (user_id, day, prefix, peak_bytes, objects, updated_at_ms)
       SELECT 'u' || u.j, date(?, '+' || d.i || ' days'), 'data', (u.j + 1) * 1000000000, 100, 0 FROM d CROSS JOIN u`,
    )
    .bind(days + 1, new Date(startMs).toISOString().slice(0, 10))
    .run();
  await db
    .prepare(
      `INSERT INTO storage_daily_peaks (day, bucket, prefix, storage_class, peak_bytes, objects, updated_at_ms)
       SELECT day, ?, 'users', 'standard', SUM(peak_bytes), SUM(objects), 0 FROM user_storage_daily_peaks GROUP BY day`,
    )
    .bind(bucket)
    .run();
}
