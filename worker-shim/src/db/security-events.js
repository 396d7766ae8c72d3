// Security events raised by the request gate (src/auth.js): failed authentications
// (auth_failures), excessive use (excessive_requests) and rate-limited answers (rate_limited).
// One row per (kind, subject, window); the only SQL that writes them.

/** Excessive use: the row keeps the highest count seen in the hour. */
export function excessiveRequestsEvent(db, { subject, windowStartMs, windowMs, count, limit, nowMs, ip, userAgent }) {
  return db
    .prepare(
      `INSERT INTO security_events (kind, subject, window_start_ms, count, threshold, first_at_ms, last_at_ms,
         details_json) VALUES ('excessive_requests', ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (kind, subject, window_start_ms) DO UPDATE SET count = MAX(count, excluded.count),
         last_at_ms = excluded.last_at_ms, details_json = excluded.details_json`,
    )
    .bind(subject, windowStartMs, count, limit, nowMs, nowMs, JSON.stringify({ ip, user_agent: userAgent, window_ms: windowMs }));
}

/** A rate-limited answer: counted per (subject, minute window); answers the count so far. */
export function rateLimitedEvent(db, { subject, windowStartMs, windowMs, limit, nowMs, ip, userAgent, limitedBy }) {
  return db
    .prepare(
      `INSERT INTO security_events (kind, subject, window_start_ms, count, threshold, first_at_ms, last_at_ms,
         details_json) VALUES ('rate_limited', ?, ?, 1, ?, ?, ?, ?)
       ON CONFLICT (kind, subject, window_start_ms) DO UPDATE SET count = count + 1,
         last_at_ms = excluded.last_at_ms, details_json = excluded.details_json
       RETURNING count`,
    )
    .bind(subject, windowStartMs, limit, nowMs, nowMs, JSON.stringify({ ip, user_agent: userAgent, limited_by: limitedBy, window_ms: windowMs }));
}

/** A failed-authentications event: the row keeps the highest count seen in the window. */
export function authFailuresEvent(db, { subject, windowStartMs, windowMs, count, threshold, nowMs, ip, userAgent, reason }) {
  return db
    .prepare(
      `INSERT INTO security_events (kind, subject, window_start_ms, count, threshold, first_at_ms,
         last_at_ms, details_json)
       VALUES ('auth_failures', ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (kind, subject, window_start_ms) DO UPDATE SET count = MAX(count, excluded.count),
         last_at_ms = excluded.last_at_ms, details_json = excluded.details_json`,
    )
    .bind(subject, windowStartMs, count, threshold, nowMs, nowMs, JSON.stringify({ ip, user_agent: userAgent, last_reason: reason, window_ms: windowMs }));
}
