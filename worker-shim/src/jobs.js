// Cron dispatch: one scheduled handler, one job table keyed by the cron expression in
// wrangler.toml. Jobs are added here as the features that own them land.
import { runProbeRound, pruneHealthChecks } from './monitor.js';

/**
 * Saves the breaker's window so a cold start keeps its figures, not just its state, then runs
 * a health probe round (unless monitoring is stopped or checkInterval has not passed).
 */
async function collectMetrics(rt, scheduledTime) {
  await rt.persistBreaker(scheduledTime);
  const probes = await runProbeRound(rt, { trigger: 'scheduled', nowMs: scheduledTime });
  return { probes };
}

/** Daily at 00:00 UTC: retention of health checks. */
async function daily(rt, scheduledTime) {
  return { health_checks: await pruneHealthChecks(rt, scheduledTime) };
}

export const JOBS = {
  '*/5 * * * *': { name: 'collect-metrics', run: collectMetrics },
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
