-- The circuit breaker guarding R2: its transitions, its saved state, and injected faults.

-- Every breaker transition with the figures it was decided on. A transition is identified by
-- (breaker, at_ms, from_state, to_state): a retried write never stores it twice.
CREATE TABLE IF NOT EXISTS circuit_breaker_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  breaker TEXT NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  reason TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  calls INTEGER NOT NULL,
  failures INTEGER NOT NULL,
  slow_calls INTEGER NOT NULL,
  failure_rate_pct REAL,
  slow_call_rate_pct REAL,
  consecutive_failures INTEGER NOT NULL,
  ema_response_ms REAL
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_circuit_breaker_events_identity
  ON circuit_breaker_events (breaker, at_ms, from_state, to_state);

-- The latest state of each breaker (options and a versioned snapshot), restored on a cold start.
CREATE TABLE IF NOT EXISTS circuit_breaker_state (
  breaker TEXT PRIMARY KEY,
  options_json TEXT NOT NULL,
  snapshot_json TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL
);

-- Faults injected by an admin where FAULT_INJECTION is on (one row).
CREATE TABLE IF NOT EXISTS fault_injection (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  faults_json TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
