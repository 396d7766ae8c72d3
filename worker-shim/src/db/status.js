// The status page in D1 (migrations/0019_status_page.sql): probe tallies for uptime, incidents
// (alerts an admin made public) and their updates. The SQL of worker-shim/src/status.js, and the
// tally statements the health monitor adds to each probe round's batch.

/**
 * Statements that recompute the tallies of the hours and days a probe round touched, from the
 * stored checks (hours) and the hour rows (days): replace semantics, so a retried round or a
 * re-run never counts twice. Added to the round's batch after its checks are inserted.
 * @param {D1Database} db
 * @param {{hour_ms: number, day_ms: number, hours_from_ms: number, hours_until_ms: number,
 *   days_from_ms: number, days_until_ms: number}} tally the periods the engine chose
 *   (health_round_evaluate's `tally`)
 */
export function tallyStatements(db, tally, nowMs) {
  // Bound numbers may reach SQLite as REAL: CAST makes the period arithmetic integer division.
  return [
    db
      .prepare(
        `INSERT INTO status_probe_counts (period, start_ms, operation, trigger, status, checks, updated_at_ms)
         SELECT 'hour', (checked_at_ms / CAST(?4 AS INTEGER)) * CAST(?4 AS INTEGER) AS hour,
                operation, trigger, status, COUNT(*), ?3
           FROM r2_health_checks
          WHERE checked_at_ms >= ?1 AND checked_at_ms < ?2
          GROUP BY hour, operation, trigger, status
         ON CONFLICT (period, start_ms, operation, trigger, status) DO UPDATE SET
           checks = excluded.checks, updated_at_ms = excluded.updated_at_ms`,
      )
      .bind(tally.hours_from_ms, tally.hours_until_ms, nowMs, tally.hour_ms),
    db
      .prepare(
        `INSERT INTO status_probe_counts (period, start_ms, operation, trigger, status, checks, updated_at_ms)
         SELECT 'day', (start_ms / CAST(?4 AS INTEGER)) * CAST(?4 AS INTEGER) AS day,
                operation, trigger, status, SUM(checks), ?3
           FROM status_probe_counts
          WHERE period = 'hour' AND start_ms >= ?1 AND start_ms < ?2
          GROUP BY day, operation, trigger, status
         ON CONFLICT (period, start_ms, operation, trigger, status) DO UPDATE SET
           checks = excluded.checks, updated_at_ms = excluded.updated_at_ms`,
      )
      .bind(tally.days_from_ms, tally.days_until_ms, nowMs, tally.day_ms),
  ];
}

/**
 * What the page is made of: the tallies of its windows ([period, start_ms, operation, trigger,
 * status, checks] rows), the published incidents not resolved before `incidentsFromMs`, and
 * their updates ([incident_id, status, message, posted_at_ms] rows).
 */
export async function readStatusPage(db, { hoursFromMs, daysFromMs, incidentsFromMs }) {
  const [hours, days, incidents, updates] = await db.batch([
    db
      .prepare(
        `SELECT period, start_ms, operation, trigger, status, checks FROM status_probe_counts
          WHERE period = 'hour' AND start_ms >= ?`,
      )
      .bind(hoursFromMs),
    db
      .prepare(
        `SELECT period, start_ms, operation, trigger, status, checks FROM status_probe_counts
          WHERE period = 'day' AND start_ms >= ?`,
      )
      .bind(daysFromMs),
    db
      .prepare(
        `SELECT id, title, impact, status, published, started_at_ms, updated_at_ms, resolved_at_ms
           FROM status_incidents
          WHERE published = 1 AND (resolved_at_ms IS NULL OR resolved_at_ms >= ?)`,
      )
      .bind(incidentsFromMs),
    db
      .prepare(
        `SELECT u.incident_id, u.status, u.message, u.posted_at_ms
           FROM status_incident_updates u JOIN status_incidents i ON i.id = u.incident_id
          WHERE i.published = 1 AND (i.resolved_at_ms IS NULL OR i.resolved_at_ms >= ?)
          ORDER BY u.posted_at_ms`,
      )
      .bind(incidentsFromMs),
  ]);
  const raw = (r) => r.results.map((row) => Object.values(row));
  return {
    tallies: [...raw(hours), ...raw(days)],
    incidents: incidents.results.map((r) => ({ ...r, published: r.published === 1 })),
    updates: raw(updates),
  };
}

function incidentRow(r) {
  return r ? { ...r, published: r.published === 1 } : null;
}

/** The incident of alert `alertId` (published or not), or null. */
export async function incidentOfAlert(db, alertId) {
  return incidentRow(
    await db
      .prepare(
        `SELECT id, alert_id, title, impact, status, published, started_at_ms, updated_at_ms, resolved_at_ms
           FROM status_incidents WHERE alert_id = ?`,
      )
      .bind(alertId)
      .first(),
  );
}

/** The updates of an incident, newest first. */
export async function incidentUpdates(db, incidentId) {
  const { results } = await db
    .prepare(
      `SELECT status, message, posted_by, posted_at_ms FROM status_incident_updates
        WHERE incident_id = ? ORDER BY posted_at_ms DESC, id DESC`,
    )
    .bind(incidentId)
    .all();
  return results;
}

/** Stores an incident as the engine answered it, and its new update if any, in one batch. */
export async function saveIncident(db, alertId, incident, update, postedBy) {
  const statements = [
    db
      .prepare(
        `INSERT INTO status_incidents (id, alert_id, title, impact, status, published, started_at_ms,
           updated_at_ms, resolved_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, impact = excluded.impact,
           status = excluded.status, published = excluded.published,
           updated_at_ms = excluded.updated_at_ms, resolved_at_ms = excluded.resolved_at_ms`,
      )
      .bind(incident.id, alertId, incident.title, incident.impact, incident.status,
        incident.published ? 1 : 0, incident.started_at_ms, incident.updated_at_ms,
        incident.resolved_at_ms),
  ];
  if (update) {
    statements.push(
      db
        .prepare(
          `INSERT INTO status_incident_updates (incident_id, status, message, posted_by, posted_at_ms)
           VALUES (?, ?, ?, ?, ?)`,
        )
        .bind(incident.id, update.status, update.message, postedBy, update.posted_at_ms),
    );
  }
  await db.batch(statements);
}

/** Takes an alert's incident off the page (the row stays). Answers whether there was one. */
export async function unpublishIncident(db, alertId, nowMs) {
  const { meta } = await db
    .prepare('UPDATE status_incidents SET published = 0, updated_at_ms = ? WHERE alert_id = ? AND published = 1')
    .bind(nowMs, alertId)
    .run();
  return meta.changes > 0;
}

/** Whether alert `alertId` exists. */
export async function alertExists(db, alertId) {
  return (await db.prepare('SELECT 1 AS one FROM alerts WHERE id = ?').bind(alertId).first()) !== null;
}
