// The health monitor and the breaker's audit trail in D1 (migrations/0003_health_monitor.sql,
// 0001_circuit_breaker.sql): the monitor's config and state, probe results and their hourly
// aggregates, service alerts, and the breaker's transitions. The SQL of worker-shim/src/monitor.js
// and health.js; the engine decides what to write (health_round_evaluate) and which rows to read.
import { tallyStatements } from './status.js';

// The monitor config's fields, which are also health_check_config's columns (flags as 0/1,
// test_operations as JSON text). The stored form handed to the engine carries the schema
// version (codec/health.h: 1 was camelCase, 2 is these names).
const CONFIG_VERSION = 2;
const CONFIG_COLUMNS = [
  ['check_interval_ms'],
  ['timeout_ms'],
  ['failure_threshold'],
  ['recovery_timeout_ms'],
  ['slow_response_threshold_ms'],
  ['enabled', 'flag'],
  ['test_operations', 'json'],
  ['alert_on_failure', 'flag'],
  ['alert_on_recovery', 'flag'],
  ['retention_days'],
];

function rowToConfig(row) {
  if (!row) return null; // the engine's defaults
  const config = { version: CONFIG_VERSION };
  for (const [column, kind] of CONFIG_COLUMNS) {
    const v = row[column];
    config[column] = kind === 'flag' ? v === 1 : kind === 'json' ? JSON.parse(v) : v;
  }
  return config;
}

/** The stored config (null: defaults) and the state carried between rounds (null: fresh). */
export async function readMonitor(db) {
  const [config, state] = await db.batch([
    db.prepare('SELECT * FROM health_check_config WHERE id = 1'),
    db.prepare('SELECT state_json FROM health_monitor_state WHERE id = 1'),
  ]);
  const stateRow = state.results[0];
  return {
    config: rowToConfig(config.results[0]),
    state: stateRow ? JSON.parse(stateRow.state_json) : null,
  };
}

/** The last probe round's summary, from the stored state, or null (none yet). */
export async function readLatestProbeRound(db) {
  const row = await db.prepare('SELECT state_json FROM health_monitor_state WHERE id = 1').first();
  return row ? (JSON.parse(row.state_json).last_round ?? null) : null;
}

/** Stores a config the engine has checked (health_config_update's `config`). */
export async function writeMonitorConfig(db, config, nowMs) {
  const columns = CONFIG_COLUMNS.map(([column]) => column);
  const values = CONFIG_COLUMNS.map(([column, kind]) => {
    const v = config[column];
    return kind === 'flag' ? (v ? 1 : 0) : kind === 'json' ? JSON.stringify(v) : v;
  });
  await db
    .prepare(
      `INSERT INTO health_check_config (id, ${columns.join(', ')}, updated_at_ms)
       VALUES (1, ${columns.map(() => '?').join(', ')}, ?)
       ON CONFLICT (id) DO UPDATE SET
         ${columns.map((c) => `${c} = excluded.${c}`).join(', ')},
         updated_at_ms = excluded.updated_at_ms`,
    )
    .bind(...values, nowMs)
    .run();
}

/**
 * Writes a judged round (health_round_evaluate's answer) in one batch: its checks, the hourly
 * aggregates and status-page tallies of the hours it touched (`round.tally`: the hour length
 * and the bounds the engine chose), the next state and the alerts its events open or resolve.
 */
export async function writeRound(db, round, nowMs) {
  const statements = round.checks.map((c) =>
    db
      .prepare(
        `INSERT OR IGNORE INTO r2_health_checks
           (round_id, trigger, operation, ok, status, response_time_ms, error, checked_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(round.round_id, round.trigger, c.operation, c.ok ? 1 : 0, c.status,
        c.response_time_ms, c.error, c.checked_at_ms),
  );
  if (round.tally) {
    const { hour_ms: hourMs, hours_from_ms: fromMs, hours_until_ms: untilMs } = round.tally;
    // Recomputed from the stored checks of the hours this round touched: idempotent. (Bound
    // numbers may reach SQLite as REAL: CAST keeps the hour arithmetic integer division.)
    statements.push(
      db
        .prepare(
          `INSERT INTO r2_operation_metrics (operation, hour_start_ms, checks, failures, slow,
             response_time_sum_ms, response_time_max_ms, updated_at_ms)
           SELECT operation, (checked_at_ms / CAST(?4 AS INTEGER)) * CAST(?4 AS INTEGER) AS hour,
                  COUNT(*), SUM(ok = 0), SUM(status = 'slow'), SUM(response_time_ms),
                  MAX(response_time_ms), ?3
             FROM r2_health_checks
            WHERE checked_at_ms >= ?1 AND checked_at_ms < ?2
            GROUP BY operation, hour
           ON CONFLICT (operation, hour_start_ms) DO UPDATE SET checks = excluded.checks,
             failures = excluded.failures, slow = excluded.slow,
             response_time_sum_ms = excluded.response_time_sum_ms,
             response_time_max_ms = excluded.response_time_max_ms,
             updated_at_ms = excluded.updated_at_ms`,
        )
        .bind(fromMs, untilMs, nowMs, hourMs),
    );
    // The status page's uptime tallies of the same hours and days (db/status.js).
    statements.push(...tallyStatements(db, round.tally, nowMs));
  }
  if (!round.ignored) {
    statements.push(
      db
        .prepare(
          `INSERT INTO health_monitor_state (id, state_json, updated_at_ms) VALUES (1, ?, ?)
           ON CONFLICT (id) DO UPDATE SET state_json = excluded.state_json,
             updated_at_ms = excluded.updated_at_ms`,
        )
        .bind(JSON.stringify(round.state), nowMs),
    );
  }
  for (const e of round.events) {
    if (e.action === 'open') {
      // At most one active alert per type (a partial unique index): a condition that stays
      // true, or a state lost between isolates, never opens a second one.
      statements.push(
        db
          .prepare(
            `INSERT OR IGNORE INTO service_alerts
               (type, severity, status, message, round_id, created_at_ms, updated_at_ms)
             VALUES (?, ?, 'active', ?, ?, ?, ?)`,
          )
          .bind(e.type, e.severity, e.message, round.round_id, e.at_ms, e.at_ms),
      );
    } else if (e.action === 'resolve') {
      statements.push(
        db
          .prepare(
            `UPDATE service_alerts SET status = 'resolved', resolved_at_ms = ?1,
               resolved_by = 'monitor', resolution_note = ?2, updated_at_ms = ?1
             WHERE type = ?3 AND status = 'active'`,
          )
          .bind(e.at_ms, e.message, e.type),
      );
    } else if (e.action === 'record') {
      statements.push(
        db
          .prepare(
            `INSERT INTO service_alerts (type, severity, status, message, round_id, created_at_ms,
               updated_at_ms, resolved_at_ms, resolved_by, resolution_note)
             VALUES (?, ?, 'resolved', ?, ?, ?, ?, ?, 'monitor', ?)`,
          )
          .bind(e.type, e.severity, e.message, round.round_id, e.at_ms, e.at_ms, e.at_ms,
            e.message),
      );
    }
  }
  await db.batch(statements);
}

/** A page of probe results and their total (health_history_query's checked values). */
export async function readProbeHistory(db, q) {
  const where = `checked_at_ms >= ?1 AND checked_at_ms <= ?2 AND (?3 IS NULL OR operation = ?3)`;
  const [rows, total] = await db.batch([
    db
      .prepare(
        `SELECT round_id, trigger, operation, ok, status, response_time_ms, error, checked_at_ms
           FROM r2_health_checks WHERE ${where}
          ORDER BY checked_at_ms DESC, id DESC LIMIT ?4 OFFSET ?5`,
      )
      .bind(q.from_ms, q.to_ms, q.operation, q.limit, q.offset),
    db.prepare(`SELECT COUNT(*) AS n FROM r2_health_checks WHERE ${where}`)
      .bind(q.from_ms, q.to_ms, q.operation),
  ]);
  return { rows: rows.results, total: total.results[0].n };
}

/** [operation, ok, response_time_ms] of every probe checked in [sinceMs, untilMs]. */
export async function readProbeChecks(db, sinceMs, untilMs) {
  return db
    .prepare(
      `SELECT operation, ok, response_time_ms FROM r2_health_checks
        WHERE checked_at_ms >= ? AND checked_at_ms <= ?`,
    )
    .bind(sinceMs, untilMs)
    .raw();
}

/** A page of service alerts, newest first (health_alerts_query's checked values). */
export async function readServiceAlerts(db, q) {
  const { results } = await db
    .prepare(
      `SELECT * FROM service_alerts WHERE (?1 IS NULL OR status = ?1)
        ORDER BY created_at_ms DESC, id DESC LIMIT ?2 OFFSET ?3`,
    )
    .bind(q.status, q.limit, q.offset)
    .all();
  return results;
}

/**
 * Resolves an active service alert by hand. Answers the alert's row after the change (null:
 * no such alert) and whether this call resolved it (false: it was resolved already).
 */
export async function resolveServiceAlert(db, id, note, nowMs) {
  const [update, after] = await db.batch([
    db
      .prepare(
        `UPDATE service_alerts SET status = 'resolved', resolved_at_ms = ?1,
           resolved_by = 'operator', resolution_note = ?2, updated_at_ms = ?1
         WHERE id = ?3 AND status = 'active'`,
      )
      .bind(nowMs, note, id),
    db.prepare('SELECT * FROM service_alerts WHERE id = ?').bind(id),
  ]);
  return { row: after.results[0] ?? null, resolved: update.meta.changes > 0 };
}

/** A cheap query that answers whether D1 is reachable. */
export async function pingDatabase(db) {
  await db.prepare('SELECT COUNT(*) AS n FROM circuit_breaker_state').first();
}

/** The breaker's latest transitions, newest first. */
export async function readBreakerTransitions(db, breaker, limit) {
  const { results } = await db
    .prepare(
      `SELECT from_state, to_state, reason, at_ms, calls, failures, slow_calls, failure_rate_pct,
              slow_call_rate_pct, consecutive_failures, ema_response_ms
         FROM circuit_breaker_events WHERE breaker = ? ORDER BY at_ms DESC, id DESC LIMIT ?`,
    )
    .bind(breaker, limit)
    .all();
  return results;
}
