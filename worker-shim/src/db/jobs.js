// Job heartbeats in D1 (job_runs, job_registry): the only SQL of the jobs domain.

/** Records that a run started; answers its id. */
export async function startRun(db, { job, trigger, cron = null, scheduledMs, startedMs }) {
  const row = await db
    .prepare(
      `INSERT INTO job_runs (job, trigger, cron, scheduled_ms, started_ms, outcome)
       VALUES (?, ?, ?, ?, ?, 'running') RETURNING id`,
    )
    .bind(job, trigger, cron, scheduledMs, startedMs)
    .first();
  return row.id;
}

/** Completes a run: its outcome, duration and what it did (or why it failed). */
export async function finishRun(db, id, { outcome, endedMs, durationMs, summary = null, error = null }) {
  await db
    .prepare(
      `UPDATE job_runs SET outcome = ?, ended_ms = ?, duration_ms = ?, summary_json = ?, error = ?
        WHERE id = ?`,
    )
    .bind(outcome, endedMs, durationMs, summary === null ? null : JSON.stringify(summary), error, id)
    .run();
}

/** Removes a run that never started its work (a request refused for its input). */
export async function dropRun(db, id) {
  await db.prepare("DELETE FROM job_runs WHERE id = ? AND outcome = 'running'").bind(id).run();
}

/**
 * Each job's last run and last success, in the shape the engine's jobs_status reads, and when
 * r2watch first knew of the jobs (registered now when new).
 */
export async function jobHistory(db, jobNames, nowMs) {
  const results = await db.batch([
    ...jobNames.map((job) =>
      db.prepare('INSERT OR IGNORE INTO job_registry (job, first_seen_ms) VALUES (?, ?)').bind(job, nowMs),
    ),
    db.prepare('SELECT job, first_seen_ms FROM job_registry'),
    db.prepare(
      `SELECT r.job, r.started_ms, r.ended_ms, r.outcome FROM job_runs r
        WHERE r.id = (SELECT id FROM job_runs WHERE job = r.job ORDER BY started_ms DESC, id DESC LIMIT 1)`,
    ),
    db.prepare(`SELECT job, MAX(started_ms) AS started_ms FROM job_runs WHERE outcome = 'ok' GROUP BY job`),
  ]);
  const [registry, last, success] = results.slice(-3);
  return shape(registry, last, success);
}

function shape(registry, last, success) {
  const byJob = new Map();
  for (const r of last.results) {
    byJob.set(r.job, {
      job: r.job,
      last_started_ms: r.started_ms,
      last_ended_ms: r.ended_ms,
      last_outcome: r.outcome,
      last_success_ms: null,
    });
  }
  for (const r of success.results) {
    const entry = byJob.get(r.job) ?? { job: r.job };
    entry.last_success_ms = r.started_ms;
    byJob.set(r.job, entry);
  }
  for (const r of registry.results) {
    const entry = byJob.get(r.job) ?? { job: r.job };
    entry.known_since_ms = r.first_seen_ms;
    byJob.set(r.job, entry);
  }
  return { history: [...byJob.values()] };
}

/** The latest runs of one job (or of all), newest first. */
export async function recentRuns(db, job, limit) {
  const { results } = await db
    .prepare(
      `SELECT id, job, trigger, cron, scheduled_ms, started_ms, ended_ms, outcome, duration_ms, summary_json, error
         FROM job_runs WHERE (?1 IS NULL OR job = ?1) ORDER BY started_ms DESC, id DESC LIMIT ?2`,
    )
    .bind(job, limit)
    .all();
  return results.map((r) => ({ ...r, summary: r.summary_json ? JSON.parse(r.summary_json) : null, summary_json: undefined }));
}


// ---- the day's work in steps (daily_work, migration 0029; core/ops/daily.h) ----------------

/** Starts a day's work (the daily cron); answers whether it is new (a re-run starts nothing). */
export async function startDailyWork(db, day, startedMs) {
  const { meta } = await db
    .prepare('INSERT OR IGNORE INTO daily_work (day, started_ms) VALUES (?, ?)')
    .bind(day, startedMs)
    .run();
  return meta.changes > 0;
}

/**
 * The oldest day's work not finished, as D1 holds it (null: none), and `later`: how many later
 * days' work have started.
 */
export async function oldestDailyWork(db) {
  return db
    .prepare(
      `SELECT day, started_ms, done, failed, attempts, last_error, steps, summary_json, cursor, finished_ms,
              (SELECT COUNT(*) FROM daily_work l WHERE l.day > w.day) AS later
         FROM daily_work w WHERE finished_ms IS NULL ORDER BY day LIMIT 1`,
    )
    .first();
}

function saveStatement(db, { day, done, failed, attempts, lastError, steps, summary, cursor = null, finishedMs = null }) {
  return db
    .prepare(
      `UPDATE daily_work SET done = ?, failed = ?, attempts = ?, last_error = ?, steps = ?, summary_json = ?,
              cursor = ?, finished_ms = ? WHERE day = ?`,
    )
    .bind(JSON.stringify(done), JSON.stringify(failed), attempts, lastError, steps, JSON.stringify(summary), cursor, finishedMs, day);
}

/** Records a step of a day's work: the tasks done, failed attempts, what the tasks answered. */
export async function saveDailyWork(db, work) {
  await saveStatement(db, work).run();
}

/**
 * Records a day's work finished and, in the same batch (both or neither), the heartbeat that
 * says so: one completed run of `job`.
 */
export async function finishDailyWork(db, work, { job, trigger, cron, scheduledMs, startedMs, endedMs, outcome, summary, error }) {
  await db.batch([
    saveStatement(db, work),
    db
      .prepare(
        `INSERT INTO job_runs (job, trigger, cron, scheduled_ms, started_ms, ended_ms, outcome, duration_ms, summary_json, error)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(job, trigger, cron, scheduledMs, startedMs, endedMs, outcome, endedMs - scheduledMs, JSON.stringify(summary), error),
  ]);
}
