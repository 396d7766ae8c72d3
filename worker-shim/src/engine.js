// Loads r2watch.wasm and wraps its C ABI. Knows nothing of Workers: the Worker, the tests and
// the benchmarks all hand it a compiled WebAssembly.Module. Holds no business logic: every
// decision is the engine's.
//
// The engine is two wasm modules (wasm-bindings/modules.h): r2watch.wasm, the request path,
// instantiated with every Engine; and r2watch-console.wasm (dashboard, admin API, crons),
// instantiated on the first command only it registers. `call` routes each command by the lists
// the modules report (r2w_module_info): to the request module when it registers it, else to the
// console. The settings commands both read go to every module that registers them, and are
// replayed, in order, to the console when it is instantiated.

/** Operation indexes of the hot-path ABI (core/common/operation.h). */
export const OPERATIONS = Object.freeze({ get: 0, put: 1, delete: 2, list: 3, head: 4 });
const R2_CLASSES = ['A', 'B', 'free'];
// Doubles per buffered event in the hot region: key (series id + operation index * 2^32),
// latency, bytes up, bytes down, time (wasm-bindings/engine.h, kHotEventFields and
// kHotOperationStride).
const HOT_EVENT_FIELDS = 5;
// Each operation's part of an event's key (an unknown operation's is undefined: its key is NaN,
// which the fold drops).
const OPERATION_KEYS = Object.freeze(
  Object.fromEntries(Object.entries(OPERATIONS).map(([name, index]) => [name, index * 2 ** 32])),
);
// Events the ring holds (kHotRingCapacity; the engine publishes it as the region's capacity, and
// the Worker checks it against this when it makes its views).
const HOT_CAPACITY = 4096;
const HOT_RING = 10; // where the ring starts, in doubles from the region's start
// The doubles the engine publishes for the ring (ring_limit_ms: the slow-call duration while it
// says "go ahead", else NaN) and the Worker writes (count: events in the ring, written before
// each call into the engine; the Worker's own count is `ringCount`).
const HOT_RING_LIMIT = 8;
const HOT_COUNT = 9;
// What the hot path reads once the engine broke: nothing (every read is undefined, so no call
// goes ahead and nothing is buffered without asking the engine, which throws).
const NO_WORDS = new Int32Array(0);
const NO_NUMBERS = new Float64Array(0);
// Exports that only move bytes for a JSON call: not counted as engine calls.
const PLUMBING = new Set([
  'r2w_alloc',
  'r2w_free',
  'r2w_output_ptr',
  'r2w_output_len',
  'r2w_hot_region',
  'r2w_module_info',
]);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// WASI calls the module may import. Only those the module lists are supplied; anything else
// is a build mistake and fails loudly at instantiation.
function wasiImports(module, getMemory) {
  const provided = {
    // Writes stdout/stderr to the console, so a message from the core is not lost.
    fd_write(fd, iovs, iovsLen, nwrittenPtr) {
      const view = new DataView(getMemory().buffer);
      let text = '';
      let written = 0;
      for (let i = 0; i < iovsLen; i++) {
        const ptr = view.getUint32(iovs + i * 8, true);
        const len = view.getUint32(iovs + i * 8 + 4, true);
        text += decoder.decode(new Uint8Array(getMemory().buffer, ptr, len));
        written += len;
      }
      view.setUint32(nwrittenPtr, written, true);
      if (text.trim()) (fd === 2 ? console.error : console.log)(`[r2watch.wasm] ${text.trimEnd()}`);
      return 0;
    },
    fd_close: () => 0,
    fd_seek: () => 70, // ESPIPE: nothing here is seekable
    proc_exit(code) {
      throw new WebAssembly.RuntimeError(`r2watch.wasm exited with code ${code}`);
    },
  };
  const imports = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module !== 'wasi_snapshot_preview1' || !(imp.name in provided)) {
      throw new Error(`r2watch.wasm imports ${imp.module}.${imp.name}, which the shim does not provide`);
    }
    imports[imp.module] ??= {};
    imports[imp.module][imp.name] = provided[imp.name];
  }
  return imports;
}

/**
 * Thrown when an engine command answers with an error: carries code, message and field, and
 * `errors` ({field, message} each) when several fields were bad at once.
 */
export class EngineError extends Error {
  constructor({ code, message, field, errors }) {
    super(message);
    this.code = code;
    this.field = field;
    this.errors = errors;
  }
}

/**
 * Thrown in place of any error that escapes a call into the wasm instance: a trap
 * (`WebAssembly.RuntimeError`), a `RangeError` from a stack overflow, anything. The instance can
 * no longer be trusted after one (its stack pointer or memory may be anywhere), so the engine is
 * marked `broken` and the runtime drops it.
 */
export class EngineTrap extends WebAssembly.RuntimeError {
  constructor(cause) {
    super(`${cause?.name ?? 'Error'}: ${cause?.message ?? cause}`);
    this.cause = cause;
  }
}

/** What a module registers, from its r2w_module_info export: {module, commands, settings}. */
function moduleInfo(exports) {
  const ptr = exports.r2w_module_info();
  const bytes = new Uint8Array(exports.memory.buffer, ptr);
  return JSON.parse(decoder.decode(bytes.subarray(0, bytes.indexOf(0))));
}

export class Engine {
  /**
   * @param {WebAssembly.Module} module r2watch.wasm
   * @param {number} nowMs
   * @param {{console?: WebAssembly.Module, onBreak?: () => void}} [options] `console`:
   *   r2watch-console.wasm, instantiated on the first command only it registers (without it,
   *   such a command answers unknown_command). `onBreak`: called when this instance breaks.
   */
  constructor(module, nowMs, { console: consoleModule = null, onBreak = null } = {}) {
    let memory;
    const instance = new WebAssembly.Instance(module, wasiImports(module, () => memory));
    memory = instance.exports.memory;
    const info = moduleInfo(instance.exports);
    /** The module's name (r2watch, r2watch-console) and the commands it registers. */
    this.module = info.module;
    this.commands = new Set(info.commands);
    this.settings = new Set(info.settings);
    this.consoleModule = consoleModule;
    /** The console module's engine, once a command needed it (null until then). */
    this.console = null;
    // The settings commands sent so far, for a console instantiated later: [command, input, nowMs].
    this.sentSettings = [];
    this.onBreak = onBreak;
    /** True once an error escaped a wasm call: nothing this instance says is trusted after it. */
    this.broken = false;
    /**
     * Calls into the engine so far (not counting the memory plumbing of a JSON call, nor what
     * the hot path answers from memory): what the storage tests count per request.
     */
    this.calls = 0;
    /** Events the Worker wrote into the ring since the engine's last call (see #guard). */
    this.ringCount = 0;
    this.raw = instance.exports;
    this.exports = this.#guard(instance.exports);
    this.exports._initialize?.();
    this.exports.r2w_init(nowMs);
    this.seriesIds = new Map();
    this.#hotViews();
  }

  // The hot path's shared memory (wasm-bindings/engine.h, HotRegion), as typed-array views.
  // A view goes empty (length 0) when the memory grows, so a zero length means "look again".
  #hotViews() {
    const base = this.raw.r2w_hot_region();
    const buffer = this.raw.memory.buffer;
    // word, (unused), capacity, fields per event, slow_call_ms (2 words), faults_active
    this.hotWords = new Int32Array(buffer, base, 8);
    if (this.hotWords[2] !== HOT_CAPACITY || this.hotWords[3] !== HOT_EVENT_FIELDS) {
      throw new Error(`the engine's ring (${this.hotWords[2]} x ${this.hotWords[3]}) is not the Worker's`);
    }
    this.hotCapacity = HOT_CAPACITY;
    // slow_call_ms at 2; the sampling draws at 4..7; ring_limit_ms, count; the ring from HOT_RING on
    this.hotNumbers = new Float64Array(buffer, base, HOT_RING + this.hotCapacity * HOT_EVENT_FIELDS);
    return this.hotWords;
  }

  // Every exported function, wrapped so that whatever it throws breaks the engine for good.
  // (No export takes more than seven arguments; extra ones are ignored by WebAssembly.)
  #guard(raw) {
    const guarded = { memory: raw.memory };
    for (const [name, value] of Object.entries(raw)) {
      if (typeof value !== 'function') {
        guarded[name] = value;
        continue;
      }
      const counted = !PLUMBING.has(name);
      guarded[name] = (a, b, c, d, e, f, g) => {
        if (this.broken) throw new EngineTrap(new Error('the engine stopped after an earlier trap'));
        if (counted) this.calls++;
        // The ring's count goes into memory before the engine runs (it folds the ring first),
        // and is read back after (0 once folded).
        if (this.ringCount !== 0) this.#numbers()[HOT_COUNT] = this.ringCount;
        try {
          const result = value(a, b, c, d, e, f, g);
          // (A small integer: the field keeps its integer representation.)
          if (this.ringCount !== 0) this.ringCount = this.#numbers()[HOT_COUNT] | 0;
          return result;
        } catch (err) {
          this.#break();
          this.onBreak?.();
          throw err instanceof EngineTrap ? err : new EngineTrap(err);
        }
      };
    }
    return guarded;
  }

  // The hot region's doubles, made again when memory grew.
  #numbers() {
    if (this.hotNumbers.length === 0) this.#hotViews();
    return this.hotNumbers;
  }

  // Marks the engine broken: the hot path's views read nothing from now on.
  #break() {
    this.broken = true;
    this.hotWords = NO_WORDS;
    this.hotNumbers = NO_NUMBERS;
  }

  /**
   * True when an R2 call may go ahead now. Answered from wasm memory while the engine says "go
   * ahead" there (its breaker is closed and quiet, or disabled); else the engine is asked.
   */
  acquire(nowMs) {
    // A view of memory that grew reads undefined (not 1): the views are made again, and read
    // again, only then. (Reading `length` first would cost more than the rest of this method.)
    // A broken engine's views are empty too: it is asked (and throws).
    if (this.hotWords[0] === 1) return true;
    if (this.hotWords.length === 0 && !this.broken && this.#hotViews()[0] === 1) return true;
    return this.exports.r2w_acquire(nowMs) === 1;
  }

  /** After a refusal: milliseconds until a call may be tried again. */
  retryAfterMs() {
    return this.exports.r2w_retry_after_ms();
  }

  /**
   * The metrics series of an operation on `key` (the core takes its first path segment as the
   * prefix) in `bucket` by `user`: {id, prefix}. Cached per (bucket, key's prefix, user).
   */
  series(bucket, key, user = '') {
    const slash = key.indexOf('/');
    const cacheKey = `${bucket}\0${slash > 0 ? key.slice(0, slash) : ''}\0${user}`;
    let id = this.seriesIds.get(cacheKey);
    if (id === undefined) {
      const bytes = encoder.encode(`${bucket}\0${key}\0${user}`);
      const ptr = this.exports.r2w_alloc(bytes.length);
      try {
        new Uint8Array(this.exports.memory.buffer, ptr, bytes.length).set(bytes);
        const seriesId = this.exports.r2w_series(ptr, bytes.length);
        const info = this.call('metrics_series_info', { id: seriesId }, 0);
        id = { id: seriesId, prefix: info.prefix };
      } finally {
        this.exports.r2w_free(ptr);
      }
      this.seriesIds.set(cacheKey, id);
    }
    return id;
  }

  /**
   * Reports a permitted call (to the breaker and the minute rollups); returns the number of
   * breaker transitions waiting to be taken.
   */
  record(seriesId, operation, ok, latencyMs, bytesUp, bytesDown, nowMs) {
    // One typed array only (its checks are made once for all the accesses below).
    const numbers = this.hotNumbers;
    // A success no slower than the engine's slow-call duration, while it says "go ahead": into
    // the ring, folded in bulk (when full, or before the engine's next call: the count is
    // written into memory then). Anything else is recorded at once, after the ring, so the
    // breaker reacts on the call that trips it (#recordNow, kept out of this method so that it
    // stays small).
    if (ok && latencyMs <= numbers[HOT_RING_LIMIT]) {
      const n = this.ringCount;
      const at = HOT_RING + n * HOT_EVENT_FIELDS;
      numbers[at] = seriesId + OPERATION_KEYS[operation];
      numbers[at + 1] = latencyMs;
      numbers[at + 2] = bytesUp;
      numbers[at + 3] = bytesDown;
      numbers[at + 4] = nowMs;
      this.ringCount = n + 1;
      if (n + 1 < HOT_CAPACITY) return 0;
      return this.exports.r2w_fold();
    }
    return this.#recordNow(seriesId, operation, ok, latencyMs, bytesUp, bytesDown, nowMs);
  }

  // `record` of a call the ring does not take. (As in `acquire`: views of memory that grew, and
  // a broken engine's, read undefined; they are made again, and the call looked at again, only
  // for the first.)
  #recordNow(seriesId, operation, ok, latencyMs, bytesUp, bytesDown, nowMs) {
    if (this.hotNumbers.length === 0 && !this.broken) {
      this.#hotViews();
      return this.record(seriesId, operation, ok, latencyMs, bytesUp, bytesDown, nowMs);
    }
    return this.exports.r2w_record(
      seriesId,
      OPERATIONS[operation],
      ok ? 1 : 0,
      latencyMs,
      bytesUp,
      bytesDown,
      nowMs,
    );
  }

  /** R2's billing class of an operation: 'A', 'B' or 'free'. */
  r2Class(operation) {
    // An instance's answer never changes: asked once per operation.
    this.r2Classes ??= {};
    return (this.r2Classes[operation] ??= R2_CLASSES[this.exports.r2w_r2_class(OPERATIONS[operation])]);
  }

  /** Weight to write a raw event to Analytics Engine with; 0 means skip it. */
  sampleWeight(ok, uniform01) {
    if (this.broken) return this.exports.r2w_sample_weight(ok ? 1 : 0, uniform01); // throws
    // The engine's answer for every draw, read from the hot region it writes after each call.
    const numbers = this.hotWords.length === 0 ? (this.#hotViews(), this.hotNumbers) : this.hotNumbers;
    const below = ok ? numbers[4] : numbers[6];
    return uniform01 < below ? numbers[ok ? 5 : 7] : 0;
  }

  /** True when the minute rollups should be flushed to D1 now. */
  flushDue(nowMs) {
    return this.exports.r2w_flush_due(nowMs) === 1;
  }

  release() {
    this.exports.r2w_release();
  }

  /** Whether any fault is injected (read from the hot region the engine writes). */
  faultsActive() {
    if (this.broken) return this.exports.r2w_faults_active() === 1; // throws
    const words = this.hotWords.length === 0 ? this.#hotViews() : this.hotWords;
    return words[6] === 1;
  }

  faultLatencyMs(operation) {
    return this.exports.r2w_fault_latency_ms(OPERATIONS[operation]);
  }

  /** @param {number} uniform01 a draw in [0, 1) */
  faultFails(operation, uniform01) {
    return this.exports.r2w_fault_fails(OPERATIONS[operation], uniform01) === 1;
  }

  /** Injected D1 latency (ms) before every D1 round trip. */
  d1FaultLatencyMs() {
    return this.exports.r2w_d1_fault_latency_ms();
  }

  /** What a D1 round trip does under the fault plan: 0 run, 1 fail before, 2 run and lose the answer. */
  d1Fault(uniform01) {
    return this.exports.r2w_d1_fault(uniform01);
  }

  /** How far the fault plan moves the isolate's clock on (ms). */
  clockSkewMs() {
    return this.exports.r2w_clock_skew_ms();
  }

  /**
   * Runs a JSON command and returns the raw JSON text of the answer and whether it succeeded.
   * `attachment`: raw text or bytes (Uint8Array) the command reads besides its input
   * (account_ingest's answer).
   */
  callRaw(command, input, nowMs, attachment = null) {
    if (this.settings.has(command)) return this.#setting(command, input, nowMs);
    if (this.commands.has(command) || this.consoleModule === null) return this.#callHere(command, input, nowMs, attachment);
    if (this.broken) throw new EngineTrap(new Error('the engine stopped after an earlier trap'));
    return this.consoleEngine(nowMs).#callHere(command, input, nowMs, attachment);
  }

  /**
   * The console module's engine, instantiated now if it was not yet (with the settings sent so
   * far replayed to it). A trap in it breaks this engine too, so the runtime rebuilds both.
   */
  consoleEngine(nowMs) {
    if (this.console === null) {
      const engine = new Engine(this.consoleModule, nowMs, {
        onBreak: () => {
          this.#break();
        },
      });
      for (const [command, input, at] of this.sentSettings) {
        if (!engine.commands.has(command)) continue;
        const { ok, text } = engine.#callHere(command, input, at);
        // A refused setting leaves the module's defaults, as it did in the module that was
        // asked first (which answered the refusal to its caller); said here for one only the
        // console registers.
        if (!ok && !this.commands.has(command)) console.error(`r2watch: ${command} refused: ${text}`);
      }
      this.console = engine;
    }
    return this.console;
  }

  // A settings command (both modules read what it sets): sent to each module that registers it
  // and is instantiated, kept for a console instantiated later. Answered by the request module
  // when it registers the command, else by the console when it runs; else {"deferred": true}.
  #setting(command, input, nowMs) {
    const text = typeof input === 'string' ? input : JSON.stringify(input ?? {});
    let answer = null;
    if (this.commands.has(command)) answer = this.#callHere(command, text, nowMs);
    if (this.console !== null && this.console.commands.has(command)) {
      const other = this.console.#callHere(command, text, nowMs);
      answer ??= other;
    }
    if (answer === null || answer.ok) this.sentSettings.push([command, text, nowMs]);
    return answer ?? { ok: true, text: '{"deferred":true}' };
  }

  #callHere(command, input, nowMs, attachment = null) {
    const text = typeof input === 'string' ? input : JSON.stringify(input ?? {});
    const cmd = encoder.encode(command);
    const body = encoder.encode(text);
    // Bytes as they came (a fetched body's arrayBuffer) are copied in as they are, not decoded and re-encoded.
    const extra = attachment === null ? null : attachment instanceof Uint8Array ? attachment : encoder.encode(attachment);
    const cmdPtr = this.exports.r2w_alloc(cmd.length);
    const bodyPtr = this.exports.r2w_alloc(body.length);
    const extraPtr = extra === null ? 0 : this.exports.r2w_alloc(extra.length);
    try {
      new Uint8Array(this.exports.memory.buffer, cmdPtr, cmd.length).set(cmd);
      new Uint8Array(this.exports.memory.buffer, bodyPtr, body.length).set(body);
      if (extra !== null) new Uint8Array(this.exports.memory.buffer, extraPtr, extra.length).set(extra);
      const ok =
        (extra === null
          ? this.exports.r2w_call(cmdPtr, cmd.length, bodyPtr, body.length, nowMs)
          : this.exports.r2w_call_attached(cmdPtr, cmd.length, bodyPtr, body.length, extraPtr, extra.length, nowMs)) === 1;
      const out = new Uint8Array(
        this.exports.memory.buffer,
        this.exports.r2w_output_ptr(),
        this.exports.r2w_output_len(),
      );
      return { ok, text: decoder.decode(out) };
    } finally {
      this.exports.r2w_free(cmdPtr);
      this.exports.r2w_free(bodyPtr);
      if (extra !== null) this.exports.r2w_free(extraPtr);
    }
  }

  /**
   * Runs a JSON command (with an optional raw attachment); returns the parsed answer or throws
   * EngineError. Raw texts the command wrote beside its answer (each behind a NUL byte:
   * account_ingest's rows) are the answer's `output_texts`.
   */
  call(command, input, nowMs, attachment = null) {
    const { ok, text } = this.callRaw(command, input, nowMs, attachment);
    const cut = text.indexOf('\0');
    const value = JSON.parse(cut < 0 ? text : text.slice(0, cut));
    if (!ok) throw new EngineError(value.error);
    if (cut >= 0) value.output_texts = text.slice(cut + 1).split('\0');
    return value;
  }

  /**
   * After the engine broke: runs one more command on the raw instance, for what can still be
   * read out of it (the minute rollups not yet flushed). Answers null when the instance cannot
   * answer (a stack overflow leaves its stack pointer unusable) or answers something that is
   * not a well-formed result.
   */
  salvage(command, input, nowMs) {
    const saved = this.exports;
    this.exports = this.raw;
    try {
      // The ring's events since the engine's last call are folded before the command runs.
      if (this.ringCount !== 0) {
        new Float64Array(this.raw.memory.buffer, this.raw.r2w_hot_region(), HOT_RING)[HOT_COUNT] = this.ringCount;
        this.ringCount = 0;
      }
      const { ok, text } = this.#callHere(command, input, nowMs);
      return ok ? JSON.parse(text) : null;
    } catch {
      return null;
    } finally {
      this.exports = saved;
    }
  }

  /** Traps on purpose (fault-injection route only). */
  trap() {
    this.exports.r2w_debug_trap();
  }
}
