// Overhead per guarded call: r2watch's wasm breaker called from JavaScript (as the Worker calls
// it: acquire, the call, record, with Date.now() around it) against opossum's fire() on the
// same trivial async function, in one Node process. Prints ns per call and the ratio.
// The Worker reads the clock before and after every R2 call whether or not a breaker guards it
// (the latency goes into the metrics), so r2watch's overhead is measured against that timed
// call; opossum's against the bare call (its own clock reads are part of what fire() adds).
// The goal (issue #16): at most 25 ns, at least 10 times less than opossum with its defaults. A second
// engine linked to a shared breaker (as where BREAKERS is bound: every call also held for the
// next report, and a number compare to see whether a sync is due) shows what the shared breaker
// adds to the hot path; its syncs run off the request path and are not part of a call.
// Run: make bench (or node bench/js/breaker-overhead.mjs after `make wasm`).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import CircuitBreaker from 'opossum';
import { Engine } from '../../worker-shim/src/engine.js';

const ROOT = join(import.meta.dirname, '../..');
const N = Number(process.env.BENCH_CALLS ?? 200_000);
const WARMUP = Math.min(20_000, N);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

const trivial = async () => 42;
let sink = 0;
async function timed() {
  const started = Date.now();
  const result = await trivial();
  sink += Date.now() - started;
  return result;
}


const module = new WebAssembly.Module(readFileSync(join(ROOT, 'build/wasm/r2watch.wasm')));
const engine = new Engine(module, Date.now());
const series = engine.series('bench', 'objects/a', '');

async function wasmGuarded() {
  const started = Date.now();
  if (!engine.acquire(started)) throw new Error('refused');
  const result = await trivial();
  const ended = Date.now();
  engine.record(series.id, 'get', true, ended - started, 0, 0, ended);
  return result;
}

// The same, with the shared-breaker link: poll() is SharedBreakerLink.poll (a compare against
// the next sync time the core gave); the held calls are taken as a report when it is due (every
// 500 ms), as the background sync does, and that is counted here too.
const linked = new Engine(module, Date.now());
const linkedSeries = linked.series('bench', 'objects/a', '');
let nextSyncMs = linked.call('breaker_sync_enable', {}, Date.now()).next_sync_ms;
async function wasmGuardedLinked() {
  const started = Date.now();
  if (started >= nextSyncMs) {
    nextSyncMs = linked.call('breaker_sync_take', {}, started).next_sync_ms; // off-path in the Worker
  }
  if (!linked.acquire(started)) throw new Error('refused');
  const result = await trivial();
  const ended = Date.now();
  linked.record(linkedSeries.id, 'get', true, ended - started, 0, 0, ended);
  return result;
}

const opossumDefault = new CircuitBreaker(trivial); // default options: 10 s timeout per call
const opossumNoTimeout = new CircuitBreaker(trivial, { timeout: false });

// Each round times every contender once, one after the other, so all of them see the same
// load (the machine may be shared); a figure is its median round, and an overhead the median of
// the per-round differences against its reference.
async function timeRound(fn) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await fn();
  return Number(process.hrtime.bigint() - t0) / N;
}
const contenders = {
  baseline: trivial,
  clocked: timed,
  wasm: wasmGuarded,
  wasmLinked: wasmGuardedLinked,
  opDefault: () => opossumDefault.fire(),
  opNoTimeout: () => opossumNoTimeout.fire(),
};
for (const fn of Object.values(contenders)) for (let i = 0; i < WARMUP; i++) await fn();
const perRound = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
const entries = Object.entries(contenders);
for (let r = 0; r < ROUNDS; r++) {
  // Each round starts with another contender (what runs first after the last round's
  // garbage differs), so no one always takes the same place.
  for (let j = 0; j < entries.length; j++) {
    const [name, fn] = entries[(j + r) % entries.length];
    perRound[name].push(await timeRound(fn));
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const figure = (name) => median(perRound[name]);
const overheadOf = (name, against) => median(perRound[name].map((ns, r) => ns - perRound[against][r]));
const baseline = figure('baseline');
const clocked = figure('clocked');
const wasm = figure('wasm');
const wasmLinked = figure('wasmLinked');
const opDefault = figure('opDefault');
const opNoTimeout = figure('opNoTimeout');

const rows = [
  ['bare await of the function', baseline, null],
  ['the same, timed with Date.now() (the Worker)', clocked, null],
  ['r2watch wasm breaker (acquire + record)', wasm, 'wasm', 'clocked'],
  ['r2watch wasm breaker + shared-breaker link', wasmLinked, 'wasmLinked', 'clocked'],
  ['opossum fire() (defaults, 10 s timeout)', opDefault, 'opDefault', 'baseline'],
  ['opossum fire() (timeout: false)', opNoTimeout, 'opNoTimeout', 'baseline'],
];
console.log(`guarded-call overhead, ${N} calls x ${ROUNDS} interleaved rounds, median round, Node ${process.version}`);
for (const [name, ns, self, against] of rows) {
  const overhead = against === undefined ? '' : `  overhead ${overheadOf(self, against).toFixed(1).padStart(8)} ns`;
  console.log(`${name.padEnd(46)} ${ns.toFixed(1).padStart(8)} ns/call${overhead}`);
}
// The overhead can come out at or below zero when the breaker costs less than the noise
// between runs; the ratio is then taken against 1 ns.
const wasmOverhead = overheadOf('wasm', 'clocked');
const w = Math.max(1, wasmOverhead);
console.log(`r2watch guarded-call overhead: ${wasmOverhead.toFixed(1)} ns (goal: at most 25 ns)`);
console.log(`ratio opossum(defaults)/wasm overhead: ${(overheadOf('opDefault', 'baseline') / w).toFixed(1)}x (goal: at least 10x)`);
console.log(`ratio opossum(timeout: false)/wasm overhead: ${(overheadOf('opNoTimeout', 'baseline') / w).toFixed(1)}x`);
// The same calls without the await (a synchronous loop: the promise machinery's noise left
// out), in interleaved rounds too: two clock reads alone, and with acquire + record between.
const syncEngine = new Engine(module, Date.now());
const syncSeries = syncEngine.series('bench', 'objects/a', '');
function clockedSync() {
  const started = Date.now();
  sink += started & 1;
  const ended = Date.now();
  sink += ended - started;
}
function guardedSync() {
  const started = Date.now();
  if (!syncEngine.acquire(started)) throw new Error('refused');
  sink += started & 1;
  const ended = Date.now();
  syncEngine.record(syncSeries.id, 'get', true, ended - started, 0, 0, ended);
}
function syncRound(fn) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn();
  return Number(process.hrtime.bigint() - t0) / N;
}
for (let i = 0; i < WARMUP; i++) clockedSync(), guardedSync();
const syncDiffs = [];
for (let r = 0; r < ROUNDS; r++) syncDiffs.push(syncRound(guardedSync) - syncRound(clockedSync));
console.log(`r2watch guarded-call overhead without the await (synchronous loop): ${median(syncDiffs).toFixed(1)} ns`);
if (sink < 0) console.log(sink);
opossumDefault.shutdown();
opossumNoTimeout.shutdown();
