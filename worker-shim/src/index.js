// The r2watch Worker: routes HTTP requests and cron events to handlers that ask the engine
// (r2watch.wasm) for every decision. See worker-shim/README.md.
import { Router } from './router.js';
import { HttpError, errorResponse } from './http.js';
import { getRuntime, dropRuntime, isTrap, trapError } from './runtime.js';
import { registerStorageRoutes } from './storage.js';
import { registerHealthRoutes } from './health.js';
import { registerAdminRoutes } from './admin.js';
import { registerMetricsRoutes } from './metrics.js';
import { registerPrometheusRoute } from './prometheus.js';
import { registerMonitorRoutes } from './monitor.js';
import { registerCostRoutes } from './costs.js';
import { registerCostMonthRoutes } from './cost-month.js';
import { registerAlertRoutes } from './alerts.js';
import { runScheduled } from './jobs.js';

const router = new Router();
registerStorageRoutes(router);
registerHealthRoutes(router);
registerMonitorRoutes(router);
registerAdminRoutes(router);
registerMetricsRoutes(router);
registerPrometheusRoute(router);
registerCostRoutes(router);
registerCostMonthRoutes(router);
registerAlertRoutes(router);

async function handle(request, env, ctx) {
  const url = new URL(request.url);
  const { handler, params } = router.match(request.method, url.pathname);
  const rt = await getRuntime(env);
  try {
    return await handler(request, params, rt, ctx);
  } finally {
    // Minute rollups reach D1 shortly after the calls, without delaying the response.
    if (rt.engine.flushDue(Date.now())) {
      ctx.waitUntil(rt.flushMetrics().catch((e) => console.error(`r2watch: metrics flush failed: ${e.message}`)));
    }
  }
}

export default {
  async fetch(request, env, ctx) {
    try {
      return await handle(request, env, ctx);
    } catch (err) {
      if (err instanceof HttpError) return errorResponse(err);
      if (isTrap(err)) {
        dropRuntime();
        console.error(`r2watch: engine trapped: ${err.message}`);
        return errorResponse(trapError(err));
      }
      console.error(`r2watch: unhandled error: ${err?.stack ?? err}`);
      return errorResponse(new HttpError('internal_error', `internal error: ${err?.message ?? err}`));
    }
  },

  async scheduled(controller, env, ctx) {
    try {
      const rt = await getRuntime(env);
      await runScheduled(controller, rt, ctx);
    } catch (err) {
      if (isTrap(err)) dropRuntime();
      throw err;
    }
  },
};
