// The day's work in steps (core/ops/daily.h). The daily cron only starts it (a row in D1's
// daily_work for the UTC day); the offset 5-minute cron (account-analytics, jobs.js) makes one
// step per run: the engine says which
// task is due next (day rollup, retention, security counters, table retention, each report due,
// the backup), this file runs one bounded step of it and records in D1 what is done, so a run
// that dies is redone by the next one (every step is idempotent) and a finished task is never
// run again. When every task is done, a heartbeat of job "daily" made by the run that finished
// it (summary.finished) says so.
import { rollUpDayStep, enforceRetention } from './metrics.js';
import { pruneSecurityCounters } from './security.js';
import { enforceTableRetention } from './archive.js';
import { reportStep } from './reports.js';
import { backupStep } from './backup.js';
import { startDailyWork, oldestDailyWork, saveDailyWork, finishDailyWork } from './db/jobs.js';
import { ask } from './http.js';

/** The engine's view of a daily_work row (null: none). */
export function workOf(row) {
  if (!row) return null;
  return {
    day: row.day,
    started_ms: row.started_ms,
    done: JSON.parse(row.done),
    failed: JSON.parse(row.failed),
    attempts: row.attempts,
    steps: row.steps,
    finished_ms: row.finished_ms,
  };
}

/** The oldest unfinished day's work, as the engine reads it (job lateness). */
export async function pendingDailyWork(db) {
  return workOf(await oldestDailyWork(db));
}

/** What the daily cron does: starts the day's work (the engine names the day). */
export async function startDaily(rt, nowMs) {
  const { day, started_ms: startedMs } = ask(rt, 'daily_start', {}, nowMs);
  const started = await startDailyWork(rt.env.DB, day, startedMs);
  return { day, started };
}

// Each task's step, at the work's start (`clockMs`), from where the step before left off
// (`cursor`, D1's text): {complete, summary, cursor?}; the summary goes under the key of the
// daily job's summary it always had.
const report = (type) => ({
  key: 'reports',
  // In steps (reportStep: cost section, budgets, the operations a day a step, then the report made and delivered). A
  // step redone makes the same report, which replaces the first and is delivered once.
  step: async (rt, clockMs, work, cursor) => {
    const r = await reportStep(rt, clockMs, type, cursor);
    return { complete: r.complete, cursor: r.cursor, summary: r.made };
  },
});

const TASKS = {
  day_rollup: {
    key: 'rollups',
    // One bucket a step (the engine's day_rollup_step), where it left off (`cursor`).
    step: async (rt, clockMs, work, cursor) => {
      const r = await rollUpDayStep(rt, clockMs, cursor);
      return { complete: r.complete, cursor: r.cursor, summary: { days: r.summary } };
    },
  },
  retention: { key: 'retention', step: async (rt, clockMs) => ({ complete: true, summary: await enforceRetention(rt, clockMs) }) },
  security: { key: 'security', step: async (rt, clockMs) => ({ complete: true, summary: await pruneSecurityCounters(rt, clockMs) }) },
  tables: {
    key: 'tables',
    step: async (rt, clockMs) => {
      const r = await enforceTableRetention(rt, clockMs);
      return { complete: !r.more, summary: r };
    },
  },
  report_daily: report('daily'),
  report_weekly: report('weekly'),
  report_monthly: report('monthly'),
  backup: {
    key: 'backup',
    // Named by the work's start, the day's 00:00 (".r2watch/backups/20261130T000000Z/"),
    // whichever run makes its steps.
    step: async (rt, clockMs) => {
      const r = await backupStep(rt, clockMs, 'start');
      return { complete: r.state === 'complete', summary: r };
    },
  },
};

/** Adds a step's summary to what its task answered before: counts add up, lists join. */
function addUp(before, next) {
  if (before === undefined || before === null) return next;
  if (typeof before === 'number' && typeof next === 'number') return before + next;
  if (Array.isArray(before) && Array.isArray(next)) return [...before, ...next];
  if (typeof before === 'object' && typeof next === 'object' && next !== null && !Array.isArray(before)) {
    const out = { ...before };
    // Times (`_ms`) are the step's own, not added up.
    for (const [k, v] of Object.entries(next)) out[k] = k.endsWith('_ms') ? v : addUp(before[k], v);
    return out;
  }
  return next;
}

async function finish(rt, row, work, summary, nowMs, by) {
  const db = rt.env.DB;
  const error = work.failed.length ? `tasks given up: ${work.failed.map((t) => `${t}: ${summary.errors?.[t] ?? 'failed'}`).join('; ')}` : null;
  const done = { day: work.day, finished: true, steps: work.steps, ...summary, failed: work.failed };
  const record = { day: work.day, done: work.done, failed: work.failed, attempts: 0, lastError: row.last_error, steps: work.steps, summary, finishedMs: nowMs };
  await finishDailyWork(db, record, {
    job: 'daily', trigger: by.trigger, cron: by.cron, scheduledMs: work.started_ms, startedMs: nowMs, endedMs: nowMs,
    outcome: error ? 'error' : 'ok', summary: done, error: error?.slice(0, 1000) ?? null,
  });
  return { day: work.day, action: 'finish', steps: work.steps, failed: work.failed };
}

/**
 * One step of the oldest unfinished day's work (the offset 5-minute cron; `POST
 * /api/admin/jobs/daily-step`). Answers null when there is nothing to do, else {day, action,
 * task, complete, summary} (or {error} when the step failed: it is tried again by the next run,
 * kDailyStepAttempts times in all, then given up). `by`: the trigger and cron of the run making
 * the step, recorded on the heartbeat of job "daily" that says the work is finished.
 */
export async function dailyStep(rt, nowMs, by) {
  const db = rt.env.DB;
  const row = await oldestDailyWork(db);
  const work = workOf(row);
  const next = ask(rt, 'daily_next', { work, later_started: (row?.later ?? 0) > 0 }, nowMs);
  if (next.action === 'idle') return null;
  const summary = JSON.parse(row.summary_json);
  if (next.action === 'finish') return finish(rt, row, work, summary, nowMs, by);
  const task = TASKS[next.task];
  const save = (changes) => saveDailyWork(db, {
    day: work.day, done: work.done, failed: work.failed, attempts: work.attempts, lastError: row.last_error, steps: work.steps, summary, cursor: row.cursor, ...changes,
  });
  if (next.action === 'skip') {
    // A later day's work makes it anew (a backup under way goes on there).
    work.done.push(next.task);
    summary.skipped = [...(summary.skipped ?? []), next.task];
    const lastTask = work.done.length === next.tasks.length;
    if (lastTask) await finish(rt, row, work, summary, nowMs, by);
    else await save({ attempts: 0, lastError: null, cursor: null });
    return { day: work.day, action: 'skip', task: next.task, finished: lastTask };
  }
  if (next.action === 'give_up') {
    work.done.push(next.task);
    work.failed.push(next.task);
    summary.errors = { ...summary.errors, [next.task]: row.last_error };
    await save({ attempts: 0, lastError: null, cursor: null });
    return { day: work.day, action: 'give_up', task: next.task, error: row.last_error };
  }
  let result;
  try {
    // Every task's clock is the work's start (00:00, as the daily cron made it in one run): a
    // step redone makes what the first made, and the retention cutoffs are the day's.
    result = await task.step(rt, work.started_ms, work, row.cursor);
  } catch (e) {
    const message = String(e?.message ?? e).slice(0, 1000);
    console.error(`r2watch: daily step ${next.task} of ${work.day} failed: ${message}`);
    await save({ attempts: work.attempts + 1, lastError: message, steps: work.steps + 1 });
    return { day: work.day, action: 'run', task: next.task, error: message };
  }
  work.steps += 1;
  summary[task.key] = addUp(summary[task.key], result.summary);
  if (result.complete) work.done.push(next.task);
  const last = result.complete && work.done.length === next.tasks.length;
  if (last) {
    await finish(rt, { ...row, last_error: null }, work, summary, nowMs, by);
  } else {
    await save(result.complete ? { attempts: 0, lastError: null, cursor: null } : { cursor: result.cursor ?? null });
  }
  return { day: work.day, action: 'run', task: next.task, tasks: next.tasks, complete: result.complete, finished: last, summary: result.summary };
}
