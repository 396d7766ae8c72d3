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
import { accountConfig, accountMember, accountAlertFigures } from './account.js';
import { quotaStatuses } from './security.js';
import { jobsStatus } from './jobs.js';
import { githubIssue, rememberGithubIssue, githubIssueClosed } from './db/alerts.js';
import { open, seal } from './sealed.js';

// A row claimed for sending by a run that died is claimable again after this long.
const SENDING_LEASE_MS = 5 * 60_000;
// How long one delivery may take.
const DELIVERY_TIMEOUT_MS = 10_000;
const DAY_MS = 86_400_000;


/** Where delivery targets are judged: 'development' only when ENVIRONMENT says so. */
export function environmentOf(env) {
  return String(env.ENVIRONMENT ?? '').toLowerCase() === 'development' ? 'development' : 'production';
}

// ---- stored configuration ------------------------------------------------------------------

/**
 * Installs the default rules and settings on first start, and every default rule added by a
 * later release once (alert_default_rules remembers which were installed, so a default that
 * was deleted stays deleted).
 */
async function ensureDefaults(rt) {
  const db = rt.env.DB;
  const [config, installed] = await db.batch([
    db.prepare('SELECT defaults_installed_at_ms FROM alert_config WHERE id = 1'),
    db.prepare('SELECT id FROM alert_default_rules'),
  ]);
  const now = Date.now();
  const defaults = ask(rt, 'alert_defaults', {}, now);
  const known = new Set(installed.results.map((r) => r.id));
  const missing = defaults.rules.filter((r) => !known.has(r.id));
  if (config.results.length && missing.length === 0) return;
  const insertRule = db.prepare(
    `INSERT OR IGNORE INTO alert_rules (id, rule_json, enabled, created_at_ms, updated_at_ms)
     VALUES (?, ?, ?, ?, ?)`,
  );
  const remember = db.prepare('INSERT OR IGNORE INTO alert_default_rules (id, installed_at_ms) VALUES (?, ?)');
  await db.batch([
    ...missing.map((r) => insertRule.bind(r.id, JSON.stringify(r), r.enabled ? 1 : 0, now, now)),
    ...missing.map((r) => remember.bind(r.id, now)),
    db
      .prepare(
        `INSERT OR IGNORE INTO alert_config (id, settings_json, ledger_json, defaults_installed_at_ms,
           updated_at_ms) VALUES (1, ?, NULL, ?, ?)`,
      )
      .bind(JSON.stringify(defaults.settings), now, now),
  ]);
}

async function loadRules(db) {
  const { results } = await db.prepare('SELECT rule_json FROM alert_rules ORDER BY created_at_ms, id').all();
  return `[${results.map((r) => r.rule_json).join(',')}]`;
}

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
  const row = await rt.env.DB.prepare('SELECT settings_json, ledger_json FROM alert_config WHERE id = 1').first();
  const settings = row?.settings_json == null ? 'null' : await open(rt, row.settings_json, SETTINGS_PLACE);
  return { settings, ledger: row?.ledger_json ?? 'null' };
}

async function loadSilences(db, nowMs) {
  const { results } = await db
    .prepare('SELECT silence_json FROM silences WHERE deleted_at_ms IS NULL AND ends_at_ms > ? ORDER BY starts_at_ms')
    .bind(nowMs)
    .all();
  return `[${results.map((r) => r.silence_json).join(',')}]`;
}

async function loadStates(db) {
  const { results } = await db.prepare('SELECT state_json FROM alert_states').all();
  return `[${results.map((r) => r.state_json).join(',')}]`;
}

// ---- figures -------------------------------------------------------------------------------

/**
 * This month's bill and today's anomaly verdict, from the cost commands over the same usage
 * rows GET /api/costs reads (cost-month.js): the alert and the dashboard never disagree.
 */
async function costFigures(rt, nowMs) {
  const today = new Date(nowMs).toISOString().slice(0, 10);
  const monthStartMs = Date.parse(`${today.slice(0, 7)}-01T00:00:00Z`);
  const fromMs = Math.min(monthStartMs, nowMs - 14 * DAY_MS);
  const pricing = await loadPriceVersions(rt.env.DB);
  if (accountConfig(rt.env).configured) {
    // The account's bill (every bucket, from Cloudflare's analytics), as GET /api/costs.
    const account = await accountMember(rt, fromMs, today);
    const month = today.slice(0, 7);
    const monthOnly = { operations: account.operations.filter((r) => r[0] >= month), storage: account.storage.filter((r) => r[0] >= month) };
    const bill = ask(rt, 'cost_bill', `{"as_of":"${today}","account":${JSON.stringify(monthOnly)},"pricing":${pricing}}`, nowMs);
    const anomaly = ask(rt, 'cost_anomaly', `{"date":"${today}","account":${JSON.stringify(account)},"pricing":${pricing}}`, nowMs);
    return { bill, anomaly };
  }
  const usage = await monthUsage(rt, fromMs, today);
  const monthRows = JSON.stringify(usage.filter((r) => r.date >= today.slice(0, 7)));
  const bill = ask(rt, 'cost_bill', `{"as_of":"${today}","usage":${monthRows},"pricing":${pricing}}`, nowMs);
  const anomaly = ask(
    rt,
    'cost_anomaly',
    `{"date":"${today}","usage":${JSON.stringify(usage)},"pricing":${pricing}}`,
    nowMs,
  );
  return { bill, anomaly };
}

async function growthFigures(rt, nowMs) {
  const db = rt.env.DB;
  const { results } = await db
    .prepare(
      `SELECT bucket, taken_at_ms, objects, bytes FROM storage_inventory_snapshots
        WHERE taken_at_ms >= ? ORDER BY bucket, taken_at_ms`,
    )
    .bind(nowMs - 31 * DAY_MS)
    .all();
  const byBucket = new Map();
  for (const r of results) {
    if (!byBucket.has(r.bucket)) byBucket.set(r.bucket, []);
    byBucket.get(r.bucket).push({ taken_at_ms: r.taken_at_ms, objects: r.objects, bytes: r.bytes });
  }
  return [...byBucket].map(([bucket, snapshots]) => ({
    bucket,
    growth: ask(rt, 'storage_growth', { snapshots }, nowMs),
  }));
}

/** The largest objects of each bucket's latest inventory snapshot (file_size rules). */
async function largestObjects(db) {
  const { results } = await db
    .prepare(
      `SELECT s.bucket, s.inventory_json FROM storage_inventory_snapshots s
        WHERE s.taken_at_ms = (SELECT MAX(taken_at_ms) FROM storage_inventory_snapshots
                                WHERE bucket = s.bucket)`,
    )
    .all();
  const out = [];
  for (const r of results) {
    for (const { key, size: bytes } of JSON.parse(r.inventory_json).largest ?? []) {
      out.push({ bucket: r.bucket, key, bytes });
    }
  }
  return out;
}

/**
 * Each user with a storage quota: what they store now against it (quotaStatuses, the figures
 * GET /api/admin/quotas shows), and their address for the quota mail.
 */
async function quotaFigures(rt) {
  const [statuses, { results: emails }] = await Promise.all([
    quotaStatuses(rt),
    rt.env.DB.prepare('SELECT id, email FROM users WHERE email IS NOT NULL').all(),
  ]);
  const emailOf = new Map(emails.map((u) => [u.id, u.email]));
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
 * Failed authentications counted in windows that end after `sinceMs`, from the per-client-address
 * counters the security gate keeps (each failure is counted once per address, so the credential
 * counters are left out); the engine places each at its window's end.
 */
async function failedAccesses(db, sinceMs, windowMs) {
  const { results } = await db
    .prepare(
      `SELECT window_start_ms, count FROM security_counters
        WHERE kind = 'auth_fail' AND subject LIKE 'ip:%' AND window_start_ms >= ?`,
    )
    .bind(sinceMs - windowMs)
    .all();
  return results.map((r) => ({ at_ms: r.window_start_ms, window_ms: windowMs, count: r.count }));
}

/**
 * Each user's requests since `sinceMs` (the engine's plan), from the security gate's hourly
 * counters (kind requests_hour, subject user:<id>); the engine counts the hour holding now.
 */
async function hourlyRequests(db, sinceMs) {
  const { results } = await db
    .prepare(
      `SELECT subject, window_start_ms, count FROM security_counters
        WHERE kind = 'requests_hour' AND window_start_ms > ?`,
    )
    .bind(sinceMs)
    .all();
  return results.map((r) => ({ user: r.subject.replace(/^user:/, ''), window_start_ms: r.window_start_ms, count: r.count }));
}

async function healthFigures(rt, nowMs) {
  const { db, verdict } = await observedVerdict(rt, nowMs);
  return { health: { status: verdict.status }, database: { ok: db.database_ok, error: db.database_error } };
}

/**
 * Gathers what the round's rules need (the engine's plan) as the JSON text of `figures`.
 * A source that cannot be read is left out and reported; the others are still evaluated.
 * `extra` (the admin call's body) adds quotas, failed accesses and uploads.
 */
async function gatherFigures(rt, plan, nowMs, extra = {}) {
  const parts = [];
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
  if (plan.operation_windows_ms.length) {
    await attempt('operations', async () => {
      const windows = [];
      for (const w of plan.operation_windows_ms) {
        const rows = await selectRows(rt.env.DB, 'minute', nowMs - w, nowMs + 1);
        windows.push(`{"window_ms":${w},"rows":${rows}}`);
      }
      return `[${windows.join(',')}]`;
    });
  }
  if (plan.cost) await attempt('cost', () => costFigures(rt, nowMs));
  if (plan.growth) await attempt('growth', () => growthFigures(rt, nowMs));
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
    const since = nowMs - Math.max(0, ...plan.failed_access_windows_ms);
    const counted = () => failedAccesses(rt.env.DB, since, plan.failed_access_counter_window_ms);
    await attempt('failed_access', async () => [...(await counted()), ...(extra.failed_access ?? [])]);
  }
  if (plan.requests) await attempt('requests', () => hourlyRequests(rt.env.DB, plan.requests_since_ms));
  if (plan.uploads) {
    await attempt('uploads', async () => [...(await largestObjects(rt.env.DB)), ...(extra.uploads ?? [])]);
  }
  if (plan.account) {
    // The account's figures per bucket (Cloudflare's analytics): spikes, internal errors,
    // pending multipart uploads, storage growth, computed by the engine.
    await attempt('series', async () => (await accountAlertFigures(rt, nowMs, plan.account_windows_ms)).series);
  }
  return { text: `{${parts.join(',')}}`, unavailable };
}

// ---- storing a round -----------------------------------------------------------------------

function stateStatements(db, entries, nowMs) {
  const upsertState = db.prepare(
    `INSERT INTO alert_states (fingerprint, alert_id, status, state_json, updated_at_ms)
     VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (fingerprint) DO UPDATE SET alert_id = excluded.alert_id, status = excluded.status,
       state_json = excluded.state_json, updated_at_ms = excluded.updated_at_ms`,
  );
  const upsertAlert = db.prepare(
    `INSERT INTO alerts (id, fingerprint, rule_id, name, type, severity, state, bucket, prefix, user_id,
       value, threshold, detail, labels_json, started_at_ms, fired_at_ms, resolved_at_ms,
       acknowledged_at_ms, acknowledged_by, ack_note, resolved_by, resolve_note, escalation_level,
       muted_by, updated_at_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, severity = excluded.severity,
       state = excluded.state, value = excluded.value, threshold = excluded.threshold,
       detail = excluded.detail, labels_json = excluded.labels_json,
       fired_at_ms = excluded.fired_at_ms, resolved_at_ms = excluded.resolved_at_ms,
       acknowledged_at_ms = excluded.acknowledged_at_ms, acknowledged_by = excluded.acknowledged_by,
       ack_note = excluded.ack_note, resolved_by = excluded.resolved_by,
       resolve_note = excluded.resolve_note, escalation_level = excluded.escalation_level,
       muted_by = excluded.muted_by, updated_at_ms = excluded.updated_at_ms`,
  );
  const out = [];
  for (const { state, alert: a } of entries) {
    out.push(upsertState.bind(state.fingerprint, state.alert_id, state.status, JSON.stringify(state), nowMs));
    if (!a.id) continue;
    out.push(
      upsertAlert.bind(a.id, a.fingerprint, a.rule_id, a.name, a.type, a.severity, a.state, a.bucket,
        a.prefix, a.user, a.value, a.threshold, a.detail, JSON.stringify(a.labels), a.started_at_ms,
        a.fired_at_ms, a.resolved_at_ms, a.acknowledged_at_ms, a.acknowledged_by, a.ack_note,
        a.resolved_by, a.resolve_note, a.escalation_level, a.muted_by, a.updated_at_ms),
    );
  }
  return out;
}

export function outboxStatements(db, notifications, nowMs) {
  const insert = db.prepare(
    `INSERT OR IGNORE INTO alert_outbox (key, channel, channel_type, kind, alert_ids_json, body_json,
       path, secret_field, status, attempts, next_attempt_at_ms, created_at_ms, updated_at_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)`,
  );
  return notifications.map((n) =>
    insert.bind(n.key, n.channel, n.channel_type, n.kind, JSON.stringify(n.alert_ids),
      JSON.stringify(n.body), n.path ?? null, n.secret_field ?? null, nowMs, nowMs, nowMs),
  );
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

async function postJson(rt, row, channel, body, nowMs) {
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
    signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
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
async function githubRequests(rt, row, channel, body, nowMs) {
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
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
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
async function deliver(rt, row, settings, nowMs) {
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
    const send = { email: () => sendEmail(rt.env, body), github: () => githubRequests(rt, row, channel, body, nowMs) }[channel.type];
    const sent = send ? await send() : await postJson(rt, row, channel, body, nowMs);
    outcome = { ok: true, code: sent.code, target: sent.target, error: null };
  } catch (e) {
    outcome = { ok: false, code: e.code ?? null, target: e.target ?? '', error: String(e.message ?? e) };
  }
  const next = ask(rt, 'alert_delivery_result', `{"settings":${JSON.stringify(settings)},"attempt":${attempt},"ok":${outcome.ok}}`, nowMs);
  await db.batch([
    db
      .prepare(
        `INSERT OR IGNORE INTO alert_notifications (notification_key, channel, channel_type, kind, target,
           status, response_code, attempt, error, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(row.key, row.channel, row.channel_type, row.kind, outcome.target, outcome.ok ? 'sent' : 'failed',
        outcome.code, attempt, outcome.error, Date.now()),
    db
      .prepare('UPDATE alert_outbox SET status = ?, next_attempt_at_ms = ?, updated_at_ms = ? WHERE key = ?')
      .bind(next.status, next.next_attempt_at_ms ?? nowMs, nowMs, row.key),
  ]);
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
  const { results } = await db
    .prepare(
      `SELECT key FROM alert_outbox
        WHERE (status IN ('pending', 'retry') AND next_attempt_at_ms <= ?1)
           OR (status = 'sending' AND updated_at_ms < ?2)
        ORDER BY created_at_ms, key LIMIT 50`,
    )
    .bind(nowMs, nowMs - SENDING_LEASE_MS)
    .all();
  if (!results.length) return [];
  const { settings: settingsText } = await loadConfig(rt);
  const settings = ask(rt, 'alert_settings_update', `{"current":${settingsText},"environment":"${environmentOf(rt.env)}"}`, nowMs).settings;
  const out = [];
  for (const { key } of results) {
    // Claim it: only one run sends a given row.
    const [claim, rowResult] = await db.batch([
      db
        .prepare(
          `UPDATE alert_outbox SET status = 'sending', attempts = attempts + 1, updated_at_ms = ?1
            WHERE key = ?2 AND ((status IN ('pending', 'retry') AND next_attempt_at_ms <= ?1)
                                OR (status = 'sending' AND updated_at_ms < ?3))`,
        )
        .bind(nowMs, key, nowMs - SENDING_LEASE_MS),
      db.prepare('SELECT * FROM alert_outbox WHERE key = ?').bind(key),
    ]);
    if (claim.meta.changes !== 1) continue;
    out.push(await deliver(rt, rowResult.results[0], settings, nowMs));
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
  await ensureDefaults(rt);
  try {
    await rt.flushMetrics();
  } catch (e) {
    console.warn(`r2watch: flush before the alert check failed: ${e.message}`);
  }
  const db = rt.env.DB;
  const rules = await loadRules(db);
  const { settings, ledger } = await loadConfig(rt);
  const plan = ask(rt, 'alert_plan', `{"rules":${rules}}`, nowMs);
  const figures = await gatherFigures(rt, plan, nowMs, extra);
  const result = ask(
    rt,
    'alert_check',
    `{"rules":${rules},"settings":${settings},"ledger":${ledger},"states":${await loadStates(db)},` +
      `"silences":${await loadSilences(db, nowMs)},"figures":${figures.text}}`,
    nowMs,
  );
  const statements = [
    ...stateStatements(db, result.changed, nowMs),
    ...result.dropped.map((fp) => db.prepare('DELETE FROM alert_states WHERE fingerprint = ?').bind(fp)),
    ...outboxStatements(db, result.notifications, nowMs),
    db.prepare('UPDATE alert_config SET ledger_json = ? WHERE id = 1').bind(JSON.stringify(result.ledger)),
  ];
  for (let i = 0; i < statements.length; i += 100) await db.batch(statements.slice(i, i + 100));
  if (result.actions.some((a) => a.applied)) await rt.persistBreaker(nowMs);
  const deliveries = await deliverDue(rt, nowMs);
  return {
    ...result.summary,
    changed: result.changed.length,
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
  const row = await db.prepare('SELECT rule_json FROM alert_rules WHERE id = ?').bind(id).first();
  if (!row) throw new HttpError('not_found', `no alert rule with id ${id}`, { field: 'id' });
  return row.rule_json;
}

async function saveRule(db, rule, nowMs) {
  await db
    .prepare(
      `INSERT INTO alert_rules (id, rule_json, enabled, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET rule_json = excluded.rule_json, enabled = excluded.enabled,
         updated_at_ms = excluded.updated_at_ms`,
    )
    .bind(rule.id, JSON.stringify(rule), rule.enabled ? 1 : 0, nowMs, nowMs)
    .run();
}

/**
 * Ack or resolve by hand: the engine moves the state and says who to tell. A caller who is not
 * an admin reaches only their own alerts (another's answers 404, as if it did not exist).
 */
async function manual(rt, request, id, command, auth) {
  const body = await readJsonBody(request);
  const db = rt.env.DB;
  const row = await db.prepare('SELECT s.state_json FROM alert_states s WHERE s.alert_id = ?').bind(id).first();
  if (!row) {
    const history = await db
      .prepare('SELECT state FROM alerts WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2)')
      .bind(id, auth.filter)
      .first();
    if (!history) throw new HttpError('not_found', `no alert with id ${id}`, { field: 'id' });
    throw new HttpError('conflict', `alert ${id} is ${history.state} and no longer active`, { field: 'id' });
  }
  const caller = JSON.stringify({ user: auth.user, admin: auth.isAdmin });
  const nowMs = Date.now();
  const { settings } = await loadConfig(rt);
  const result = ask(
    rt,
    command,
    `{"state":${row.state_json},"rules":${await loadRules(db)},"settings":${settings},"request":${body},"caller":${caller}}`,
    nowMs,
  );
  await db.batch([
    ...stateStatements(db, [result], nowMs),
    ...outboxStatements(db, result.notifications, nowMs),
  ]);
  const deliveries = await deliverDue(rt, nowMs);
  return json({ alert: result.alert, deliveries });
}

function describeAlert(r) {
  const { labels_json: labels, user_id: user, ...rest } = r;
  return { ...rest, user, labels: JSON.parse(labels) };
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
    const { results } = await db.prepare('SELECT id FROM alert_rules').all();
    const { rule } = ask(
      rt,
      'alert_rule_create',
      `{"request":${body},"id":"rule-${shortId()}","existing":${JSON.stringify(results.map((r) => r.id))}}`,
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
    const { meta } = await rt.env.DB.prepare('DELETE FROM alert_rules WHERE id = ?').bind(params.id).run();
    if (meta.changes === 0) throw new HttpError('not_found', `no alert rule with id ${params.id}`, { field: 'id' });
    return new Response(null, { status: 204 });
  });

  router.on('GET', '/api/alerts/silences', async (_request, _params, rt) => {
    const nowMs = Date.now();
    const { results } = await rt.env.DB
      .prepare('SELECT silence_json FROM silences WHERE deleted_at_ms IS NULL AND ends_at_ms > ? ORDER BY starts_at_ms')
      .bind(nowMs)
      .all();
    return json(ask(rt, 'alert_silences_view', `{"silences":[${results.map((r) => r.silence_json).join(',')}]}`, nowMs));
  });

  router.on('POST', '/api/alerts/silences', async (request, _params, rt) => {
    const body = await readJsonBody(request);
    const nowMs = Date.now();
    const { silence } = ask(rt, 'alert_silence_create', `{"request":${body},"id":"silence-${shortId()}"}`, nowMs);
    const { active, ...stored } = silence;
    await rt.env.DB
      .prepare(
        `INSERT INTO silences (id, kind, silence_json, starts_at_ms, ends_at_ms, comment, created_by, created_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(silence.id, silence.kind, JSON.stringify(stored), silence.starts_at_ms, silence.ends_at_ms,
        silence.comment, silence.created_by, nowMs)
      .run();
    return json({ silence: { ...stored, active } }, 201);
  });

  router.on('DELETE', '/api/alerts/silences/:id', async (_request, params, rt) => {
    const { meta } = await rt.env.DB
      .prepare('UPDATE silences SET deleted_at_ms = ? WHERE id = ? AND deleted_at_ms IS NULL')
      .bind(Date.now(), params.id)
      .run();
    if (meta.changes === 0) throw new HttpError('not_found', `no silence with id ${params.id}`, { field: 'id' });
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
    await db
      .prepare('UPDATE alert_config SET settings_json = ?, updated_at_ms = ? WHERE id = 1')
      .bind(await seal(rt, JSON.stringify(settings), SETTINGS_PLACE), Date.now())
      .run();
    return json(view);
  });

  router.on('GET', '/api/alerts/notifications', async (request, _params, rt) => {
    const q = queryOf(request);
    const limitText = q.limit ?? '50';
    if (!/^\d{1,4}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 1000) {
      throw new HttpError('invalid_query', 'limit must be a whole number from 1 to 1000', { field: 'limit' });
    }
    const db = rt.env.DB;
    const [attempts, outbox] = await db.batch([
      db.prepare('SELECT * FROM alert_notifications ORDER BY at_ms DESC, id DESC LIMIT ?').bind(Number(limitText)),
      db
        .prepare(
          `SELECT key, channel, channel_type, kind, alert_ids_json, status, attempts, next_attempt_at_ms,
                  created_at_ms FROM alert_outbox ORDER BY created_at_ms DESC, key LIMIT ?`,
        )
        .bind(Number(limitText)),
    ]);
    return json({
      attempts: attempts.results,
      notifications: outbox.results.map(({ alert_ids_json: ids, ...r }) => ({ ...r, alert_ids: JSON.parse(ids) })),
    });
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
    const where = `(?1 IS NULL OR state = ?1) AND (?2 IS NULL OR severity = ?2) AND (?3 IS NULL OR bucket = ?3)
      AND (?6 IS NULL OR user_id = ?6)`;
    const db = rt.env.DB;
    const [rows, total] = await db.batch([
      db
        .prepare(`SELECT * FROM alerts WHERE ${where} ORDER BY updated_at_ms DESC, id DESC LIMIT ?4 OFFSET ?5`)
        .bind(q.state, q.severity, q.bucket, q.limit, q.offset, auth.filter),
      db.prepare(`SELECT COUNT(*) AS n FROM alerts WHERE ${where}`).bind(q.state, q.severity, q.bucket, null, null, auth.filter),
    ]);
    return json({
      alerts: rows.results.map(describeAlert),
      total: total.results[0].n,
      limit: q.limit,
      offset: q.offset,
      user: auth.filter,
    });
  }, { role: 'readonly', scope: 'alerts', user: true });

  // One alert with its history (the earlier episodes of the same rule and scope) and the
  // notifications sent about it: what a notification's link (/alerts/<id>) shows. Registered
  // after the fixed /api/alerts/... routes. A user reaches only their own alerts (404 otherwise).
  router.on('GET', '/api/alerts/:id', async (request, params, rt, _ctx, auth) => {
    const { user: _named, ...rest } = queryOf(request);
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) throw new HttpError('invalid_query', `unknown query parameter ${unknown}`, { field: unknown });
    const db = rt.env.DB;
    const row = await db
      .prepare('SELECT * FROM alerts WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2)')
      .bind(params.id, auth.filter)
      .first();
    if (!row) throw new HttpError('not_found', `no alert with id ${params.id}`, { field: 'id' });
    const [history, notifications] = await db.batch([
      db
        .prepare(
          `SELECT * FROM alerts WHERE fingerprint = ?1 AND id != ?2 AND (?3 IS NULL OR user_id = ?3)
            ORDER BY updated_at_ms DESC, id DESC LIMIT 50`,
        )
        .bind(row.fingerprint, row.id, auth.filter),
      db
        .prepare(
          `SELECT o.key, o.channel, o.channel_type, o.kind, o.status, o.attempts, o.created_at_ms,
                  (SELECT MAX(n.at_ms) FROM alert_notifications n WHERE n.notification_key = o.key) AS last_attempt_at_ms,
                  (SELECT n.error FROM alert_notifications n WHERE n.notification_key = o.key
                     ORDER BY n.at_ms DESC, n.id DESC LIMIT 1) AS last_error
             FROM alert_outbox o
            WHERE EXISTS (SELECT 1 FROM json_each(o.alert_ids_json) j WHERE j.value = ?1)
            ORDER BY o.created_at_ms DESC, o.key LIMIT 50`,
        )
        .bind(row.id),
    ]);
    return json({
      alert: describeAlert(row),
      history: history.results.map(describeAlert),
      notifications: notifications.results,
    });
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
