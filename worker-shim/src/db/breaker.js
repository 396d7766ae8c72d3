// The breaker's saved state in D1 (migrations/0001_circuit_breaker.sql), as the shared breaker
// (worker-shim/src/breaker-coordinator.js) reads it. The isolates' own save and load of it are
// the runtime's (worker-shim/src/runtime.js).

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
