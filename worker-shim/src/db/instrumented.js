// D1 as the Worker sees it where fault injection is on (FAULT_INJECTION; never in production):
// every statement and every batch is one round trip through the engine's fault plan (target
// "d1": delayed, failed before it runs, or run with its answer lost), counted by lane in
// `traffic` (worker-shim/src/instrument.js reports them on each response).

/**
 * Figures of this isolate: D1 round trips per lane, time in R2 calls and request-lane D1, and
 * `d1AllMs`: the wall time of every D1 call of any lane (requests, writes behind, cron runs),
 * what the CPU benches subtract to judge the Worker's own CPU (on Cloudflare, D1 runs elsewhere).
 */
export const traffic = { request: 0, background: 0, r2Ms: 0, d1Ms: 0, d1AllMs: 0, replayed: 0, missed: 0 };

// Replay (the CPU benches only, x-r2watch-d1-replay: on): local D1 runs inside workerd, so its
// CPU is in workerd's; on Cloudflare it runs elsewhere. With replay on, a D1 call met before (the
// same method, SQL and arguments) is answered from this isolate's memory (a structured clone,
// standing for the decoding of D1's answer that the Worker pays on Cloudflare too) without
// reaching D1, so workerd's CPU over such calls is the Worker's own. A call not met before runs
// (and is remembered); `missed` counts those. Writes are replayed too (not run), matched by
// their SQL alone (their arguments hold times: a token's last use, a counter's window): only
// for measuring a call that is repeated as it is. Reads whose arguments hold times relative to
// now match by those times' distance from now (replayArg).
const replay = { on: false, answers: new Map() };
const REPLAY_MAX = 5000;

/** Turns replay on or off (off forgets every answer). */
export function setReplay(on) {
  replay.on = on;
  if (!on) replay.answers.clear();
}

function replayKey(method, sqls) {
  return `${method}\u0000${JSON.stringify(sqls, replayArg)}`;
}

// A statement's argument as the replay matches it: a time in ms (an integer between 2001 and
// 2286) as its distance from now in whole minutes, so a read whose window moves with the clock
// (a cron's "since now - 30 minutes", run again a few seconds later) meets the answer recorded
// for the same window: the same rows, not fewer.
function replayArg(_key, value) {
  if (Number.isInteger(value) && value >= 1e12 && value < 1e13) return `t${Math.round((value - Date.now()) / 60_000)}`;
  return value;
}

async function replayed(key, run) {
  const known = replay.answers.get(key);
  if (known !== undefined) {
    traffic.replayed++;
    await null;
    return structuredClone(known);
  }
  traffic.missed++;
  const answer = await run();
  if (replay.answers.size < REPLAY_MAX) replay.answers.set(key, structuredClone(answer));
  return answer;
}

const INNER = Symbol('r2watch.d1.statement');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function roundTrip(rt, lane, run, key) {
  if (replay.on && key) return replayed(key, run);
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

const SQL = Symbol('r2watch.d1.sql');

function statement(rt, lane, inner, sql) {
  const key = (method, extra) => (replay.on ? replayKey(method, [sql, extra ?? null]) : null);
  return {
    [INNER]: inner,
    [SQL]: sql,
    bind: (...args) => statement(rt, lane, inner.bind(...args), [sql[0], args]),
    first: (column) =>
      roundTrip(rt, lane, () => (column === undefined ? inner.first() : inner.first(column)), key('first', column)),
    all: () => roundTrip(rt, lane, () => inner.all(), key('all')),
    run: () => roundTrip(rt, lane, () => inner.run(), replay.on ? replayKey('run', [sql[0]]) : null),
    raw: (options) => roundTrip(rt, lane, () => inner.raw(options), key('raw', options)),
  };
}

/** D1 `db` with the fault plan applied and its round trips counted under `lane`. */
export function instrumentD1(db, rt, lane) {
  return {
    prepare: (sql) => statement(rt, lane, db.prepare(sql), [sql, null]),
    batch: (statements) =>
      roundTrip(
        rt,
        lane,
        () => db.batch(statements.map((s) => s[INNER] ?? s)),
        replay.on && statements.every((s) => s[SQL]) ? replayKey('batch', statements.map((s) => s[SQL][0])) : null,
      ),
    exec: (sql) => roundTrip(rt, lane, () => db.exec(sql)),
    dump: () => roundTrip(rt, lane, () => db.dump()),
    withSession: (...args) => db.withSession(...args),
  };
}
