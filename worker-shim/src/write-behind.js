// Writes behind the answers: what a request changes in D1 but need not wait for (counters, audit
// rows, stored-object records, token last use) is queued in the isolate and written after the
// response (ctx.waitUntil), in batches of at most write_behind_max_statements statements (the
// engine's rule, core/security/policy.h). Each batch is one D1 transaction whose first
// statement stores the batch's id: a batch that fails is kept whole and sent again, first, with
// the next flush, and one that D1 had applied before its answer was lost fails on its id and
// changes nothing, so no row is written twice and no counter counts twice.
//
// Counters are merged per (kind, subject, window) before they are written (one statement adds
// n), and the isolate keeps, per counter, the count D1 last answered plus what it has not
// written yet: the estimate a rate decision is made on (src/auth.js).
//
// The queue belongs to the isolate, not to a runtime: an engine that traps is replaced, the
// writes it queued are not lost.
import { batchApplied, counterAdd, isBatchApplied } from './db/security.js';

/**
 * One queued write.
 * @typedef {{build: (db: D1Database) => D1PreparedStatement[], done?: (results: D1Result[]) => void}} Item
 */

class Counter {
  constructor(kind, subject, windowStartMs) {
    this.kind = kind;
    this.subject = subject;
    this.windowStartMs = windowStartMs;
    this.open = 0; // counted, not yet in a batch
    this.inflight = 0; // in a batch not yet applied
    this.known = 0; // the count D1 last answered
    this.onCount = null; // told the count after each applied batch
  }

  estimate() {
    return this.known + this.inflight + this.open;
  }
}

export class WriteBehind {
  constructor() {
    /** @type {Item[]} */
    this.open = [];
    /** @type {Map<string, Counter>} */
    this.counters = new Map();
    this.latestWindow = new Map(); // kind -> newest window start counted
    /** Batches cut and not yet applied, oldest first: {id, items, counts: [{counter, n}]}. */
    this.batches = [];
    this.flushing = null;
    this.failedWrites = 0; // batches that failed (each is kept and sent again)
    this.lastError = null;
    this.lastErrorAtMs = null;
    this.written = 0; // batches applied
  }

  /** Queues one write. */
  add(item) {
    this.open.push(item);
  }

  /**
   * Counts one more in a fixed-window counter; `onCount(count)` hears D1's count after the
   * batch holding it is applied. Answers the estimate (this isolate's view, this one included).
   */
  count(kind, subject, windowStartMs, onCount = null) {
    const key = `${kind}\u0000${subject}\u0000${windowStartMs}`;
    let c = this.counters.get(key);
    if (!c) {
      c = new Counter(kind, subject, windowStartMs);
      this.counters.set(key, c);
      if ((this.latestWindow.get(kind) ?? -Infinity) < windowStartMs) this.latestWindow.set(kind, windowStartMs);
    }
    c.open += 1;
    if (onCount) c.onCount = onCount;
    return c.estimate();
  }

  /** The estimate of a counter without counting (0 when unknown). */
  estimate(kind, subject, windowStartMs) {
    return this.counters.get(`${kind}\u0000${subject}\u0000${windowStartMs}`)?.estimate() ?? 0;
  }

  /**
   * Writes the open counts of some counters now, in a batch of their own (the request waits:
   * a rate decision near its limit). Answers each counter's exact count (D1's, plus what this
   * isolate has in batches not yet applied), or null when D1 failed (the counts stay queued).
   */
  async confirm(db, keys, nowMs) {
    const counters = keys.map(([kind, subject, windowStartMs]) => this.counters.get(`${kind}\u0000${subject}\u0000${windowStartMs}`));
    const taken = counters.map((c) => c?.open ?? 0);
    const id = crypto.randomUUID();
    const statements = [batchApplied(db, id, nowMs)];
    counters.forEach((c, i) => {
      if (c && taken[i] > 0) statements.push(counterAdd(db, c.kind, c.subject, c.windowStartMs, taken[i]));
    });
    counters.forEach((c, i) => {
      if (c) c.open -= taken[i];
    });
    try {
      const results = await db.batch(statements);
      let at = 1;
      return counters.map((c, i) => {
        if (!c) return null;
        if (taken[i] > 0) c.known = results[at++].results[0].count;
        return c.known + c.inflight + c.open;
      });
    } catch (e) {
      counters.forEach((c, i) => {
        if (c) c.open += taken[i];
      });
      this.#failed(e, nowMs);
      return null;
    }
  }

  /** Writes queued, batches not yet applied. */
  pending() {
    let counts = 0;
    for (const c of this.counters.values()) counts += c.open > 0 ? 1 : 0;
    return this.open.length + counts + this.batches.length;
  }

  /** What /api/health shows. */
  stats() {
    let writes = this.open.length;
    for (const c of this.counters.values()) writes += c.open > 0 ? 1 : 0;
    for (const b of this.batches) writes += b.items.length + b.counts.length;
    return {
      pending_writes: writes,
      pending_batches: this.batches.length,
      failed_writes: this.failedWrites,
      written_batches: this.written,
      last_error: this.lastError,
      last_error_at: this.lastErrorAtMs === null ? null : new Date(this.lastErrorAtMs).toISOString(),
    };
  }

  /**
   * Writes everything queued, batch by batch, until nothing is left or a batch fails (it is
   * kept, with every later one, for the next flush). Never throws. One flush at a time: a call
   * while one runs joins it, and what was queued meanwhile is written in the same run.
   */
  flush(db, maxStatements) {
    this.flushing ??= this.#run(db, maxStatements).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  /** Waits for a flush of what is queued now (read-your-writes before a read of D1). */
  async settle(db, maxStatements) {
    if (this.flushing) await this.flushing;
    if (this.pending()) await this.flush(db, maxStatements);
  }

  async #run(db, maxStatements) {
    for (;;) {
      this.#cut(db, maxStatements);
      const batch = this.batches[0];
      if (!batch) return;
      if (!(await this.#send(db, batch))) return;
      this.batches.shift();
    }
  }

  // Moves the open writes into batches of at most `maxStatements` statements.
  #cut(db, maxStatements) {
    const room = Math.max(2, maxStatements) - 1; // the batch id takes one
    let batch = null;
    const next = () => {
      batch = { id: crypto.randomUUID(), items: [], counts: [], size: 0 };
      this.batches.push(batch);
    };
    for (const c of this.counters.values()) {
      if (c.open === 0) continue;
      if (!batch || batch.size >= room) next();
      batch.counts.push({ counter: c, n: c.open });
      batch.size += 1;
      c.inflight += c.open;
      c.open = 0;
    }
    for (const item of this.open) {
      // An item's statements are built when it is sent; its size is known by building once.
      const size = item.size ?? (item.size = item.build(db).length);
      if (!batch || (batch.size + size > room && batch.size > 0)) next();
      batch.items.push(item);
      batch.size += size;
    }
    this.open = [];
    // Counters of past windows that are fully written are of no more use.
    for (const [key, c] of this.counters) {
      if (c.open === 0 && c.inflight === 0 && c.windowStartMs < this.latestWindow.get(c.kind)) this.counters.delete(key);
    }
  }

  async #send(db, batch) {
    const now = Date.now();
    const statements = [batchApplied(db, batch.id, now)];
    for (const { counter, n } of batch.counts) {
      statements.push(counterAdd(db, counter.kind, counter.subject, counter.windowStartMs, n));
    }
    const spans = batch.items.map((item) => {
      const built = item.build(db);
      const span = [statements.length, built.length];
      statements.push(...built);
      return span;
    });
    let results;
    try {
      results = await db.batch(statements);
    } catch (e) {
      if (!isBatchApplied(e)) {
        this.#failed(e, now);
        return false;
      }
      results = null; // applied before, its answer lost: nothing to write, nothing to learn
    }
    this.written += 1;
    batch.counts.forEach(({ counter, n }, i) => {
      counter.inflight -= n;
      const count = results?.[1 + i]?.results?.[0]?.count;
      if (typeof count === 'number') {
        counter.known = Math.max(counter.known, count);
        safely(() => counter.onCount?.(count));
      }
    });
    batch.items.forEach((item, i) => {
      if (results && item.done) safely(() => item.done(results.slice(spans[i][0], spans[i][0] + spans[i][1])));
    });
    return true;
  }

  #failed(e, nowMs) {
    this.failedWrites += 1;
    this.lastError = String(e?.message ?? e);
    this.lastErrorAtMs = nowMs;
    console.error(`r2watch: writes behind not written (kept, sent again with the next): ${this.lastError}`);
  }
}

function safely(fn) {
  try {
    fn();
  } catch (e) {
    console.error(`r2watch: after a write behind: ${e?.message ?? e}`);
  }
}

/** The isolate's queue. */
export const writes = new WriteBehind();
