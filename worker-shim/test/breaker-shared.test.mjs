// One breaker state for every isolate (issue #17, item 4): two copies of the Worker (two
// isolates, two engines) against one shared breaker (the BREAKERS Durable Object). When the
// first isolate's breaker opens, the second refuses R2 calls within a second, with no call of
// its own failing; an operator's change made on one reaches the other; and when the object
// cannot be reached each isolate's own breaker still protects R2 while /api/health says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, call, sleep } from './helpers.mjs';

/** Reads GET results of `path` on `target` every `everyMs` until stopped; keeps status and time of each. */
function poller(target, path, everyMs) {
  const seen = [];
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const at = Date.now();
      const res = await call(target, 'GET', path);
      seen.push({ at, status: res.status, code: res.body?.error?.code, retryAfter: res.headers.get('retry-after') });
      await sleep(everyMs);
    }
  })();
  return {
    seen,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

async function waitFor(what, predicate, timeoutMs) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

test('the second isolate refuses within a second of the first one opening', { timeout: 60_000 }, async (t) => {
  const worker = await startWorker({ breakerCoordinator: true, isolates: 2 });
  const second = { fetch: worker.fetchSecond };
  try {
    assert.equal((await call(worker, 'PUT', '/api/storage/files/shared.txt', 'hello')).status, 201);
    // The second isolate serves reads (its engine is loaded and linked before the fault).
    assert.equal((await call(second, 'GET', '/api/storage/files/shared.txt')).status, 200);
    const fault = await call(worker, 'PUT', '/api/admin/faults', { operation: 'put', error_rate: 1.0, latency_ms: 0 });
    assert.equal(fault.status, 200);

    const reads = poller(second, '/api/storage/files/shared.txt', 40);
    await sleep(600);
    let openedAt;
    for (let i = 0; i < 3; i++) {
      openedAt = Date.now(); // the third failure opens the first isolate's breaker during its request
      const res = await call(worker, 'PUT', `/api/storage/files/f${i}.txt`, 'data');
      assert.equal(res.status, 502, `put ${i}: ${JSON.stringify(res.body)}`);
    }
    assert.equal((await call(worker, 'GET', '/api/storage/files/shared.txt')).status, 503, 'the first isolate is open');
    const refused = await waitFor('a refusal on the second isolate', () => reads.seen.find((r) => r.status === 503), 5_000);
    await reads.stop();

    const before = reads.seen.filter((r) => r.at < openedAt);
    assert.ok(before.length >= 5 && before.every((r) => r.status === 200), 'the second isolate served reads before');
    assert.equal(refused.code, 'circuit_open');
    assert.ok(Number(refused.retryAfter) >= 1, `Retry-After ${refused.retryAfter}`);
    const lag = refused.at - openedAt;
    t.diagnostic(`the second isolate refused ${lag} ms after the first one's breaker opened`);
    assert.ok(lag <= 1_000, `the second isolate refused ${lag} ms after the first opened`);
    // None of the second isolate's own calls failed: it learned from the shared breaker.
    assert.ok(reads.seen.every((r) => r.status === 200 || r.status === 503), JSON.stringify(reads.seen));

    // Its admin view shows its local copy and the shared breaker.
    const view = await call(second, 'GET', '/api/health/circuit-breaker');
    assert.equal(view.status, 200);
    assert.equal(view.body.scope, 'local_copy');
    assert.equal(view.body.state, 'open');
    assert.equal(view.body.shared.state, 'open');
    assert.equal(view.body.sync.standing, 'synced');
    assert.equal(view.body.sync.shared.generation, view.body.shared.generation);
    assert.ok(view.body.shared.recent_transitions.some((t) => t.to === 'open'), JSON.stringify(view.body.shared.recent_transitions));
    const adopted = await worker.db
      .prepare(`SELECT from_state, to_state FROM circuit_breaker_events WHERE reason = 'shared_state'`)
      .all();
    assert.deepEqual(adopted.results.map((r) => `${r.from_state}->${r.to_state}`), ['closed->open']);
    const health = await call(second, 'GET', '/api/health', undefined, { as: null });
    assert.equal(health.body.components.shared_breaker.status, 'healthy');
    assert.equal(health.body.circuit_breaker.shared.standing, 'synced');
  } finally {
    await worker.dispose();
  }
});

test('an operator change on one isolate reaches the other: options, force-open, reset', { timeout: 60_000 }, async () => {
  const worker = await startWorker({ breakerCoordinator: true, isolates: 2 });
  const second = { fetch: worker.fetchSecond };
  try {
    assert.equal((await call(worker, 'PUT', '/api/storage/files/a.txt', 'a')).status, 201);
    assert.equal((await call(second, 'GET', '/api/storage/files/a.txt')).status, 200);

    const cfg = await call(worker, 'PUT', '/api/health/circuit-breaker/config', { wait_in_open_ms: 7000 });
    assert.equal(cfg.status, 200);
    assert.equal(cfg.body.shared.state, 'closed');
    const sharedView = await call(second, 'GET', '/api/health/circuit-breaker');
    assert.equal(sharedView.body.shared.options.wait_in_open_ms, 7000, 'the shared breaker has the new options');

    const forced = await call(worker, 'POST', '/api/health/circuit-breaker/force-open');
    assert.equal(forced.status, 200);
    assert.equal(forced.body.shared.state, 'forced_open');
    const refused = await waitFor('the second isolate to refuse', async () => {
      const r = await call(second, 'GET', '/api/storage/files/a.txt');
      return r.status === 503 ? r : null;
    }, 3_000);
    assert.equal(refused.body.error.code, 'circuit_open');

    const reset = await call(worker, 'POST', '/api/health/circuit-breaker/reset');
    assert.equal(reset.body.shared.state, 'closed');
    await waitFor('the second isolate to serve again', async () => {
      return (await call(second, 'GET', '/api/storage/files/a.txt')).status === 200;
    }, 3_000);
  } finally {
    await worker.dispose();
  }
});

test('shared breaker unreachable: the local breaker still protects R2, /api/health says degraded', { timeout: 60_000 }, async () => {
  const worker = await startWorker({ breakerCoordinator: 'unreachable' });
  try {
    const health = await call(worker, 'GET', '/api/health', undefined, { as: null });
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'degraded');
    assert.equal(health.body.components.shared_breaker.status, 'degraded');
    assert.match(health.body.components.shared_breaker.reason, /could not be reached/);
    assert.match(health.body.components.shared_breaker.reason, /own breaker alone guards R2/);
    assert.equal(health.body.circuit_breaker.shared.standing, 'unreachable');

    assert.equal((await call(worker, 'PUT', '/api/admin/faults', { operation: 'put', error_rate: 1.0, latency_ms: 0 })).status, 200);
    for (let i = 0; i < 3; i++) {
      assert.equal((await call(worker, 'PUT', `/api/storage/files/f${i}.txt`, 'x')).status, 502);
    }
    const refused = await call(worker, 'PUT', '/api/storage/files/f3.txt', 'x');
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error.code, 'circuit_open');

    const view = await call(worker, 'GET', '/api/health/circuit-breaker');
    assert.equal(view.body.state, 'open');
    assert.equal(view.body.sync.standing, 'unreachable');
    assert.match(view.body.shared.error, /could not be reached/);
    // An operator's command still applies here, and says the shared breaker was not reached.
    const reset = await call(worker, 'POST', '/api/health/circuit-breaker/reset');
    assert.equal(reset.status, 200);
    assert.equal(reset.body.state, 'closed');
    assert.match(reset.body.shared.error, /could not be reached/);
  } finally {
    await worker.dispose();
  }
});
