// D1 as the Worker sees it where fault injection is on (FAULT_INJECTION; never in production):
// every statement and every batch is one round trip through the engine's fault plan (target
// "d1": delayed, failed before it runs, or run with its answer lost), counted by lane in
// `traffic` (worker-shim/src/instrument.js reports them on each response).

/**
 * Figures of this isolate: D1 round trips per lane, time in R2 calls and request-lane D1, and
 * `d1AllMs`: the wall time of every D1 call of any lane (requests, writes behind, cron runs),
 * what the CPU benches subtract to judge the Worker's own CPU (on Cloudflare, D1 runs elsewhere).
 */
export const traffic = { request: 0, background: 0, r2Ms: 0, d1Ms: 0, d1AllMs: 0 };

const INNER = Symbol('r2watch.d1.statement');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function roundTrip(rt, lane, run) {
  traffic[lane]++;
  const started = Date.now();
  try {
    const engine = rt.engine;
    if (!engine.broken && engine.faultsActive()) {
      const delay = engine.d1FaultLatencyMs();
      if (delay > 0) await sleep(delay);
      const outcome = engine.d1Fault(Math.random());
      if (outcome === 1) throw new Error('injected D1 fault: the statement did not run');
      if (outcome === 2) {
        await run();
        throw new Error('injected D1 fault: the statement ran, its answer was lost');
      }
    }
    return await run();
  } finally {
    const spent = Date.now() - started;
    traffic.d1AllMs += spent;
    if (lane === 'request') traffic.d1Ms += spent;
  }
}

function statement(rt, lane, inner) {
  return {
    [INNER]: inner,
    bind: (...args) => statement(rt, lane, inner.bind(...args)),
    first: (column) => roundTrip(rt, lane, () => (column === undefined ? inner.first() : inner.first(column))),
    all: () => roundTrip(rt, lane, () => inner.all()),
    run: () => roundTrip(rt, lane, () => inner.run()),
    raw: (options) => roundTrip(rt, lane, () => inner.raw(options)),
  };
}

/** D1 `db` with the fault plan applied and its round trips counted under `lane`. */
export function instrumentD1(db, rt, lane) {
  return {
    prepare: (sql) => statement(rt, lane, db.prepare(sql)),
    batch: (statements) => roundTrip(rt, lane, () => db.batch(statements.map((s) => s[INNER] ?? s))),
    exec: (sql) => roundTrip(rt, lane, () => db.exec(sql)),
    dump: () => roundTrip(rt, lane, () => db.dump()),
    withSession: (...args) => db.withSession(...args),
  };
}
