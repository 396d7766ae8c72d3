// Cost routes and jobs that stand on the metrics: the month's bill from the rollups and the
// storage peaks, its breakdown, the what-if, the anomaly check, snapshots and the cost section of reports. The
// engine (core/cost) computes every figure; this file gathers the month's usage from D1.
import { HttpError, json, ask } from './http.js';
import { loadPriceVersions, loadBudgets } from './costs.js';
import { bucketName } from './storage.js';
import { raiseUserPeaks } from './security.js';
import { costSource, accountMemberByClass } from './account.js';
import { monthOperations, storagePeaks, userPeaks } from './db/metrics.js';
import { readPlan, withRowsRead } from './metrics.js';
import { saveCostSnapshot } from './db/costs.js';

const DAY_MS = 86_400_000;


const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);

/**
 * The billing month of `?month=YYYY-MM` (default: this month) and the last day it covers: the
 * engine's cost_month_window at `nowMs` (a malformed month or one after now's is a 400).
 * {month, start (first day, ms), asOf (YYYY-MM-DD), endMs (the instant after asOf)}.
 */
export function monthOf(rt, request, nowMs) {
  const month = new URL(request.url).searchParams.get('month');
  return windowOf(ask(rt, 'cost_month_window', month === null ? {} : { month }, nowMs));
}

/** The month of `asOf` from its first day to asOf (the engine's cost_month_window). */
function monthTo(rt, asOf) {
  return windowOf(ask(rt, 'cost_month_window', { as_of: asOf }));
}

const windowOf = (w) => ({ month: w.month, start: w.first_day_ms, asOf: w.as_of, endMs: w.end_ms });

/**
 * The account's usage, one row per (date, bucket, prefix, storage class, user) from the first
 * day of `asOf`'s month to `asOf`: operations from the rollups (which levels answer which part
 * of the month is the engine's read plan: complete days from day rows, complete hours from hour
 * rows, the rest from what the flushes wrote), storage from the bucket-wide daily peaks.
 * r2watch's own probe keys are left out. Operations are counted as Standard (R2 bills requests
 * by the object's class, which the rollups do not record); bytes read are kept as retrieval
 * for the what-if.
 * `view`: 'per_user' (default) every user's own rows by prefix (breakdowns); 'per_prefix' the
 * same rows with the users added up (user '': reports, which break down by prefix, not user);
 * 'account' the account-wide rows only (prefix and user '': the account's bill), or with `user`
 * that user's rows and everyone else's together (the user's share of the bill). The account-wide
 * views read a number of rows that does not grow with users.
 */
export async function monthUsage(rt, fromMs, asOf, { view = 'per_user', user = null, meter = null } = {}) {
  const db = rt.env.DB;
  const now = Date.now();
  const { endMs } = monthTo(rt, asOf);
  let ops;
  if (view === 'account') {
    const plan = await readPlan(rt, fromMs, endMs, 'account', 'day', now, meter);
    const userPlan = user === null ? null : await readPlan(rt, fromMs, endMs, 'user', 'day', now);
    ops = await monthOperations(db, plan, 'account', { user, userPlan }, meter);
  } else {
    const plan = await readPlan(rt, fromMs, endMs, 'user', 'day', now, meter);
    ops = await monthOperations(db, plan, 'user', { byUser: view !== 'per_prefix' }, meter);
  }
  const peaks = await storagePeaks(db, isoDay(fromMs), asOf, meter);
  const rows = new Map();
  const row = (date, bucket, prefix, storageClass, user) => {
    const key = [date, bucket, prefix, storageClass, user].join('\u0000');
    let r = rows.get(key);
    if (!r) {
      r = { date, bucket, prefix, user, storage_class: storageClass, storage_peak_bytes: 0, operations: {}, retrieved_bytes: 0 };
      rows.set(key, r);
    }
    return r;
  };
  // A month has at most 31 days: each day's date is written once.
  const dates = new Map();
  const dateOf = (dayNo) => dates.get(dayNo) ?? dates.set(dayNo, isoDay(dayNo * DAY_MS)).get(dayNo);
  for (const o of ops) {
    const r = row(dateOf(o.day_no), o.bucket, o.prefix, 'standard', o.user_id);
    r.operations[o.operation] = (r.operations[o.operation] ?? 0) + o.calls;
    r.retrieved_bytes += o.bytes_down;
  }
  for (const p of peaks) {
    row(p.day, p.bucket, p.prefix, p.storage_class, '').storage_peak_bytes += p.peak_bytes;
  }
  return [...rows.values()];
}

/**
 * Users' own daily peaks from `fromMs`'s day to `asOf` (user_storage_daily_peaks): what the
 * engine splits the bucket's users/ storage by. Every user's (a split by user needs everyone's),
 * or with `user` that user's and everyone else's added up per day (one user's share).
 */
export async function usersStorage(rt, fromMs, asOf, meter = null, user = null) {
  return userPeaks(rt.env.DB, bucketName(rt.env), isoDay(fromMs), asOf, meter, user);
}

/**
 * The engine input of a month command: the account's usage and price lists, and with `user`
 * the user and everyone's own storage (for cost_user_share), plus `extra` fields.
 */
async function monthInput(rt, request, nowMs, extra = {}, user = null, { view = 'per_user', meter = null } = {}) {
  const { month, start, asOf } = monthOf(rt, request, nowMs);
  const source = costSource(rt, request, user);
  // A user's share needs only their own rows and everyone else's together.
  const rowsView = user === null ? view : 'account';
  // The account's figures (Cloudflare's analytics, every bucket) or r2watch's own rollups.
  const usage =
    source === 'account'
      ? { account: await accountMemberByClass(rt, start, asOf) }
      : { usage: await monthUsage(rt, start, asOf, { view: rowsView, user, meter }) };
  const own = user === null ? {} : { user, user_storage: await usersStorage(rt, start, asOf, meter, user) };
  const pricing = await loadPriceVersions(rt.env.DB);
  const body = JSON.stringify({ as_of: asOf, ...usage, ...own, ...extra });
  // The stored price lists are spliced in as text.
  return { month, asOf, source, input: `${body.slice(0, -1)},"pricing":${pricing}}` };
}

/**
 * The month's bill with forecast and budget status, as GET /api/costs answers it: the
 * account's, or with `user` that user's part of it (cost_user_share; budgets are the
 * account's, so a user's answer has none). Both have the same top-level fields. `budgets: false`
 * leaves the budgets out: for a caller that shows none. With `bucket`, `bucketMonthToDate` is
 * that bucket's part of the month to date (the account's or the user's, as the engine splits it).
 */
export async function monthCosts(rt, request, nowMs, user = null, meter = null, { budgets: withBudgets = true, bucket = null } = {}) {
  // The bill is per bucket and line: the account-wide rows answer it.
  const { month, input, source } = await monthInput(rt, request, nowMs, bucket === null ? {} : { bucket }, user, { view: 'account', meter });
  if (user !== null) {
    const { bucket_month_to_date: bucketMonthToDate = null, ...share } = ask(rt, 'cost_user_share', input, nowMs);
    return {
      month,
      as_of: share.as_of,
      monthlyTotal: share.charges.total_usd,
      dailyAverage: share.daily_average_usd,
      storageCharges: share.charges.storage_usd,
      requestCharges: share.charges.requests_usd,
      retrievalCharges: share.charges.retrieval_usd,
      charges: share.charges,
      trend: share.trend,
      forecast: share.forecast,
      budgets: [],
      user,
      source,
      ...(bucketMonthToDate ? { bucketMonthToDate } : {}),
      share,
    };
  }
  // The budgets' status comes from the same run of the bill, unless the caller shows none.
  const budgets = withBudgets ? await loadBudgets(rt.env.DB) : [];
  const withStatus = budgets.length ? `${input.slice(0, -1)},"budgets":${JSON.stringify(budgets)}}` : input;
  const { budgets: statuses = [], bucket_month_to_date: bucketMonthToDate = null, ...bill } = ask(rt, 'cost_bill', withStatus, nowMs);
  const charges = bill.charges;
  return {
    month,
    as_of: bill.as_of,
    monthlyTotal: charges.total_usd,
    dailyAverage: bill.daily_average_usd,
    storageCharges: charges.storage_usd,
    requestCharges: charges.requests_usd,
    retrievalCharges: charges.retrieval_usd,
    charges,
    trend: bill.trend,
    forecast: bill.forecast,
    budgets: statuses,
    user,
    source,
    ...(bucketMonthToDate ? { bucketMonthToDate } : {}),
    // The account's bill: action types in no class (billed as Class A) and unbilled 401/403s.
    ...(bill.account ? { unclassified: bill.account.unclassified, unbilled_auth_failures: bill.account.unbilled_auth_failures } : {}),
    bill,
  };
}

/**
 * Takes a snapshot of the month's bill (the 6-hourly cost job), after raising today's storage
 * peaks of every user (a day with no upload still has its peak). Re-running replaces it.
 */
export async function costSnapshot(rt, nowMs) {
  await raiseUserPeaks(rt.env.DB, nowMs).run();
  const fake = new Request('http://r2watch/api/costs');
  const costs = await monthCosts(rt, fake, nowMs);
  await saveCostSnapshot(rt.env.DB, costs, nowMs);
  return { month: costs.month, as_of: costs.as_of, total_usd: costs.monthlyTotal };
}

/**
 * The cost section of a report of one period (the engine's cost_report): type daily (the day
 * `lastDay`), weekly (the week ending on `lastDay`) or monthly (the month ending on `lastDay`);
 * usage and cost by line, top buckets and prefixes, and the change from the previous period
 * (`previousTotal`: the previous month's bill, monthly only). Stores nothing (reports.js does).
 */
export async function costReport(rt, type, lastDay, nowMs, previousTotal = null) {
  const pricing = await loadPriceVersions(rt.env.DB);
  const { start: monthStart } = monthTo(rt, lastDay);
  // By prefix and bucket, the users added up: the report names no user.
  const usage = await monthUsage(rt, monthStart, lastDay, { view: 'per_prefix' });
  // The users' namespace storage under the users' own prefixes (as the breakdown shows it).
  const input = { as_of: lastDay, usage, type, user_storage: await usersStorage(rt, monthStart, lastDay) };
  if (previousTotal !== null) input.previous_total_micro_usd = previousTotal;
  return ask(rt, 'cost_report', `${JSON.stringify(input).slice(0, -1)},"pricing":${pricing}}`, nowMs);
}

// A user's own month (readonly and user roles); an admin's is the account's, or one user's with
// ?user=.
const READ_COSTS = { role: 'readonly', scope: 'costs', user: true };

export function registerCostMonthRoutes(router) {
  router.on('GET', '/api/costs', async (request, _params, rt, _ctx, auth) => {
    const meter = { rows_read: 0 };
    return withRowsRead(json(await monthCosts(rt, request, Date.now(), auth.filter, meter)), meter);
  }, READ_COSTS);

  // A user's month breaks down by their prefixes (their part of the account's bill).
  router.on('GET', '/api/costs/breakdown', async (request, _params, rt, _ctx, auth) => {
    const by = new URL(request.url).searchParams.get('by') ?? (auth.filter ? 'prefix' : 'bucket');
    if (auth.filter === null) {
      const meter = { rows_read: 0 };
      // The users' namespace is split among its users, as each user's own answer splits it.
      // (r2watch's own figures only: the account's have no prefixes or users).
      const { start, asOf } = monthOf(rt, request, Date.now());
      // A split by bucket or class needs none (the users' parts stay in their bucket and class).
      const split = by === 'user' || by === 'prefix';
      const own = split && costSource(rt, request) === 'r2watch' ? { user_storage: await usersStorage(rt, start, asOf, meter) } : {};
      // Only a split by user needs every user's own rows, by prefix the users' rows added up;
      // by bucket or class the account-wide rows answer it (rows that do not grow with users).
      const view = by === 'user' ? 'per_user' : by === 'prefix' ? 'per_prefix' : 'account';
      const { input, source } = await monthInput(rt, request, Date.now(), { by, ...own }, null, { view, meter });
      return withRowsRead(json({ ...ask(rt, 'cost_breakdown', input), user: null, source }), meter);
    }
    if (by !== 'prefix') {
      throw new HttpError('invalid_query', "one user's costs break down by prefix only", { field: 'by' });
    }
    const meter = { rows_read: 0 };
    const { input } = await monthInput(rt, request, Date.now(), {}, auth.filter, { meter });
    const share = ask(rt, 'cost_user_share', input);
    return withRowsRead(json({
      ...share.month_to_date,
      by,
      month: share.month,
      as_of: share.as_of,
      rows: share.by_prefix.map(({ prefix, ...r }) => ({ key: prefix, ...r })),
      user: auth.filter,
    }), meter);
  }, READ_COSTS);

  router.on('GET', '/api/costs/whatif', async (request, _params, rt, _ctx, auth) => {
    const storageClass = new URL(request.url).searchParams.get('class') ?? 'infrequent_access';
    // The what-if names no prefix or user: the account-wide rows answer it.
    const { input, source } = await monthInput(rt, request, Date.now(), { storage_class: storageClass }, auth.filter, { view: 'account' });
    if (auth.filter === null) return json({ ...ask(rt, 'cost_whatif', input), user: null, source });
    const share = ask(rt, 'cost_user_share', input);
    const { storage_class: _class, month_to_date: whatIfToDate, month_end_expected: whatIfEnd, ...saving } = share.what_if;
    return json({
      month: share.month,
      as_of: share.as_of,
      storage_class: storageClass,
      pricing: share.pricing,
      current: { month_to_date: share.month_to_date, month_end_expected: share.forecast.expected },
      what_if: { month_to_date: whatIfToDate, month_end_expected: whatIfEnd },
      ...saving,
      user: auth.filter,
    });
  }, READ_COSTS);

  router.on('GET', '/api/costs/anomaly', async (request, _params, rt, _ctx, auth) => {
    const now = Date.now();
    // The day (default: today) and the days before it that its baseline may need: the engine's.
    const asked = new URL(request.url).searchParams.get('date');
    const { date, from_ms: from } = ask(rt, 'cost_anomaly_window', asked === null ? {} : { date: asked }, now);
    const source = costSource(rt, request, auth.filter);
    // The account's days need no prefix or user (account-wide rows); one user's are the user's
    // own rows (everyone else's come together as one, and the engine keeps the user's only).
    const meter = { rows_read: 0 };
    const rows = { view: 'account', user: auth.filter, meter };
    const usage = source === 'account' ? { account: await accountMemberByClass(rt, from, date) } : { usage: await monthUsage(rt, from, date, rows) };
    // One user's storage: theirs and everyone else's as one total per day.
    const own = auth.filter === null ? {} : { user: auth.filter, user_storage: await usersStorage(rt, from, date, meter, auth.filter) };
    const pricing = await loadPriceVersions(rt.env.DB);
    const input = `${JSON.stringify({ date, ...usage, ...own }).slice(0, -1)},"pricing":${pricing}}`;
    return withRowsRead(json({ ...ask(rt, 'cost_anomaly', input, now), user: auth.filter, source }), meter);
  }, READ_COSTS);

  router.on('POST', '/api/admin/jobs/cost', async (_request, _params, rt) => json(await costSnapshot(rt, Date.now())));
}
