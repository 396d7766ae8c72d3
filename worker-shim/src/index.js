// The r2watch Worker: routes HTTP requests and cron events to handlers that ask the engine
// (r2watch.wasm) for every decision. See worker-shim/README.md.
import { Router } from './router.js';
import { HttpError, errorResponse, json } from './http.js';
import { getRuntime, dropRuntime, isTrap, trapError } from './runtime.js';
import { registerStorageRoutes } from './storage.js';
import { registerHealthRoutes } from './health.js';
import { registerAdminRoutes } from './admin.js';
import { registerMetricsRoutes } from './metrics.js';
import { registerPrometheusRoute } from './prometheus.js';
import { registerMonitorRoutes } from './monitor.js';
import { registerCostRoutes } from './costs.js';
import { registerCostMonthRoutes } from './cost-month.js';
import { registerReportRoutes } from './reports.js';
import { registerAlertRoutes } from './alerts.js';
import { registerSecurityRoutes } from './security.js';
import { registerAccountRoutes } from './account.js';
import { registerSecretRoutes } from './secrets.js';
import { authenticate, audited, writeAudit, flushWrites } from './auth.js';
import { traceStart, traceEnd } from './instrument.js';
import { runScheduled, registerJobRoutes, addJobRouteHeartbeats, JOBS } from './jobs.js';
import { recentRuns } from './db/jobs.js';
import { logRequest } from './log.js';
import { registerBackupRoutes } from './backup.js';
import { registerArchiveRoutes } from './archive.js';
import { registerStatusRoutes } from './status.js';

const router = new Router();
registerStorageRoutes(router);
registerHealthRoutes(router);
registerMonitorRoutes(router);
registerAdminRoutes(router);
registerMetricsRoutes(router);
registerPrometheusRoute(router);
registerCostRoutes(router);
registerCostMonthRoutes(router);
registerReportRoutes(router);
registerAlertRoutes(router);
registerSecurityRoutes(router);
registerJobRoutes(router);
registerBackupRoutes(router);
registerArchiveRoutes(router);
registerSecretRoutes(router);
registerStatusRoutes(router);
// Local development only (ENVIRONMENT = "development"): runs a cron's job through this Worker's
// own scheduled handler, as Cloudflare would. wrangler 4.86's local trigger
// (/cdn-cgi/handler/scheduled) fails when the Worker also serves static assets
// (workers-sdk #9882), so `make dev` drives the schedule through this route instead
// (tools/dev-scheduler.mjs; docs/operations.md says why).
router.on('POST', '/api/admin/jobs/scheduled', async (request, _params, rt, ctx) => {
  if (rt.env.ENVIRONMENT !== 'development') {
    throw new HttpError('not_found', `no route for ${request.method} ${new URL(request.url).pathname}`);
  }
  const url = new URL(request.url);
  for (const name of url.searchParams.keys()) {
    if (!['cron', 'scheduled_time_ms'].includes(name)) {
      throw new HttpError('invalid_query', `unknown query parameter ${name}`, { field: name });
    }
  }
  const cron = url.searchParams.get('cron');
  if (!cron || !JOBS[cron]) {
    throw new HttpError('invalid_query', `cron must be one of wrangler.toml's crons: ${Object.keys(JOBS).join(', ')}`, { field: 'cron' });
  }
  const timeText = url.searchParams.get('scheduled_time_ms');
  if (timeText !== null && !/^\d{1,15}$/.test(timeText)) {
    throw new HttpError('invalid_query', 'scheduled_time_ms must be a time in ms', { field: 'scheduled_time_ms' });
  }
  const scheduledTime = timeText === null ? Date.now() : Number(timeText);
  await worker.scheduled({ cron, scheduledTime, noRetry() {} }, rt.env, ctx);
  const [run] = await recentRuns(rt.env.DB, JOBS[cron].name, 1);
  return json({ cron, job: JOBS[cron].name, run });
}, { role: 'admin' });
registerAccountRoutes(router);
// Every POST /api/admin/jobs/<job> records its run in job_runs, as the cron does.
addJobRouteHeartbeats(router);
// Every route and who may call it (the authorization matrix test walks this list).
router.on('GET', '/api/admin/routes', async () => json({ routes: router.list() }), { role: 'admin' });

/** `trace` learns the route, the runtime and the caller, for the request's log line. */
async function handle(request, env, ctx, trace) {
  const url = new URL(request.url);
  const { handler, params, access, pattern } = router.match(request.method, url.pathname);
  trace.route = pattern;
  const rt = await getRuntime(env);
  trace.rt = rt;
  trace.waited = traceStart(rt.env, request); // what the client waits for (where faults are on)
  let auth = null;
  try {
    if (!access.public) {
      try {
        auth = await authenticate(request, rt, access, url);
        trace.user = auth.user;
      } catch (err) {
        // A known caller refused (role, scope, another user's data) is audited.
        if (err instanceof HttpError && err.actor) {
          await auditSafely(rt, { auth: err.actor, request, url, pattern, params, status: err.status, message: err.message });
        }
        throw err;
      }
    }
    let response;
    try {
      response = await handler(request, params, rt, ctx, auth);
    } catch (err) {
      if (auth && audited(request.method, access)) {
        const status = err instanceof HttpError ? err.status : 500;
        await auditSafely(rt, { auth, request, url, pattern, params, status, message: err.message });
      }
      throw err;
    }
    // Also audited: an admin acting on another user's data (?user=).
    if (auth && (audited(request.method, access) || auth.subject !== auth.user)) {
      await auditSafely(rt, { auth, request, url, pattern, params, status: response.status });
    }
    return response;
  } catch (err) {
    // The engine broke in this request: drop it, and save what it had not flushed yet.
    if (isTrap(err) || rt.engine.broken) {
      ctx.waitUntil(dropRuntime(rt));
      if (!isTrap(err)) {
        console.error(`r2watch: engine broke during a request: ${err?.message ?? err}`);
        throw trapError(err);
      }
    }
    throw err;
  } finally {
    // Minute rollups reach D1 shortly after the calls, without delaying the response.
    if (!rt.engine.broken && rt.engine.flushDue(Date.now())) {
      ctx.waitUntil(rt.flushMetrics().catch((e) => console.error(`r2watch: metrics flush failed: ${e.message}`)));
    }
    // Counters, audit rows, stored-object records and token last use: behind the answer.
    flushWrites(rt, ctx);
  }
}

/** An audit row that cannot be written is logged; it never turns a done change into an error. */
async function auditSafely(rt, entry) {
  try {
    await writeAudit(rt, entry);
  } catch (e) {
    console.error(`r2watch: audit row not written (${entry.request.method} ${entry.pattern}): ${e.message}`);
  }
}

/** The request's log line (the engine writes it; a broken engine is replaced first). */
async function logRequestLine(request, env, trace, status) {
  let engine = trace.rt?.engine;
  if (!engine || engine.broken) {
    try {
      engine = (await getRuntime(env)).engine;
    } catch {
      engine = null;
    }
  }
  logRequest(engine, {
    startMs: trace.startMs,
    method: request.method,
    route: trace.route,
    status,
    durationMs: Date.now() - trace.startMs,
    requestId: request.headers.get('cf-ray'),
    user: trace.user,
  });
}

const worker = {
  async fetch(request, env, ctx) {
    const trace = { startMs: Date.now(), route: null, rt: null, user: null, waited: null };
    const response = await respond(request, env, ctx, trace);
    traceEnd(trace.waited, response, Date.now() - trace.startMs);
    if (trace.waited) modulesHeader(trace.rt?.engine, response);
    await logRequestLine(request, env, trace, response.status);
    return response;
  },

  async scheduled(controller, env, ctx) {
    let rt = null;
    try {
      rt = await getRuntime(env);
      await runScheduled(controller, rt, ctx);
      flushWrites(rt, ctx); // what requests left queued, if no request came since
    } catch (err) {
      if (rt && (isTrap(err) || rt.engine.broken)) ctx.waitUntil(dropRuntime(rt));
      throw err;
    }
  },
};

/**
 * Where fault injection is on: which wasm modules the isolate's engine has instantiated so far
 * (x-r2watch-modules: "r2watch" or "r2watch r2watch-console"), so a test can see that storage
 * calls alone never instantiate the console module.
 */
function modulesHeader(engine, response) {
  if (!engine) return;
  try {
    response.headers.set('x-r2watch-modules', engine.console ? `${engine.module} ${engine.console.module}` : engine.module);
  } catch {
    // immutable headers (a response passed through): nothing to add
  }
}

/** The response to a request, errors turned into their JSON answers. */
async function respond(request, env, ctx, trace) {
  try {
    return await handle(request, env, ctx, trace);
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
}

export default worker;
// The probe scheduler's Durable Object class (wrangler.toml: PROBES).
export { ProbeScheduler } from './probe-scheduler.js';
// The shared circuit breaker's Durable Object class (wrangler.toml: BREAKERS).
export { BreakerCoordinator } from './breaker-coordinator.js';
