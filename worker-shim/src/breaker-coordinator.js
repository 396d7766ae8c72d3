// One circuit breaker state for every isolate (issue #17, item 4). A Durable Object per bucket
// (BreakerCoordinator, binding BREAKERS) holds the authoritative breaker: its own engine runs the
// same core breaker, fed with every isolate's calls. Each isolate keeps its own breaker (judging
// its own calls at once, so R2 stays protected when the object cannot be reached), reports its
// calls to the object off the request path (waitUntil), and adopts the object's transitions.
// Every rule (when to sync, how a remote transition is adopted, when the object opens, what
// /api/health says) is the core's (core/breaker/shared-breaker.h); this file only moves data.
import { DurableObject, waitUntil } from 'cloudflare:workers';
import wasmModule from '../../build/wasm/r2watch.wasm';
import { Engine } from './engine.js';
import { ask } from './http.js';
import { BREAKER_ID } from './runtime.js';
import { readSavedBreakerOptions } from './db/breaker.js';

/** The object name of a bucket's shared breaker. */
export function sharedBreakerName(bucket) {
  return `breaker:${bucket}`;
}

/** The shared breaker's object for `bucket`, or null where the BREAKERS binding is absent. */
export function sharedBreakerStub(env, bucket) {
  if (!env.BREAKERS) return null;
  return env.BREAKERS.get(env.BREAKERS.idFromName(sharedBreakerName(bucket)));
}

const RECENT_TRANSITIONS = 50;

export class BreakerCoordinator extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.engine = null;
    this.lastSaveMs = 0;
  }

  /** The engine holding the shared breaker: from this object's storage, or new with the options in D1. */
  async #engine() {
    if (this.engine && !this.engine.broken) return this.engine;
    await this.ctx.blockConcurrencyWhile(async () => {
      if (this.engine && !this.engine.broken) return;
      const now = Date.now();
      const engine = new Engine(wasmModule, now);
      const saved = await this.ctx.storage.get('breaker');
      if (saved) {
        ask({ engine }, 'breaker_shared_load', saved, now);
      } else {
        // A new shared breaker takes the options the isolates saved (PUT .../config).
        const options = await readSavedBreakerOptions(this.env.DB, BREAKER_ID);
        ask({ engine }, 'breaker_shared_load', options ? `{"options":${options}}` : {}, now);
        this.engine = engine;
        await this.#save(now);
      }
      this.engine = engine;
    });
    return this.engine;
  }

  /** Keeps the breaker (and its transitions) in storage: at once after a transition, else every 10 s. */
  async #save(now, force = true) {
    if (!force && now - this.lastSaveMs < 10_000) return;
    const { transitions, ...saved } = ask(this, 'breaker_shared_save', {}, now);
    const recent = transitions.length ? ((await this.ctx.storage.get('recent')) ?? []) : null;
    const writes = { breaker: saved };
    if (recent) writes.recent = [...transitions.reverse(), ...recent].slice(0, RECENT_TRANSITIONS);
    await this.ctx.storage.put(writes);
    this.lastSaveMs = now;
  }

  async #run(command, input) {
    const engine = await this.#engine();
    const now = Date.now();
    try {
      return { now, answer: ask({ engine }, command, input, now) };
    } catch (e) {
      if (engine.broken) this.engine = null; // rebuilt from storage on the next call
      throw e;
    }
  }

  /** An isolate's report ({calls, local_state, local_since_ms, dropped_calls}) -> the shared state. */
  async report(report) {
    const { now, answer } = await this.#run('breaker_shared_report', { report });
    await this.#save(now, answer.pending_transitions > 0);
    return { shared: answer.shared };
  }

  /** The shared breaker as admins see it: state, generation, figures, options, recent transitions. */
  async view() {
    const { answer } = await this.#run('breaker_shared_state', {});
    return { ...answer, recent_transitions: (await this.ctx.storage.get('recent')) ?? [] };
  }

  /** An operator's reset, force_open or disable. */
  async command(action) {
    const { now, answer } = await this.#run('breaker_shared_command', { action });
    await this.#save(now);
    return answer;
  }

  /** New breaker options (the fields of PUT /api/health/circuit-breaker/config). */
  async configure(options) {
    const { now, answer } = await this.#run('breaker_shared_configure', options);
    await this.#save(now);
    return answer;
  }
}

/** Settles with `promise`, or rejects after `ms`. */
function within(promise, ms) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * An isolate's link to its bucket's shared breaker. `poll(now)` is all the request path does:
 * compare a number, and start a sync in the background when the core said one is due.
 */
export class SharedBreakerLink {
  /** @param {() => DurableObjectStub} stubOf a new stub per call (a stub belongs to the request that made it) */
  constructor(rt, stubOf, status) {
    this.rt = rt;
    this.stubOf = stubOf;
    this.nextSyncMs = status.next_sync_ms;
    this.timeoutMs = status.call_timeout_ms;
    this.inFlight = null;
    this.again = false;
  }

  /** Hot path: starts a background sync when one is due. */
  poll(nowMs) {
    if (nowMs >= this.nextSyncMs && !this.inFlight) this.kick();
  }

  /** Starts a sync now, off the request path (after the one in flight, if any). */
  kick() {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = this.sync().finally(() => {
      this.inFlight = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
    try {
      waitUntil(this.inFlight);
    } catch {
      // Outside a request (a test harness): the promise runs on by itself.
    }
    return this.inFlight;
  }

  /** Sends this isolate's calls and state, adopts the answer. Never throws. */
  async sync() {
    // Nothing of it runs inside the caller's turn: the report is built while the request that
    // started it waits on R2.
    await null;
    try {
      const { report, next_sync_ms } = ask(this.rt, 'breaker_sync_take', {}, Date.now());
      this.nextSyncMs = next_sync_ms;
      let answer;
      try {
        answer = await within(this.stubOf().report(report), this.timeoutMs);
      } catch (e) {
        this.#failed(e);
        return;
      }
      await this.#adopt(answer.shared);
    } catch (e) {
      console.error(`r2watch: shared breaker sync failed: ${e.message}`);
    }
  }

  async #adopt(shared) {
    const adopted = ask(this.rt, 'breaker_sync_answer', { shared }, Date.now());
    this.nextSyncMs = adopted.next_sync_ms;
    if (adopted.pending_transitions > 0) {
      await this.rt.persistBreaker().catch((e) => console.error(`r2watch: breaker transition not saved: ${e.message}`));
    }
    return adopted;
  }

  #failed(e) {
    const status = ask(this.rt, 'breaker_sync_failed', { error: String(e?.message ?? e) }, Date.now());
    this.nextSyncMs = status.next_sync_ms;
    console.error(`r2watch: shared breaker unreachable, this isolate's own breaker guards R2: ${e?.message ?? e}`);
  }

  /** Syncs now and waits for it (health and admin routes, not the request path). */
  async syncNow() {
    if (this.inFlight) await this.inFlight;
    await this.kick();
  }

  /**
   * Hands an operator's change (reset, force_open, disable, or new options) to the shared
   * breaker and adopts its answer. Answers the shared state, or {error} when the object could
   * not be reached (the local breaker has the change either way).
   */
  async operator({ action, options }) {
    try {
      const answer = await within(
        action ? this.stubOf().command(action) : this.stubOf().configure(options),
        this.timeoutMs,
      );
      await this.#adopt({ state: answer.state, since_ms: answer.since_ms, generation: answer.generation });
      return { state: answer.state, since_ms: answer.since_ms, generation: answer.generation };
    } catch (e) {
      this.#failed(e);
      return { error: `the shared breaker could not be reached: ${e?.message ?? e}` };
    }
  }

  /** The shared breaker's view (admin route), or {error}. */
  async view() {
    try {
      return await within(this.stubOf().view(), this.timeoutMs);
    } catch (e) {
      return { error: `the shared breaker could not be reached: ${e?.message ?? e}` };
    }
  }
}
