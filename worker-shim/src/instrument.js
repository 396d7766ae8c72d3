// Where fault injection is on (FAULT_INJECTION; never in production): D1 as the Worker sees it
// goes through the engine's fault plan (target "d1": every statement and every batch is one
// round trip, delayed, failed before it runs, or run with its answer lost) and every round trip
// is counted (the D1 wrapper is db/instrumented.js), by lane: `request` (what the client waits for) or `background` (writes behind the
// answer, the metrics flush). The R2 binding is timed. A response then says what it waited for
// (x-r2watch-d1-round-trips, server-timing r2/d1), which is what bench/js/request-path.mjs and
// worker-shim/test/request-path.test.mjs read: exact when one request is in flight at a time.
// Also the isolate's clock, which the plan may skew (target "clock": tests of time).
import { faultsEnabled } from './runtime.js';
import { instrumentD1, traffic, setReplay } from './db/instrumented.js';
import { dropHeldFigures } from './alert-round.js';

/** Now as the isolate's clock says (the fault plan's clock skew added where faults are on). */
export function clockNow(rt) {
  const now = Date.now();
  if (!faultsEnabled(rt.env) || rt.engine.broken) return now;
  return now + rt.engine.clockSkewMs();
}

const TIMED_R2 = new Set(['get', 'put', 'head', 'list', 'delete']);

/** The R2 binding with the time of each call (until it answers) added to traffic.r2Ms. */
export function instrumentR2(bucket) {
  return new Proxy(bucket, {
    get(target, name) {
      const value = Reflect.get(target, name, target);
      if (typeof value !== 'function') return value;
      if (!TIMED_R2.has(name)) return value.bind(target);
      return async (...args) => {
        const started = Date.now();
        try {
          return await value.apply(target, args);
        } finally {
          traffic.r2Ms += Date.now() - started;
        }
      };
    },
  });
}

/**
 * The env the runtime works with: D1 and R2 instrumented where fault injection is on, else
 * `env` itself. Returns {env, backgroundDb}.
 */
export function instrumentEnv(env, rt) {
  if (!faultsEnabled(env)) return { env, backgroundDb: env.DB };
  const overrides = { DB: { value: instrumentD1(env.DB, rt, 'request'), enumerable: true } };
  if (env.BUCKET) overrides.BUCKET = { value: instrumentR2(env.BUCKET), enumerable: true };
  return { env: Object.create(env, overrides), backgroundDb: instrumentD1(env.DB, rt, 'background') };
}

/**
 * A mark at the start of a request (null where faults are off). There, `x-r2watch-d1-replay:
 * on|off` turns the isolate's D1 replay on or off from this request on (db/instrumented.js: the
 * CPU benches' measure of the Worker's own CPU), and `x-r2watch-alert-held: drop` makes the next
 * check-alerts round make again what it would take from the last one (alert-round.js: the bench
 * of the minute after the account collector stored rows, which replay cannot show).
 */
export function traceStart(env, request) {
  if (!faultsEnabled(env)) return null;
  const replay = request?.headers.get('x-r2watch-d1-replay');
  if (replay === 'on' || replay === 'off') setReplay(replay === 'on');
  if (request?.headers.get('x-r2watch-alert-held') === 'drop') dropHeldFigures();
  return { request: traffic.request, r2Ms: traffic.r2Ms, d1Ms: traffic.d1Ms };
}

/**
 * Adds what the request waited for to its response: the D1 round trips of the request lane
 * since `mark`, and the time in R2 and D1 calls and the whole answer (`totalMs`, from the
 * request's arrival) as server-timing, ms; and the wall time of every D1 call of the isolate so
 * far (x-r2watch-d1-isolate-ms, all lanes, cron runs included).
 */
export function traceEnd(mark, response, totalMs) {
  if (!mark) return response;
  try {
    response.headers.set('x-r2watch-d1-round-trips', String(traffic.request - mark.request));
    // The isolate's D1 time so far, every lane (the CPU benches' "of which D1").
    response.headers.set('x-r2watch-d1-isolate-ms', String(traffic.d1AllMs));
    // Under replay: D1 calls answered from memory and calls that ran, so far.
    response.headers.set('x-r2watch-d1-replay', `replayed=${traffic.replayed}, missed=${traffic.missed}`);
    response.headers.set(
      'server-timing',
      `total;dur=${totalMs}, r2;dur=${traffic.r2Ms - mark.r2Ms}, d1;dur=${traffic.d1Ms - mark.d1Ms}`,
    );
  } catch {
    // immutable headers (a response passed through): nothing to add
  }
  return response;
}
