// The daily job deletes breaker transitions past their retention and archives security events
// past theirs (90 days each, core/ops/retention.h), one millisecond on each side of the cutoff,
// and keeps the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, runDailyWork, call } from './helpers.mjs';

const DAY_MS = 86_400_000;

test('the daily job deletes breaker events and archives security events older than 90 days, and keeps the rest', { timeout: 120_000 }, async () => {
  const w = await startWorker();
  try {
    const now = Date.UTC(2026, 10, 30);
    const cutoff = now - 90 * DAY_MS;
    const times = { old: cutoff - 1, edge: cutoff, recent: now - DAY_MS };
    for (const [name, at] of Object.entries(times)) {
      await w.db
        .prepare(
          `INSERT INTO circuit_breaker_events (breaker, from_state, to_state, reason, at_ms, calls, failures,
             slow_calls, consecutive_failures) VALUES ('r2', 'closed', 'open', ?, ?, 10, 6, 0, 3)`,
        )
        .bind(name, at)
        .run();
      await w.db
        .prepare(
          `INSERT INTO security_events (kind, subject, window_start_ms, count, threshold, first_at_ms, last_at_ms,
             details_json) VALUES ('auth_failures', ?, ?, 20, 10, ?, ?, '{}')`,
        )
        .bind(name, at, at, at)
        .run();
    }
    const daily = await runDailyWork(w, now);
    assert.equal(daily.start.outcome, 'ok');
    assert.equal(daily.finish.outcome, 'ok', JSON.stringify(daily.finish));
    const breaker = (await w.db.prepare('SELECT reason FROM circuit_breaker_events ORDER BY at_ms').all()).results.map((r) => r.reason);
    const security = (await w.db.prepare('SELECT subject FROM security_events ORDER BY last_at_ms').all()).results.map((r) => r.subject);
    assert.deepEqual(breaker, ['edge', 'recent']);
    assert.deepEqual(security, ['edge', 'recent']);
    const { tables } = daily.finish.summary;
    assert.equal(tables.deleted.circuit_breaker_events, 1);
    assert.equal(tables.archived.security_events, 1);
    assert.equal(tables.deleted.security_events, 1);
    // The security event went to R2 first (its month: the cutoff's month, 2026-09 or before).
    const month = new Date(times.old).toISOString().slice(0, 7);
    const archived = await call(w, 'GET', `/api/admin/archive/security_events/${month}`);
    assert.equal(archived.status, 200);
    assert.deepEqual(archived.body.rows.map((r) => r.subject), ['old']);
  } finally {
    await w.dispose();
  }
});
