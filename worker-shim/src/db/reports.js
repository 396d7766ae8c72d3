// The reports' SQL: the figures a report reads for its period (rollups, the account's
// statuses and storage, alert history, daily storage peaks), the stored reports and the report
// subscriptions. Nothing here decides anything: the engine (report_build) does.

import { OWN_PREFIX } from './metrics.js';

/**
 * The period's operation rollups as the engine's row JSON text (sketches spliced in as
 * stored): day rows where the days are rolled up (a closed day's report reads its day rows, a
 * few per bucket and user, not 24 times as many hour rows), hour rows where the hours are
 * complete, minute rows after that (the period so far). The report sums rows and merges their
 * sketches whatever their level, so each answers the same.
 */
export async function periodOperations(db, fromMs, toMs, rolled = null) {
  const { days: dayDone, hours: hourDone } = rolled ?? (await rolledUp(db));
  const { results } = await db
    .prepare(
      `SELECT level, period_start_ms, bucket, prefix, user_id, operation, calls, errors, bytes_up, bytes_down,
              latency_sketch
         FROM storage_metrics
        WHERE ((level = 'day' AND period_start_ms < ?5) OR (level = 'hour' AND period_start_ms >= ?5 AND period_start_ms < ?1)
               OR (level = 'minute' AND period_start_ms >= ?1))
          AND period_start_ms >= ?2 AND period_start_ms < ?3 AND prefix != ?4`,
    )
    .bind(hourDone, fromMs, toMs, OWN_PREFIX, dayDone)
    .all();
  return `[${results
    .map(
      (r) =>
        `{"bucket":${JSON.stringify(r.bucket)},"prefix":${JSON.stringify(r.prefix)},` +
        `"user":${JSON.stringify(r.user_id)},"operation":${JSON.stringify(r.operation)},` +
        `"level":${JSON.stringify(r.level)},"period_start_ms":${r.period_start_ms},` +
        `"calls":${r.calls},"errors":${r.errors},"bytes_up":${r.bytes_up},` +
        `"bytes_down":${r.bytes_down},"latency":${r.latency_sketch}}`,
    )
    .join(',')}]`;
}

/** Where the rollups are complete: {days, hours} (ms; day rows before `days`, hour rows before `hours`). */
export async function rolledUp(db) {
  const { results: progress } = await db.prepare('SELECT level, complete_before_ms AS t FROM metrics_rollup_progress').all();
  const done = Object.fromEntries(progress.map((p) => [p.level, p.t]));
  const hours = done.hour ?? 0;
  return { days: Math.min(done.day ?? 0, hours), hours };
}

/** The account's requests by bucket and HTTP status in the period (Cloudflare's analytics). */
export async function periodStatuses(db, fromMs, toMs) {
  const { results } = await db
    .prepare(
      // One row per bucket and hour; its groups are [action_type, action_status, status_code,
      // requests, response_bytes] (migration 0020).
      `SELECT h.bucket AS bucket, g.value->>2 AS status, SUM(g.value->>3) AS requests
         FROM account_operations_hourly h, json_each(h.groups) g
        WHERE h.hour_ms >= ? AND h.hour_ms < ? GROUP BY h.bucket, g.value->>2`,
    )
    .bind(fromMs, toMs)
    .all();
  return results;
}

/** Alert episodes that fired in the period. */
export async function periodAlerts(db, fromMs, toMs) {
  const { results } = await db
    .prepare(
      `SELECT id, name, type, severity, bucket, fired_at_ms, acknowledged_at_ms, resolved_at_ms FROM alerts
        WHERE fired_at_ms >= ? AND fired_at_ms < ? ORDER BY fired_at_ms LIMIT 10000`,
    )
    .bind(fromMs, toMs)
    .all();
  return results;
}

/**
 * Stored bytes per day of the period: r2watch's bucket by prefix (daily peaks, every storage
 * class) and every bucket of the account as a whole (prefix ""), with the pending multipart
 * uploads of each bucket's latest day in the period.
 */
export async function periodStorage(db, firstDay, lastDay) {
  const [own, account] = await db.batch([
    db
      .prepare(
        `SELECT day, bucket, prefix, SUM(peak_bytes) AS bytes FROM storage_daily_peaks
          WHERE day >= ? AND day <= ? AND prefix != ? GROUP BY day, bucket, prefix`,
      )
      .bind(firstDay, lastDay, OWN_PREFIX),
    db
      .prepare(
        `SELECT day, bucket, SUM(payload_bytes + metadata_bytes) AS bytes, SUM(pending_uploads) AS pending
           FROM account_storage_daily WHERE day >= ? AND day <= ? GROUP BY day, bucket`,
      )
      .bind(firstDay, lastDay),
  ]);
  const latest = new Map();
  for (const r of account.results) {
    if (!latest.has(r.bucket) || latest.get(r.bucket).day < r.day) latest.set(r.bucket, r);
  }
  return {
    storage: [...own.results, ...account.results.map((r) => ({ day: r.day, bucket: r.bucket, prefix: '', bytes: r.bytes }))],
    pending_uploads: [...latest.values()].map((r) => ({ bucket: r.bucket, uploads: r.pending })),
  };
}

/** Stores a report, replacing the one of the same type and period. */
export async function saveReport(db, { type, period, nowMs, r2Key, report }) {
  await db
    .prepare(
      `INSERT INTO reports (type, period, created_at_ms, r2_key, report_json) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (type, period) DO UPDATE SET created_at_ms = excluded.created_at_ms,
         r2_key = excluded.r2_key, report_json = excluded.report_json`,
    )
    .bind(type, period, nowMs, r2Key, JSON.stringify(report))
    .run();
}

/** The stored report of a type and period (its JSON text), or null. */
export async function reportOf(db, type, period) {
  return (await db.prepare('SELECT report_json FROM reports WHERE type = ? AND period = ?').bind(type, period).first())?.report_json ?? null;
}

export async function reportById(db, id) {
  return (await db.prepare('SELECT report_json FROM reports WHERE id = ?').bind(id).first())?.report_json ?? null;
}

/** The newest 100 reports (of one type, or all), newest period first. */
export async function listReports(db, type) {
  const { results } = await db
    .prepare(
      `SELECT id, type, period, created_at_ms, r2_key FROM reports
        WHERE (?1 IS NULL OR type = ?1) ORDER BY period DESC, type LIMIT 100`,
    )
    .bind(type)
    .all();
  return results;
}

export async function loadSubscriptions(db) {
  const row = await db.prepare('SELECT subscriptions_json FROM report_subscriptions WHERE id = 1').first();
  return row ? JSON.parse(row.subscriptions_json) : [];
}

export async function saveSubscriptions(db, subscriptions, nowMs) {
  await db
    .prepare(
      `INSERT INTO report_subscriptions (id, subscriptions_json, updated_at_ms) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET subscriptions_json = excluded.subscriptions_json,
         updated_at_ms = excluded.updated_at_ms`,
    )
    .bind(JSON.stringify(subscriptions), nowMs)
    .run();
}
