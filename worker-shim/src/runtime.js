// The per-isolate runtime: one engine instance, loaded from D1 on a cold start and written
// back to D1 whenever the breaker changes state. Recreated from D1 after a wasm trap.
// The engine is r2watch.wasm (the request path), plus r2watch-console.wasm instantiated on the
// first command only it answers (src/engine.js): an isolate that serves storage calls only
// never instantiates the console.
import wasmModule from '../../build/wasm/r2watch.wasm';
import consoleModule from '../../build/wasm/r2watch-console.wasm';
import { Engine } from './engine.js';
import { HttpError, ask } from './http.js';
import { SharedBreakerLink, sharedBreakerStub } from './breaker-coordinator.js';
import { bucketName } from './storage.js';
import { instrumentEnv } from './instrument.js';
import { flushStatements } from './db/metrics.js';
import { breakerSaveStatements, loadSavedState, saveFaultPlan } from './db/breaker.js';
import { learnOwnPrefix } from './db/metrics.js';

/** The name the breaker guarding the R2 binding is stored under. */
export const BREAKER_ID = 'r2:BUCKET';

let current = null; // Promise<Runtime> for this isolate

export async function getRuntime(env) {
  if (current) {
    const rt = await current.catch(() => null);
    // An engine that broke in a call whose error was caught on the way is dropped here.
    if (rt?.engine.broken) dropRuntime(rt);
  }
  current ??= Runtime.load(env).catch((e) => {
    current = null;
    throw e;
  });
  return current;
}

/**
 * Drops the engine after a trap: the next request builds a new one from D1. The minute rollups
 * it had not flushed yet are salvaged when its memory still answers (see Runtime.salvage).
 */
export function dropRuntime(rt) {
  current = null;
  if (rt && !rt.dropped) {
    rt.dropped = true;
    return rt.salvage();
  }
  return Promise.resolve(0);
}

/** True for an error that means the wasm instance can no longer be trusted. */
export function isTrap(err) {
  return err instanceof WebAssembly.RuntimeError;
}

export function trapError(err) {
  return new HttpError(
    'engine_trap',
    `the r2watch engine stopped (${err.message}); it has been restarted from saved state, retry the request`,
  );
}

export class Runtime {
  constructor(env, engine) {
    this.env = env;
    this.engine = engine;
    // Minute rollups are stored under this engine's own id (replace semantics): a new engine
    // (new isolate, or after a trap) starts counting afresh under a new id.
    this.writer = crypto.randomUUID();
    this.flushing = null;
    this.metricsError = null;
    // Transitions taken from the engine but not yet written to D1 (kept for the next try).
    this.unsaved = [];
    this.loadError = null;
    // A security variable the engine refused (defaults apply) or the missing JWT_SECRET.
    this.securityErrors = [];
    // The link to the bucket's shared breaker (a Durable Object), where BREAKERS is bound.
    this.sharedBreaker = null;
    this.sharedOptionsText = null;
  }

  /**
   * Where the BREAKERS Durable Object is bound, every call this engine records is also
   * reported to the bucket's shared breaker, and its transitions are adopted (see
   * breaker-coordinator.js). Without the binding each isolate's breaker stands alone.
   */
  linkSharedBreaker(now) {
    if (!this.env.BREAKERS) return;
    const status = ask(this, 'breaker_sync_enable', {}, now);
    const env = this.env;
    this.sharedBreaker = new SharedBreakerLink(this, () => sharedBreakerStub(env, bucketName(env)), status);
    this.sharedOptionsText = JSON.stringify(ask(this, 'breaker_status', {}, now).options);
  }

  static async load(env) {
    const now = Date.now();
    const rt = new Runtime(env, new Engine(wasmModule, now, { console: consoleModule }));
    try {
      ask(rt, 'metrics_configure', metricsVars(env), now);
    } catch (e) {
      // A bad variable must not stop the Worker: defaults apply, /api/health says why.
      rt.metricsError = e.message;
      console.error(`r2watch: metrics settings refused, using defaults: ${e.message}`);
    }
    learnOwnPrefix(ask(rt, 'metrics_settings', {}, now));
    // Email channels without recipients or sender of their own use EMAIL_TO / EMAIL_FROM (a bad
    // value is refused by the engine and logged; such channels then fail to send, saying why).
    try {
      ask(rt, 'alert_configure', { EMAIL_TO: env.EMAIL_TO ?? '', EMAIL_FROM: env.EMAIL_FROM ?? '' }, now);
    } catch (e) {
      console.error(`r2watch: email defaults refused: ${e.message}`);
    }
    rt.configureSecurity(now);
    try {
      const { breakerRow: row, faultRow } = await loadSavedState(env.DB, BREAKER_ID);
      if (row) {
        ask(rt, 'breaker_restore', `{"options":${row.options_json},"snapshot":${row.snapshot_json}}`, now);
      }
      if (faultRow && faultsEnabled(env)) ask(rt, 'faults_restore', faultRow.faults_json, now);
    } catch (e) {
      // A database that cannot be read must not stop R2 traffic: start from defaults and say
      // so in /api/health.
      rt.loadError = e.message;
      console.error(`r2watch: could not load saved state from D1: ${e.message}`);
    }
    // Where fault injection is on, D1 goes through the fault plan and its round trips are
    // counted (src/instrument.js); writes behind the answers and the metrics flush use the
    // background lane.
    const seen = instrumentEnv(env, rt);
    rt.env = seen.env;
    rt.backgroundDb = seen.backgroundDb;
    rt.faultFreeDb = env.DB; // the fault plan itself is saved past its own D1 faults
    rt.linkSharedBreaker(now);
    return rt;
  }

  /**
   * Hands the security variables and JWT_SECRET to the engine. A refused variable leaves the
   * defaults in force and is reported by /api/health; a missing secret makes every protected
   * route answer 503 naming it.
   */
  configureSecurity(now) {
    const vars = {};
    for (const name of SECURITY_VARS) if (this.env[name] !== undefined) vars[name] = this.env[name];
    const str = (v) => (typeof v === 'string' ? v : null);
    const secrets = {
      jwt_secret: str(this.env.JWT_SECRET),
      secrets_key: str(this.env.SECRETS_KEY),
      secrets_key_previous: str(this.env.SECRETS_KEY_PREVIOUS),
      analytics_key: str(this.env.ANALYTICS_HASH_KEY),
    };
    let answer;
    try {
      answer = ask(this, 'security_configure', { vars, ...secrets }, now);
    } catch (e) {
      this.securityErrors.push(`security settings refused, using defaults: ${e.message}`);
      answer = ask(this, 'security_configure', { vars: {}, ...secrets }, now);
    }
    if (!answer.secret_ok) this.securityErrors.push(answer.secret_error);
    // SECRETS_KEY (sealing of secrets kept in D1, src/sealed.js) or ANALYTICS_HASH_KEY (users
    // in analytics events, src/analytics.js) missing or too short.
    for (const e of answer.key_errors ?? []) this.securityErrors.push(e.message);
    this.security = answer;
  }

  /**
   * Takes the engine's pending transitions and writes them, with the breaker's snapshot, to D1
   * in one batch. Idempotent: a transition is keyed by (breaker, at, from, to), so a retried
   * write never stores it twice. On failure the transitions stay queued for the next write.
   */
  async persistBreaker(nowMs = Date.now()) {
    const taken = ask(this, 'breaker_take_transitions', {}, nowMs);
    this.unsaved.push(...taken.transitions);
    const db = this.env.DB;
    await db.batch(
      breakerSaveStatements(
        db,
        BREAKER_ID,
        this.unsaved,
        JSON.stringify(taken.options),
        JSON.stringify(taken.snapshot),
        nowMs,
      ),
    );
    this.unsaved = [];
    if (this.sharedBreaker) taken.shared = await this.#forwardOperatorChange(taken);
    return taken;
  }

  /**
   * An operator's change made here (reset, force-open, disable, new options: from the admin
   * routes, the health config or an alert action) goes to the shared breaker too, so every
   * isolate adopts it. Answers the shared state after it, {error}, or undefined (no change).
   */
  async #forwardOperatorChange(taken) {
    const optionsText = JSON.stringify(taken.options);
    const last = taken.transitions.findLast((t) => OPERATOR_ACTIONS[t.reason]);
    if (last) {
      this.sharedOptionsText = optionsText;
      return this.sharedBreaker.operator({ action: OPERATOR_ACTIONS[last.reason] });
    }
    if (optionsText !== this.sharedOptionsText) {
      this.sharedOptionsText = optionsText; // before the await: adopting the answer persists again
      return this.sharedBreaker.operator({ options: taken.options });
    }
    return undefined;
  }

  /**
   * Writes the engine's changed minute rollups to D1, batch by batch, until none is left or a
   * write fails (then they stay in the engine and the next flush retries them). Rows are
   * cumulative per (writer, minute): writing one twice stores the same figures, and an older
   * copy never overwrites a newer one.
   */
  async flushMetrics() {
    this.flushing ??= this.#flushAll().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  async #flushAll() {
    let written = 0;
    for (;;) {
      const now = Date.now();
      const batch = ask(this, 'metrics_flush_take', {}, now);
      if (batch.rows.length === 0 && batch.account_rows.length === 0) return written;
      const db = this.backgroundDb ?? this.env.DB;
      await db.batch(flushStatements(db, batch, this.writer, now));
      ask(this, 'metrics_flush_confirm', { token: batch.token }, Date.now());
      written += batch.rows.length;
    }
  }

  /**
   * Writes what a broken engine still holds of its minute rollups (under its own writer id,
   * so rows it had flushed before are replaced, not added to). Best effort: a trap from a stack
   * overflow leaves nothing readable, and then the rollups of at most the last FLUSH_INTERVAL
   * (or BATCH_SIZE rows) are lost; raw events are still in Analytics Engine.
   */
  async salvage() {
    let written = 0;
    try {
      await this.flushing?.catch(() => {});
      // The engine's own count bounds the loop: the batches it held when the salvage began
      // (its first answer's rows and "remaining"); a count that does not fall is memory that
      // can no longer be trusted.
      let batches = 1;
      for (let batch = 0; batch < batches; batch++) {
        const now = Date.now();
        const taken = this.engine.salvage('metrics_flush_take', {}, now);
        if (!taken || !Array.isArray(taken.rows) || (taken.rows.length === 0 && !taken.account_rows?.length)) break;
        if (batch === 0 && Number.isSafeInteger(taken.remaining) && taken.rows.length > 0) {
          batches = 1 + Math.ceil(taken.remaining / taken.rows.length);
        }
        await this.env.DB.batch(flushStatements(this.env.DB, taken, this.writer, now));
        written += taken.rows.length;
        if (!this.engine.salvage('metrics_flush_confirm', { token: taken.token }, Date.now())) break;
        if (taken.remaining === 0) break;
      }
      if (written) console.error(`r2watch: ${written} minute rollup rows saved from the engine that trapped`);
    } catch (e) {
      console.error(`r2watch: minute rollups of the engine that trapped not saved: ${e.message}`);
    }
    return written;
  }

  async persistFaults(nowMs = Date.now()) {
    // The stored form is the engine's answer as it is: {"faults", "version"}.
    const stored = ask(this, 'faults_get', {}, nowMs);
    await saveFaultPlan(this.faultFreeDb ?? this.env.DB, JSON.stringify(stored), nowMs);
  }
}

// The breaker's operator transitions (their reason) and the command that makes each.
const OPERATOR_ACTIONS = {
  operator_reset: 'reset',
  operator_forced_open: 'force_open',
  operator_disabled: 'disable',
};

const METRICS_VARS = [
  'SUCCESS_SAMPLING_RATE',
  'ERROR_SAMPLING_RATE',
  'FLUSH_INTERVAL',
  'BATCH_SIZE',
  'RAW_METRICS_RETENTION_DAYS',
  'AGGREGATED_METRICS_RETENTION_DAYS',
  'INVENTORY_PAGE_SIZE',
  'INVENTORY_PAGES_PER_RUN',
];

const SECURITY_VARS = [
  'JWT_ISSUER',
  'JWT_MAX_SKEW_SECONDS',
  'JWT_MAX_LIFETIME_SECONDS',
  'RATE_LIMIT_PER_MINUTE',
  'RATE_LIMIT_IP_PER_MINUTE',
  'AUTH_FAILURE_THRESHOLD',
  'AUTH_FAILURE_WINDOW_SECONDS',
  'MAX_UPLOAD_BYTES',
  'EXCESSIVE_REQUESTS_PER_HOUR',
];

function metricsVars(env) {
  const vars = {};
  for (const name of METRICS_VARS) if (env[name] !== undefined) vars[name] = env[name];
  return vars;
}

/** Fault injection is on only where the Worker's FAULT_INJECTION variable says so. */
export function faultsEnabled(env) {
  return ['on', 'true', '1', 'yes'].includes(String(env.FAULT_INJECTION ?? '').toLowerCase());
}
