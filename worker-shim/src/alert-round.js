// The check-alerts round kept in the engine (core/alerts/round.h; issue #16): the engine holds
// the rules, settings, alert states and notice ledger between rounds, so a round sends only what
// changed since the last one and gets back only what changed. Marshalling only, no rule:
// - rules and settings (JSON texts) are sent when they differ from what this engine was last
//   given (the first round of an engine sends them);
// - the stored states are sent (`restore`) when the engine holds none or holds another
//   generation than D1's (a cold start, or another writer: ack/resolve, another isolate);
// - series given as numbers are named once in the engine's key table (alert_round_keys) and
//   each round their values and sample counts are written into wasm memory as Float64Arrays
//   (wasm-bindings/alert-exports.cc), not as JSON per series.
// Takes the engine instance it is given; keeps what it sent per engine.
import { ask } from './http.js';

const rounds = new WeakMap();
// Raised by dropHeldFigures: a round whose held figures are of an earlier count drops them.
let heldEpoch = 0;

/** Every round drops what it held from the account's rows (the CPU bench's hook, instrument.js). */
export function dropHeldFigures() {
  heldEpoch++;
}

// A series' key as text (its identity in the key table): metric, scope, window, natural.
function keyText(s) {
  return `${s.metric}\u001f${s.bucket ?? ''}\u001f${s.prefix ?? ''}\u001f${s.user ?? ''}\u001f${s.window_ms ?? 0}\u001f${s.natural === false ? 0 : 1}`;
}

function keyOf(s) {
  const k = { metric: s.metric };
  if (s.bucket) k.bucket = s.bucket;
  if (s.prefix) k.prefix = s.prefix;
  if (s.user) k.user = s.user;
  if (s.window_ms) k.window_ms = s.window_ms;
  if (s.natural === false) k.natural = false;
  return k;
}

export class AlertRound {
  /** The round of this engine (one per engine instance). */
  static of(engine) {
    let round = rounds.get(engine);
    if (!round) rounds.set(engine, (round = new AlertRound(engine)));
    if (round.heldEpoch !== heldEpoch) {
      round.held = { accountStamp: null, cost: null, series: null };
      round.heldEpoch = heldEpoch;
    }
    return round;
  }

  constructor(engine) {
    this.engine = engine;
    this.rt = { engine };
    this.keys = new Map(); // key text -> index in the engine's table
    this.sentRules = null;
    this.sentSettings = null;
    // What the Worker made for this engine's last rounds from the account's stored rows (the
    // cost figures, the account's series) and what says whether they still hold (alerts.js
    // gatherFigures): dropped with the engine.
    this.held = { accountStamp: null, cost: null, series: null };
    this.heldEpoch = heldEpoch;
  }

  /** The stored generation the engine's states are, or null when it holds none. */
  generation() {
    const g = this.engine.exports.r2w_alert_generation();
    return g < 0 ? null : g;
  }

  /** Whether the engine needs the stored states of D1's `storedGeneration` handed in. */
  needsRestore(storedGeneration) {
    return this.generation() !== storedGeneration;
  }

  /**
   * The figures the rules need (alert_plan's answer) at `nowMs`: planned over the rules the
   * engine holds when `rules` (the stored rules' JSON text) is what this engine was last given,
   * so the text is not sent and read again every run.
   */
  plan(rules, nowMs) {
    if (rules === this.sentRules) {
      try {
        return ask(this.rt, 'alert_round_plan', {}, nowMs);
      } catch (e) {
        // The engine holds no rules after all: they are sent again (here and with the round).
        if (e.code !== 'conflict' || e.field !== 'rules') throw e;
        this.sentRules = null;
      }
    }
    return ask(this.rt, 'alert_plan', `{"rules":${rules}}`, nowMs);
  }

  /** The engine drops its states (the Worker could not store the last answer). */
  forget() {
    this.engine.exports.r2w_alert_forget();
  }

  // Each series' index in the engine's key table; new keys are named in one call.
  #indices(series) {
    const indices = new Array(series.length);
    const missing = [];
    for (let i = 0; i < series.length; i++) {
      const k = this.keys.get(keyText(series[i]));
      if (k === undefined) missing.push(i);
      else indices[i] = k;
    }
    if (missing.length) {
      const answer = ask(this.rt, 'alert_round_keys', { keys: missing.map((i) => keyOf(series[i])) }, 0);
      missing.forEach((i, j) => {
        indices[i] = answer.indices[j];
        this.keys.set(keyText(series[i]), answer.indices[j]);
      });
    }
    return indices;
  }

  /**
   * One round at `nowMs`.
   * @param {object} p
   * @param {string} p.rules       the stored rules (JSON text)
   * @param {string} p.settings    the stored settings (JSON text)
   * @param {string} p.silences    the silences in force (JSON text)
   * @param {string} p.figures     the gathered figures (JSON text, as alert_check's)
   * @param {Array<{metric, bucket?, prefix?, user?, window_ms?, natural?, value, samples?, detail?}>} [p.series]
   *   figures given as numbers (written into wasm memory)
   * @param {{states: string, ledger: string, generation: number} | null} [p.restore]
   *   the stored states and ledger (JSON texts) and their generation, when needsRestore()
   * @param {number} p.generation  what the Worker stores this round's answer as
   * @param {string|null} [p.breakerState] the request path's breaker state (r2watch.wasm holds
   *   the breaker; the round runs in the console module)
   * @returns the engine's answer: summary, changed, dropped, notifications, actions, ledger
   */
  run(round, nowMs) {
    try {
      return this.#run(round, nowMs);
    } catch (e) {
      // The key table is full (series came and went): empty it, name the series again, once.
      if (e.code !== 'conflict' || e.field !== 'keys') throw e;
      this.engine.exports.r2w_alert_keys_reset();
      this.keys.clear();
      return this.#run(round, nowMs);
    }
  }

  #run({ rules, settings, silences, figures, series = [], restore = null, generation, breakerState = null }, nowMs) {
    let indices = this.#indices(series);
    const details = [];
    if (series.length) {
      const exports = this.engine.exports;
      let n = exports.r2w_alert_key_count();
      if (indices.some((k) => k >= n)) {
        // The engine's table is not the one these indices name: name the series again.
        this.keys.clear();
        indices = this.#indices(series);
        n = exports.r2w_alert_key_count();
      }
      const buffer = exports.memory.buffer;
      const values = new Float64Array(buffer, exports.r2w_alert_values(), n);
      const samples = new Float64Array(buffer, exports.r2w_alert_samples(), n);
      for (let i = 0; i < series.length; i++) {
        const s = series[i];
        const k = indices[i];
        values[k] = s.value;
        samples[k] = s.samples ?? 0;
        if (s.detail) details.push([k, s.detail]);
      }
    }
    const parts = [`"generation":${generation}`, `"silences":${silences}`, `"figures":${figures}`];
    const sendRules = rules !== this.sentRules;
    const sendSettings = settings !== this.sentSettings;
    if (sendRules) parts.push(`"rules":${rules}`);
    if (sendSettings) parts.push(`"settings":${settings}`);
    if (restore) {
      parts.push(`"restore":{"states":${restore.states},"ledger":${restore.ledger},"generation":${restore.generation}}`);
    }
    if (details.length) parts.push(`"details":${JSON.stringify(details)}`);
    if (breakerState !== null) parts.push(`"breaker_state":${JSON.stringify(breakerState)}`);
    let answer;
    try {
      answer = ask(this.rt, 'alert_round', `{${parts.join(',')}}`, nowMs);
    } catch (e) {
      // Refused: what the engine holds of rules and settings is not known any more (the next
      // round sends them), and the figures written for it must not count in the next round.
      if (series.length && !this.engine.broken) {
        const exports = this.engine.exports;
        new Float64Array(exports.memory.buffer, exports.r2w_alert_values(), exports.r2w_alert_key_count()).fill(NaN);
      }
      this.sentRules = null;
      this.sentSettings = null;
      throw e;
    }
    if (sendRules) this.sentRules = rules;
    if (sendSettings) this.sentSettings = settings;
    return answer;
  }
}
