// The metrics pipeline's Worker side: rollup jobs (minute -> hour -> day), the storage
// inventory walk, retention, and the metrics, usage and storage-usage routes. Every rule
// (what a period is, what merges into what, how a summary is computed) is the engine's.
import { HttpError, json, ask, csvResponse } from './http.js';
import {
  rowsText,
  narrowed,
  selectRows,
  selectPlannedRows,
  plannedTotals,
  rollupProgress,
  earliestRow,
  rollupSource,
  accountRollupSource,
  hourBuckets,
  rollupRowStatements,
  setProgress,
  dropSettledWriterRows,
  operationTotals,
  stepSums,
  lastOperationMs,
  knownBuckets,
  latestSnapshot,
  snapshotsSince,
  userStorageDetail,
  inventoryProgress,
  saveInventoryProgress,
  finishInventory,
  deleteMinuteRowsBefore,
} from './db/metrics.js';
import { deleteExpiredReservations } from './db/retention.js';
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
  return ask(
    rt,
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
  const plan = ask(
    rt,
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
    merged = ask(rt, 'metrics_merge', `{"level":"hour","scope":"both","rows":${rows}}`, now);
    accountRows = merged.account_rows;
  } else {
    merged = ask(rt, 'metrics_merge', `{"level":"day","rows":${rows}}`, now);
    const hours = await accountRollupSource(db, 'hour', plan.from_ms, plan.to_ms);
    accountRows = ask(rt, 'metrics_merge', `{"level":"day","rows":${hours}}`, now).rows;
  }
  // Every row of each table in one statement, the progress with them: one batch, all or nothing.
  const statements = rollupRowStatements(db, merged.rows, accountRows, now);
  statements.push(setProgress(db, target, plan.complete_before_ms));
  if (target === 'hour') statements.push(dropSettledWriterRows(db, plan.complete_before_ms));
  await db.batch(statements);
  return {
    level: target,
    rows: merged.rows.length,
    account_rows: accountRows.length,
    from_ms: plan.from_ms,
    to_ms: plan.to_ms,
  };
}



export async function rollUp(rt, now, { days: withDays = true } = {}) {
  const hours = await rollUpLevel(rt, 'hour', 'minute', now);
  if (!withDays) return { hours };
  const days = await rollUpLevel(rt, 'day', 'hour', now);
  return { hours, days };
}

/**
 * One step of the day rollup (the day's work, daily.js): of the days the engine plans, one
 * bucket's per-user and account rows (the engine names the bucket: day_rollup_step), the level's
 * progress moved with the last bucket's rows (one batch). `cursor` (from the step before):
 * {to_ms, bucket}, the days planned then and the last bucket done. Answers {complete, cursor,
 * summary}. A step redone rewrites the same rows (replace semantics).
 */
export async function rollUpDayStep(rt, now, cursor) {
  const db = rt.env.DB;
  const progress = await rollupProgress(db);
  const plan = ask(
    rt,
    'metrics_rollup_plan',
    {
      level: 'day',
      progress_ms: progress.day,
      earliest_source_ms: progress.day === null ? await earliestRow(db, 'hour') : null,
      source_complete_before_ms: progress.hour,
    },
    now,
  );
  if (plan.nothing) return { complete: true, cursor: null, summary: { level: 'day', rows: 0 } };
  const before = cursor ? JSON.parse(cursor) : null;
  const after = before && before.to_ms === plan.to_ms ? before.bucket : null;
  const buckets = await hourBuckets(db, plan.from_ms, plan.to_ms);
  const step = ask(rt, 'day_rollup_step', { buckets, after }, now);
  const statements = [];
  let rows = 0;
  let accountRows = 0;
  if (step.bucket !== null) {
    const source = await rollupSource(db, 'hour', plan.from_ms, plan.to_ms, step.bucket);
    const merged = ask(rt, 'metrics_merge', `{"level":"day","rows":${source}}`, now).rows;
    const hours = await accountRollupSource(db, 'hour', plan.from_ms, plan.to_ms, step.bucket);
    const account = ask(rt, 'metrics_merge', `{"level":"day","rows":${hours}}`, now).rows;
    statements.push(...rollupRowStatements(db, merged, account, now));
    rows = merged.length;
    accountRows = account.length;
  }
  const last = step.bucket === null || step.left_after === 0;
  if (last) statements.push(setProgress(db, 'day', plan.complete_before_ms));
  await db.batch(statements);
  return {
    complete: last,
    cursor: last ? null : JSON.stringify({ to_ms: plan.to_ms, bucket: step.bucket }),
    summary: { level: 'day', buckets: step.bucket === null ? 0 : 1, rows, account_rows: accountRows, from_ms: plan.from_ms, to_ms: plan.to_ms },
  };
}

/** Walks the bucket listing a few pages per run; a finished walk becomes a snapshot. */
export async function walkInventory(rt, now) {
  const db = rt.env.DB;
  const bucket = bucketName(rt.env);
  const progress = await inventoryProgress(db, bucket);
  let state = progress ? JSON.parse(progress.state_json) : null;
  let cursor = progress?.cursor ?? undefined;
  let lastKey = progress?.last_key ?? null;
  let reconciled = 0;
  const settings = ask(rt, 'metrics_settings', {}, now);
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
    state = ask(rt, 'inventory_add_page', { state, objects }, now).state;
    // The stored-object records of this page's key range follow what R2 listed (a PUT and a
    // DELETE racing on one key, or a write around r2watch, leave them out of step otherwise).
    const through = listing.truncated && objects.length ? objects[objects.length - 1].key : null;
    const records = await objectRecordsInRange(db, lastKey, through);
    const plan = ask(
      rt,
      'storage_reconcile_page',
      { objects, records, after: lastKey, through, listed_at_ms: listedAt },
      now,
    );
    await applyRecordFixes(db, plan, listedAt);
    reconciled += plan.upserts.length + plan.deletes.length;
    lastKey = through ?? lastKey;
    if (!listing.truncated) {
      // The day of the peaks: the UTC day the walk finished on (the engine's calendar).
      const day = ask(rt, 'usage_window', { view: 'storage' }, now).today;
      await finishInventory(db, bucket, day, state, now);
      return { complete: true, objects: state.objects, bytes: state.bytes, pages: page + 1, records_fixed: reconciled };
    }
    cursor = listing.cursor;
  }
  await saveInventoryProgress(db, bucket, cursor, state, lastKey, now);
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
  const c = ask(rt, 'metrics_retention', {}, now);
  const [minutes, reservations] = await db.batch([
    deleteMinuteRowsBefore(db, c.minute_rows_before_ms),
    // Quota reservations left by uploads that never finished (they stopped counting already).
    deleteExpiredReservations(db, now),
  ]);
  return {
    minute_rows_deleted: minutes.meta.changes,
    expired_reservations_deleted: reservations.meta.changes,
  };
}

/**
 * The collect-metrics job: flush, roll up, walk the inventory. Safe to run twice. `days` false
 * (the cron's): hours only, the day rollup being a step of the day's work (daily.js).
 */
export async function collectMetrics(rt, now, { days = true } = {}) {
  const flushed = await rt.flushMetrics();
  const rollups = await rollUp(rt, now, { days });
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

const OPERATIONS = ['get', 'put', 'delete', 'list', 'head'];
const RESOURCES = ['bandwidth_upload', 'bandwidth_download', 'storage', 'api_calls'];

function checkOperation(operation) {
  if (operation !== undefined && !OPERATIONS.includes(operation)) {
    throw new HttpError('invalid_query', `operation must be one of ${OPERATIONS.join(', ')}`, {
      field: 'operation',
    });
  }
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
    // The month's bill (the account's or the user's own), and with ?bucket= that bucket's part
    // of it (the engine's split of the account's or the user's month).
    const costs = await monthCosts(rt, new Request('http://r2watch/api/costs'), now, auth.filter, meter, {
      budgets: false,
      bucket: q.bucket ?? null,
    });
    return withRowsRead(json({
      ...summary,
      cost: {
        month: costs.month,
        month_to_date_usd: q.bucket ? costs.bucketMonthToDate.total_usd : costs.monthlyTotal,
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
    const window = ask(rt, 'usage_window', { view: 'details', hours: q.hours ?? null });
    const { hours } = window;
    const resource = q.resource ?? 'api_calls';
    if (!RESOURCES.includes(resource)) {
      throw new HttpError('invalid_query', `resource must be one of ${RESOURCES.join(', ')}`, {
        field: 'resource',
      });
    }
    await fresh(rt);
    const db = rt.env.DB;
    if (resource === 'storage' && auth.filter) {
      const own = await ownStorage(db, auth.filter);
      return json({ resource, hours, user: auth.filter, records: [{ at: own.taken_at, objects: own.objects, bytes: own.bytes }] });
    }
    if (resource === 'storage') {
      const bucket = q.bucket ?? bucketName(rt.env);
      const results = await snapshotsSince(db, bucket, window.from_ms);
      return json({ resource, hours, bucket, records: results.map((r) => ({ at: new Date(r.taken_at_ms).toISOString(), ...r })) });
    }
    const results = await stepSums(db, window.from_ms, window.step_ms, { bucket: q.bucket, user: auth.filter }, ['r2_class']);
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
    const status = ask(rt, 'breaker_status', {}, now);
    // Throughput now: the last few minutes (the engine's window), summarized over that window.
    const recentWindow = ask(rt, 'usage_window', { view: 'status' }, now);
    const out = [];
    for (const bucket of await knownBuckets(rt.env.DB, bucketName(rt.env))) {
      const recent = await operationTotals(rt.env.DB, recentWindow.from_ms, recentWindow.to_ms, bucket, auth.filter);
      const window = ask(rt, 'usage_summary', { period: '5m', totals: recent.totals }, now);
      const lastMs = await lastOperationMs(rt.env.DB, bucket, auth.filter);
      const snap = auth.filter ? null : await latestSnapshot(rt.env.DB, bucket);
      const own = auth.filter ? await ownStorage(rt.env.DB, auth.filter) : null;
      out.push({
        bucket,
        health: { circuit_breaker: status.state },
        bandwidth_mbps: {
          upload: window.bandwidth.avg_upload_mbps,
          download: window.bandwidth.avg_download_mbps,
        },
        storage: own ?? (snap ? { objects: snap.objects, bytes: snap.bytes, taken_at: new Date(snap.taken_at_ms).toISOString() } : null),
        last_operation_at: lastMs ? new Date(lastMs).toISOString() : null,
      });
    }
    return json({ buckets: out, user: auth.filter });
  }, READ_USAGE);

  router.on('GET', '/api/usage/export', async (request, _params, rt, _ctx, auth) => {
    const q = queryParams(request, ['hours', 'format', 'bucket', 'user']);
    const window = ask(rt, 'usage_window', { view: 'export', hours: q.hours ?? null });
    const { hours } = window;
    const format = q.format ?? 'json';
    if (!['json', 'csv'].includes(format)) {
      throw new HttpError('invalid_query', 'format must be json or csv', { field: 'format' });
    }
    await fresh(rt);
    const results = await stepSums(rt.env.DB, window.from_ms, window.step_ms, { bucket: q.bucket, user: auth.filter }, [
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
    const window = ask(rt, 'usage_window', { view: 'storage' });
    if (auth.filter) {
      const { prefixes, peaks } = await userStorageDetail(db, auth.filter, window.from_day);
      const [quota] = await quotaStatuses(rt, auth.filter);
      return json({
        user: auth.filter,
        storage: await ownStorage(db, auth.filter),
        by_prefix: prefixes,
        daily_peaks: peaks,
        quota: quota ?? null,
      });
    }
    const snap = await latestSnapshot(db, bucket);
    const results = await snapshotsSince(db, bucket, window.from_ms);
    const growth = ask(rt, 'storage_growth', { snapshots: results });
    const walk = await inventoryProgress(db, bucket);
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
