// The metrics pipeline's Worker side: rollup jobs (minute -> hour -> day), the storage
// inventory walk, retention, and the metrics, usage and storage-usage routes. Every rule
// (what a period is, what merges into what, how a summary is computed) is the engine's.
import { HttpError, json, ask, csvResponse } from './http.js';
import {
  OWN_PREFIX,
  rowsText,
  narrowed,
  selectRows,
  selectPlannedRows,
  plannedTotals,
  rollupProgress,
  earliestRow,
  rollupSource,
  accountRollupSource,
  upsertAccountRow,
  upsertRow,
  setProgress,
  dropSettledWriterRows,
} from './db/metrics.js';
import { guarded, bucketName } from './storage.js';
import { monthCosts } from './cost-month.js';
import { storageUsageOf, quotaStatuses, objectRecordsInRange, applyRecordFixes } from './security.js';
import { overviewThresholds } from './alerts.js';

const INTERNAL_USER = 'r2watch';

export { rowsText, selectRows };

/**
 * The engine's read plan of [fromMs, toMs) (which levels and writers answer each part of it):
 * `scope` 'account' (every user's calls together) or 'user'; `coarsest` the coarsest level the
 * caller can use (a series of hour points needs hour rows at most).
 */
export async function readPlan(rt, fromMs, toMs, scope, coarsest, now, meter = null) {
  const progress = await rollupProgress(rt.env.DB, meter);
  return rt.engine.call(
    'metrics_read_plan',
    {
      from_ms: fromMs,
      to_ms: toMs,
      hours_complete_before_ms: progress.hour,
      days_complete_before_ms: progress.day,
      scope,
      coarsest,
    },
    now,
  );
}

/**
 * The D1 rows a route's reads of rollups cost (meta.rows_read of each result), as the
 * x-r2watch-d1-rows-read header: what the benchmark prints beside its goal.
 */
export function withRowsRead(response, meter) {
  response.headers.set('x-r2watch-d1-rows-read', String(meter.rows_read));
  return response;
}

/** The scope of a read: one user's rows when narrowed to a user, else the account's. */
const scopeOf = (user) => (user ? 'user' : 'account');

// ---- jobs ----------------------------------------------------------------------------------

/**
 * Recomputes `target` rows from the level below, from where the last run left off: the per-user
 * rows (storage_metrics) and the account's (account_metrics), both writer ''. Re-running
 * recomputes the same rows (replace semantics), so it never double-counts.
 */
async function rollUpLevel(rt, target, source, now) {
  const db = rt.env.DB;
  const progress = await rollupProgress(db);
  const plan = rt.engine.call(
    'metrics_rollup_plan',
    {
      level: target,
      progress_ms: progress[target],
      earliest_source_ms: progress[target] === null ? await earliestRow(db, source) : null,
      source_complete_before_ms: target === 'day' ? progress.hour : null,
    },
    now,
  );
  if (plan.nothing) return { level: target, rows: 0 };
  const rows = await rollupSource(db, source, plan.from_ms, plan.to_ms);
  let merged, accountRows;
  if (target === 'hour') {
    // Both from the same minute rows: the account's hours are the sum of the users'.
    merged = rt.engine.call('metrics_merge', `{"level":"hour","scope":"both","rows":${rows}}`, now);
    accountRows = merged.account_rows;
  } else {
    merged = rt.engine.call('metrics_merge', `{"level":"day","rows":${rows}}`, now);
    const hours = await accountRollupSource(db, 'hour', plan.from_ms, plan.to_ms);
    accountRows = rt.engine.call('metrics_merge', `{"level":"day","rows":${hours}}`, now).rows;
  }
  const statements = merged.rows.map((row) => upsertRow(db, row, '', now, false));
  statements.push(...accountRows.map((row) => upsertAccountRow(db, row, '', now)));
  statements.push(setProgress(db, target, plan.complete_before_ms));
  if (target === 'hour') statements.push(dropSettledWriterRows(db, plan.complete_before_ms));
  for (let i = 0; i < statements.length; i += 100) await db.batch(statements.slice(i, i + 100));
  return {
    level: target,
    rows: merged.rows.length,
    account_rows: accountRows.length,
    from_ms: plan.from_ms,
    to_ms: plan.to_ms,
  };
}



export async function rollUp(rt, now) {
  const hours = await rollUpLevel(rt, 'hour', 'minute', now);
  const days = await rollUpLevel(rt, 'day', 'hour', now);
  return { hours, days };
}

/** Walks the bucket listing a few pages per run; a finished walk becomes a snapshot. */
export async function walkInventory(rt, now) {
  const db = rt.env.DB;
  const bucket = bucketName(rt.env);
  const progress = await db
    .prepare('SELECT cursor, state_json, last_key FROM storage_inventory_progress WHERE bucket = ?')
    .bind(bucket)
    .first();
  let state = progress ? JSON.parse(progress.state_json) : null;
  let cursor = progress?.cursor ?? undefined;
  let lastKey = progress?.last_key ?? null;
  let reconciled = 0;
  const settings = rt.engine.call('metrics_settings', {}, now);
  for (let page = 0; page < settings.inventory_pages_per_run; page++) {
    const listedAt = Date.now();
    const listing = await guarded(
      rt,
      'list',
      () => rt.env.BUCKET.list({ cursor, limit: settings.inventory_page_size, include: ['httpMetadata'] }),
      undefined,
      { key: '', user: INTERNAL_USER },
    );
    const objects = listing.objects.map((o) => ({
      key: o.key,
      size: o.size,
      content_type: o.httpMetadata?.contentType ?? null,
      storage_class: o.storageClass ?? null,
    }));
    state = rt.engine.call('inventory_add_page', { state, objects }, now).state;
    // The stored-object records of this page's key range follow what R2 listed (a PUT and a
    // DELETE racing on one key, or a write around r2watch, leave them out of step otherwise).
    const through = listing.truncated && objects.length ? objects[objects.length - 1].key : null;
    const records = await objectRecordsInRange(db, lastKey, through);
    const plan = rt.engine.call(
      'storage_reconcile_page',
      { objects, records, after: lastKey, through, listed_at_ms: listedAt },
      now,
    );
    await applyRecordFixes(db, plan, listedAt);
    reconciled += plan.upserts.length + plan.deletes.length;
    lastKey = through ?? lastKey;
    if (!listing.truncated) {
      const day = new Date(now).toISOString().slice(0, 10);
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
              .bind(day, bucket, prefix, storageClass, t.bytes, t.objects, now),
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
          .bind(bucket, now, state.objects, state.bytes, JSON.stringify(state)),
        db.prepare('DELETE FROM storage_inventory_progress WHERE bucket = ?').bind(bucket),
      ]);
      return { complete: true, objects: state.objects, bytes: state.bytes, pages: page + 1, records_fixed: reconciled };
    }
    cursor = listing.cursor;
  }
  await db
    .prepare(
      `INSERT INTO storage_inventory_progress (bucket, cursor, state_json, last_key, updated_at_ms)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (bucket) DO UPDATE SET cursor = excluded.cursor, state_json = excluded.state_json,
         last_key = excluded.last_key, updated_at_ms = excluded.updated_at_ms`,
    )
    .bind(bucket, cursor, JSON.stringify(state), lastKey, now)
    .run();
  return {
    complete: false,
    objects_so_far: state.objects,
    pages: settings.inventory_pages_per_run,
    records_fixed: reconciled,
  };
}

/**
 * Deletes minute rows past RAW_METRICS_RETENTION_DAYS and expired quota reservations. Hour and
 * day rows and inventory snapshots are archived to R2 before they are deleted (archive.js).
 */
export async function enforceRetention(rt, now) {
  const db = rt.env.DB;
  const c = rt.engine.call('metrics_retention', {}, now);
  const [minutes, reservations] = await db.batch([
    db.prepare("DELETE FROM storage_metrics WHERE level = 'minute' AND period_start_ms < ?").bind(c.minute_rows_before_ms),
    // Quota reservations left by uploads that never finished (they stopped counting already).
    db.prepare('DELETE FROM quota_reservations WHERE expires_at_ms < ?').bind(now),
  ]);
  return {
    minute_rows_deleted: minutes.meta.changes,
    expired_reservations_deleted: reservations.meta.changes,
  };
}

/** The collect-metrics job: flush, roll up, walk the inventory. Safe to run twice. */
export async function collectMetrics(rt, now) {
  const flushed = await rt.flushMetrics();
  const rollups = await rollUp(rt, now);
  const inventory = await walkInventory(rt, now);
  await rt.flushMetrics(); // the inventory's own list calls
  return { flushed_rows: flushed, rollups, inventory };
}

// ---- routes --------------------------------------------------------------------------------

function queryParams(request, allowed) {
  const url = new URL(request.url);
  const out = {};
  for (const [name, value] of url.searchParams) {
    if (!allowed.includes(name)) {
      throw new HttpError('invalid_query', `unknown query parameter ${name}`, { field: name });
    }
    out[name] = value;
  }
  return out;
}

function wholeNumber(value, name, min, max, fallback) {
  if (value === undefined) return fallback;
  if (!/^\d{1,6}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new HttpError('invalid_query', `${name} must be a whole number from ${min} to ${max}`, {
      field: name,
    });
  }
  return Number(value);
}

const OPERATIONS = ['get', 'put', 'delete', 'list', 'head'];
const RESOURCES = ['bandwidth_upload', 'bandwidth_download', 'storage', 'api_calls'];

function checkOperation(operation) {
  if (operation !== undefined && !OPERATIONS.includes(operation)) {
    throw new HttpError('invalid_query', `operation must be one of ${OPERATIONS.join(', ')}`, {
      field: 'operation',
    });
  }
}

/** Per-operation totals; `user` narrows them to one user's calls (null: every user's). */
async function operationTotals(db, fromMs, toMs, bucket, user = null) {
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
 * Minute rows since `fromMs` summed per hour and the `groupBy` columns (calls, errors, bytes),
 * r2watch's own keys left out, for one bucket and one user when given.
 */
async function hourlySums(db, fromMs, { bucket, user }, groupBy) {
  const columns = groupBy.join(', ');
  const only = narrowed({ bucket, user_id: user });
  const sql = `SELECT (period_start_ms / 3600000) * 3600000 AS hour_ms, ${columns}, SUM(calls) AS calls,
      SUM(errors) AS errors, SUM(bytes_up) AS bytes_up, SUM(bytes_down) AS bytes_down
    FROM storage_metrics WHERE level = 'minute' AND period_start_ms >= ? AND prefix != ?${only.sql}
    GROUP BY hour_ms, ${columns} ORDER BY hour_ms, ${columns}`;
  const { results } = await db.prepare(sql).bind(fromMs, OWN_PREFIX, ...only.args).all();
  return results;
}

async function latestSnapshot(db, bucket) {
  return db
    .prepare(
      `SELECT bucket, taken_at_ms, objects, bytes, inventory_json FROM storage_inventory_snapshots
        WHERE bucket = ? ORDER BY taken_at_ms DESC LIMIT 1`,
    )
    .bind(bucket)
    .first();
}

async function buckets(db, fallback) {
  const { results } = await db
    .prepare(
      `SELECT DISTINCT bucket FROM storage_metrics WHERE level = 'minute'
       UNION SELECT DISTINCT bucket FROM storage_inventory_snapshots`,
    )
    .all();
  const names = results.map((r) => r.bucket);
  return names.includes(fallback) ? names : [fallback, ...names];
}

/** Makes sure the figures include this isolate's latest calls. */
async function fresh(rt) {
  try {
    await rt.flushMetrics();
  } catch (e) {
    console.error(`r2watch: flush before a read failed: ${e.message}`);
  }
}

// Usage figures are readable by every role, each user's narrowed to their own calls (the
// `user_id` of the rollups, which `guarded` records from the caller); an admin sees everyone's,
// or one user's with ?user=. See auth.js.
const READ_USAGE = { role: 'readonly', scope: 'usage', user: true };
const ADMIN = { role: 'admin' };

/** A user's own storage figures (the sum of their prefixes), shaped like a bucket snapshot. */
async function ownStorage(db, user) {
  const u = await storageUsageOf(db, user);
  return { user, objects: u.objects, bytes: u.bytes, taken_at: u.updated_at_ms ? new Date(u.updated_at_ms).toISOString() : null };
}

export function registerMetricsRoutes(router) {
  router.on('GET', '/api/metrics/history', async (request, _params, rt, _ctx, auth) => {
    const q = queryParams(request, ['range', 'bucket', 'operation', 'user']);
    checkOperation(q.operation);
    await fresh(rt);
    const now = Date.now();
    const meter = { rows_read: 0 };
    const plan = ask(rt, 'metrics_history_plan', { range: q.range ?? '24h' }, now);
    const scope = scopeOf(auth.filter);
    const reads = await readPlan(rt, plan.from_ms, plan.to_ms, scope, plan.level, now, meter);
    const rows = await selectPlannedRows(rt.env.DB, reads, scope, { ...q, user: auth.filter }, meter);
    const series = ask(rt, 'metrics_series', `{"range":"${plan.range}","rows":${rows}}`, now);
    return withRowsRead(json({ ...series, bucket: q.bucket ?? null, operation: q.operation ?? null, user: auth.filter }), meter);
  }, READ_USAGE);

  // The dashboard's performance panel: the range's figures against the period just before it,
  // with the alert rules' error-rate and latency thresholds as the warning lines (the enabled
  // rules of those types, chosen by the engine).
  router.on('GET', '/api/metrics/overview', async (request, _params, rt, _ctx, auth) => {
    const q = queryParams(request, ['range', 'bucket', 'user']);
    await fresh(rt);
    const now = Date.now();
    const meter = { rows_read: 0 };
    const plan = ask(rt, 'metrics_history_plan', { range: q.range ?? '24h' }, now);
    const from = plan.from_ms - (plan.to_ms - plan.from_ms);
    const scope = scopeOf(auth.filter);
    const reads = await readPlan(rt, from, plan.to_ms, scope, plan.level, now, meter);
    const rows = await selectPlannedRows(rt.env.DB, reads, scope, { ...q, user: auth.filter }, meter);
    const lines = await overviewThresholds(rt, { bucket: q.bucket ?? bucketName(rt.env), user: auth.filter }, now);
    const thresholds = JSON.stringify({ error_rate_pct: lines.error_rate_pct, response_ms: lines.response_ms });
    const overview = ask(
      rt,
      'metrics_overview',
      `{"range":"${plan.range}","rows":${rows},"thresholds":${thresholds}}`,
      now,
    );
    return withRowsRead(json({ ...overview, threshold_rules: lines.rules, bucket: q.bucket ?? null, user: auth.filter }), meter);
  }, READ_USAGE);

  router.on('GET', '/api/usage/summary', async (request, _params, rt, _ctx, auth) => {
    const q = queryParams(request, ['period', 'bucket', 'user']);
    await fresh(rt);
    const now = Date.now();
    const meter = { rows_read: 0 };
    const period = q.period ?? 'day';
    const probe = ask(rt, 'usage_summary', { period }, now); // validates the period
    const scope = scopeOf(auth.filter);
    // The account's window starts at the start of its first hour (account rows are hourly).
    const reads = await readPlan(rt, now - probe.window_ms, now + 1, scope, 'day', now, meter);
    const from = reads.from_ms;
    const { totals, lastMs } = await plannedTotals(rt.env.DB, reads, scope, { bucket: q.bucket, user: auth.filter }, meter);
    const summary = ask(rt, 'usage_summary', { period, totals }, now);
    const bucket = q.bucket ?? bucketName(rt.env);
    let storage = null;
    if (auth.filter) {
      storage = await ownStorage(rt.env.DB, auth.filter);
    } else {
      const snap = await latestSnapshot(rt.env.DB, bucket);
      if (snap) storage = { bucket, objects: snap.objects, bytes: snap.bytes, taken_at: new Date(snap.taken_at_ms).toISOString() };
    }
    // The month's bill (the account's or the user's own, or the bucket's share of it).
    const costs = await monthCosts(rt, new Request('http://r2watch/api/costs'), now, auth.filter, meter, { budgets: false });
    // A user's objects are all in r2watch's bucket: their part is all in it.
    const inBucket = (b) =>
      auth.filter ? (b === bucketName(rt.env) ? costs.monthlyTotal : '0.00') : (costs.bill.by_bucket.find((x) => x.bucket === b)?.total_usd ?? '0.00');
    return withRowsRead(json({
      ...summary,
      cost: {
        month: costs.month,
        month_to_date_usd: q.bucket ? inBucket(q.bucket) : costs.monthlyTotal,
        // The whole month's (the account's, or the user's), not the bucket's share.
        forecast_expected_usd: costs.forecast.expected.total_usd,
        daily_average_usd: costs.dailyAverage,
      },
      bucket: q.bucket ?? null,
      user: auth.filter,
      from: new Date(from).toISOString(),
      to: new Date(now).toISOString(),
      storage,
      last_operation_at: lastMs ? new Date(lastMs).toISOString() : null,
    }), meter);
  }, READ_USAGE);

  router.on('GET', '/api/usage/details', async (request, _params, rt, _ctx, auth) => {
    const q = queryParams(request, ['hours', 'resource', 'bucket', 'user']);
    const hours = wholeNumber(q.hours, 'hours', 1, 720, 24);
    const resource = q.resource ?? 'api_calls';
    if (!RESOURCES.includes(resource)) {
      throw new HttpError('invalid_query', `resource must be one of ${RESOURCES.join(', ')}`, {
        field: 'resource',
      });
    }
    await fresh(rt);
    const now = Date.now();
    const from = now - hours * 3_600_000;
    const db = rt.env.DB;
    if (resource === 'storage' && auth.filter) {
      const own = await ownStorage(db, auth.filter);
      return json({ resource, hours, user: auth.filter, records: [{ at: own.taken_at, objects: own.objects, bytes: own.bytes }] });
    }
    if (resource === 'storage') {
      const bucket = q.bucket ?? bucketName(rt.env);
      const { results } = await db
        .prepare(
          `SELECT taken_at_ms, objects, bytes FROM storage_inventory_snapshots
            WHERE bucket = ? AND taken_at_ms >= ? ORDER BY taken_at_ms`,
        )
        .bind(bucket, from)
        .all();
      return json({ resource, hours, bucket, records: results.map((r) => ({ at: new Date(r.taken_at_ms).toISOString(), ...r })) });
    }
    const results = await hourlySums(db, from, { bucket: q.bucket, user: auth.filter }, ['r2_class']);
    const byHour = new Map();
    for (const r of results) {
      const rec = byHour.get(r.hour_ms) ?? { at: new Date(r.hour_ms).toISOString(), hour_ms: r.hour_ms, value: 0, by_class: {} };
      if (resource === 'api_calls') {
        rec.value += r.calls;
        rec.by_class[r.r2_class] = (rec.by_class[r.r2_class] ?? 0) + r.calls;
      } else {
        rec.value += resource === 'bandwidth_upload' ? r.bytes_up : r.bytes_down;
      }
      byHour.set(r.hour_ms, rec);
    }
    return json({ resource, hours, bucket: q.bucket ?? null, user: auth.filter, unit: resource === 'api_calls' ? 'calls' : 'bytes', records: [...byHour.values()] });
  }, READ_USAGE);

  router.on('GET', '/api/usage/status', async (request, _params, rt, _ctx, auth) => {
    queryParams(request, ['user']);
    await fresh(rt);
    const now = Date.now();
    const status = rt.engine.call('breaker_status', {}, now);
    const out = [];
    for (const bucket of await buckets(rt.env.DB, bucketName(rt.env))) {
      const recent = await operationTotals(rt.env.DB, now - 5 * 60_000, now + 1, bucket, auth.filter);
      const window = rt.engine.call('usage_summary', { period: 'hour', totals: recent.totals }, now);
      const allTime = await rt.env.DB
        .prepare(
          `SELECT MAX(updated_at_ms) AS t FROM storage_metrics WHERE level = 'minute' AND bucket = ?
             AND prefix != ? AND (?3 IS NULL OR user_id = ?3)`,
        )
        .bind(bucket, OWN_PREFIX, auth.filter)
        .first();
      const snap = auth.filter ? null : await latestSnapshot(rt.env.DB, bucket);
      const own = auth.filter ? await ownStorage(rt.env.DB, auth.filter) : null;
      // Throughput over the last 5 minutes: the hour summary's averages scaled to 5 minutes.
      out.push({
        bucket,
        health: { circuit_breaker: status.state },
        bandwidth_mbps: {
          upload: window.bandwidth.avg_upload_mbps * 12,
          download: window.bandwidth.avg_download_mbps * 12,
        },
        storage: own ?? (snap ? { objects: snap.objects, bytes: snap.bytes, taken_at: new Date(snap.taken_at_ms).toISOString() } : null),
        last_operation_at: allTime?.t ? new Date(allTime.t).toISOString() : null,
      });
    }
    return json({ buckets: out, user: auth.filter });
  }, READ_USAGE);

  router.on('GET', '/api/usage/export', async (request, _params, rt, _ctx, auth) => {
    const q = queryParams(request, ['hours', 'format', 'bucket', 'user']);
    const hours = wholeNumber(q.hours, 'hours', 1, 720, 168);
    const format = q.format ?? 'json';
    if (!['json', 'csv'].includes(format)) {
      throw new HttpError('invalid_query', 'format must be json or csv', { field: 'format' });
    }
    await fresh(rt);
    const now = Date.now();
    const results = await hourlySums(rt.env.DB, now - hours * 3_600_000, { bucket: q.bucket, user: auth.filter }, [
      'bucket',
      'operation',
      'r2_class',
    ]);
    const records = results.map((r) => ({ hour: new Date(r.hour_ms).toISOString(), ...r }));
    if (format === 'json') return json({ hours, records });
    const columns = ['hour', 'bucket', 'operation', 'r2_class', 'calls', 'errors', 'bytes_up', 'bytes_down'];
    return csvResponse(rt, columns, records.map((r) => columns.map((c) => r[c] ?? null)), `r2watch-usage-${hours}h.csv`);
  }, READ_USAGE);

  router.on('GET', '/api/storage/usage', async (request, _params, rt, _ctx, auth) => {
    const q = queryParams(request, ['bucket', 'user']);
    const bucket = q.bucket ?? bucketName(rt.env);
    const db = rt.env.DB;
    // A user's own storage (by prefix, the last 31 days' daily peaks, the quota); the bucket's
    // inventory (every user's objects) is an admin's.
    if (auth.filter) {
      const [prefixes, peaks] = await db.batch([
        db
          .prepare('SELECT prefix, bytes, objects FROM user_prefix_usage WHERE user_id = ? AND objects > 0 ORDER BY bytes DESC, prefix')
          .bind(auth.filter),
        db
          .prepare(
            `SELECT day, SUM(peak_bytes) AS bytes, SUM(objects) AS objects FROM user_storage_daily_peaks
              WHERE user_id = ? AND day >= ? GROUP BY day ORDER BY day`,
          )
          .bind(auth.filter, new Date(Date.now() - 31 * 86_400_000).toISOString().slice(0, 10)),
      ]);
      const [quota] = await quotaStatuses(rt, auth.filter);
      return json({
        user: auth.filter,
        storage: await ownStorage(db, auth.filter),
        by_prefix: prefixes.results,
        daily_peaks: peaks.results,
        quota: quota ?? null,
      });
    }
    const snap = await latestSnapshot(db, bucket);
    const { results } = await db
      .prepare(
        `SELECT taken_at_ms, objects, bytes FROM storage_inventory_snapshots
          WHERE bucket = ? AND taken_at_ms >= ? ORDER BY taken_at_ms`,
      )
      .bind(bucket, Date.now() - 31 * 86_400_000)
      .all();
    const growth = ask(rt, 'storage_growth', { snapshots: results });
    const walk = await db
      .prepare('SELECT updated_at_ms, state_json FROM storage_inventory_progress WHERE bucket = ?')
      .bind(bucket)
      .first();
    return json({
      bucket,
      inventory: snap ? { taken_at: new Date(snap.taken_at_ms).toISOString(), ...JSON.parse(snap.inventory_json) } : null,
      growth,
      history: results,
      walk_in_progress: walk ? { objects_so_far: JSON.parse(walk.state_json).objects, updated_at: new Date(walk.updated_at_ms).toISOString() } : null,
    });
  }, READ_USAGE);

  router.on('POST', '/api/admin/jobs/collect-metrics', async (_request, _params, rt) =>
    json(await collectMetrics(rt, Date.now())),
  ADMIN);
  router.on('POST', '/api/admin/jobs/metrics-flush', async (_request, _params, rt) =>
    json({ flushed_rows: await rt.flushMetrics() }),
  ADMIN);
  router.on('POST', '/api/admin/jobs/retention', async (_request, _params, rt) =>
    json(await enforceRetention(rt, Date.now())),
  ADMIN);
}
