// Reports: daily, weekly and monthly, each with its cost, performance, errors, alerts, storage
// and recommendations, stored in D1 and written to R2 (.r2watch/reports/<type>/<period>.json,
// with the latest usage snapshot at .r2watch/metrics/r2_usage.json), and delivered to the
// channels subscribed to its type. The engine decides every period, figure, recommendation and
// body (core/reports, report-commands.cc); this file reads D1, writes R2 and D1, and queues
// the deliveries in the alert outbox (one key per period and channel: a re-run never delivers
// twice).
import { HttpError, json, ask, csvResponse } from './http.js';
import { costReport, monthCosts } from './cost-month.js';
import { loadPriceVersions } from './costs.js';
import { alertSettings, outboxStatements, deliverDue } from './alerts.js';
import * as store from './db/reports.js';

const TYPES = ['daily', 'weekly', 'monthly'];

/** Email recipients and sender of the built-in "email" channel (EMAIL_TO, EMAIL_FROM vars). */
function emailVars(env) {
  const to = String(env.EMAIL_TO ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return { to, from: String(env.EMAIL_FROM ?? '') };
}

/** The cost section (cost_report) of a period; monthly compares with last month's report. */
async function costSection(rt, period, nowMs) {
  let previous = null;
  if (period.type === 'monthly') {
    const before = ask(rt, 'report_period', { type: 'monthly' }, period.from_ms);
    const text = await store.reportOf(rt.env.DB, 'monthly', before.period);
    if (text) previous = JSON.parse(text).cost?.total_micro_usd ?? null;
  }
  return costReport(rt, period.type, period.last_day, nowMs, previous);
}

/**
 * Builds, stores, writes to R2 and queues for delivery the report of one period ({type,
 * period} as the engine's report_period answers it), then sends what is due. Re-running
 * replaces the stored report and the R2 object and queues nothing new. `made`: the cost
 * section, budgets and folded operations when steps before made them (reportStep).
 */
/** The budgets as the bill of the period's month stood at its end (the engine's month). */
async function periodBudgets(rt, period) {
  const { month } = ask(rt, 'cost_month_window', { as_of: period.last_day });
  return (await monthCosts(rt, new Request(`http://r2watch/api/costs?month=${month}`), period.as_of_ms)).budgets;
}

export async function makeReport(rt, period, nowMs, made = {}) {
  const db = rt.env.DB;
  const cost = made.cost ?? (await costSection(rt, period, nowMs));
  const budgets = made.budgets ?? (await periodBudgets(rt, period));
  const [operations, statuses, alerts, storage, pricing, subscriptions, settings] = await Promise.all([
    made.operations ? JSON.stringify(made.operations) : store.periodOperations(db, period.from_ms, period.to_ms),
    store.periodStatuses(db, period.from_ms, period.to_ms),
    store.periodAlerts(db, period.from_ms, period.to_ms),
    store.periodStorage(db, period.first_day, period.last_day),
    loadPriceVersions(db),
    store.loadSubscriptions(db),
    alertSettings(rt, nowMs),
  ]);
  const delivery = {
    subscriptions,
    channels: settings.channels ?? [],
    email: emailVars(rt.env),
    dashboard_url: settings.dashboard_url ?? '',
  };
  const input =
    `{"type":${JSON.stringify(period.type)},"period":${JSON.stringify(period.period)},` +
    `"cost":${JSON.stringify(cost)},"operations":${operations},"statuses":${JSON.stringify(statuses)},` +
    `"alerts":${JSON.stringify(alerts)},"storage":${JSON.stringify(storage.storage)},` +
    `"pending_uploads":${JSON.stringify(storage.pending_uploads)},"budgets":${JSON.stringify(budgets)},` +
    `"pricing":${pricing},"delivery":${JSON.stringify(delivery)}}`;
  const built = ask(rt, 'report_build', input, nowMs);
  const { report, usage_snapshot: snapshot, notifications } = built;
  const body = JSON.stringify(report);
  const meta = { httpMetadata: { contentType: 'application/json' } };
  await rt.env.BUCKET.put(report.r2_key, body, meta);
  await rt.env.BUCKET.put('.r2watch/metrics/r2_usage.json', JSON.stringify(snapshot), meta);
  await store.saveReport(db, { type: report.type, period: report.period, nowMs, r2Key: report.r2_key, report });
  if (notifications.length) await db.batch(outboxStatements(db, notifications, nowMs));
  const deliveries = notifications.length ? await deliverDue(rt, nowMs) : [];
  return { report, queued: notifications.map((n) => n.channel), deliveries };
}

/**
 * The daily run's reports (the engine's report_due at `nowMs`: the daily one always, the weekly
 * one on Mondays, the monthly one on the 1st), or only those of `types`: {made: ["type:period"],
 * failed: ["type:period: why"]}.
 */
export async function dueReports(rt, nowMs, types = TYPES) {
  const { periods } = ask(rt, 'report_due', {}, nowMs);
  const made = [];
  const failed = [];
  for (const period of periods.filter((p) => types.includes(p.type))) {
    // One report that cannot be made does not stop the others, nor the rest of the job (the
    // backup after it); the job's run still ends in error, naming it.
    try {
      const { report } = await makeReport(rt, period, nowMs);
      made.push(`${report.type}:${report.period}`);
    } catch (e) {
      console.error(`r2watch: ${period.type} report ${period.period} not made: ${e.message}`);
      failed.push(`${period.type}:${period.period}: ${e.message}`);
    }
  }
  return { made, failed };
}

/**
 * One step of the report of `type` due at `nowMs` (the day's work, daily.js), in steps so that
 * each stays within a cron run's CPU: the cost section, then the budgets, then the period's
 * operations folded a day a step (foldStep), each kept in `cursor` (D1's text, from the step
 * before) for the last, which builds, stores, writes and delivers the report (makeReport). Answers {complete, cursor, made: ["type:period"]}; throws "reports not
 * made: type:period: why" when the report cannot be made.
 */
export async function reportStep(rt, nowMs, type, cursor) {
  const { periods } = ask(rt, 'report_due', {}, nowMs);
  const period = periods.find((p) => p.type === type);
  if (!period) return { complete: true, cursor: null, made: [] };
  const label = `${period.type}:${period.period}`;
  try {
    let state = cursor ? JSON.parse(cursor) : null;
    if (state?.report !== label) state = { report: label };
    if (!('cost' in state)) {
      state.cost = await costSection(rt, period, nowMs);
      return { complete: false, cursor: JSON.stringify(state), made: [] };
    }
    if (!('budgets' in state)) {
      state.budgets = await periodBudgets(rt, period);
      return { complete: false, cursor: JSON.stringify(state), made: [] };
    }
    if (!('operations' in state)) {
      await foldStep(rt, period, nowMs, state);
      return { complete: false, cursor: JSON.stringify(state), made: [] };
    }
    await makeReport(rt, period, nowMs, state);
    return { complete: true, cursor: null, made: [label] };
  } catch (e) {
    console.error(`r2watch: ${label} report not made: ${e.message}`);
    throw new Error(`reports not made: ${label}: ${e.message}`);
  }
}

/**
 * One step of the period's operations folded (the engine's report_fold: one row per bucket,
 * prefix and operation, which report_build reads as it reads the rows themselves): the rows up
 * to where the engine says (a day of day rows, an hour of hour rows, a day of minute rows), added to the fold the steps before kept in `state.fold`; when the
 * period is folded, `state.operations`.
 */
async function foldStep(rt, period, nowMs, state) {
  const rolled = await store.rolledUp(rt.env.DB);
  const head =
    `{"type":${JSON.stringify(period.type)},"period":${JSON.stringify(period.period)},` +
    `"days_before_ms":${rolled.days},"hours_before_ms":${rolled.hours},`;
  const fold = state.fold ?? {
    folded: [],
    through_ms: period.from_ms,
    next_to_ms: ask(rt, 'report_fold', `${head}"through_ms":${period.from_ms},"folded":[],"rows":[]}`, nowMs).next_to_ms,
  };
  const rows = fold.next_to_ms === undefined ? '[]' : await store.periodOperations(rt.env.DB, fold.through_ms, fold.next_to_ms, rolled);
  const through = fold.next_to_ms ?? fold.through_ms;
  const answer = ask(rt, 'report_fold', `${head}"through_ms":${through},"folded":${JSON.stringify(fold.folded)},"rows":${rows}}`, nowMs);
  if (answer.next_to_ms === undefined) {
    state.operations = answer.folded;
    delete state.fold;
  } else {
    state.fold = { folded: answer.folded, through_ms: through, next_to_ms: answer.next_to_ms };
  }
}

/** A report's rows for its CSV: the month to date, then its top buckets and prefixes. */
function csvRows(report) {
  const row = (section, key, r) => [section, key, r.storage_micro_usd, r.class_a_micro_usd, r.class_b_micro_usd, r.retrieval_micro_usd, r.total_micro_usd, r.total_usd];
  const c = report.cost;
  return [
    ['month_to_date', report.period, c.storage_micro_usd, '', '', c.retrieval_micro_usd, c.total_micro_usd, c.total_usd],
    ...report.top_buckets.map((r) => row('bucket', r.key, r)),
    ...report.top_prefixes.map((r) => row('prefix', r.key, r)),
  ];
}

const REPORT_CSV_COLUMNS = ['section', 'key', 'storage_micro_usd', 'class_a_micro_usd', 'class_b_micro_usd', 'retrieval_micro_usd', 'total_micro_usd', 'total_usd'];

function typeOf(url, name = 'type') {
  const type = url.searchParams.get(name);
  if (type !== null && !TYPES.includes(type)) {
    throw new HttpError('invalid_query', 'type must be daily, weekly or monthly', { field: name });
  }
  return type;
}

// Reports are documents of the whole account: admins only.
const ADMIN = { role: 'admin' };

export function registerReportRoutes(router) {
  router.on('GET', '/api/reports', async (request, _params, rt) => {
    const type = typeOf(new URL(request.url));
    const rows = await store.listReports(rt.env.DB, type);
    return json({ reports: rows.map((r) => ({ ...r, created_at: new Date(r.created_at_ms).toISOString() })) });
  }, ADMIN);

  // Which report types go to which channels: alert channels by name (email, slack, github or
  // webhook), or "email" for EMAIL_TO / EMAIL_FROM.
  router.on('GET', '/api/reports/subscriptions', async (_request, _params, rt) =>
    json({ subscriptions: await store.loadSubscriptions(rt.env.DB), email: emailVars(rt.env) }), ADMIN);

  router.on('PUT', '/api/reports/subscriptions', async (request, _params, rt) => {
    let body;
    try {
      body = await request.json();
    } catch {
      throw new HttpError('invalid_json', 'the body must be JSON', { field: 'body' });
    }
    const now = Date.now();
    const settings = await alertSettings(rt, now);
    const { subscriptions } = ask(rt, 'report_subscriptions_validate', { request: body, channels: settings.channels ?? [], email: emailVars(rt.env) }, now);
    await store.saveSubscriptions(rt.env.DB, subscriptions, now);
    return json({ subscriptions });
  }, ADMIN);

  router.on('GET', '/api/reports/:id', async (request, params, rt) => {
    if (!/^\d{1,12}$/.test(params.id)) throw new HttpError('invalid_query', 'id must be a number', { field: 'id' });
    const format = new URL(request.url).searchParams.get('format') ?? 'json';
    if (!['json', 'csv'].includes(format)) {
      throw new HttpError('invalid_query', 'format must be json or csv', { field: 'format' });
    }
    const text = await store.reportById(rt.env.DB, Number(params.id));
    if (!text) throw new HttpError('not_found', `no report with id ${params.id}`, { field: 'id' });
    if (format === 'json') return new Response(text, { headers: { 'content-type': 'application/json' } });
    const report = JSON.parse(text);
    return csvResponse(rt, REPORT_CSV_COLUMNS, csvRows(report), `r2watch-${report.type}-${report.period}.csv`);
  }, ADMIN);

  // Makes the report of one period (default: the last one ended); re-running replaces it and delivers nothing twice.
  router.on('POST', '/api/admin/jobs/reports', async (request, _params, rt) => {
    const url = new URL(request.url);
    const type = typeOf(url) ?? 'daily';
    const label = url.searchParams.get('period');
    const now = Date.now();
    let period;
    try {
      period = ask(rt, 'report_period', label === null ? { type } : { type, period: label }, now);
    } catch (e) {
      // A bad query parameter is a 400, as on every route.
      if (e instanceof HttpError && e.status === 422) throw new HttpError('invalid_query', e.message, { field: e.field });
      throw e;
    }
    // The heartbeat of job "reports" is recorded by jobs.js (addJobRouteHeartbeats), as for
    // every /api/admin/jobs/* route.
    const made = await makeReport(rt, period, now);
    return json({ ...made.report, queued: made.queued, deliveries: made.deliveries });
  });
}
