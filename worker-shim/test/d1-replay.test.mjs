// The CPU benches' D1 figures (bench/js/small-account.mjs measureCpu; src/db/instrumented.js),
// where fault injection is on: every response carries the isolate's D1 wall time so far
// (x-r2watch-d1-isolate-ms, all lanes), and with replay on (x-r2watch-d1-replay: on) a D1 call
// met before is answered from the isolate's memory, without a round trip, with the same answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from './helpers.mjs';

let worker;
before(async () => {
  worker = await startWorker();
});
after(async () => {
  await worker?.dispose();
});

async function get(path, mode) {
  const res = await worker.fetch(path, mode ? { headers: { 'x-r2watch-d1-replay': mode } } : {});
  const body = await res.text();
  const counts = /replayed=(\d+), missed=(\d+)/.exec(res.headers.get('x-r2watch-d1-replay'));
  return {
    status: res.status,
    body,
    trips: Number(res.headers.get('x-r2watch-d1-round-trips')),
    isolateMs: Number(res.headers.get('x-r2watch-d1-isolate-ms')),
    replayed: Number(counts[1]),
    missed: Number(counts[2]),
  };
}

test('the isolate D1 time only grows; replay answers a repeated call from memory, alike', async () => {
  const first = await get('/api/pricing');
  assert.equal(first.status, 200);
  assert.ok(first.trips >= 1, 'a pricing read reaches D1');
  assert.ok(Number.isFinite(first.isolateMs) && first.isolateMs >= 0);
  const again = await get('/api/pricing');
  assert.ok(again.isolateMs >= first.isolateMs);

  const recorded = await get('/api/pricing', 'on'); // met for the first time: run and remembered
  const replayed = await get('/api/pricing');
  assert.equal(replayed.status, 200);
  assert.equal(replayed.body, recorded.body, 'the same answer from memory');
  assert.equal(replayed.trips, 0, 'no D1 round trip under replay');
  assert.ok(replayed.replayed > recorded.replayed, 'calls answered from memory are counted');
  assert.equal(replayed.missed, recorded.missed, 'nothing ran for real');

  const off = await get('/api/pricing', 'off');
  assert.ok(off.trips >= 1, 'replay off: D1 again');
});
