// Cron dispatch: one scheduled handler, one job table keyed by the cron expression in
// wrangler.toml. Every job is also callable by an admin over HTTP (/api/admin/jobs/...).
import { collectMetrics, rollUp, enforceRetention } from './metrics.js';
import { runProbeRound, pruneHealthChecks } from './monitor.js';
import { pruneSecurityCounters } from './security.js';

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
  return {
    rollups,
    retention,
    health_checks: await pruneHealthChecks(rt, scheduledTime),
    security: await pruneSecurityCounters(rt, scheduledTime),
  };
}

export const JOBS = {
  '*/5 * * * *': { name: 'collect-metrics', run: collect },
  '0 0 * * *': { name: 'daily', run: daily },
};

export async function runScheduled(controller, rt) {
  const job = JOBS[controller.cron];
  if (!job) {
    console.warn(`r2watch: no job for cron ${controller.cron}`);
    return;
  }
  await job.run(rt, controller.scheduledTime);
}
