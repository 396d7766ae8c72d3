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
const ROUNDS = 5;

const trivial = async () => 42;
let sink = 0;
async function timed() {
  const started = Date.now();
  const result = await trivial();
  sink += Date.now() - started;
  return result;
}

async function measure(fn) {
  for (let i = 0; i < WARMUP; i++) await fn();
  const perRound = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) await fn();
    perRound.push(Number(process.hrtime.bigint() - t0) / N);
  }
  perRound.sort((a, b) => a - b);
  return perRound[Math.floor(ROUNDS / 2)]; // median of rounds
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

const baseline = await measure(trivial);
const clocked = await measure(timed);
const wasm = await measure(wasmGuarded);
const wasmLinked = await measure(wasmGuardedLinked);
const opDefault = await measure(() => opossumDefault.fire());
const opNoTimeout = await measure(() => opossumNoTimeout.fire());

const rows = [
  ['bare await of the function', baseline, null],
  ['the same, timed with Date.now() (the Worker)', clocked, null],
  ['r2watch wasm breaker (acquire + record)', wasm, clocked],
  ['r2watch wasm breaker + shared-breaker link', wasmLinked, clocked],
  ['opossum fire() (defaults, 10 s timeout)', opDefault, baseline],
  ['opossum fire() (timeout: false)', opNoTimeout, baseline],
];
console.log(`guarded-call overhead, ${N} calls x ${ROUNDS} rounds, median round, Node ${process.version}`);
for (const [name, ns, against] of rows) {
  const overhead = against === null ? '' : `  overhead ${(ns - against).toFixed(1).padStart(8)} ns`;
  console.log(`${name.padEnd(46)} ${ns.toFixed(1).padStart(8)} ns/call${overhead}`);
}
// A difference of medians can come out at or below zero when the breaker costs less than the
// noise between rounds; the ratio is then taken against 1 ns.
const w = Math.max(1, wasm - clocked);
console.log(`r2watch guarded-call overhead: ${(wasm - clocked).toFixed(1)} ns (goal: at most 25 ns)`);
console.log(`ratio opossum(defaults)/wasm overhead: ${((opDefault - baseline) / w).toFixed(1)}x (goal: at least 10x)`);
console.log(`ratio opossum(timeout: false)/wasm overhead: ${((opNoTimeout - baseline) / w).toFixed(1)}x`);
if (sink < 0) console.log(sink);
opossumDefault.shutdown();
opossumNoTimeout.shutdown();
