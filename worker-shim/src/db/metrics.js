// Rollups in D1 (storage_metrics per user and prefix, account_metrics per bucket and
// operation, metrics_rollup_progress): the SQL of the metrics domain's reads and rollups.
// Which rows answer a window is the engine's (metrics_read_plan); this file runs its segments.

// r2watch's own keys (health probes) are not the user's usage: the engine's prefix
// (core/metrics/rollup.h kOwnPrefix), read once per isolate from metrics_settings' own_prefix
// (learnOwnPrefix, when the runtime loads). The one JS binding of it: other modules import it.
export let OWN_PREFIX = null;

/** Takes r2watch's own key prefix from the engine's metrics settings ({own_prefix}). */
export function learnOwnPrefix(settings) {
  if (typeof settings?.own_prefix !== 'string' || settings.own_prefix === '') {
    throw new Error('metrics settings carry no own_prefix');
  }
  OWN_PREFIX = settings.own_prefix;
}
// The account-wide rows of every bucket together (core/metrics/rollup.h kAllBuckets).
export const ALL_BUCKETS = '*';
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * D1 rows -> the JSON text of the engine's rollup rows, with each stored sketch spliced in as
 * it is (no parse and re-serialize of every sketch). Account rows have prefix and user "".
 */
export function rowsText(results) {
  return `[${results
    .map(
      (r) =>
        `{"bucket":${JSON.stringify(r.bucket)},"prefix":${JSON.stringify(r.prefix ?? '')},` +
        `"user":${JSON.stringify(r.user_id ?? '')},"operation":${JSON.stringify(r.operation)},` +
        `"level":${JSON.stringify(r.level)},"period_start_ms":${r.period_start_ms},` +
        `"calls":${r.calls},"errors":${r.errors},"bytes_up":${r.bytes_up},` +
        `"bytes_down":${r.bytes_down},"latency":${r.latency_sketch}}`,
    )
    .join(',')}]`;
}

export const ROW_COLUMNS = `level, period_start_ms, bucket, prefix, user_id, operation, calls, errors,
  bytes_up, bytes_down, latency_sketch`;

/**
 * The optional equality filters of a rollup query ({column: value}; absent and empty values are
 * left out) as SQL to append and the values to bind, in order.
 */
export function narrowed(filters) {
  const given = Object.entries(filters).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return { sql: given.map(([column]) => ` AND ${column} = ?`).join(''), args: given.map(([, v]) => v) };
}

/** Per-user rows of one level in [fromMs, toMs), r2watch's own keys left out. */
export async function selectRows(db, level, fromMs, toMs, { bucket, operation, user } = {}) {
  const only = narrowed({ bucket, operation, user_id: user });
  const sql = `SELECT ${ROW_COLUMNS} FROM storage_metrics
    WHERE level = ? AND period_start_ms >= ? AND period_start_ms < ? AND prefix != ?${only.sql}`;
  const { results } = await db.prepare(sql).bind(level, fromMs, toMs, OWN_PREFIX, ...only.args).all();
  return rowsText(results);
}

/**
 * One segment of a read plan as a SELECT of rollup rows (`columns`: what to select, over the
 * columns of ROW_COLUMNS) and its arguments. The account's segments read account_metrics
 * (writer '' for rollups, every writer's own rows for live hours); per user (or a live minute
 * segment of the account's) storage_metrics. `user` narrows a per-user read to one user.
 */
function segmentQuery(segment, scope, { bucket, operation, user, eachBucket = false } = {}, columns = ROW_COLUMNS) {
  if (scope === 'account' && segment.level !== 'minute') {
    // One bucket's rows, each bucket's (a bill by bucket), or every bucket's together ('*').
    const only = narrowed({ bucket: bucket || (eachBucket ? null : ALL_BUCKETS), operation });
    const writer = segment.source === 'rollup' ? "writer = ''" : "writer != ''";
    const each = !bucket && eachBucket ? ` AND bucket != '${ALL_BUCKETS}'` : '';
    return {
      sql: `SELECT ${columns} FROM (SELECT level, period_start_ms, bucket, '' AS prefix, '' AS user_id, operation,
               r2_class, calls, errors, bytes_up, bytes_down, latency_sketch, updated_at_ms FROM account_metrics
              WHERE level = ? AND ${writer} AND period_start_ms >= ? AND period_start_ms < ?${each}${only.sql})`,
      args: [segment.level, segment.from_ms, segment.to_ms, ...only.args],
    };
  }
  const only = narrowed({ bucket, operation, user_id: scope === 'account' ? null : user });
  const writer = segment.level === 'minute' ? '' : " AND writer = ''";
  return {
    sql: `SELECT ${columns} FROM storage_metrics
           WHERE level = ? AND period_start_ms >= ? AND period_start_ms < ? AND prefix != ?${writer}${only.sql}`,
    args: [segment.level, segment.from_ms, segment.to_ms, OWN_PREFIX, ...only.args],
  };
}

/** Rows read by D1 for these results (meta.rows_read), added to `meter.rows_read` when given. */
function metered(meter, results) {
  if (meter) for (const r of results) meter.rows_read += r.meta?.rows_read ?? 0;
  return results;
}

/** The rows of every segment of a read plan, as the engine's rows (JSON text). */
export async function selectPlannedRows(db, plan, scope, filters = {}, meter = null) {
  if (plan.segments.length === 0) return '[]';
  const statements = plan.segments.map((s) => {
    const q = segmentQuery(s, scope, filters);
    return db.prepare(q.sql).bind(...q.args);
  });
  const results = metered(meter, await db.batch(statements));
  return rowsText(results.flatMap((r) => r.results));
}

/**
 * Per-operation totals of a read plan ({operation: {calls, errors, bytes_up, bytes_down}}) and
 * when the last operation was (lastMs), summed by D1 in one statement.
 */
export async function plannedTotals(db, plan, scope, filters = {}, meter = null) {
  if (plan.segments.length === 0) return { totals: {}, lastMs: null };
  // The last operation: the newest minute with calls, or, for the account's live hour rows, the
  // newest flush that carried calls (rolled-up rows: their period's start).
  const last = (s) => (scope === 'account' && s.source === 'live' && s.level !== 'minute' ? 'updated_at_ms' : 'period_start_ms');
  const parts = plan.segments.map((s) =>
    segmentQuery(s, scope, filters, `operation, calls, errors, bytes_up, bytes_down, ${last(s)} AS last_ms`),
  );
  const sql = `SELECT operation, SUM(calls) AS calls, SUM(errors) AS errors, SUM(bytes_up) AS bytes_up,
      SUM(bytes_down) AS bytes_down, MAX(last_ms) AS last_ms
    FROM (${parts.map((p) => p.sql).join(' UNION ALL ')}) GROUP BY operation`;
  const result = await db.prepare(sql).bind(...parts.flatMap((p) => p.args)).all();
  metered(meter, [result]);
  const totals = {};
  for (const r of result.results) {
    totals[r.operation] = { calls: r.calls, errors: r.errors, bytes_up: r.bytes_up, bytes_down: r.bytes_down };
  }
  return { totals, lastMs: Math.max(0, ...result.results.map((r) => r.last_ms ?? 0)) || null };
}

/**
 * A month's operations per (day, bucket, prefix, user, operation): calls and bytes read (day
 * as day_no, days since the epoch), from the segments of a read plan.
 * - scope 'user', no user: every user's own rows (what breakdowns by prefix and user need), or
 *   with `byUser: false` every prefix's rows with the users added up (user ''): what needs
 *   prefixes but no users (a report's top prefixes) reads a number of rows that does not grow
 *   with users.
 * - scope 'account', no user: one row per (day, bucket, operation), prefix and user ''.
 * - scope 'account' with `user` and `userPlan` (the same window per user): that user's own
 *   rows per prefix, and everyone else's as one row per (day, bucket, operation) with user ''
 *   (the account's minus the user's): all a user's share of the bill needs.
 */
export async function monthOperations(db, plan, scope, { user = null, userPlan = null, byUser = true } = {}, meter = null) {
  const cols = 'period_start_ms, bucket, prefix, user_id, operation, calls, bytes_down';
  const union = (p, sc, filters) => {
    const parts = p.segments.map((s) => segmentQuery(s, sc, filters, cols));
    return {
      sql: parts.length ? parts.map((q) => q.sql).join(' UNION ALL ') : `SELECT ${cols} FROM storage_metrics WHERE 0`,
      args: parts.flatMap((q) => q.args),
    };
  };
  const run = async (sql, args) => {
    const result = await db.prepare(sql).bind(...args).all();
    metered(meter, [result]);
    return result.results;
  };
  const day = `period_start_ms / ${DAY_MS}`;
  if (scope === 'user') {
    const all = union(plan, 'user', {});
    if (!byUser) {
      return run(
        `SELECT ${day} AS day_no, bucket, prefix, '' AS user_id, operation, SUM(calls) AS calls, SUM(bytes_down) AS bytes_down
           FROM (${all.sql}) GROUP BY day_no, bucket, prefix, operation`,
        all.args,
      );
    }
    return run(
      `SELECT ${day} AS day_no, bucket, prefix, user_id, operation, SUM(calls) AS calls, SUM(bytes_down) AS bytes_down
         FROM (${all.sql}) GROUP BY day_no, bucket, prefix, user_id, operation`,
      all.args,
    );
  }
  const acct = union(plan, 'account', { eachBucket: true });
  const acctSql = `SELECT ${day} AS day_no, bucket, operation, SUM(calls) AS calls, SUM(bytes_down) AS bytes_down
    FROM (${acct.sql}) GROUP BY day_no, bucket, operation`;
  if (user === null) {
    return run(`SELECT day_no, bucket, '' AS prefix, '' AS user_id, operation, calls, bytes_down FROM (${acctSql})`, acct.args);
  }
  const mine = union(userPlan, 'user', { user });
  return run(
    `WITH acct AS (${acctSql}),
       mine AS (SELECT ${day} AS day_no, bucket, prefix, operation, SUM(calls) AS calls, SUM(bytes_down) AS bytes_down
                  FROM (${mine.sql}) GROUP BY day_no, bucket, prefix, operation),
       mine_total AS (SELECT day_no, bucket, operation, SUM(calls) AS calls, SUM(bytes_down) AS bytes_down
                        FROM mine GROUP BY day_no, bucket, operation)
     SELECT a.day_no, a.bucket, '' AS prefix, '' AS user_id, a.operation,
            MAX(0, a.calls - IFNULL(t.calls, 0)) AS calls, MAX(0, a.bytes_down - IFNULL(t.bytes_down, 0)) AS bytes_down
       FROM acct a LEFT JOIN mine_total t ON t.day_no = a.day_no AND t.bucket = a.bucket AND t.operation = a.operation
     UNION ALL
     SELECT day_no, bucket, prefix, ? AS user_id, operation, calls, bytes_down FROM mine`,
    [...acct.args, ...mine.args, user],
  );
}

/**
 * The account's calls per UTC day, bucket and operation over the segments of a read plan
 * (scope 'account': account_metrics' day and hour rows, a number of rows that does not grow with
 * users): [day 'YYYY-MM-DD', bucket, operation, calls], r2watch's own keys left out.
 */
export async function dailyAccountCalls(db, plan, meter = null) {
  if (plan.segments.length === 0) return [];
  const parts = plan.segments.map((s) => segmentQuery(s, 'account', { eachBucket: true }, 'period_start_ms, bucket, operation, calls'));
  const result = await db
    .prepare(
      `SELECT strftime('%Y-%m-%d', day_no * ${DAY_MS / 1000}, 'unixepoch') AS day, bucket, operation, calls
         FROM (SELECT period_start_ms / ${DAY_MS} AS day_no, bucket, operation, SUM(calls) AS calls
                 FROM (${parts.map((p) => p.sql).join(' UNION ALL ')}) GROUP BY day_no, bucket, operation)`,
    )
    .bind(...parts.flatMap((p) => p.args))
    .all();
  metered(meter, [result]);
  return result.results.map((r) => [r.day, r.bucket, r.operation, r.calls]);
}

/** Each day's peak storage per (bucket, prefix, class) from `fromDay` to `toDay`, r2watch's own keys left out. */
export async function storagePeaks(db, fromDay, toDay, meter = null) {
  const result = await db
    .prepare(
      `SELECT day, bucket, prefix, storage_class, peak_bytes FROM storage_daily_peaks
        WHERE day >= ? AND day <= ? AND prefix != ?`,
    )
    .bind(fromDay, toDay, OWN_PREFIX)
    .all();
  metered(meter, [result]);
  return result.results;
}

// The other users' peaks of a day together, in one user's share (not a valid user id, so no
// user can have it: core/security/access.cc validate_user_id).
const OTHER_USERS = '(others)';

/**
 * Users' own daily peaks from `fromDay` to `toDay`, as the engine's user_storage rows of
 * `bucket`: every user's, or with `user` that user's and, per day, everyone else's added up
 * as one (user '(others)': the day's total of every user's peaks, user_storage_daily_totals,
 * less the user's own, so the rows read do not grow with users), which is what that user's
 * share needs: the user's bytes are
 * exactly their peaks whenever the day's peaks fit the bucket's (when they overshoot and the
 * bucket's bytes are shared in proportion, the largest remainders are among two parts instead
 * of every user: at most one byte-day apart).
 */
export async function userPeaks(db, bucket, fromDay, toDay, meter = null, user = null) {
  const stmt =
    user === null
      ? db
          .prepare(
            `SELECT day AS date, ? AS bucket, user_id AS user, prefix, peak_bytes
               FROM user_storage_daily_peaks WHERE day >= ? AND day <= ?`,
          )
          .bind(bucket, fromDay, toDay)
      : db
          .prepare(
            `SELECT day AS date, ?1 AS bucket, user_id AS user, prefix, peak_bytes
               FROM user_storage_daily_peaks WHERE user_id = ?4 AND day >= ?2 AND day <= ?3
             UNION ALL
             SELECT t.day AS date, ?1 AS bucket, ?5 AS user, '' AS prefix,
                    t.peak_bytes - IFNULL((SELECT SUM(p.peak_bytes) FROM user_storage_daily_peaks p
                                            WHERE p.user_id = ?4 AND p.day = t.day), 0) AS peak_bytes
               FROM user_storage_daily_totals t WHERE t.day >= ?2 AND t.day <= ?3`,
          )
          .bind(bucket, fromDay, toDay, user, OTHER_USERS);
  const result = await stmt.all();
  metered(meter, [result]);
  return result.results;
}

/**
 * Totals per (bucket, operation, R2 class) of a read plan: calls, errors, bytes up and down
 * (the Prometheus counters).
 */
export async function plannedCounters(db, plan, scope) {
  if (plan.segments.length === 0) return [];
  const parts = plan.segments.map((s) =>
    segmentQuery(s, scope, { eachBucket: true }, 'bucket, operation, r2_class, calls, errors, bytes_up, bytes_down'),
  );
  const { results } = await db
    .prepare(
      `SELECT bucket, operation, r2_class, SUM(calls) AS calls, SUM(errors) AS errors,
              SUM(bytes_up) AS up, SUM(bytes_down) AS down
         FROM (${parts.map((p) => p.sql).join(' UNION ALL ')})
        GROUP BY bucket, operation, r2_class ORDER BY bucket, operation`,
    )
    .bind(...parts.flatMap((p) => p.args))
    .all();
  return results;
}

/** How far hour and day rollups are complete: {hour: ms|null, day: ms|null}. */
export async function rollupProgress(db, meter = null) {
  const result = await db.prepare('SELECT level, complete_before_ms FROM metrics_rollup_progress').all();
  metered(meter, [result]);
  const out = { hour: null, day: null };
  for (const r of result.results) out[r.level] = r.complete_before_ms;
  return out;
}

/** The earliest row of a level (where a first rollup starts). */
export async function earliestRow(db, level) {
  return (await db.prepare('SELECT MIN(period_start_ms) AS t FROM storage_metrics WHERE level = ?').bind(level).first())?.t ?? null;
}

/**
 * Per-user rows of [fromMs, toMs) of a level, every writer's (a rollup's source); of one bucket
 * when `bucket` is given (a step of the day rollup).
 */
export async function rollupSource(db, level, fromMs, toMs, bucket = null) {
  const { results } = await db
    .prepare(
      `SELECT ${ROW_COLUMNS} FROM storage_metrics
        WHERE level = ? AND period_start_ms >= ? AND period_start_ms < ?${level === 'minute' ? '' : " AND writer = ''"}
          AND (?4 IS NULL OR bucket = ?4)`,
    )
    .bind(level, fromMs, toMs, bucket)
    .all();
  return rowsText(results);
}

/** The buckets with rolled-up hour rows (per user or the account's) in [fromMs, toMs). */
export async function hourBuckets(db, fromMs, toMs) {
  const { results } = await db
    .prepare(
      `SELECT DISTINCT bucket FROM storage_metrics WHERE level = 'hour' AND writer = '' AND period_start_ms >= ?1 AND period_start_ms < ?2
       UNION SELECT DISTINCT bucket FROM account_metrics WHERE level = 'hour' AND writer = '' AND period_start_ms >= ?1 AND period_start_ms < ?2`,
    )
    .bind(fromMs, toMs)
    .all();
  return results.map((r) => r.bucket);
}

/**
 * The account's rolled-up rows of [fromMs, toMs) of a level, each bucket's and every bucket's
 * together (the day rollup's source: merged as they are, they keep their buckets).
 */
export async function accountRollupSource(db, level, fromMs, toMs, bucket = null) {
  const { results } = await db
    .prepare(
      `SELECT level, period_start_ms, bucket, operation, calls, errors, bytes_up, bytes_down, latency_sketch
         FROM account_metrics WHERE level = ? AND writer = '' AND period_start_ms >= ? AND period_start_ms < ?
          AND (?4 IS NULL OR bucket = ?4)`,
    )
    .bind(level, fromMs, toMs, bucket)
    .all();
  return rowsText(results);
}

/** Upsert of one account-wide row (writer '' for rollups, the engine's id for a flush). */
export function upsertAccountRow(db, row, writer, nowMs) {
  return db
    .prepare(
      `INSERT INTO account_metrics (level, period_start_ms, bucket, operation, writer, r2_class, calls,
         errors, bytes_up, bytes_down, latency_sketch, updated_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (level, period_start_ms, bucket, operation, writer)
       DO UPDATE SET calls = excluded.calls, errors = excluded.errors,
         bytes_up = excluded.bytes_up, bytes_down = excluded.bytes_down,
         latency_sketch = excluded.latency_sketch, updated_at_ms = excluded.updated_at_ms
       ${writer === '' ? '' : 'WHERE excluded.calls >= account_metrics.calls'}`,
    )
    .bind(
      row.level,
      row.period_start_ms,
      row.bucket,
      row.operation,
      writer,
      row.r2_class,
      row.calls,
      row.errors,
      row.bytes_up,
      row.bytes_down,
      JSON.stringify(row.latency),
      nowMs,
    );
}

/**
 * The rollup's rows of one level (writer ''), per user (storage_metrics) and for the account
 * (account_metrics), each set as ONE statement over the rows' JSON (json_each), not one
 * statement per row: a rollup writes hundreds of rows, and each statement costs the Worker and
 * D1 alike. Replace semantics, as upsertRow and upsertAccountRow (the same columns). The rows
 * go as JSON texts of at most PART_CHARS each (a bound text stays well under D1's 2 MB).
 */
export function rollupRowStatements(db, rows, accountRows, nowMs) {
  const statements = [];
  for (const part of jsonParts(rows)) {
    statements.push(
      db
        .prepare(
          `INSERT INTO storage_metrics (level, period_start_ms, bucket, prefix, user_id, operation,
             writer, r2_class, calls, errors, bytes_up, bytes_down, latency_sketch, updated_at_ms)
           SELECT value->>'level', value->>'period_start_ms', value->>'bucket', value->>'prefix', value->>'user',
                  value->>'operation', '', value->>'r2_class', value->>'calls', value->>'errors', value->>'bytes_up',
                  value->>'bytes_down', value->'latency', ?2
             FROM json_each(?1) WHERE true
           ON CONFLICT (level, period_start_ms, bucket, prefix, user_id, operation, writer)
           DO UPDATE SET calls = excluded.calls, errors = excluded.errors,
             bytes_up = excluded.bytes_up, bytes_down = excluded.bytes_down,
             latency_sketch = excluded.latency_sketch, updated_at_ms = excluded.updated_at_ms`,
        )
        .bind(part, nowMs),
    );
  }
  for (const part of jsonParts(accountRows)) {
    statements.push(
      db
        .prepare(
          `INSERT INTO account_metrics (level, period_start_ms, bucket, operation, writer, r2_class, calls,
             errors, bytes_up, bytes_down, latency_sketch, updated_at_ms)
           SELECT value->>'level', value->>'period_start_ms', value->>'bucket', value->>'operation', '',
                  value->>'r2_class', value->>'calls', value->>'errors', value->>'bytes_up', value->>'bytes_down',
                  value->'latency', ?2
             FROM json_each(?1) WHERE true
           ON CONFLICT (level, period_start_ms, bucket, operation, writer)
           DO UPDATE SET calls = excluded.calls, errors = excluded.errors,
             bytes_up = excluded.bytes_up, bytes_down = excluded.bytes_down,
             latency_sketch = excluded.latency_sketch, updated_at_ms = excluded.updated_at_ms`,
        )
        .bind(part, nowMs),
    );
  }
  return statements;
}

const PART_CHARS = 512 * 1024;

/** `rows` as JSON array texts of at most PART_CHARS characters each (a longer row alone). */
function jsonParts(rows) {
  const parts = [];
  let texts = [];
  let chars = 2;
  for (const row of rows) {
    const text = JSON.stringify(row);
    if (texts.length && chars + text.length + 1 > PART_CHARS) {
      parts.push(`[${texts.join(',')}]`);
      texts = [];
      chars = 2;
    }
    texts.push(text);
    chars += text.length + 1;
  }
  if (texts.length) parts.push(`[${texts.join(',')}]`);
  return parts;
}

/** Records how far a level is complete. */
export function setProgress(db, level, completeBeforeMs) {
  return db
    .prepare(
      `INSERT INTO metrics_rollup_progress (level, complete_before_ms) VALUES (?, ?)
       ON CONFLICT (level) DO UPDATE SET complete_before_ms = excluded.complete_before_ms`,
    )
    .bind(level, completeBeforeMs);
}

/**
 * The writers' own account hour rows of hours the hour rollup has completed: readers take the
 * rollup's rows there, so these are no longer read.
 */
export function dropSettledWriterRows(db, hoursCompleteBeforeMs) {
  return db
    .prepare("DELETE FROM account_metrics WHERE level = 'hour' AND writer != '' AND period_start_ms < ?")
    .bind(hoursCompleteBeforeMs);
}

/** Upsert of one rollup row; `writer` is '' for hour and day rows. */
export function upsertRow(db, row, writer, nowMs, guardMonotonic) {
  return db
    .prepare(
      `INSERT INTO storage_metrics (level, period_start_ms, bucket, prefix, user_id, operation,
         writer, r2_class, calls, errors, bytes_up, bytes_down, latency_sketch, updated_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (level, period_start_ms, bucket, prefix, user_id, operation, writer)
       DO UPDATE SET calls = excluded.calls, errors = excluded.errors,
         bytes_up = excluded.bytes_up, bytes_down = excluded.bytes_down,
         latency_sketch = excluded.latency_sketch, updated_at_ms = excluded.updated_at_ms
       ${guardMonotonic ? 'WHERE excluded.calls >= storage_metrics.calls' : ''}`,
    )
    .bind(
      row.level,
      row.period_start_ms,
      row.bucket,
      row.prefix,
      row.user,
      row.operation,
      writer,
      row.r2_class,
      row.calls,
      row.errors,
      row.bytes_up,
      row.bytes_down,
      JSON.stringify(row.latency),
      nowMs,
    );
}

function upsertMinuteRow(db, row, writer, nowMs) {
  return upsertRow(db, row, writer, nowMs, true);
}

/**
 * One flush batch as one D1 transaction: the minute rows and the writer's account-wide hour
 * rows (both cumulative under the writer's id, so a retried batch replaces, never adds).
 */
export function flushStatements(db, batch, writer, nowMs) {
  return [
    ...batch.rows.map((row) => upsertMinuteRow(db, row, writer, nowMs)),
    ...(Array.isArray(batch.account_rows) ? batch.account_rows : []).map((row) => upsertAccountRow(db, row, writer, nowMs)),
  ];
}

// ---- the usage routes and the inventory ------------------------------------------------------

/** Per-operation minute-row totals of [fromMs, toMs); `user` narrows them to one user's calls. */
export async function operationTotals(db, fromMs, toMs, bucket, user = null) {
  const only = narrowed({ bucket, user_id: user });
  const sql = `SELECT operation, SUM(calls) AS calls, SUM(errors) AS errors, SUM(bytes_up) AS bytes_up,
      SUM(bytes_down) AS bytes_down, MAX(period_start_ms) AS last_ms
    FROM storage_metrics WHERE level = 'minute' AND period_start_ms >= ? AND period_start_ms < ?
      AND prefix != ?${only.sql} GROUP BY operation`;
  const { results } = await db.prepare(sql).bind(fromMs, toMs, OWN_PREFIX, ...only.args).all();
  const totals = {};
  for (const r of results) {
    totals[r.operation] = { calls: r.calls, errors: r.errors, bytes_up: r.bytes_up, bytes_down: r.bytes_down };
  }
  return { totals, lastMs: Math.max(0, ...results.map((r) => r.last_ms ?? 0)) || null };
}

/**
 * Minute rows since `fromMs` summed per step (`stepMs`, the engine's usage_window) and the
 * `groupBy` columns (calls, errors, bytes), r2watch's own keys left out, for one bucket and one
 * user when given. Each row's step start is `hour_ms`.
 */
export async function stepSums(db, fromMs, stepMs, { bucket, user }, groupBy) {
  const columns = groupBy.join(', ');
  const only = narrowed({ bucket, user_id: user });
  const sql = `SELECT (period_start_ms / ?) * ? AS hour_ms, ${columns}, SUM(calls) AS calls,
      SUM(errors) AS errors, SUM(bytes_up) AS bytes_up, SUM(bytes_down) AS bytes_down
    FROM storage_metrics WHERE level = 'minute' AND period_start_ms >= ? AND prefix != ?${only.sql}
    GROUP BY hour_ms, ${columns} ORDER BY hour_ms, ${columns}`;
  const { results } = await db.prepare(sql).bind(stepMs, stepMs, fromMs, OWN_PREFIX, ...only.args).all();
  return results;
}

/** When the last minute row of a bucket (and user, when given) was written, or null. */
export async function lastOperationMs(db, bucket, user) {
  const row = await db
    .prepare(
      `SELECT MAX(updated_at_ms) AS t FROM storage_metrics WHERE level = 'minute' AND bucket = ?
         AND prefix != ? AND (?3 IS NULL OR user_id = ?3)`,
    )
    .bind(bucket, OWN_PREFIX, user)
    .first();
  return row?.t ?? null;
}

/** Minute rows of the last window (every bucket), r2watch's own keys left out. */
export async function recentMinuteRows(db, fromMs) {
  const { results } = await db
    .prepare(`SELECT ${ROW_COLUMNS} FROM storage_metrics WHERE level = 'minute' AND period_start_ms >= ? AND prefix != ?`)
    .bind(fromMs, OWN_PREFIX)
    .all();
  return results;
}

/** The buckets with rows or snapshots, `fallback` (r2watch's bucket) first when it has neither. */
export async function knownBuckets(db, fallback) {
  const { results } = await db
    .prepare(
      `SELECT DISTINCT bucket FROM storage_metrics WHERE level = 'minute'
       UNION SELECT DISTINCT bucket FROM storage_inventory_snapshots`,
    )
    .all();
  const names = results.map((r) => r.bucket);
  return names.includes(fallback) ? names : [fallback, ...names];
}

/** The newest inventory snapshot of a bucket, or null. */
export async function latestSnapshot(db, bucket) {
  return db
    .prepare(
      `SELECT bucket, taken_at_ms, objects, bytes, inventory_json FROM storage_inventory_snapshots
        WHERE bucket = ? ORDER BY taken_at_ms DESC LIMIT 1`,
    )
    .bind(bucket)
    .first();
}

/** Each bucket's newest snapshot totals: [{bucket, objects, bytes}]. */
export async function latestSnapshotsByBucket(db) {
  const { results } = await db
    .prepare(
      `SELECT s.bucket, s.objects, s.bytes FROM storage_inventory_snapshots s
        WHERE s.taken_at_ms = (SELECT MAX(taken_at_ms) FROM storage_inventory_snapshots t WHERE t.bucket = s.bucket)`,
    )
    .all();
  return results;
}

/** A bucket's snapshots since `fromMs`, oldest first: [{taken_at_ms, objects, bytes}]. */
export async function snapshotsSince(db, bucket, fromMs) {
  const { results } = await db
    .prepare(
      `SELECT taken_at_ms, objects, bytes FROM storage_inventory_snapshots
        WHERE bucket = ? AND taken_at_ms >= ? ORDER BY taken_at_ms`,
    )
    .bind(bucket, fromMs)
    .all();
  return results;
}

/** A user's stored bytes per prefix (non-empty), and their daily peaks from `fromDay` on. */
export async function userStorageDetail(db, user, fromDay) {
  const [prefixes, peaks] = await db.batch([
    db
      .prepare('SELECT prefix, bytes, objects FROM user_prefix_usage WHERE user_id = ? AND objects > 0 ORDER BY bytes DESC, prefix')
      .bind(user),
    db
      .prepare(
        `SELECT day, SUM(peak_bytes) AS bytes, SUM(objects) AS objects FROM user_storage_daily_peaks
          WHERE user_id = ? AND day >= ? GROUP BY day ORDER BY day`,
      )
      .bind(user, fromDay),
  ]);
  return { prefixes: prefixes.results, peaks: peaks.results };
}

/** The inventory walk in progress of a bucket ({cursor, state_json, last_key, updated_at_ms}), or null. */
export async function inventoryProgress(db, bucket) {
  return db
    .prepare('SELECT cursor, state_json, last_key, updated_at_ms FROM storage_inventory_progress WHERE bucket = ?')
    .bind(bucket)
    .first();
}

/** Saves where an inventory walk stands (the state: the engine's inventory_add_page answer). */
export async function saveInventoryProgress(db, bucket, cursor, state, lastKey, nowMs) {
  await db
    .prepare(
      `INSERT INTO storage_inventory_progress (bucket, cursor, state_json, last_key, updated_at_ms)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (bucket) DO UPDATE SET cursor = excluded.cursor, state_json = excluded.state_json,
         last_key = excluded.last_key, updated_at_ms = excluded.updated_at_ms`,
    )
    .bind(bucket, cursor, JSON.stringify(state), lastKey, nowMs)
    .run();
}

/**
 * A finished walk: its day's peaks per (prefix, storage class), the snapshot, and the walk's
 * progress row deleted, in one batch.
 */
export async function finishInventory(db, bucket, day, state, nowMs) {
  const peaks = [];
  for (const [prefix, classes] of Object.entries(state.by_prefix_class ?? {})) {
    for (const [storageClass, t] of Object.entries(classes)) {
      peaks.push(
        db
          .prepare(
            `INSERT INTO storage_daily_peaks (day, bucket, prefix, storage_class, peak_bytes, objects, updated_at_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (day, bucket, prefix, storage_class) DO UPDATE SET
               peak_bytes = MAX(peak_bytes, excluded.peak_bytes),
               objects = MAX(objects, excluded.objects), updated_at_ms = excluded.updated_at_ms`,
          )
          .bind(day, bucket, prefix, storageClass, t.bytes, t.objects, nowMs),
      );
    }
  }
  await db.batch([
    ...peaks,
    db
      .prepare(
        `INSERT INTO storage_inventory_snapshots (bucket, taken_at_ms, objects, bytes, inventory_json)
         VALUES (?, ?, ?, ?, ?)`,
      )
      .bind(bucket, nowMs, state.objects, state.bytes, JSON.stringify(state)),
    db.prepare('DELETE FROM storage_inventory_progress WHERE bucket = ?').bind(bucket),
  ]);
}

/** Deletes minute rows older than `beforeMs` (the engine's metrics_retention); the count deleted. */
export function deleteMinuteRowsBefore(db, beforeMs) {
  return db.prepare("DELETE FROM storage_metrics WHERE level = 'minute' AND period_start_ms < ?").bind(beforeMs);
}

export { HOUR_MS, DAY_MS };
