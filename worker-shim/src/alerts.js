// The alert engine's Worker side: the check-alerts job (gather figures from D1, ask the engine
// to evaluate, store states and notifications, send), delivery with retries, and the
// /api/alerts routes. Every decision (rule validation, what fires, who is told, what a
// notification says, whether a target is allowed, when to retry) is the engine's
// (core/alerts/); this file reads D1, calls fetch and the send_email binding, and writes D1.
import { HttpError, json, readJsonBody, ask } from './http.js';
import { selectRows } from './metrics.js';
import { observedVerdict } from './health.js';
import { loadPriceVersions } from './costs.js';
import { monthUsage } from './cost-month.js';
import { accountConfig, accountMemberByClass, accountAlertFigures } from './account.js';
import { quotaStatuses } from './security.js';
import { jobsStatus } from './jobs.js';
import {
  activeStateText,
  alertsPage,
  alertWithHistory,
  authFailureCounters,
  claimOutboxRow,
  configRow,
  deleteRule,
  deleteSilence,
  dueOutboxKeys,
  generationStatement,
  githubIssue,
  githubIssueClosed,
  historyStateOf,
  insertSilence,
  installDefaults,
  installedDefaults,
  inventorySnapshotsSince,
  largestObjects,
  latestNotifications,
  outboxStatements,
  recordAttempt,
  rememberGithubIssue,
  requestCounters,
  roundReads,
  roundStatements,
  ruleIds,
  rulesText,
  ruleText,
  saveRule,
  saveSettings,
  silencesText,
  stateStatements,
  statesText,
  userEmails,
  valueStatements,
} from './db/alerts.js';
import { open, seal } from './sealed.js';
import { AlertRound } from './alert-round.js';

// Queued by reports too (reports.js).
export { outboxStatements };

/** Where delivery targets are judged: 'development' only when ENVIRONMENT says so. */
export function environmentOf(env) {
  return String(env.ENVIRONMENT ?? '').toLowerCase() === 'development' ? 'development' : 'production';
}

// ---- stored configuration ------------------------------------------------------------------

// The engine's default rules and settings (the same for every call of one engine), asked once
// per engine.
const defaultsByEngine = new WeakMap();
function defaultsOf(rt, nowMs) {
  let defaults = defaultsByEngine.get(rt.engine);
  if (!defaults) defaultsByEngine.set(rt.engine, (defaults = ask(rt, 'alert_defaults', {}, nowMs)));
  return defaults;
}

/**
 * Installs the default rules and settings on first start, and every default rule added by a
 * later release once (alert_default_rules remembers which were installed, so a default that
 * was deleted stays deleted). `installed`: what installedDefaults answers, when already read.
 * Whether it installed anything.
 */
async function ensureDefaults(rt, installed = null) {
  const db = rt.env.DB;
  installed ??= await installedDefaults(db);
  const now = Date.now();
  const defaults = defaultsOf(rt, now);
  const missing = defaults.rules.filter((r) => !installed.ids.has(r.id));
  if (installed.configured && missing.length === 0) return false;
  await installDefaults(db, missing, defaults.settings, now);
  return true;
}

const loadRules = rulesText;

/**
 * The dashboard overview's warning lines, from the alert rules (the defaults installed on first
 * start): {error_rate_pct, response_ms, rules} (core/alerts/overview-lines.h).
 */
export async function overviewThresholds(rt, { bucket, user }, nowMs) {
  await ensureDefaults(rt);
  const rules = await loadRules(rt.env.DB);
  return ask(
    rt,
    'alert_overview_thresholds',
    `{"rules":${rules},"bucket":${JSON.stringify(bucket ?? null)},"user":${JSON.stringify(user ?? null)}}`,
    nowMs,
  );
}

// Where the alert settings are kept: sealed (src/sealed.js), since channels may hold inline URLs.
export const SETTINGS_PLACE = 'alert_config.settings_json';

async function loadConfig(rt) {
  return configOf(rt, await configRow(rt.env.DB));
}

// The configuration row ({settings, ledger, generation} as configRow answers it) opened.
async function configOf(rt, row) {
  const settings = row.settings == null ? 'null' : await open(rt, row.settings, SETTINGS_PLACE);
  return { settings, ledger: row.ledger ?? 'null', generation: row.generation };
}

// ---- figures -------------------------------------------------------------------------------

/**
 * The account's day rows ({by_class, storage} as accountMemberByClass answers them, each row an
 * array) as alert_cost_figures takes them (JSON text): each day, bucket, class, action type and
 * storage class named once ("" for the class of an unclassified action type), the rows as flat
 * numbers (indices into those lists, then the row's figures).
 */
function compactAccount({ by_class: byClass, storage }) {
  const lists = { days: [], buckets: [], names: [] };
  const seen = { days: new Map(), buckets: new Map(), names: new Map() };
  const index = (list, text) => {
    let i = seen[list].get(text);
    if (i === undefined) {
      i = lists[list].length;
      seen[list].set(text, i);
      lists[list].push(text);
    }
    return i;
  };
  const ops = [];
  // [day, bucket, class or null, billed, action_type, requests, response_bytes]
  for (const row of byClass) {
    ops.push(index('days', row[0]), index('buckets', row[1]), index('names', row[2] ?? ''), row[3], index('names', row[4]), row[5], row[6]);
  }
  const st = [];
  for (const row of storage) {
    st.push(index('days', row[0]), index('buckets', row[1]), index('names', row[2]));
    for (let k = 3; k < row.length; k++) st.push(row[k]);
  }
  return `{"days":${JSON.stringify(lists.days)},"buckets":${JSON.stringify(lists.buckets)},"names":${JSON.stringify(lists.names)},"by_class":${JSON.stringify(ops)},"storage":${JSON.stringify(st)}}`;
}

/**
 * This month's bill and today's anomaly verdict, from the cost commands over the same usage
 * rows GET /api/costs reads (cost-month.js): the alert and the dashboard never disagree.
 * From the account's rows (the collector on), the figures of the last round are taken again
 * while the day checked (the engine's cost window), the price lists and the account's stored
 * rows (their stamp, roundReads) are the ones they were made from: the same inputs.
 */
async function costFigures(rt, window, nowMs, held) {
  const { date: today, month, from_ms: fromMs } = window;
  const pricing = await loadPriceVersions(rt.env.DB);
  if (accountConfig(rt.env).configured) {
    const key = held.accountStamp === null ? null : `${JSON.stringify(window)}\u001f${pricing}\u001f${held.accountStamp}`;
    if (key !== null && held.cost?.key === key) return held.cost.text;
    // The account's bill (every bucket, from Cloudflare's analytics), as GET /api/costs, and
    // the anomaly: cost_bill over the month's rows and cost_anomaly over every row, in one
    // command that reads the rows once (alert_cost_figures).
    const account = compactAccount(await accountMemberByClass(rt, fromMs, today));
    const text = JSON.stringify(ask(rt, 'alert_cost_figures', `{"date":"${today}","account":${account},"pricing":${pricing}}`, nowMs));
    held.cost = key === null ? null : { key, text };
    return text;
  }
  const usage = await monthUsage(rt, fromMs, today);
  const monthRows = JSON.stringify(usage.filter((r) => r.date >= month));
  const bill = ask(rt, 'cost_bill', `{"as_of":"${today}","usage":${monthRows},"pricing":${pricing}}`, nowMs);
  const anomaly = ask(
    rt,
    'cost_anomaly',
    `{"date":"${today}","usage":${JSON.stringify(usage)},"pricing":${pricing}}`,
    nowMs,
  );
  return { bill, anomaly };
}

async function growthFigures(rt, sinceMs, nowMs) {
  const byBucket = await inventorySnapshotsSince(rt.env.DB, sinceMs);
  return [...byBucket].map(([bucket, snapshots]) => ({
    bucket,
    growth: ask(rt, 'storage_growth', { snapshots }, nowMs),
  }));
}

/**
 * Each user with a storage quota: what they store now against it (quotaStatuses, the figures
 * GET /api/admin/quotas shows), and their address for the quota mail.
 */
async function quotaFigures(rt) {
  const [statuses, emailOf] = await Promise.all([quotaStatuses(rt), userEmails(rt.env.DB)]);
  return statuses
    .filter((q) => q.max_bytes !== null)
    .map((q) => ({
      user: q.user_id,
      quota_bytes: q.max_bytes,
      used_bytes: q.bytes,
      ...(emailOf.has(q.user_id) ? { email: emailOf.get(q.user_id) } : {}),
    }));
}

/**
 * Failed authentications counted in the security gate's windows since `sinceMs` (the engine's
 * plan); the engine places each at its window's end.
 */
async function failedAccesses(db, sinceMs, windowMs) {
  const counters = await authFailureCounters(db, sinceMs);
  return counters.map((r) => ({ at_ms: r.window_start_ms, window_ms: windowMs, count: r.count }));
}

async function healthFigures(rt, nowMs) {
  const { db, verdict } = await observedVerdict(rt, nowMs);
  return { health: { status: verdict.status }, database: { ok: db.database_ok, error: db.database_error } };
}

/**
 * Gathers what the round's rules need (the engine's plan) as the JSON text of `figures`.
 * A source that cannot be read is left out and reported; the others are still evaluated.
 * `extra` (the admin call's body) adds quotas, failed accesses and uploads. `held`: what the
 * last round of this engine made from the account's stored rows (alert-round.js `held`), with
 * `accountStamp` (roundReads) saying whether those rows are still the same.
 */
async function gatherFigures(rt, plan, nowMs, extra, held) {
  const parts = [];
  let series = [];
  const unavailable = {};
  const attempt = async (name, fn) => {
    try {
      const value = await fn();
      if (value !== undefined) parts.push(`"${name}":${typeof value === 'string' ? value : JSON.stringify(value)}`);
    } catch (e) {
      unavailable[name] = String(e.message ?? e);
      console.warn(`r2watch: alert figures ${name} unavailable: ${e.message}`);
    }
  };
  if (plan.operation_ranges.length) {
    await attempt('operations', async () => {
      const windows = [];
      for (const r of plan.operation_ranges) {
        const rows = await selectRows(rt.env.DB, 'minute', r.from_ms, r.to_ms);
        windows.push(`{"window_ms":${r.window_ms},"rows":${rows}}`);
      }
      return `[${windows.join(',')}]`;
    });
  }
  if (plan.cost) await attempt('cost', () => costFigures(rt, plan.cost_window, nowMs, held));
  if (plan.growth) await attempt('growth', () => growthFigures(rt, plan.growth_since_ms, nowMs));
  if (plan.health || plan.database) {
    await attempt('health', async () => {
      const h = await healthFigures(rt, nowMs);
      if (plan.database) parts.push(`"database":${JSON.stringify(h.database)}`);
      return plan.health ? h.health : undefined;
    });
  }
  if (plan.jobs) await attempt('jobs', async () => (await jobsStatus(rt, nowMs)).jobs);
  if (plan.quotas) {
    await attempt('quotas', async () => [...(await quotaFigures(rt)), ...(extra.quotas ?? [])]);
  }
  if (plan.failed_access) {
    const counted = () => failedAccesses(rt.env.DB, plan.failed_access_since_ms, plan.failed_access_counter_window_ms);
    await attempt('failed_access', async () => [...(await counted()), ...(extra.failed_access ?? [])]);
  }
  if (plan.requests) await attempt('requests', () => requestCounters(rt.env.DB, plan.requests_since_ms));
  if (plan.uploads) {
    await attempt('uploads', async () => [...(await largestObjects(rt.env.DB)), ...(extra.uploads ?? [])]);
  }
  if (plan.account) {
    // The account's figures per bucket (Cloudflare's analytics): spikes, internal errors,
    // pending multipart uploads, storage growth, computed by the engine.
    // Given to the round as numbers (written into wasm memory, alert-round.js). Taken again
    // from the last round while the account's stored rows are the same and the engine says
    // figures made then still hold (account_until_ms: the hours and days they read).
    await attempt('series', async () => {
      const key = held.accountStamp === null ? null : `${JSON.stringify(plan.account_windows_ms)}\u001f${held.accountStamp}`;
      const last = held.series;
      if (key !== null && last?.key === key && nowMs >= last.fromMs && nowMs < last.untilMs) {
        series = last.series;
        return;
      }
      series = (await accountAlertFigures(rt, nowMs, plan.account_windows_ms)).series;
      held.series = key === null ? null : { key, fromMs: nowMs, untilMs: plan.account_until_ms, series };
    });
  }
  return { text: `{${parts.join(',')}}`, series, unavailable };
}

// ---- delivery ------------------------------------------------------------------------------

async function sendEmail(env, body) {
  if (!env.SEND_EMAIL) throw new Error('no send_email binding (SEND_EMAIL) is configured');
  if (!body.to?.length || body.to.some((t) => !t)) throw new Error('no email address is known for the recipient');
  const { EmailMessage } = await import('cloudflare:email');
  for (const to of body.to) await env.SEND_EMAIL.send(new EmailMessage(body.from, to, body.raw));
  return { code: null, target: `email:${body.to.join(',')}` };
}

/**
 * The URL as fetch will read it (the runtime's WHATWG parser: "http://0x7f.1/" becomes
 * "http://127.0.0.1/"), after the engine judged both the written and the parsed form.
 */
function checkedUrl(rt, written, nowMs) {
  let full;
  try {
    full = new URL(written).href;
  } catch {
    throw Object.assign(new Error('target refused: the URL is not valid'), { target: '' });
  }
  const environment = environmentOf(rt.env);
  let check;
  for (const form of new Set([written, full])) {
    check = ask(rt, 'alert_target_check', { url: form, environment }, nowMs);
    if (!check.allowed) throw Object.assign(new Error(`target refused: ${check.reason}`), { target: check.target });
  }
  return { full, target: check.target };
}

/** A 3xx (never followed: the target was checked, a Location was not) or any error status. */
function refuseStatus(res, target) {
  if (res.status >= 300 && res.status < 400) {
    throw Object.assign(new Error(`HTTP ${res.status}: the target answered with a redirect, which is not followed (point the channel at the final URL)`), {
      code: res.status,
      target,
    });
  }
  if (!res.ok) throw Object.assign(new Error(`HTTP ${res.status}`), { code: res.status, target });
}

async function postJson(rt, row, channel, body, nowMs, timeoutMs) {
  const env = rt.env;
  const url = channel.url || (channel.url_secret ? env[channel.url_secret] : undefined);
  if (!url) throw Object.assign(new Error(`secret ${channel.url_secret} is not set`), { target: `secret:${channel.url_secret}` });
  const { full, target } = checkedUrl(rt, url.replace(/\/+$/, '') + (row.path ?? ''), nowMs);
  if (row.secret_field) {
    const secret = env[channel.routing_key_secret];
    if (!secret) throw Object.assign(new Error(`secret ${channel.routing_key_secret} is not set`), { target });
    body[row.secret_field] = secret;
  }
  // Redirects are not followed: the target was checked, a redirect's Location was not (and
  // would receive the body, routing key included).
  const res = await fetch(full, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'r2watch-alerts' },
    body: JSON.stringify(body),
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  await res.arrayBuffer();
  refuseStatus(res, target);
  return { code: res.status, target };
}

/**
 * A github notification: the engine's requests to the REST API in order, with the token from
 * the channel's Worker secret. "{issue}" is the alert's issue on this channel, kept in D1 from
 * GitHub's answer to the request that opened it.
 */
async function githubRequests(rt, row, channel, body, nowMs, timeoutMs) {
  const db = rt.env.DB;
  const token = rt.env[channel.token_secret];
  if (!token) throw Object.assign(new Error(`secret ${channel.token_secret} is not set`), { target: `secret:${channel.token_secret}` });
  const [alertId] = JSON.parse(row.alert_ids_json);
  let last = { code: null, target: '' };
  for (const r of body.requests) {
    let path = r.path;
    if (path.includes('{issue}')) {
      const issue = await githubIssue(db, row.channel, alertId);
      if (!issue) throw Object.assign(new Error(`no GitHub issue is known for alert ${alertId} on channel ${row.channel}`), { target: '' });
      path = path.replace('{issue}', String(issue.issue_number));
    }
    const { full, target } = checkedUrl(rt, channel.api_url.replace(/\/+$/, '') + path, nowMs);
    const res = await fetch(full, {
      method: r.method,
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'user-agent': 'r2watch-alerts',
        'x-github-api-version': '2022-11-28',
      },
      body: JSON.stringify(r.body),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    refuseStatus(res, target);
    if (r.opens_issue) {
      let answer = null;
      try {
        answer = JSON.parse(text);
      } catch {
        // checked below
      }
      if (!Number.isInteger(answer?.number)) throw Object.assign(new Error('GitHub answered without an issue number'), { code: res.status, target });
      await rememberGithubIssue(db, { channel: row.channel, alertId, repository: channel.repository, number: answer.number, url: answer.html_url ?? null, nowMs });
    }
    if (r.method === 'PATCH' && r.body?.state === 'closed') await githubIssueClosed(db, row.channel, alertId, nowMs);
    last = { code: res.status, target };
  }
  return last;
}

/** Sends one claimed outbox row and records the attempt; the engine says what happens next. */
async function deliver(rt, row, settings, plan, nowMs) {
  const db = rt.env.DB;
  const body = JSON.parse(row.body_json);
  const attempt = row.attempts;
  let outcome;
  try {
    let channel = settings.channels.find((c) => c.name === row.channel);
    if (!channel && row.channel.startsWith('user:')) channel = { type: 'email' };
    // Reports' built-in email channel: addresses from EMAIL_TO / EMAIL_FROM, in the body.
    if (!channel && row.channel === 'email' && row.kind === 'report') channel = { type: 'email' };
    if (!channel) throw Object.assign(new Error(`channel ${row.channel} is no longer configured`), { target: '' });
    const send = { email: () => sendEmail(rt.env, body), github: () => githubRequests(rt, row, channel, body, nowMs, plan.timeout_ms) }[channel.type];
    const sent = send ? await send() : await postJson(rt, row, channel, body, nowMs, plan.timeout_ms);
    outcome = { ok: true, code: sent.code, target: sent.target, error: null };
  } catch (e) {
    outcome = { ok: false, code: e.code ?? null, target: e.target ?? '', error: String(e.message ?? e) };
  }
  const next = ask(rt, 'alert_delivery_result', `{"settings":${JSON.stringify(settings)},"attempt":${attempt},"ok":${outcome.ok}}`, nowMs);
  await recordAttempt(db, row, attempt, outcome, next, nowMs, Date.now());
  return { key: row.key, channel: row.channel, kind: row.kind, attempt, ...outcome, status: next.status };
}

/** The alert settings in force (channels, dashboard_url), as the engine normalizes them. */
export async function alertSettings(rt, nowMs) {
  const { settings: settingsText } = await loadConfig(rt);
  return ask(rt, 'alert_settings_update', `{"current":${settingsText},"environment":"${environmentOf(rt.env)}"}`, nowMs).settings;
}

/** Sends every due notification (new ones and retries whose backoff has passed). */
export async function deliverDue(rt, nowMs) {
  const db = rt.env.DB;
  const plan = ask(rt, 'alert_delivery_plan', {}, nowMs);
  const keys = await dueOutboxKeys(db, plan);
  if (!keys.length) return [];
  const { settings: settingsText } = await loadConfig(rt);
  const settings = ask(rt, 'alert_settings_update', `{"current":${settingsText},"environment":"${environmentOf(rt.env)}"}`, nowMs).settings;
  const out = [];
  for (const key of keys) {
    const row = await claimOutboxRow(db, key, plan);
    if (row) out.push(await deliver(rt, row, settings, plan, nowMs));
  }
  return out;
}

// ---- the job -------------------------------------------------------------------------------

/**
 * One check-alerts round at `nowMs` (the cron's scheduledTime): evaluates every rule, stores
 * states, history and notifications in one batch (idempotent: keys come from the engine), then
 * sends what is due. `extra` adds figures the Worker cannot read itself (admin call body).
 */
export async function checkAlerts(rt, nowMs, extra = {}) {
  const db = rt.env.DB;
  // The configuration, rules, silences and the account's stamp in one round trip; again when
  // the defaults were installed just now.
  let reads = await roundReads(db, nowMs);
  if (await ensureDefaults(rt, reads.installed)) reads = await roundReads(db, nowMs);
  try {
    await rt.flushMetrics();
  } catch (e) {
    console.warn(`r2watch: flush before the alert check failed: ${e.message}`);
  }
  const { rules, silences } = reads;
  const { settings, ledger, generation } = await configOf(rt, reads.config);
  // The round kept in this isolate's console engine: the stored states are handed in only when
  // it holds none or another generation than D1's (a cold start, or another writer). The
  // breaker is the request path's (r2watch.wasm): its state goes in.
  const round = AlertRound.of(rt.engine.consoleEngine(nowMs));
  const plan = round.plan(rules, nowMs);
  round.held.accountStamp = reads.accountStamp;
  const figures = await gatherFigures(rt, plan, nowMs, extra, round.held);
  const restore = round.needsRestore(generation) ? { states: await statesText(db), ledger, generation } : null;
  const breakerState = ask(rt, 'breaker_status', {}, nowMs).state;
  const result = round.run(
    {
      rules,
      settings,
      silences,
      figures: figures.text,
      series: figures.series,
      restore,
      generation: generation + 1,
      breakerState,
    },
    nowMs,
  );
  // Only what changed is written; the round's generation goes last.
  const statements = [
    ...stateStatements(db, result.changed, nowMs),
    ...valueStatements(db, result.values, nowMs),
    ...outboxStatements(db, result.notifications, nowMs),
    ...roundStatements(db, result.dropped, result.ledger, generation),
  ];
  try {
    let last;
    const per = result.write_batch_statements; // the engine's (core/alerts/round.h)
    for (let i = 0; i < statements.length; i += per) last = await db.batch(statements.slice(i, i + per));
    // Another writer came in between: what the engine holds is not what D1 holds.
    if (last.at(-1).meta.changes === 0) round.forget();
  } catch (e) {
    round.forget();
    throw e;
  }
  // The engine's actions, carried out on the request path's breaker.
  for (const a of result.actions) {
    if (a.applied && a.type === 'force_breaker_open') ask(rt, 'breaker_command', { action: 'force_open' }, nowMs);
  }
  if (result.actions.some((a) => a.applied)) await rt.persistBreaker(nowMs);
  const deliveries = await deliverDue(rt, nowMs);
  return {
    ...result.summary,
    changed: result.changed.length + result.values.length,
    notifications_queued: result.notifications.length,
    actions: result.actions,
    deliveries,
    unavailable_figures: figures.unavailable,
  };
}

// ---- routes --------------------------------------------------------------------------------

function queryOf(request) {
  return Object.fromEntries(new URL(request.url).searchParams);
}

function shortId() {
  return crypto.randomUUID().replaceAll('-', '').slice(0, 12);
}

async function storedRule(db, id) {
  const text = await ruleText(db, id);
  if (text === null) throw new HttpError('not_found', `no alert rule with id ${id}`, { field: 'id' });
  return text;
}

/**
 * Ack or resolve by hand: the engine moves the state and says who to tell. A caller who is not
 * an admin reaches only their own alerts (another's answers 404, as if it did not exist).
 */
async function manual(rt, request, id, command, auth) {
  const body = await readJsonBody(request);
  const db = rt.env.DB;
  const stateText = await activeStateText(db, id);
  if (stateText === null) {
    const history = await historyStateOf(db, id, auth.filter);
    if (history === null) throw new HttpError('not_found', `no alert with id ${id}`, { field: 'id' });
    throw new HttpError('conflict', `alert ${id} is ${history} and no longer active`, { field: 'id' });
  }
  const caller = JSON.stringify({ user: auth.user, admin: auth.isAdmin });
  const nowMs = Date.now();
  const { settings } = await loadConfig(rt);
  const result = ask(
    rt,
    command,
    `{"state":${stateText},"rules":${await loadRules(db)},"settings":${settings},"request":${body},"caller":${caller}}`,
    nowMs,
  );
  await db.batch([
    ...stateStatements(db, [result], nowMs),
    ...outboxStatements(db, result.notifications, nowMs),
    // A state written outside a round: an engine holding the states restores them.
    generationStatement(db),
  ]);
  const deliveries = await deliverDue(rt, nowMs);
  return json({ alert: result.alert, deliveries });
}

export function registerAlertRoutes(router) {
  router.on('GET', '/api/alerts/rules', async (_request, _params, rt) => {
    await ensureDefaults(rt);
    return json({ rules: JSON.parse(await loadRules(rt.env.DB)) });
  });

  router.on('POST', '/api/alerts/rules', async (request, _params, rt) => {
    const body = await readJsonBody(request);
    await ensureDefaults(rt);
    const db = rt.env.DB;
    const { rule } = ask(
      rt,
      'alert_rule_create',
      `{"request":${body},"id":"rule-${shortId()}","existing":${JSON.stringify(await ruleIds(db))}}`,
    );
    await saveRule(db, rule, Date.now());
    return json({ rule }, 201);
  });

  router.on('GET', '/api/alerts/rules/:id', async (_request, params, rt) => {
    await ensureDefaults(rt);
    return json({ rule: JSON.parse(await storedRule(rt.env.DB, params.id)) });
  });

  router.on('PUT', '/api/alerts/rules/:id', async (request, params, rt) => {
    const body = await readJsonBody(request);
    await ensureDefaults(rt);
    const current = await storedRule(rt.env.DB, params.id);
    const { rule } = ask(rt, 'alert_rule_update', `{"current":${current},"request":${body}}`);
    await saveRule(rt.env.DB, rule, Date.now());
    return json({ rule });
  });

  router.on('DELETE', '/api/alerts/rules/:id', async (_request, params, rt) => {
    await ensureDefaults(rt);
    if (!(await deleteRule(rt.env.DB, params.id))) throw new HttpError('not_found', `no alert rule with id ${params.id}`, { field: 'id' });
    return new Response(null, { status: 204 });
  });

  router.on('GET', '/api/alerts/silences', async (_request, _params, rt) => {
    const nowMs = Date.now();
    return json(ask(rt, 'alert_silences_view', `{"silences":${await silencesText(rt.env.DB, nowMs)}}`, nowMs));
  });

  router.on('POST', '/api/alerts/silences', async (request, _params, rt) => {
    const body = await readJsonBody(request);
    const nowMs = Date.now();
    const { silence } = ask(rt, 'alert_silence_create', `{"request":${body},"id":"silence-${shortId()}"}`, nowMs);
    const { active, ...stored } = silence;
    await insertSilence(rt.env.DB, stored, nowMs);
    return json({ silence: { ...stored, active } }, 201);
  });

  router.on('DELETE', '/api/alerts/silences/:id', async (_request, params, rt) => {
    if (!(await deleteSilence(rt.env.DB, params.id, Date.now()))) throw new HttpError('not_found', `no silence with id ${params.id}`, { field: 'id' });
    return new Response(null, { status: 204 });
  });

  router.on('GET', '/api/alerts/channels', async (_request, _params, rt) => {
    await ensureDefaults(rt);
    const { settings } = await loadConfig(rt);
    return json(ask(rt, 'alert_settings_update', `{"current":${settings},"environment":"${environmentOf(rt.env)}"}`).view);
  });

  router.on('PUT', '/api/alerts/channels', async (request, _params, rt) => {
    const body = await readJsonBody(request);
    await ensureDefaults(rt);
    const db = rt.env.DB;
    const { settings: current } = await loadConfig(rt);
    const { settings, view } = ask(
      rt,
      'alert_settings_update',
      `{"current":${current},"request":${body},"environment":"${environmentOf(rt.env)}"}`,
    );
    await saveSettings(db, await seal(rt, JSON.stringify(settings), SETTINGS_PLACE), Date.now());
    return json(view);
  });

  router.on('GET', '/api/alerts/notifications', async (request, _params, rt) => {
    const { limit } = queryOf(request);
    const q = ask(rt, 'alert_notifications_query', limit === undefined ? {} : { limit });
    return json(await latestNotifications(rt.env.DB, q.limit));
  });

  router.on('POST', '/api/alerts/test', async (request, _params, rt) => {
    const body = await readJsonBody(request);
    await ensureDefaults(rt);
    const db = rt.env.DB;
    const nowMs = Date.now();
    const { settings } = await loadConfig(rt);
    const { notification } = ask(rt, 'alert_test', `{"settings":${settings},"request":${body}}`, nowMs);
    await db.batch(outboxStatements(db, [notification], nowMs));
    const deliveries = await deliverDue(rt, nowMs);
    return json({ notification: { key: notification.key, channel: notification.channel }, deliveries });
  });

  // A user's own alerts (quota, their usage); an admin's are all, or one user's with ?user=.
  router.on('GET', '/api/alerts', async (request, _params, rt, _ctx, auth) => {
    const { user: _named, ...query } = queryOf(request);
    const q = ask(rt, 'alert_query', query);
    const page = await alertsPage(rt.env.DB, q, auth.filter);
    return json({
      alerts: page.alerts,
      total: page.total,
      limit: q.limit,
      offset: q.offset,
      user: auth.filter,
    });
  }, { role: 'readonly', scope: 'alerts', user: true });

  // One alert with its history (the earlier episodes of the same rule and scope) and the
  // notifications sent about it: what a notification's link (/alerts/<id>) shows. Registered
  // after the fixed /api/alerts/... routes. A user reaches only their own alerts (404 otherwise).
  router.on('GET', '/api/alerts/:id', async (request, params, rt, _ctx, auth) => {
    const { user: _named, ...query } = queryOf(request);
    const q = ask(rt, 'alert_detail_query', query);
    const found = await alertWithHistory(rt.env.DB, params.id, auth.filter, {
      historyLimit: q.history_limit,
      notificationsLimit: q.notifications_limit,
    });
    if (!found) throw new HttpError('not_found', `no alert with id ${params.id}`, { field: 'id' });
    return json(found);
  }, { role: 'readonly', scope: 'alerts', user: true });

  // Acknowledging and resolving one's own alerts needs the user role; everyone's, admin.
  const ACT_ON_ALERT = { role: 'user', scope: 'alerts' };
  router.on('POST', '/api/alerts/:id/ack', async (request, params, rt, _ctx, auth) =>
    manual(rt, request, params.id, 'alert_ack', auth), ACT_ON_ALERT);
  router.on('POST', '/api/alerts/:id/resolve', async (request, params, rt, _ctx, auth) =>
    manual(rt, request, params.id, 'alert_resolve', auth), ACT_ON_ALERT);

  router.on('POST', '/api/admin/jobs/check-alerts', async (request, _params, rt) => {
    // The body (extra figures) is optional; when there is one it is JSON like any other.
    const extra = JSON.parse(await readJsonBody(request, { optional: true }));
    return json(await checkAlerts(rt, Date.now(), extra));
  });
}
