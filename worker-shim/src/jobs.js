// Cron dispatch: one scheduled handler, one job table keyed by the cron expression in
// wrangler.toml. Every job is also callable by an admin over HTTP (/api/admin/jobs/...).
import { collectMetrics } from './metrics.js';
import { scheduleProbes } from './monitor.js';
import { costSnapshot } from './cost-month.js';
import { dueReports } from './reports.js';
import { checkAlerts } from './alerts.js';
import { startRun, finishRun, dropRun, jobHistory, recentRuns } from './db/jobs.js';
import { HttpError, ask, json } from './http.js';
import { collectAccount } from './account.js';
import { logJob } from './log.js';
import { backupStep } from './backup.js';
import { startDaily, dailyStep, pendingDailyWork } from './daily.js';

/**
 * Saves the breaker's window (a cold start keeps its figures, not just its state), makes sure
 * the probe scheduler's alarm runs (or, without it, runs a probe round unless monitoring is
 * stopped or checkInterval has not passed), then flushes, rolls up the hours and walks the
 * inventory. (The day rollup is a step of the day's work, made by the offset 5-minute cron.)
 */
async function collect(rt, scheduledTime) {
  await rt.persistBreaker(scheduledTime);
  const probes = await scheduleProbes(rt, scheduledTime);
  const metrics = await collectMetrics(rt, scheduledTime, { days: false });
  return { probes, ...metrics };
}

/**
 * Daily at 00:00 UTC: starts the day's work (daily.js), which the offset 5-minute cron
 * (account-analytics) makes in steps:
 * the day rollup, retention of minute rows and expired reservations (metrics) and of security
 * counters, the retention of every other growing table (archive.js: past their period, archived
 * to R2 and then deleted, or deleted), the reports due (daily; weekly on Mondays; monthly on the
 * 1st: the core decides), and a backup of D1 to R2. A step that fails is tried again by the next
 * run, then given up (the rest goes on); when the work is finished, a run of this job made by
 * the run that finished it says so (summary.finished; an error naming what was given up).
 */
async function daily(rt, scheduledTime) {
  return startDaily(rt, scheduledTime);
}

/** Every 6 hours: a snapshot of the month's bill and forecast. */
async function cost(rt, scheduledTime) {
  await rt.flushMetrics();
  return costSnapshot(rt, scheduledTime);
}

/**
 * The 1st of each month: last month's report. Retired from wrangler.toml (the free plan's 5
 * crons; the day's work makes it on the 1st); kept for configurations that still list it (the
 * same period replaces, and is delivered once).
 */
async function monthly(rt, scheduledTime) {
  const reports = await dueReports(rt, scheduledTime, ['monthly']);
  if (reports.failed.length) throw new Error(`reports not made: ${reports.failed.join('; ')}`);
  return { reports: reports.made };
}

/** Every minute: evaluate alert rules; send, retry and escalate notifications. */
async function alertsJob(rt, scheduledTime) {
  return checkAlerts(rt, scheduledTime);
}

/**
 * Every 5 minutes (offset from collect-metrics): the account's operations and storage from
 * Cloudflare's GraphQL Analytics API (off without CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN),
 * then one step of the day's work under way (daily.js: the day rollup, retention, reports and
 * backup, one bounded step per run; this cron's own work is the lighter of the two 5-minute
 * ones, so a run with a step stays within the 10 ms CPU limit); with none, the next step of a
 * backup an admin started (backup.js). A collector that fails does not stop the step.
 */
async function accountAnalytics(rt, scheduledTime) {
  let account;
  let failure = null;
  try {
    account = await collectAccount(rt, scheduledTime);
  } catch (e) {
    failure = e;
  }
  const daily = await dailyStep(rt, scheduledTime, { trigger: 'cron', cron: DAILY_STEPS_CRON });
  const backup = daily === null ? await backupStep(rt, scheduledTime, 'continue') : undefined;
  if (failure) throw failure;
  return { ...account, daily, backup };
}

// The cron whose runs make the steps of the day's work.
const DAILY_STEPS_CRON = '2-59/5 * * * *';

// The cron expressions of wrangler.toml's [triggers] and the job each runs ('*/1' is the same
// schedule as '* * * * *', kept for old configurations). `retired`: no longer in wrangler.toml
// (Workers' free plan allows 5 crons per account), run when an old configuration still lists
// it, and not in the schedule heartbeats are judged by.
export const JOBS = {
  '* * * * *': { name: 'check-alerts', run: alertsJob },
  '*/1 * * * *': { name: 'check-alerts', run: alertsJob },
  '*/5 * * * *': { name: 'collect-metrics', run: collect },
  '2-59/5 * * * *': { name: 'account-analytics', run: accountAnalytics },
  '0 0 * * *': { name: 'daily', run: daily },
  '0 */6 * * *': { name: 'cost', run: cost },
  '0 0 1 * *': { name: 'monthly', run: monthly, retired: true },
};

/** Each job once, with the schedule it runs on: what the engine judges heartbeats against. */
export function jobSchedule() {
  const seen = new Set();
  const schedule = [];
  for (const [cron, job] of Object.entries(JOBS)) {
    if (job.retired || seen.has(job.name)) continue;
    seen.add(job.name);
    schedule.push({ name: job.name, cron });
  }
  return schedule;
}

/**
 * Runs a job with its heartbeat: a row when it starts, completed with the outcome, duration and
 * what it did when it ends (or with the error when it throws; the error is thrown on), and one
 * log line (log.js). A heartbeat that cannot be written never stops the job itself.
 */
export async function withHeartbeat(rt, { job, trigger, cron = null, scheduledMs, refused = () => false }, run) {
  const db = rt.env.DB;
  const startedMs = Date.now();
  let id = null;
  try {
    id = await startRun(db, { job, trigger, cron, scheduledMs, startedMs });
  } catch (e) {
    console.error(`r2watch: heartbeat of ${job} not written: ${e.message}`);
  }
  const finish = async (outcome, summary, error) => {
    const endedMs = Date.now();
    logJob(rt.engine, { startMs: startedMs, job, trigger, ok: outcome === 'ok', durationMs: endedMs - startedMs, error });
    if (id === null) return;
    try {
      await finishRun(db, id, { outcome, endedMs, durationMs: endedMs - startedMs, summary, error });
    } catch (e) {
      console.error(`r2watch: heartbeat of ${job} not completed: ${e.message}`);
    }
  };
  try {
    const summary = await run();
    await finish('ok', summary ?? null, null);
    return summary;
  } catch (e) {
    if (refused(e)) {
      // The request was refused before the job did anything (bad input): no run to record.
      if (id !== null) await dropRun(db, id).catch((err) => console.error(`r2watch: heartbeat of ${job} not dropped: ${err.message}`));
      throw e;
    }
    await finish('error', null, String(e?.message ?? e).slice(0, 1000));
    throw e;
  }
}

const JOB_ROUTE_PREFIX = '/api/admin/jobs/';
// A job's summary larger than this is recorded as its size only.
const MAX_SUMMARY_CHARS = 16_000;

async function summaryOf(response) {
  if (!(response.headers.get('content-type') ?? '').includes('application/json')) return { status: response.status };
  const text = await response.clone().text();
  if (text.length > MAX_SUMMARY_CHARS) return { status: response.status, summary_chars: text.length };
  try {
    return JSON.parse(text);
  } catch {
    return { status: response.status };
  }
}

/**
 * Gives every `POST /api/admin/jobs/<job>` route a heartbeat, as the cron has: a row in job_runs
 * (trigger 'http', job '<job>') completed with the route's JSON answer or its error. A request
 * refused for its input (4xx) records no run. `/api/admin/jobs/scheduled` runs the cron's own
 * handler, which records its run itself. Call once, after every route is registered.
 */
export function addJobRouteHeartbeats(router) {
  for (const route of router.routes) {
    if (route.method !== 'POST' || !route.pattern.startsWith(JOB_ROUTE_PREFIX)) continue;
    if (route.pattern === `${JOB_ROUTE_PREFIX}scheduled`) continue;
    const job = route.pattern.slice(JOB_ROUTE_PREFIX.length);
    const handler = route.handler;
    route.handler = async (request, params, rt, ctx, auth) => {
      let response;
      await withHeartbeat(
        rt,
        { job, trigger: 'http', scheduledMs: Date.now(), refused: (e) => e instanceof HttpError && e.status < 500 },
        async () => {
          response = await handler(request, params, rt, ctx, auth);
          if (response.status >= 500) throw new Error(`${job} answered ${response.status}`);
          return summaryOf(response);
        },
      );
      return response;
    };
  }
}

export async function runScheduled(controller, rt) {
  const job = JOBS[controller.cron];
  if (!job) {
    console.warn(`r2watch: no job for cron ${controller.cron}`);
    return;
  }
  await withHeartbeat(
    rt,
    { job: job.name, trigger: 'cron', cron: controller.cron, scheduledMs: controller.scheduledTime },
    () => job.run(rt, controller.scheduledTime),
  );
}

/** Every job's schedule and standing (the engine's jobs_status over the heartbeats). */
export async function jobsStatus(rt, nowMs) {
  const schedule = jobSchedule();
  const { history } = await jobHistory(rt.env.DB, schedule.map((j) => j.name), nowMs);
  // The day's work not finished makes job "daily" late past its deadline (core/ops/daily.h).
  const dailyWork = await pendingDailyWork(rt.env.DB);
  return ask(rt, 'jobs_status', { schedule, history, daily_work: dailyWork }, nowMs);
}

/** What /api/health hands the engine about the jobs (null when D1 cannot say). */
export async function jobsForHealth(rt, nowMs) {
  const schedule = jobSchedule();
  const { history } = await jobHistory(rt.env.DB, schedule.map((j) => j.name), nowMs);
  return { schedule, history };
}

export function registerJobRoutes(router) {
  // One step of the day's work under way (what the 5-minute cron makes after its own work):
  // {day, action, task, complete, ...}, or {action: 'idle'} when there is none.
  router.on('POST', '/api/admin/jobs/daily-step', async (request, _params, rt) => {
    for (const name of new URL(request.url).searchParams.keys()) {
      throw new HttpError('invalid_query', `unknown query parameter ${name}`, { field: name });
    }
    return json((await dailyStep(rt, Date.now(), { trigger: 'http', cron: null })) ?? { action: 'idle' });
  }, { role: 'admin' });

  // Every job: schedule, last run, last success, next due time, missed runs; and recent runs.
  router.on('GET', '/api/admin/jobs', async (request, _params, rt) => {
    const now = Date.now();
    const query = ask(rt, 'jobs_runs_query', Object.fromEntries(new URL(request.url).searchParams), now);
    const status = await jobsStatus(rt, now);
    const runs = await recentRuns(rt.env.DB, query.job, query.limit);
    return json({ ...status, recent_runs: runs });
  }, { role: 'admin' });
}
