// Analytics Engine events carry a keyed hash of the user (the engine's HMAC-SHA256 under
// ANALYTICS_HASH_KEY), never the user id: src/analytics.js through the built r2watch.wasm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../src/engine.js';
import { writeEvent } from '../src/analytics.js';
import { ROOT, TEST_JWT_SECRET, startWorker, call } from './helpers.mjs';

const module = new WebAssembly.Module(readFileSync(join(ROOT, 'build/wasm/r2watch.wasm')));
const KEY = 'analytics-hash-key-0123456789abcdef0123456789abcdef';

/** A runtime with the real engine configured as the Worker configures it, and a recording dataset. */
function runtimeWith(analyticsKey) {
  const engine = new Engine(module, 0);
  // The Worker's runtime keeps the answer as rt.security (the engine's settings and limits).
  const security = engine.call('security_configure', { vars: {}, jwt_secret: TEST_JWT_SECRET, analytics_key: analyticsKey }, 0);
  const points = [];
  return { engine, security, env: { ANALYTICS: { writeDataPoint: (p) => points.push(p) } }, points };
}

const failedPut = (user) => ({
  bucket: 'photos', operation: 'put', r2Class: 'A', ok: false, prefix: 'docs', user, error: 'boom',
  latencyMs: 5, bytesUp: 0, bytesDown: 0,
});

test('an event carries the keyed hash of its user, never the id', () => {
  const rt = runtimeWith(KEY);
  assert.equal(writeEvent(rt, failedPut('alice@example.com')), true); // errors are always kept
  const [point] = rt.points;
  const expected = createHmac('sha256', KEY).update('r2watch analytics user v1:alice@example.com').digest('hex').slice(0, 32);
  assert.equal(point.blobs[5], expected);
  assert.doesNotMatch(JSON.stringify(point), /alice/);
  // One user, one hash (events of a user still count together); another user, another hash.
  writeEvent(rt, failedPut('alice@example.com'));
  writeEvent(rt, failedPut('bob'));
  assert.equal(rt.points[1].blobs[5], expected);
  assert.notEqual(rt.points[2].blobs[5], expected);
  // No user: empty, as before.
  writeEvent(rt, failedPut(''));
  assert.equal(rt.points[3].blobs[5], '');
});

test('without ANALYTICS_HASH_KEY events carry no user at all, and /api/health says why', async () => {
  const rt = runtimeWith(null);
  writeEvent(rt, failedPut('alice'));
  assert.equal(rt.points[0].blobs[5], '');
  assert.doesNotMatch(JSON.stringify(rt.points[0]), /alice/);

  const worker = await startWorker({ vars: { ANALYTICS_HASH_KEY: null } });
  const keyed = await startWorker();
  try {
    const health = await call(worker, 'GET', '/api/health', undefined, { as: null });
    assert.ok(health.body.configuration_errors.some((e) => /ANALYTICS_HASH_KEY is not set/.test(e)), JSON.stringify(health.body));
    const ok = await call(keyed, 'GET', '/api/health', undefined, { as: null });
    assert.deepEqual(ok.body.configuration_errors, []);
  } finally {
    await worker.dispose();
    await keyed.dispose();
  }
});
