// Events ingested per second into r2watch's rollup inside wasm called from JavaScript (the
// Worker's hot path: breaker + minute rollup with its latency sketch; successes are written
// into the engine's ring in wasm memory and folded in bulk, as in the Worker), against
// @datadog/sketches-js and tdigest doing the latency part in JavaScript, in one Node process;
// then p50/p90/p95/p99/p99.9 relative error of each against exact quantiles.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DDSketch } from '@datadog/sketches-js';
import tdigest from 'tdigest';
import { Engine } from '../../worker-shim/src/engine.js';

const ROOT = join(import.meta.dirname, '../..');
const N = Number(process.env.BENCH_EVENTS ?? 1_000_000);

// Latencies like Date.now() measures them: whole milliseconds, lognormal around 30 ms.
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const latencies = new Float64Array(N);
for (let i = 0; i < N; i++) {
  const u1 = Math.max(rand(), 1e-12), u2 = rand();
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  latencies[i] = Math.max(1, Math.round(Math.exp(3.4 + 0.9 * z)));
}
const sorted = Float64Array.from(latencies).sort();
const exact = (q) => sorted[Math.floor(q * (N - 1))];

// The machine may be shared: each side runs ROUNDS times, interleaved with its peer (so both
// see the same load), after a warm-up round each; the median round is reported.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
function timeIt(fn) {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const module = new WebAssembly.Module(readFileSync(join(ROOT, 'build/wasm/r2watch.wasm')));
// The console module (wasm-bindings/modules.h) answers the commands r2watch.wasm does not register.
const consoleModule = new WebAssembly.Module(readFileSync(join(ROOT, 'build/wasm/r2watch-console.wasm')));
const now = 1_700_000_040_000;
function wasmEngine() {
  const engine = new Engine(module, 0, { console: consoleModule });
  const series = engine.series('bench', 'objects/x', '');
  engine.call('breaker_command', { action: 'disable' }, now); // measure ingest, not rejections
  engine.call('breaker_take_transitions', {}, now); // as the Worker does when it persists them
  return { engine, id: series.id };
}
const timed = wasmEngine();
function wasmRound() {
  const { engine, id } = timed;
  return timeIt(() => {
    for (let i = 0; i < N; i++) engine.record(id, 'get', true, latencies[i], 0, 1024, now);
  });
}
let dd;
function ddRound() {
  dd = new DDSketch({ relativeAccuracy: 0.01 });
  return timeIt(() => {
    for (let i = 0; i < N; i++) dd.accept(latencies[i]);
  });
}
const wasmTimes = [], ddTimes = [];
for (let r = 0; r <= ROUNDS; r++) {
  const w = wasmRound(), d = ddRound();
  if (r > 0) wasmTimes.push(w), ddTimes.push(d); // round 0 warms up
}
const wasmSeconds = median(wasmTimes), ddSeconds = median(ddTimes);
if (timed.engine.call('metrics_summarize', { rows: timed.engine.call('metrics_flush_take', {}, now).rows }, now).calls !== N * (ROUNDS + 1)) {
  throw new Error('the timed wasm rollup lost events');
}
// Accuracy: one engine fed the events once.
const once = wasmEngine();
for (let i = 0; i < N; i++) once.engine.record(once.id, 'get', true, latencies[i], 0, 1024, now);
const batch = once.engine.call('metrics_flush_take', {}, now);
const wasmQ = once.engine.call('metrics_summarize', { rows: batch.rows }, now);
// The engine's sketch as it is stored (core/metrics/latency-sketch.h): any quantile is read
// off its bins as LatencySketch::quantile does (the value of rank floor(q * (count - 1)), a
// bin's harmonic-mean representative, clamped to min..max). metrics_summarize answers
// p50/p95/p99 itself: those are checked against this reading below.
const sketch = batch.rows.find((row) => row.level === 'minute').latency;
function sketchQuantile(q) {
  const count = sketch.zero + sketch.bins.reduce((n, [, c]) => n + c, 0);
  const rank = Math.floor(q * (count - 1));
  if (rank < sketch.zero) return 0;
  const lowerBound = (index) => {
    const x = index / 50;
    const e = Math.floor(x);
    return (1 + (x - e)) * 2 ** e;
  };
  let seen = sketch.zero;
  for (const [index, c] of sketch.bins) {
    seen += c;
    if (seen > rank) {
      const lo = lowerBound(index), hi = lowerBound(index + 1);
      return Math.min(Math.max((2 * lo * hi) / (lo + hi), sketch.min), sketch.max);
    }
  }
  return sketch.max;
}
for (const q of [0.5, 0.95, 0.99]) {
  if (sketchQuantile(q) !== wasmQ[`p${Math.round(q * 100)}_ms`]) {
    throw new Error(`the bench reads p${q * 100} off the sketch as ${sketchQuantile(q)}, the engine says ${wasmQ[`p${Math.round(q * 100)}_ms`]}`);
  }
}

const td = new tdigest.TDigest();
const tdSeconds = timeIt(() => {
  for (let i = 0; i < N; i++) td.push(latencies[i]);
  td.compress();
});

const rel = (est, q) => Math.abs(est - exact(q)) / exact(q);
const rows = [
  ['r2watch wasm rollup (breaker + counters + sketch)', wasmSeconds, sketchQuantile],
  ['@datadog/sketches-js DDSketch (sketch only)', ddSeconds, (q) => dd.getValueAtQuantile(q)],
  ['tdigest TDigest (sketch only)', tdSeconds, (q) => td.percentile(q)],
];
console.log(`metrics ingest: ${N} events, median of ${ROUNDS} interleaved rounds (tdigest: one), Node ${process.version}`);
const QUANTILES = [0.5, 0.9, 0.95, 0.99, 0.999];
const qName = (q) => `p${String(q * 100).replace('.', '')}`;
console.log(`exact ${QUANTILES.map((q) => `${qName(q)} ${exact(q)} ms`).join(', ')}`);
for (const [name, seconds, quantile] of rows) {
  const errs = QUANTILES.map((q) => `${(rel(quantile(q), q) * 100).toFixed(2)}%`).join(' / ');
  console.log(
    `${name.padEnd(50)} ${(N / seconds / 1e6).toFixed(2).padStart(6)} M events/s  ` +
      `${((seconds / N) * 1e9).toFixed(0).padStart(5)} ns/event  rel. error ${QUANTILES.map(qName).join('/')} ${errs}`,
  );
}
console.log(
  `ratio per event @datadog/sketches-js / r2watch: ${(ddSeconds / wasmSeconds).toFixed(2)}x (goal: at least 2x, every error at most 1%)`,
);
if (wasmQ.calls !== N) throw new Error(`wasm rollup counted ${wasmQ.calls} of ${N} events`);
const worst = Math.max(...QUANTILES.map((q) => rel(sketchQuantile(q), q)));
if (worst > 0.01) throw new Error(`r2watch's sketch is off by ${(worst * 100).toFixed(2)}% at some quantile (at most 1%)`);
