// Cron dispatch: one scheduled handler, one job table keyed by the cron expression in
// wrangler.toml. Jobs are added here as the features that own them land.

/** Saves the breaker's window so a cold start keeps its figures, not just its state. */
async function collectMetrics(rt, scheduledTime) {
  await rt.persistBreaker(scheduledTime);
}

export const JOBS = {
  '*/5 * * * *': { name: 'collect-metrics', run: collectMetrics },
};

export async function runScheduled(controller, rt) {
  const job = JOBS[controller.cron];
  if (!job) {
    console.warn(`r2watch: no job for cron ${controller.cron}`);
    return;
  }
  await job.run(rt, controller.scheduledTime);
}
