// The breaker's saved state and transitions in D1 (migrations/0001_circuit_breaker.sql), as the
// isolates (worker-shim/src/runtime.js) and the shared breaker
// (worker-shim/src/breaker-coordinator.js) read and write them, and the saved fault plan.

/**
 * What a starting isolate restores, in one batch: the breaker's saved row ({options_json,
 * snapshot_json} or undefined) and the fault plan's ({faults_json} or undefined).
 */
export async function loadSavedState(db, breaker) {
  const [state, faults] = await db.batch([
    db.prepare('SELECT options_json, snapshot_json FROM circuit_breaker_state WHERE breaker = ?').bind(breaker),
    db.prepare('SELECT faults_json FROM fault_injection WHERE id = 1'),
  ]);
  return { breakerRow: state.results[0], faultRow: faults.results[0] };
}

/**
 * The statements that save the breaker: each transition (idempotent: keyed by breaker, at,
 * from, to, so a retried write never stores it twice) and the options and snapshot (a later
 * save wins).
 */
export function breakerSaveStatements(db, breaker, transitions, optionsJson, snapshotJson, nowMs) {
  const statements = transitions.map((t) =>
    db
      .prepare(
        `INSERT OR IGNORE INTO circuit_breaker_events
           (breaker, from_state, to_state, reason, at_ms, calls, failures, slow_calls,
            failure_rate_pct, slow_call_rate_pct, consecutive_failures, ema_response_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(
        breaker,
        t.from,
        t.to,
        t.reason,
        t.at_ms,
        t.figures.calls,
        t.figures.failures,
        t.figures.slow_calls,
        t.figures.failure_rate_pct,
        t.figures.slow_call_rate_pct,
        t.figures.consecutive_failures,
        t.figures.ema_response_ms,
      ),
  );
  statements.push(
    db
      .prepare(
        `INSERT INTO circuit_breaker_state (breaker, options_json, snapshot_json, updated_at_ms)
         VALUES (?, ?, ?, ?)
         ON CONFLICT (breaker) DO UPDATE SET options_json = excluded.options_json,
           snapshot_json = excluded.snapshot_json, updated_at_ms = excluded.updated_at_ms
         WHERE excluded.updated_at_ms >= circuit_breaker_state.updated_at_ms`,
      )
      .bind(breaker, optionsJson, snapshotJson, nowMs),
  );
  return statements;
}

/** Saves the fault plan as the engine answered it (`faults_get`: {"faults", "version"}). */
export async function saveFaultPlan(db, storedJson, nowMs) {
  await db
    .prepare(
      `INSERT INTO fault_injection (id, faults_json, updated_at_ms) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET faults_json = excluded.faults_json,
         updated_at_ms = excluded.updated_at_ms`,
    )
    .bind(storedJson, nowMs)
    .run();
}

/**
 * The options the isolates saved for `breaker` (PUT /api/health/circuit-breaker/config), as the
 * stored JSON text, or null when there are none (or D1 cannot be read: the defaults then).
 */
export async function readSavedBreakerOptions(db, breaker) {
  if (!db) return null;
  const row = await db
    .prepare('SELECT options_json FROM circuit_breaker_state WHERE breaker = ?')
    .bind(breaker)
    .first()
    .catch(() => null);
  return row ? row.options_json : null;
}
