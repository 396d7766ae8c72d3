// Cron dispatch: one scheduled handler, one job table keyed by the cron expression in
// wrangler.toml. Every job is also callable by an admin over HTTP (/api/admin/jobs/...).
import { collectMetrics, rollUp, enforceRetention } from './metrics.js';
import { runProbeRound, pruneHealthChecks } from './monitor.js';
import { costSnapshot, buildReport, previousDay, previousMonth } from './cost-month.js';
import { checkAlerts } from './alerts.js';
import { pruneSecurityCounters } from './security.js';
import { collectAccount } from './account.js';

/**
 * Saves the breaker's window (a cold start keeps its figures, not just its state), runs a
 * health probe round (unless monitoring is stopped or checkInterval has not passed), then
 * flushes, rolls up and walks the inventory.
 */
async function collect(rt, scheduledTime) {
  await rt.persistBreaker(scheduledTime);
  const probes = await runProbeRound(rt, { trigger: 'scheduled', nowMs: scheduledTime });
  const metrics = await collectMetrics(rt, scheduledTime);
  return { probes, ...metrics };
}

/** Daily at 00:00 UTC: day rollups and retention of rollups, snapshots and health checks. */
async function daily(rt, scheduledTime) {
  await rt.flushMetrics();
  const rollups = await rollUp(rt, scheduledTime);
  const retention = await enforceRetention(rt, scheduledTime);
  const health_checks = await pruneHealthChecks(rt, scheduledTime);
  const security = await pruneSecurityCounters(rt, scheduledTime);
  const report = await buildReport(rt, 'daily', previousDay(scheduledTime), scheduledTime);
  return { rollups, retention, health_checks, security, daily_report: report.period };
}

/** Every 6 hours: a snapshot of the month's bill and forecast. */
async function cost(rt, scheduledTime) {
  await rt.flushMetrics();
  return costSnapshot(rt, scheduledTime);
}

/** The 1st of each month: last month's report. */
async function monthly(rt, scheduledTime) {
  const report = await buildReport(rt, 'monthly', previousMonth(scheduledTime), scheduledTime);
  return { monthly_report: report.period };
}

/** Every minute: evaluate alert rules; send, retry and escalate notifications. */
async function alertsJob(rt, scheduledTime) {
  return checkAlerts(rt, scheduledTime);
}

/**
 * Every 5 minutes (offset from collect-metrics): the account's operations and storage from
 * Cloudflare's GraphQL Analytics API (off without CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN).
 */
async function accountAnalytics(rt, scheduledTime) {
  return collectAccount(rt, scheduledTime);
}

export const JOBS = {
  '* * * * *': { name: 'check-alerts', run: alertsJob },
  '*/1 * * * *': { name: 'check-alerts', run: alertsJob },
  '*/5 * * * *': { name: 'collect-metrics', run: collect },
  '2-59/5 * * * *': { name: 'account-analytics', run: accountAnalytics },
  '0 0 * * *': { name: 'daily', run: daily },
  '0 */6 * * *': { name: 'cost', run: cost },
  '0 0 1 * *': { name: 'monthly', run: monthly },
};

export async function runScheduled(controller, rt) {
  const job = JOBS[controller.cron];
  if (!job) {
    console.warn(`r2watch: no job for cron ${controller.cron}`);
    return;
  }
  await job.run(rt, controller.scheduledTime);
}
