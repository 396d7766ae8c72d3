// Event tables past their retention (the engine's events_retention cutoffs): the only SQL of it.

/** Deletes breaker transitions and security events older than the cutoffs; answers the counts. */
export async function pruneEvents(db, { circuit_breaker_events_before_ms: breakerBefore, security_events_before_ms: securityBefore }) {
  const [breaker, security] = await db.batch([
    db.prepare('DELETE FROM circuit_breaker_events WHERE at_ms < ?').bind(breakerBefore),
    db.prepare('DELETE FROM security_events WHERE last_at_ms < ?').bind(securityBefore),
  ]);
  return { circuit_breaker_events_deleted: breaker.meta.changes, security_events_deleted: security.meta.changes };
}
