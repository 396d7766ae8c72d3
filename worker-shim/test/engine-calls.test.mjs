// A storage call is one engine call before R2 and one after (issue #14 item 3), counted by the
// Worker itself where fault injection is on (x-r2watch-engine-calls: "<before> <after>", see
// src/storage.js): the breaker's answer and the injected faults are read from wasm memory, a
// success is written into the engine's ring (folded in bulk), so a warm GET or HEAD asks the
// engine for its plan before R2 and for its answer after; LIST and DELETE ask once before and
// never after; PUT reads its reservation from D1 first and asks for its plan and the quota check
// in one call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, call, tokenFor } from './helpers.mjs';

let worker;
before(async () => {
  worker = await startWorker();
});
after(async () => {
  await worker?.dispose();
});

/** The engine calls a request made before R2 and after, as the Worker counted them. */
async function counted(method, path, token, body) {
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-length'] = String(body.length);
  const res = await worker.fetch(path, { method, body, headers });
  await res.arrayBuffer();
  const value = res.headers.get('x-r2watch-engine-calls');
  assert.ok(value !== null, `${method} ${path} (${res.status}) says how many engine calls it made`);
  const [before, after] = value.split(' ').map(Number);
  return { status: res.status, before, after };
}

/**
 * The fewest calls of three warm runs (the first run of a series interns it; work behind an
 * earlier answer, such as the metrics flush, may ask the engine while a request runs).
 */
async function warm(method, path, token, body) {
  await counted(method, path, token, body);
  let best = null;
  for (let i = 0; i < 3; i++) {
    const c = await counted(method, path, token, body);
    best = best === null ? c : { status: c.status, before: Math.min(best.before, c.before), after: Math.min(best.after, c.after) };
  }
  return best;
}

test('a warm storage call is one engine call before R2 and at most one after', async () => {
  const token = await tokenFor(worker, 'carla');
  const body = 'y'.repeat(512);
  const put = await warm('PUT', '/api/storage/files/docs/a.txt', token, body);
  assert.equal(put.status, 201);
  // The plan and the quota check in one call, with the reservation D1 gave before it.
  assert.equal(put.before, 1, `PUT: ${put.before} engine calls before R2`);
  assert.ok(put.after <= 1, `PUT: ${put.after} engine calls after R2`);

  for (const method of ['GET', 'HEAD']) {
    const read = await warm(method, '/api/storage/files/docs/a.txt', token);
    assert.equal(read.status, 200, method);
    assert.equal(read.before, 1, `${method}: the read plan only, before R2`);
    assert.equal(read.after, 1, `${method}: the answer only, after R2`);
  }
  const list = await warm('GET', '/api/storage/files?prefix=docs/', token);
  assert.equal(list.status, 200);
  assert.equal(list.before, 1, 'LIST: the list query only, before R2');
  assert.ok(list.after <= 1, `LIST: ${list.after} engine calls after R2`);

  const del = await warm('DELETE', '/api/storage/files/docs/a.txt', token);
  assert.equal(del.status, 204);
  assert.equal(del.before, 1, 'DELETE: the key check only, before R2');
  assert.ok(del.after <= 1, `DELETE: ${del.after} engine calls after R2`);
});

test('a PUT under a quota is one engine call before R2, refused or not, and a refusal keeps no reservation', async () => {
  const token = await tokenFor(worker, 'quinn');
  assert.equal((await call(worker, 'PUT', '/api/admin/users/quinn/quota', { max_bytes: 10, max_objects: 5 })).status, 200);
  const first = await counted('PUT', '/api/storage/files/q/a.bin', token, '1234');
  assert.equal(first.status, 201);
  assert.equal(first.before, 1, `PUT under a quota: ${first.before} engine calls before R2`);
  // Over the quota: refused by the one call, before R2.
  const refused = await worker.fetch('/api/storage/files/q/b.bin', {
    method: 'PUT',
    body: '1234567',
    headers: { authorization: `Bearer ${token}`, 'content-length': '7' },
  });
  assert.equal(refused.status, 413);
  assert.equal((await refused.json()).error.code, 'quota_exceeded');
  assert.equal(await worker.bucket.head('users/quinn/q/b.bin'), null);
  // A bad header is refused by the plan, after the reservation was read: it is given back.
  const bad = await worker.fetch('/api/storage/files/q/c.bin', {
    method: 'PUT',
    body: '123456',
    headers: { authorization: `Bearer ${token}`, 'content-length': '6', 'if-match': 'abc' },
  });
  assert.equal(bad.status, 422, await bad.text());
  // So the remaining 6 bytes are all there: an upload of exactly 6 fits.
  const fits = await counted('PUT', '/api/storage/files/q/d.bin', token, '123456');
  assert.equal(fits.status, 201);
  assert.equal(fits.before, 1);
});

test('buffered successes count, and a failure after them opens the breaker on the call that trips it', async () => {
  const put = await call(worker, 'PUT', '/api/storage/files/bf/x.txt', 'z');
  assert.equal(put.status, 201);
  const first = (await call(worker, 'GET', '/api/health/circuit-breaker')).body;
  for (let i = 0; i < 20; i++) assert.equal((await call(worker, 'GET', '/api/storage/files/bf/x.txt')).status, 200);
  // Read through the engine: the ring is folded before the status is taken.
  const warmed = (await call(worker, 'GET', '/api/health/circuit-breaker')).body;
  assert.equal(warmed.totals.calls - first.totals.calls, 20, JSON.stringify(warmed.totals));
  assert.equal(warmed.state, 'closed');
  await call(worker, 'PUT', '/api/admin/faults', { operation: 'get', error_rate: 1 });
  try {
    // Default breaker: three failures in a row open it; the next call is refused.
    for (let i = 0; i < 3; i++) {
      const res = await call(worker, 'GET', '/api/storage/files/bf/x.txt');
      assert.equal(res.status, 502, `call ${i}: ${JSON.stringify(res.body)}`);
    }
    const refused = await call(worker, 'GET', '/api/storage/files/bf/x.txt');
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error.code, 'circuit_open');
  } finally {
    await call(worker, 'DELETE', '/api/admin/faults');
    await call(worker, 'POST', '/api/health/circuit-breaker/reset');
  }
});
