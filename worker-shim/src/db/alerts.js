// The alert engine's D1: rules, settings and the notice ledger (alert_config), states and the
// history (alert_states, alerts), silences, the outbox and its delivery attempts, the GitHub
// issues of alerts, and the rows of other tables a round reads as figures. Every SQL statement
// of src/alerts.js is here; the windows (since when a figure is read) come from the engine.

// ---- rules and configuration ---------------------------------------------------------------

/** Whether the configuration row exists, and the default rules installed so far (their ids). */
export async function installedDefaults(db) {
  const [config, installed] = await db.batch([
    db.prepare('SELECT defaults_installed_at_ms FROM alert_config WHERE id = 1'),
    db.prepare('SELECT id FROM alert_default_rules'),
  ]);
  return { configured: config.results.length > 0, ids: new Set(installed.results.map((r) => r.id)) };
}

/** Installs default rules (each once: a deleted default stays deleted) and the default settings. */
export async function installDefaults(db, rules, settings, nowMs) {
  const insertRule = db.prepare(
    `INSERT OR IGNORE INTO alert_rules (id, rule_json, enabled, created_at_ms, updated_at_ms)
     VALUES (?, ?, ?, ?, ?)`,
  );
  const remember = db.prepare('INSERT OR IGNORE INTO alert_default_rules (id, installed_at_ms) VALUES (?, ?)');
  await db.batch([
    ...rules.map((r) => insertRule.bind(r.id, JSON.stringify(r), r.enabled ? 1 : 0, nowMs, nowMs)),
    ...rules.map((r) => remember.bind(r.id, nowMs)),
    db
      .prepare(
        `INSERT OR IGNORE INTO alert_config (id, settings_json, ledger_json, defaults_installed_at_ms,
           updated_at_ms) VALUES (1, ?, NULL, ?, ?)`,
      )
      .bind(JSON.stringify(settings), nowMs, nowMs),
  ]);
}

const RULES = 'SELECT rule_json FROM alert_rules ORDER BY created_at_ms, id';
const SILENCES = 'SELECT silence_json FROM silences WHERE deleted_at_ms IS NULL AND ends_at_ms > ? ORDER BY starts_at_ms';

/**
 * What a check-alerts round reads before it asks the engine anything, in one round trip: the
 * configuration row (null before the defaults are installed), the ids of the default rules
 * installed so far, every rule (as rulesText), the silences in force at `nowMs` (as
 * silencesText), and the stamp of the account's stored figures: the collector's state and the
 * time it was written, which every step of the collector writes in the same batch as its rows
 * (db/account.js saveStep), so an unchanged stamp means unchanged account rows (null before
 * the collector's first run).
 */
export async function roundReads(db, nowMs) {
  const [config, installed, rules, silences, collector] = await db.batch([
    db.prepare(
      `SELECT defaults_installed_at_ms, settings_json, ledger_json, states_generation
         FROM alert_config WHERE id = 1`,
    ),
    db.prepare('SELECT id FROM alert_default_rules'),
    db.prepare(RULES),
    db.prepare(SILENCES).bind(nowMs),
    db.prepare('SELECT updated_at_ms, state_json FROM account_collector_state WHERE id = 1'),
  ]);
  const row = config.results[0];
  const stamp = collector.results[0];
  return {
    installed: { configured: row !== undefined, ids: new Set(installed.results.map((r) => r.id)) },
    config: { settings: row?.settings_json ?? null, ledger: row?.ledger_json ?? null, generation: row?.states_generation ?? 0 },
    rules: `[${rules.results.map((r) => r.rule_json).join(',')}]`,
    silences: `[${silences.results.map((r) => r.silence_json).join(',')}]`,
    accountStamp: stamp ? `${stamp.updated_at_ms}\u001f${stamp.state_json}` : null,
  };
}

/** Every rule as stored, as the JSON text of an array (oldest first). */
export async function rulesText(db) {
  const { results } = await db.prepare(RULES).all();
  return `[${results.map((r) => r.rule_json).join(',')}]`;
}

/** One rule's stored JSON text, or null. */
export async function ruleText(db, id) {
  const row = await db.prepare('SELECT rule_json FROM alert_rules WHERE id = ?').bind(id).first();
  return row?.rule_json ?? null;
}

export async function ruleIds(db) {
  const { results } = await db.prepare('SELECT id FROM alert_rules').all();
  return results.map((r) => r.id);
}

export async function saveRule(db, rule, nowMs) {
  await db
    .prepare(
      `INSERT INTO alert_rules (id, rule_json, enabled, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET rule_json = excluded.rule_json, enabled = excluded.enabled,
         updated_at_ms = excluded.updated_at_ms`,
    )
    .bind(rule.id, JSON.stringify(rule), rule.enabled ? 1 : 0, nowMs, nowMs)
    .run();
}

/** Deletes a rule; whether there was one. */
export async function deleteRule(db, id) {
  const { meta } = await db.prepare('DELETE FROM alert_rules WHERE id = ?').bind(id).run();
  return meta.changes > 0;
}

/**
 * The stored (sealed) settings and the notice ledger's JSON text, or nulls, and the generation
 * of the stored states (migration 0022).
 */
export async function configRow(db) {
  const row = await db
    .prepare('SELECT settings_json, ledger_json, states_generation FROM alert_config WHERE id = 1')
    .first();
  return { settings: row?.settings_json ?? null, ledger: row?.ledger_json ?? null, generation: row?.states_generation ?? 0 };
}

export async function saveSettings(db, sealedSettings, nowMs) {
  await db
    .prepare('UPDATE alert_config SET settings_json = ?, updated_at_ms = ? WHERE id = 1')
    .bind(sealedSettings, nowMs)
    .run();
}

// ---- silences ------------------------------------------------------------------------------

/** The silences not deleted that have not ended at `nowMs`, as the JSON text of an array. */
export async function silencesText(db, nowMs) {
  const { results } = await db.prepare(SILENCES).bind(nowMs).all();
  return `[${results.map((r) => r.silence_json).join(',')}]`;
}

export async function insertSilence(db, stored, nowMs) {
  await db
    .prepare(
      `INSERT INTO silences (id, kind, silence_json, starts_at_ms, ends_at_ms, comment, created_by, created_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(stored.id, stored.kind, JSON.stringify(stored), stored.starts_at_ms, stored.ends_at_ms,
      stored.comment, stored.created_by, nowMs)
    .run();
}

/** Marks a silence deleted; whether there was one. */
export async function deleteSilence(db, id, nowMs) {
  const { meta } = await db
    .prepare('UPDATE silences SET deleted_at_ms = ? WHERE id = ? AND deleted_at_ms IS NULL')
    .bind(nowMs, id)
    .run();
  return meta.changes > 0;
}

// ---- states and history --------------------------------------------------------------------

/** Every alert state, as the JSON text of an array. */
export async function statesText(db) {
  const { results } = await db.prepare('SELECT state_json FROM alert_states').all();
  return `[${results.map((r) => r.state_json).join(',')}]`;
}

/** The state JSON text of the active alert `alertId`, or null. */
export async function activeStateText(db, alertId) {
  const row = await db.prepare('SELECT s.state_json FROM alert_states s WHERE s.alert_id = ?').bind(alertId).first();
  return row?.state_json ?? null;
}

/** The history row's state of alert `id` (null when none, or not the user's when `userFilter`). */
export async function historyStateOf(db, id, userFilter) {
  const row = await db
    .prepare('SELECT state FROM alerts WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2)')
    .bind(id, userFilter)
    .first();
  return row?.state ?? null;
}

/** Statements storing changed states and their history rows ({state, alert} entries). */
export function stateStatements(db, entries, nowMs) {
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
    // The column is NOT NULL (migration 0005): nothing held back is stored as ''.
    out.push(
      upsertAlert.bind(a.id, a.fingerprint, a.rule_id, a.name, a.type, a.severity, a.state, a.bucket,
        a.prefix, a.user, a.value, a.threshold, a.detail, JSON.stringify(a.labels), a.started_at_ms,
        a.fired_at_ms, a.resolved_at_ms, a.acknowledged_at_ms, a.acknowledged_by, a.ack_note,
        a.resolved_by, a.resolve_note, a.escalation_level, a.muted_by ?? '', a.updated_at_ms),
    );
  }
  return out;
}

/**
 * Statements storing states of which only the value and detail changed ({fingerprint, alert_id,
 * value, detail} each, the kept round's "values"): the stored state and its history row.
 */
export function valueStatements(db, values, nowMs) {
  const state = db.prepare(
    `UPDATE alert_states SET state_json = json_set(state_json, '$.value', ?1, '$.detail', ?2,
       '$.updated_at_ms', ?3), updated_at_ms = ?3 WHERE fingerprint = ?4`,
  );
  const alert = db.prepare('UPDATE alerts SET value = ?1, detail = ?2, updated_at_ms = ?3 WHERE id = ?4');
  return values.flatMap((v) => [
    state.bind(v.value, v.detail, nowMs, v.fingerprint),
    ...(v.alert_id ? [alert.bind(v.value, v.detail, nowMs, v.alert_id)] : []),
  ]);
}

/**
 * Statements forgetting the states that carry nothing any more, and storing the ledger (unless
 * null: unchanged) and the round's generation: the last statement's `meta.changes` is 0 when the stored generation was
 * no longer `fromGeneration` (another writer came in between).
 */
export function roundStatements(db, dropped, ledger, fromGeneration) {
  return [
    ...dropped.map((fp) => db.prepare('DELETE FROM alert_states WHERE fingerprint = ?').bind(fp)),
    // null: the round left the ledger as stored.
    ...(ledger === null ? [] : [db.prepare('UPDATE alert_config SET ledger_json = ? WHERE id = 1').bind(JSON.stringify(ledger))]),
    db
      .prepare('UPDATE alert_config SET states_generation = ?2 WHERE id = 1 AND states_generation = ?1')
      .bind(fromGeneration, fromGeneration + 1),
  ];
}

/** A statement raising the stored states' generation (a state written outside a round). */
export function generationStatement(db) {
  return db.prepare('UPDATE alert_config SET states_generation = states_generation + 1 WHERE id = 1');
}

// A history row as the API answers it: labels parsed, user named, muted_by null when nothing
// was held back (stored as '').
function describeAlert(r) {
  const { labels_json: labels, user_id: user, muted_by: muted, ...rest } = r;
  return { ...rest, user, labels: JSON.parse(labels), muted_by: muted || null };
}

/** One page of the history (filters of the engine's alert_query), with the total. */
export async function alertsPage(db, q, userFilter) {
  const where = `(?1 IS NULL OR state = ?1) AND (?2 IS NULL OR severity = ?2) AND (?3 IS NULL OR bucket = ?3)
      AND (?6 IS NULL OR user_id = ?6)`;
  const [rows, total] = await db.batch([
    db
      .prepare(`SELECT * FROM alerts WHERE ${where} ORDER BY updated_at_ms DESC, id DESC LIMIT ?4 OFFSET ?5`)
      .bind(q.state, q.severity, q.bucket, q.limit, q.offset, userFilter),
    db.prepare(`SELECT COUNT(*) AS n FROM alerts WHERE ${where}`).bind(q.state, q.severity, q.bucket, null, null, userFilter),
  ]);
  return { alerts: rows.results.map(describeAlert), total: total.results[0].n };
}

/**
 * One alert with its earlier episodes and the notifications about it (at most the engine's
 * `historyLimit` and `notificationsLimit` of each, latest first), or null.
 */
export async function alertWithHistory(db, id, userFilter, { historyLimit, notificationsLimit }) {
  const row = await db
    .prepare('SELECT * FROM alerts WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2)')
    .bind(id, userFilter)
    .first();
  if (!row) return null;
  const [history, notifications] = await db.batch([
    db
      .prepare(
        `SELECT * FROM alerts WHERE fingerprint = ?1 AND id != ?2 AND (?3 IS NULL OR user_id = ?3)
          ORDER BY updated_at_ms DESC, id DESC LIMIT ?4`,
      )
      .bind(row.fingerprint, row.id, userFilter, historyLimit),
    db
      .prepare(
        `SELECT o.key, o.channel, o.channel_type, o.kind, o.status, o.attempts, o.created_at_ms,
                (SELECT MAX(n.at_ms) FROM alert_notifications n WHERE n.notification_key = o.key) AS last_attempt_at_ms,
                (SELECT n.error FROM alert_notifications n WHERE n.notification_key = o.key
                   ORDER BY n.at_ms DESC, n.id DESC LIMIT 1) AS last_error
           FROM alert_outbox o
          WHERE EXISTS (SELECT 1 FROM json_each(o.alert_ids_json) j WHERE j.value = ?1)
          ORDER BY o.created_at_ms DESC, o.key LIMIT ?2`,
      )
      .bind(row.id, notificationsLimit),
  ]);
  return {
    alert: describeAlert(row),
    history: history.results.map(describeAlert),
    notifications: notifications.results,
  };
}

// ---- outbox and delivery -------------------------------------------------------------------

/** Statements queueing notifications (a key already queued is kept: idempotent rounds). */
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

/** The keys of the outbox rows to send (the engine's alert_delivery_plan). */
export async function dueOutboxKeys(db, plan) {
  const { results } = await db
    .prepare(
      `SELECT key FROM alert_outbox
        WHERE (status IN ('pending', 'retry') AND next_attempt_at_ms <= ?1)
           OR (status = 'sending' AND updated_at_ms < ?2)
        ORDER BY created_at_ms, key LIMIT ?3`,
    )
    .bind(plan.due_by_ms, plan.lease_expired_before_ms, plan.batch)
    .all();
  return results.map((r) => r.key);
}

/** Claims one row for sending (only one run sends it); the row, or null when another run has it. */
export async function claimOutboxRow(db, key, plan) {
  const [claim, row] = await db.batch([
    db
      .prepare(
        `UPDATE alert_outbox SET status = 'sending', attempts = attempts + 1, updated_at_ms = ?1
          WHERE key = ?2 AND ((status IN ('pending', 'retry') AND next_attempt_at_ms <= ?1)
                              OR (status = 'sending' AND updated_at_ms < ?3))`,
      )
      .bind(plan.due_by_ms, key, plan.lease_expired_before_ms),
    db.prepare('SELECT * FROM alert_outbox WHERE key = ?').bind(key),
  ]);
  return claim.meta.changes === 1 ? row.results[0] : null;
}

/** Records one delivery attempt and what the engine said comes next. */
export async function recordAttempt(db, row, attempt, outcome, next, nowMs, atMs) {
  await db.batch([
    db
      .prepare(
        `INSERT OR IGNORE INTO alert_notifications (notification_key, channel, channel_type, kind, target,
           status, response_code, attempt, error, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(row.key, row.channel, row.channel_type, row.kind, outcome.target, outcome.ok ? 'sent' : 'failed',
        outcome.code, attempt, outcome.error, atMs),
    db
      .prepare('UPDATE alert_outbox SET status = ?, next_attempt_at_ms = ?, updated_at_ms = ? WHERE key = ?')
      .bind(next.status, next.next_attempt_at_ms ?? nowMs, nowMs, row.key),
  ]);
}

/** The latest delivery attempts and queued notifications, `limit` of each. */
export async function latestNotifications(db, limit) {
  const [attempts, outbox] = await db.batch([
    db.prepare('SELECT * FROM alert_notifications ORDER BY at_ms DESC, id DESC LIMIT ?').bind(limit),
    db
      .prepare(
        `SELECT key, channel, channel_type, kind, alert_ids_json, status, attempts, next_attempt_at_ms,
                created_at_ms FROM alert_outbox ORDER BY created_at_ms DESC, key LIMIT ?`,
      )
      .bind(limit),
  ]);
  return {
    attempts: attempts.results,
    notifications: outbox.results.map(({ alert_ids_json: ids, ...r }) => ({ ...r, alert_ids: JSON.parse(ids) })),
  };
}

// ---- the figures a round reads from other tables ---------------------------------------------

/** Inventory snapshots taken since `sinceMs`, by bucket (storage_growth's input). */
export async function inventorySnapshotsSince(db, sinceMs) {
  const { results } = await db
    .prepare(
      `SELECT bucket, taken_at_ms, objects, bytes FROM storage_inventory_snapshots
        WHERE taken_at_ms >= ? ORDER BY bucket, taken_at_ms`,
    )
    .bind(sinceMs)
    .all();
  const byBucket = new Map();
  for (const r of results) {
    if (!byBucket.has(r.bucket)) byBucket.set(r.bucket, []);
    byBucket.get(r.bucket).push({ taken_at_ms: r.taken_at_ms, objects: r.objects, bytes: r.bytes });
  }
  return byBucket;
}

/** The largest objects of each bucket's latest inventory snapshot. */
export async function largestObjects(db) {
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

/** Users' email addresses, by id. */
export async function userEmails(db) {
  const { results } = await db.prepare('SELECT id, email FROM users WHERE email IS NOT NULL').all();
  return new Map(results.map((u) => [u.id, u.email]));
}

/**
 * The security gate's per-client-address failed-authentication counters of windows starting at
 * `sinceMs` or later (each failure is counted once per address, so the credential counters are
 * left out).
 */
export async function authFailureCounters(db, sinceMs) {
  const { results } = await db
    .prepare(
      `SELECT window_start_ms, count FROM security_counters
        WHERE kind = 'auth_fail' AND subject LIKE 'ip:%' AND window_start_ms >= ?`,
    )
    .bind(sinceMs)
    .all();
  return results;
}

/** Each user's hourly request counters of windows starting after `sinceMs`. */
export async function requestCounters(db, sinceMs) {
  const { results } = await db
    .prepare(
      `SELECT subject, window_start_ms, count FROM security_counters
        WHERE kind = 'requests_hour' AND window_start_ms > ?`,
    )
    .bind(sinceMs)
    .all();
  return results.map((r) => ({ user: r.subject.replace(/^user:/, ''), window_start_ms: r.window_start_ms, count: r.count }));
}

// ---- GitHub issues of alerts (alert_github_issues) -------------------------------------------

/** The issue opened for `alertId` on `channel`, or null. */
export async function githubIssue(db, channel, alertId) {
  return db
    .prepare('SELECT issue_number, issue_url, closed_at_ms FROM alert_github_issues WHERE channel = ? AND alert_id = ?')
    .bind(channel, alertId)
    .first();
}

/** Remembers the issue GitHub opened for `alertId` on `channel` (a retry's answer replaces it). */
export async function rememberGithubIssue(db, { channel, alertId, repository, number, url, nowMs }) {
  await db
    .prepare(
      `INSERT INTO alert_github_issues (channel, alert_id, repository, issue_number, issue_url, opened_at_ms)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (channel, alert_id) DO UPDATE SET repository = excluded.repository,
         issue_number = excluded.issue_number, issue_url = excluded.issue_url,
         opened_at_ms = excluded.opened_at_ms, closed_at_ms = NULL`,
    )
    .bind(channel, alertId, repository, number, url, nowMs)
    .run();
}

/** Marks the issue of `alertId` on `channel` closed. */
export async function githubIssueClosed(db, channel, alertId, nowMs) {
  await db
    .prepare('UPDATE alert_github_issues SET closed_at_ms = ? WHERE channel = ? AND alert_id = ?')
    .bind(nowMs, channel, alertId)
    .run();
}
