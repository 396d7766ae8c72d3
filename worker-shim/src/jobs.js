// Cron dispatch: one scheduled handler, one job table keyed by the cron expression in
// wrangler.toml. Every job is also callable by an admin over HTTP (/api/admin/jobs/...).
import { collectMetrics, rollUp, enforceRetention } from './metrics.js';

/** Saves the breaker's window so a cold start keeps its figures, not just its state. */
async function collect(rt, scheduledTime) {
  await rt.persistBreaker(scheduledTime);
  return collectMetrics(rt, scheduledTime);
}

async function daily(rt, scheduledTime) {
  await rt.flushMetrics();
  const rollups = await rollUp(rt, scheduledTime);
  const retention = await enforceRetention(rt, scheduledTime);
  return { rollups, retention };
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
