// Every SQL statement of the account's figures (Cloudflare's GraphQL Analytics API): the
// collector's rows and state, and what the bill, the reconciliation, the bucket list, health,
// alerts and /metrics read back. Operations are one row per bucket and hour, its groups a JSON
// list [[action_type, action_status, status_code, requests, response_bytes], ...] (migration
// 0020); the engine writes a window's rows as JSON texts (account-commands.cc), each bound to
// one INSERT as it is. Every window read here is the engine's (account_reads, account_ingest's
// `store`); SQLite only writes an hour's UTC date (strftime) for the day sums.

/** An hour's UTC date as SQLite writes it ('YYYY-MM-DD'), from a column of epoch milliseconds. */
const utcDate = (column) => `strftime('%Y-%m-%d', ${column} / 1000, 'unixepoch')`;

// Adds a day's sums to what account_operations_daily holds for the same group.
const ADD_TO_DAY = `ON CONFLICT (day, bucket, action_type, status_code) DO UPDATE SET
  requests = requests + excluded.requests, response_bytes = response_bytes + excluded.response_bytes`;

/** The collector's state as the engine wrote it, or null before the first run. */
export async function loadCollectorState(db) {
  const row = await db.prepare('SELECT state_json FROM account_collector_state WHERE id = 1').first();
  return row ? JSON.parse(row.state_json) : null;
}

function saveStatement(db, state, nowMs) {
  return db
    .prepare(
      `INSERT INTO account_collector_state (id, state_json, updated_at_ms) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET state_json = excluded.state_json, updated_at_ms = excluded.updated_at_ms`,
    )
    .bind(JSON.stringify(state), nowMs);
}

/**
 * One step of a collector run, in one batch (all or nothing): the window's rows replace
 * whatever the window held (`store` from account_ingest, or null), and the state is saved.
 * `store.parts`: the rows as JSON texts of at most 512 KB, one INSERT each.
 */
export async function saveStep(db, store, state, nowMs) {
  const statements = [];
  if (store?.dataset === 'operations') {
    // The day sums (account_operations_daily, migration 0024) follow the hours: the replaced
    // hours' groups come off their days, the new hours' groups go on, in this same batch.
    statements.push(
      db
        .prepare(
          `INSERT INTO account_operations_daily (day, bucket, action_type, status_code, requests, response_bytes)
           SELECT ${utcDate('h.hour_ms')}, h.bucket, g.value->>0, g.value->>2, -SUM(g.value->>3), -SUM(g.value->>4)
             FROM account_operations_hourly h, json_each(h.groups) g WHERE h.hour_ms >= ? AND h.hour_ms < ?
            GROUP BY 1, 2, 3, 4
           ${ADD_TO_DAY}`,
        )
        .bind(store.start_ms, store.end_ms),
      db.prepare('DELETE FROM account_operations_hourly WHERE hour_ms >= ? AND hour_ms < ?').bind(store.start_ms, store.end_ms),
    );
    for (const part of store.parts) {
      statements.push(
        db
          .prepare(
            `INSERT INTO account_operations_hourly (hour_ms, bucket, requests, internal_errors, groups)
             SELECT value->>0, value->>1, value->>2, value->>3, value->4 FROM json_each(?)`,
          )
          .bind(part),
        db
          .prepare(
            `INSERT INTO account_operations_daily (day, bucket, action_type, status_code, requests, response_bytes)
             SELECT ${utcDate('(h.value->>0)')}, h.value->>1, g.value->>0, g.value->>2, SUM(g.value->>3), SUM(g.value->>4)
               FROM json_each(?) h, json_each(h.value->4) g WHERE true
              GROUP BY 1, 2, 3, 4
             ${ADD_TO_DAY}`,
          )
          .bind(part),
      );
    }
    // Groups whose hours all went away leave nothing behind.
    statements.push(
      db
        .prepare(
          `DELETE FROM account_operations_daily WHERE day >= ${utcDate('?1')} AND day <= ${utcDate('(?2 - 1)')}
              AND requests = 0 AND response_bytes = 0`,
        )
        .bind(store.start_ms, store.end_ms),
    );
  } else if (store?.dataset === 'storage') {
    statements.push(db.prepare('DELETE FROM account_storage_daily WHERE day >= ? AND day < ?').bind(store.start_day, store.end_day));
    for (const part of store.parts) {
      statements.push(
        db
          .prepare(
            `INSERT INTO account_storage_daily
               (day, bucket, storage_class, payload_bytes, metadata_bytes, objects, pending_uploads)
             SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6
               FROM json_each(?) WHERE true
             ON CONFLICT DO UPDATE SET payload_bytes = MAX(payload_bytes, excluded.payload_bytes),
               metadata_bytes = MAX(metadata_bytes, excluded.metadata_bytes),
               objects = MAX(objects, excluded.objects), pending_uploads = MAX(pending_uploads, excluded.pending_uploads)`,
          )
          .bind(part),
      );
    }
  }
  statements.push(saveStatement(db, state, nowMs));
  await db.batch(statements);
}

/** Distinct action types stored since `sinceMs` (health warns of unclassified ones). */
export async function actionTypesSince(db, sinceMs) {
  const { results } = await db
    .prepare(
      `SELECT DISTINCT g.value->>0 AS action_type
         FROM account_operations_hourly h, json_each(h.groups) g WHERE h.hour_ms >= ?`,
    )
    .bind(sinceMs)
    .all();
  return results.map((r) => r.action_type);
}

/**
 * The account's usage over `reach` (account_reads' `usage`: {since_ms, until_ms, from_day,
 * to_day}) for the cost commands' `account` member: operations summed per day, bucket, action
 * type and HTTP status (the day sums the collector keeps: every reach starts and ends on a UTC
 * day, from_day to to_day), and storage day rows.
 */
export async function accountUsage(db, reach) {
  // Rows as arrays (raw()), in the engine's column order: no object per row and back.
  const [operations, storage] = await Promise.all([
    db
      .prepare(
        `SELECT day, bucket, action_type, status_code, requests, response_bytes
           FROM account_operations_daily WHERE day >= ? AND day <= ?
          ORDER BY day, bucket, action_type, status_code`,
      )
      .bind(reach.from_day, reach.to_day)
      .raw(),
    storageDays(db, reach),
  ]);
  return { operations, storage };
}

/** The storage day rows over `reach` ({from_day, to_day}), in the engine's column order. */
function storageDays(db, reach) {
  return db
    .prepare(
      `SELECT day, bucket, storage_class, payload_bytes, metadata_bytes, objects, pending_uploads
         FROM account_storage_daily WHERE day >= ? AND day <= ?`,
    )
    .bind(reach.from_day, reach.to_day)
    .raw();
}

/**
 * The account's usage over `reach` (account_reads' `usage`: {since_ms, until_ms, from_day,
 * to_day, classes, unbilled_status_codes}) for the cost commands' `account` member: the day sums
 * the collector keeps (every reach starts and ends on a UTC day, from_day to to_day) summed per
 * day, bucket, the action type's class and billed or not, by the engine's grouping (`classes`:
 * each action type's class; `unbilled_status_codes`), an unclassified action type kept by name:
 * `by_class` rows [day, bucket, class or null, billed 0|1, action_type ('' when classified),
 * requests, response_bytes], one per class instead of one per action type and status code. With
 * `storage` (default) also the storage day rows.
 */
export async function accountUsageByClass(db, reach, { storage: withStorage = true } = {}) {
  // Rows as arrays (raw()), in the engine's column order: no object per row and back.
  const [byClass, storage] = await Promise.all([
    db
      .prepare(
        `WITH classes AS MATERIALIZED (SELECT key AS action_type, value AS class FROM json_each(?1)),
              unbilled AS MATERIALIZED (SELECT value AS status_code FROM json_each(?2))
         SELECT d.day, d.bucket, c.class, u.status_code IS NULL AS billed,
                CASE WHEN c.class IS NULL THEN d.action_type ELSE '' END AS action_type,
                SUM(d.requests) AS requests, SUM(d.response_bytes) AS response_bytes
           FROM account_operations_daily d
           LEFT JOIN classes c ON c.action_type = d.action_type
           LEFT JOIN unbilled u ON u.status_code = d.status_code
          WHERE d.day >= ?3 AND d.day <= ?4
          GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`,
      )
      .bind(JSON.stringify(reach.classes), JSON.stringify(reach.unbilled_status_codes), reach.from_day, reach.to_day)
      .raw(),
    withStorage
      ? storageDays(db, reach)
      : [],
  ]);
  return { by_class: byClass, storage };
}

/** Each bucket's storage rows of its latest stored day. */
export async function latestStorage(db) {
  const { results } = await db
    .prepare(
      `SELECT s.day, s.bucket, s.storage_class, s.payload_bytes, s.metadata_bytes, s.objects, s.pending_uploads
         FROM account_storage_daily s
        WHERE s.day = (SELECT MAX(day) FROM account_storage_daily WHERE bucket = s.bucket)`,
    )
    .all();
  return results.map((r) => [r.day, r.bucket, r.storage_class, r.payload_bytes, r.metadata_bytes, r.objects, r.pending_uploads]);
}

/** Operations since `sinceMs` per bucket, action type and action status. */
export async function operationsSince(db, sinceMs) {
  const { results } = await db
    .prepare(
      `SELECT h.bucket AS bucket, g.value->>0 AS action_type, g.value->>1 AS action_status,
              SUM(g.value->>3) AS requests
         FROM account_operations_hourly h, json_each(h.groups) g WHERE h.hour_ms >= ?
        GROUP BY h.bucket, action_type, action_status`,
    )
    .bind(sinceMs)
    .all();
  return results.map((r) => [r.bucket, r.action_type, r.action_status, r.requests]);
}

/**
 * Hour totals per bucket, [hour_ms, bucket, requests, internal_errors], of the hours from
 * `sinceMs` on and of the hours listed in `hoursMs`, each bucket's hours summed per span
 * [start, next start) of `segmentsMs` (ascending span starts, `sinceMs` among them:
 * account_alert_reach's), the row at its start.
 */
export async function hourlyByBucket(db, sinceMs, hoursMs, segmentsMs) {
  return db
    .prepare(
      `WITH s AS MATERIALIZED (SELECT value AS start_ms FROM json_each(?3))
       SELECT (SELECT MAX(start_ms) FROM s WHERE start_ms <= h.hour_ms) AS span_ms, bucket,
              SUM(requests), SUM(internal_errors)
         FROM account_operations_hourly h
        WHERE hour_ms >= ?1 OR hour_ms IN (SELECT value FROM json_each(?2))
        GROUP BY bucket, span_ms ORDER BY bucket, span_ms`,
    )
    .bind(sinceMs, JSON.stringify(hoursMs), JSON.stringify(segmentsMs))
    .raw();
}

/** Storage day rows from `fromDay` on (alert figures: growth and pending uploads over time). */
export async function storageSince(db, fromDay) {
  const { results } = await db
    .prepare(
      `SELECT day, bucket, storage_class, payload_bytes, metadata_bytes, objects, pending_uploads
         FROM account_storage_daily WHERE day >= ? ORDER BY bucket, day`,
    )
    .bind(fromDay)
    .all();
  return results.map((r) => [r.day, r.bucket, r.storage_class, r.payload_bytes, r.metadata_bytes, r.objects, r.pending_uploads]);
}
