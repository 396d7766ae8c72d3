// The account's figures from Cloudflare's GraphQL Analytics API (every bucket, also the
// traffic that never passes through r2watch): the account-analytics job (collector), its
// health, and the /api/account routes. The engine decides everything (windows, watermarks,
// the 2-hour re-pull, splitting, backoff, classification, billing); this file fetches, stores
// (db/account.js) and answers. The API token is sent to Cloudflare and nowhere else: never
// stored, logged or answered.
import { HttpError, json, ask, askText, jsonText } from './http.js';
import * as store from './db/account.js';
import { accountUsageByClass, latestStorage, operationsSince } from './db/account.js';
import { dailyAccountCalls } from './db/metrics.js';
import { readPlan } from './metrics.js';
import { loadPriceVersions } from './costs.js';
// The same ?month= reading as the cost routes (a cycle of imports, used only at call time).
import { monthOf } from './cost-month.js';

export const DEFAULT_GRAPHQL_URL = 'https://api.cloudflare.com/client/v4/graphql';

/**
 * The collector's configuration from the environment: on when CLOUDFLARE_ACCOUNT_ID and the
 * secret CLOUDFLARE_API_TOKEN are both set. ACCOUNT_QUERY_LIMIT (groups per query, default
 * Cloudflare's 10,000) and ACCOUNT_QUERIES_PER_RUN are passed to the engine, which checks them.
 */
export function accountConfig(env) {
  const id = (env.CLOUDFLARE_ACCOUNT_ID ?? '').trim();
  const token = (env.CLOUDFLARE_API_TOKEN ?? '').trim();
  const options = {};
  // Passed as given (a number when it reads as one): the engine checks them and names a bad one.
  const given = (v) => (/^\d+$/.test(String(v).trim()) ? Number(v) : String(v));
  if (env.ACCOUNT_QUERY_LIMIT) options.limit = given(env.ACCOUNT_QUERY_LIMIT);
  if (env.ACCOUNT_QUERIES_PER_RUN) options.max_queries_per_run = given(env.ACCOUNT_QUERIES_PER_RUN);
  return {
    configured: id !== '' && token !== '',
    accountId: id,
    token,
    url: (env.CLOUDFLARE_GRAPHQL_URL ?? '').trim() || DEFAULT_GRAPHQL_URL,
    options,
  };
}

/**
 * Asks Cloudflare for one window: {status, retryAfter, bytes}; status 0 when nothing answered.
 * The answer's bytes go to the engine as they came (no decoding into a string and back).
 */
async function query(cfg, body) {
  try {
    const res = await fetch(cfg.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${cfg.token}`, 'content-type': 'application/json' },
      body,
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const retry = Number(res.headers.get('retry-after'));
    return { status: res.status, retryAfter: Number.isFinite(retry) && retry >= 0 ? Math.floor(retry) : null, bytes };
  } catch {
    return { status: 0, retryAfter: null, bytes: new Uint8Array(0) };
  }
}

/**
 * One run of the collector (the account-analytics cron and its admin route): the engine plans
 * the windows; each answer is judged by the engine and its rows replace the window's in D1,
 * with the state, in one batch. Returns what happened.
 */
export async function collectAccount(rt, nowMs) {
  const cfg = accountConfig(rt.env);
  if (!cfg.configured) return { enabled: false, reason: 'CLOUDFLARE_ACCOUNT_ID or CLOUDFLARE_API_TOKEN is not set' };
  const db = rt.env.DB;
  const common = { account_id: cfg.accountId, options: cfg.options };
  let state = await store.loadCollectorState(db);
  const plan = ask(rt, 'account_plan', { ...common, state }, nowMs);
  let { run, next } = plan;
  state = plan.state;
  const summary = { enabled: true, queries: 0, stored_windows: 0, stored_rows: 0, verdicts: [] };
  while (next) {
    const answer = await query(cfg, next.body);
    summary.queries += 1;
    // The answer's bytes go to the engine as the call's attachment, not inside the JSON input.
    const input = { ...common, state, run, http_status: answer.status, retry_after_s: answer.retryAfter };
    const step = ask(rt, 'account_ingest', input, nowMs, answer.bytes);
    // The rows come as JSON texts beside the answer (one INSERT each), not inside it.
    if (step.store) step.store.parts = step.output_texts ?? [];
    await store.saveStep(db, step.store, step.state, nowMs);
    summary.verdicts.push({
      dataset: next.dataset,
      start_ms: next.start_ms,
      end_ms: next.end_ms,
      verdict: step.verdict,
      // What was stored of the window (less than it when a cut-off answer kept its whole hours).
      stored: step.store ? [step.store.start_ms, step.store.end_ms] : null,
    });
    if (step.store) {
      summary.stored_windows += 1;
      summary.stored_rows += step.store.rows;
    }
    ({ run, next, state } = step);
  }
  if (summary.queries === 0) await store.saveStep(db, null, state, nowMs);
  summary.state = state;
  return summary;
}

/** The collector's part of /api/health: off, ok, backfilling, backing off, failing or stale. */
export async function accountHealth(rt, nowMs) {
  const cfg = accountConfig(rt.env);
  let state = null;
  let actionTypes = [];
  if (cfg.configured) {
    try {
      state = await store.loadCollectorState(rt.env.DB);
      // The engine names how far back action types are looked at (the datasets' retention).
      const reads = accountReads(rt, nowMs);
      actionTypes = await store.actionTypesSince(rt.env.DB, reads.retention_since_ms);
    } catch {
      // The database's own component reports why it cannot be read; refused settings are
      // named by account_health below.
    }
  }
  return ask(rt, 'account_health', { configured: cfg.configured, state, options: cfg.options, action_types: actionTypes }, nowMs);
}

/**
 * Which usage a cost answer bills: `?source=account|r2watch`; default account when the
 * collector is configured (and the caller sees the whole account), else r2watch.
 */
export function costSource(rt, request, user = null) {
  const asked = new URL(request.url).searchParams.get('source');
  if (asked !== null && !['account', 'r2watch'].includes(asked)) {
    throw new HttpError('invalid_query', 'source must be account or r2watch', { field: 'source' });
  }
  const configured = accountConfig(rt.env).configured;
  if (asked === 'account' && !configured) {
    throw new HttpError('invalid_query', 'source=account needs CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN', { field: 'source' });
  }
  if (asked === 'account' && user !== null) {
    throw new HttpError('invalid_query', "a user's costs come from r2watch's own figures only", { field: 'source' });
  }
  return asked ?? (configured && user === null ? 'account' : 'r2watch');
}

/**
 * What the Worker reads back for the account at `nowMs`, as the engine names it (account_reads):
 * {retention_since_ms, last_day_since_ms (the last 24 hours: the bucket list and /metrics'
 * account families), as_of, month_start, month_start_ms}; with `usage` ({from_ms, as_of}) also
 * `usage`: {since_ms, until_ms, from_day, to_day}, the rows of the account's usage from from_ms
 * to the end of the day as_of.
 */
export function accountReads(rt, nowMs, usage = null) {
  const input = { options: accountConfig(rt.env).options };
  if (usage) Object.assign(input, { usage_from_ms: usage.from_ms, usage_as_of: usage.as_of });
  return ask(rt, 'account_reads', input, nowMs);
}

/**
 * The cost commands' `account` member from `fromMs` to the end of the day `asOf`, the day rows
 * summed by the engine's grouping (`by_class`: one row per day, bucket, class and billed or
 * not): the same bill as from the stored rows (per action type and status code), from a
 * fraction of them.
 */
export async function accountMemberByClass(rt, fromMs, asOf) {
  return accountUsageByClass(rt.env.DB, accountReads(rt, Date.now(), { from_ms: fromMs, as_of: asOf }).usage);
}

/**
 * The alert round's figures from the account (alert rules request_spike, internal_error_rate,
 * pending_uploads, bucket_storage_growth): the engine names the hours and days it reads (the
 * spike's hour in past weeks, the windows), the Worker reads them, the engine makes the series.
 */
export async function accountAlertFigures(rt, nowMs, windowsMs) {
  const reach = ask(rt, 'account_alert_reach', { windows_ms: windowsMs }, nowMs);
  const [hours, storage] = await Promise.all([
    // Each bucket's hours summed per span the engine names (the same figures from far fewer rows).
    store.hourlyByBucket(rt.env.DB, reach.hours_since_ms, reach.hours_ms, reach.segments_ms),
    store.storageSince(rt.env.DB, reach.storage_since),
  ]);
  return ask(rt, 'account_alert_figures', { hours, storage, windows_ms: windowsMs }, nowMs);
}

const READ_ACCOUNT = { role: 'readonly', scope: 'costs' };

export function registerAccountRoutes(router) {
  router.on('POST', '/api/admin/jobs/account-analytics', async (_request, _params, rt) =>
    json(await collectAccount(rt, Date.now())));

  // Per bucket and day: operations by class as Cloudflare counted them and as r2watch's own
  // rollups did, and the share that went around r2watch.
  router.on('GET', '/api/account/reconcile', async (request, _params, rt) => {
    const now = Date.now();
    const { month, start, asOf } = monthOf(rt, request, now);
    const { usage } = accountReads(rt, now, { from_ms: start, as_of: asOf });
    // r2watch's own calls from the account-wide rollups (the engine's read plan of the month).
    const plan = await readPlan(rt, usage.since_ms, usage.until_ms, 'account', 'day', now);
    const [cf, own] = await Promise.all([accountUsageByClass(rt.env.DB, usage, { storage: false }), dailyAccountCalls(rt.env.DB, plan)]);
    // The answer (a row per bucket and day) is passed on as the engine wrote it.
    const answer = askText(rt, 'account_reconcile', { cloudflare_by_class: cf.by_class, own });
    return jsonText({ month, as_of: asOf, enabled: accountConfig(rt.env).configured }, answer);
  }, READ_ACCOUNT);

  // Every bucket: objects, stored bytes, pending multipart uploads, the last 24 hours'
  // operations by class and error rates, and its part of the month's bill.
  router.on('GET', '/api/account/buckets', async (_request, _params, rt) => {
    const now = Date.now();
    const db = rt.env.DB;
    // The engine names the last 24 hours and the month to date.
    const { last_day_since_ms: lastDaySince, month_start_ms: start, as_of: asOf } = accountReads(rt, now);
    const { usage: reach } = accountReads(rt, now, { from_ms: start, as_of: asOf });
    const [storage, lastDay, usage, pricing] = await Promise.all([
      latestStorage(db),
      operationsSince(db, lastDaySince),
      accountUsageByClass(db, reach),
      loadPriceVersions(db),
    ]);
    const breakdown = ask(rt, 'cost_breakdown', `${JSON.stringify({ as_of: asOf, by: 'bucket', account: usage }).slice(0, -1)},"pricing":${pricing}}`, now);
    const answer = ask(rt, 'account_buckets', { storage, last_day: lastDay, costs: breakdown.rows }, now);
    return json({ as_of: asOf, enabled: accountConfig(rt.env).configured, ...answer });
  }, READ_ACCOUNT);
}
