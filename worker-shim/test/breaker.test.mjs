// The breaker guarding R2, end to end inside workerd with real local R2 and D1: injected faults
// open it, the API answers 503 with Retry-After, a trial call after the wait closes it, every
// transition is in D1, and the state survives a cold start and a wasm trap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startWorker, call, sleep, tempDir } from './helpers.mjs';

async function transitionsInD1(worker) {
  const { results } = await worker.db
    .prepare('SELECT from_state, to_state, reason FROM circuit_breaker_events ORDER BY at_ms, id')
    .all();
  return results.map((r) => `${r.from_state}->${r.to_state}:${r.reason}`);
}

test('faults open the breaker, 503 with Retry-After, a trial after the wait closes it', async () => {
  const worker = await startWorker();
  try {
    const cfg = await call(worker, 'PUT', '/api/health/circuit-breaker/config', {
      wait_in_open_ms: 1000,
    });
    assert.equal(cfg.status, 200);
    assert.equal(cfg.body.options.wait_in_open_ms, 1000);

    const fault = await call(worker, 'PUT', '/api/admin/faults', {
      operation: 'put',
      error_rate: 1.0,
      latency_ms: 0,
    });
    assert.equal(fault.status, 200);
    assert.deepEqual(fault.body.changed, ['put']);

    for (let i = 0; i < 3; i++) {
      const res = await call(worker, 'PUT', `/api/storage/files/f${i}.txt`, 'data');
      assert.equal(res.status, 502, `call ${i}`);
      assert.equal(res.body.error.code, 'storage_error');
      assert.match(res.body.error.message, /injected fault/);
    }
    assert.equal(await worker.bucket.head('users/admin/f0.txt'), null, 'a failed put writes nothing');

    const refused = await call(worker, 'GET', '/api/storage/files/f0.txt');
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error.code, 'circuit_open');
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 1, `Retry-After ${retryAfter}`);

    const health = await call(worker, 'GET', '/api/health');
    assert.equal(health.status, 503);
    assert.equal(health.body.status, 'unhealthy');
    assert.equal(health.body.components.storage.status, 'unhealthy');
    assert.equal(health.body.circuit_breaker.state, 'open');

    const cleared = await call(worker, 'DELETE', '/api/admin/faults');
    assert.deepEqual(cleared.body.faults, {});
    await sleep(1100);

    const trial = await call(worker, 'PUT', '/api/storage/files/after.txt', 'recovered');
    assert.equal(trial.status, 201);
    const status = await call(worker, 'GET', '/api/health/circuit-breaker');
    assert.equal(status.body.state, 'closed');
    assert.deepEqual(
      status.body.recent_transitions.map((t) => `${t.from}->${t.to}`),
      ['half_open->closed', 'open->half_open', 'closed->open'],
    );
    assert.equal(status.body.recent_transitions[2].figures.consecutive_failures, 3);

    assert.deepEqual(await transitionsInD1(worker), [
      'closed->open:consecutive_failures',
      'open->half_open:wait_in_open_elapsed',
      'half_open->closed:trial_calls_succeeded',
    ]);
    assert.equal((await call(worker, 'GET', '/api/health')).body.status, 'healthy');
  } finally {
    await worker.dispose();
  }
});

test('a failing trial call sends the breaker back to open', async () => {
  const worker = await startWorker();
  try {
    await call(worker, 'PUT', '/api/health/circuit-breaker/config', { wait_in_open_ms: 300 });
    await call(worker, 'PUT', '/api/admin/faults', { operation: 'all', error_rate: 1 });
    for (let i = 0; i < 3; i++) await call(worker, 'GET', `/api/storage/files/x${i}`);
    await sleep(350);
    const trial = await call(worker, 'GET', '/api/storage/files/x');
    assert.equal(trial.status, 502);
    const again = await call(worker, 'GET', '/api/storage/files/x');
    assert.equal(again.status, 503);
    assert.deepEqual((await transitionsInD1(worker)).slice(-1), ['half_open->open:trial_calls_failed']);
  } finally {
    await worker.dispose();
  }
});

test('slow calls open the breaker by the slow-call rate', async () => {
  const worker = await startWorker();
  try {
    const cfg = await call(worker, 'PUT', '/api/health/circuit-breaker/config', {
      slow_call_duration_ms: 100,
      slow_call_rate_threshold_pct: 100,
      minimum_calls: 2,
    });
    assert.equal(cfg.status, 200);
    await call(worker, 'PUT', '/api/admin/faults', { operation: 'head', latency_ms: 150 });
    assert.equal((await worker.fetch('/api/storage/files/s', { method: 'HEAD' })).status, 404);
    assert.equal((await worker.fetch('/api/storage/files/s', { method: 'HEAD' })).status, 404);
    assert.equal((await worker.fetch('/api/storage/files/s', { method: 'HEAD' })).status, 503);
    assert.deepEqual(await transitionsInD1(worker), ['closed->open:slow_call_rate_threshold']);
  } finally {
    await worker.dispose();
  }
});

test('operators can force the breaker open, disable it and reset it', async () => {
  const worker = await startWorker();
  try {
    const forced = await call(worker, 'POST', '/api/health/circuit-breaker/force-open');
    assert.equal(forced.body.state, 'forced_open');
    assert.equal((await call(worker, 'GET', '/api/storage/files')).status, 503);

    const disabled = await call(worker, 'POST', '/api/health/circuit-breaker/disable');
    assert.equal(disabled.body.state, 'disabled');
    await call(worker, 'PUT', '/api/admin/faults', { operation: 'list', error_rate: 1 });
    for (let i = 0; i < 5; i++) assert.equal((await call(worker, 'GET', '/api/storage/files')).status, 502);
    assert.equal((await call(worker, 'GET', '/api/health')).body.status, 'degraded');

    const reset = await call(worker, 'POST', '/api/health/circuit-breaker/reset');
    assert.equal(reset.body.state, 'closed');
    assert.deepEqual(await transitionsInD1(worker), [
      'closed->forced_open:operator_forced_open',
      'forced_open->disabled:operator_disabled',
      'disabled->closed:operator_reset',
    ]);
  } finally {
    await worker.dispose();
  }
});

test('breaker state, settings and faults survive a cold start', async () => {
  const dir = tempDir('cold');
  try {
    let worker = await startWorker({ persistDir: dir });
    await call(worker, 'PUT', '/api/health/circuit-breaker/config', { wait_in_open_ms: 45000 });
    await call(worker, 'PUT', '/api/admin/faults', { operation: 'get', latency_ms: 5 });
    await call(worker, 'POST', '/api/health/circuit-breaker/force-open');
    await worker.dispose();

    worker = await startWorker({ persistDir: dir, migrate: false });
    try {
      const status = await call(worker, 'GET', '/api/health/circuit-breaker');
      assert.equal(status.body.state, 'forced_open');
      assert.equal(status.body.options.wait_in_open_ms, 45000);
      assert.equal((await call(worker, 'PUT', '/api/storage/files/a', 'x')).status, 503);
      const faults = await call(worker, 'GET', '/api/admin/faults');
      assert.deepEqual(faults.body.faults, { get: { error_rate: 0, latency_ms: 5 } });
    } finally {
      await worker.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a wasm trap gives a clear 500, and the next request runs on a fresh engine from D1', async () => {
  const worker = await startWorker();
  try {
    await call(worker, 'POST', '/api/health/circuit-breaker/force-open');
    const trapped = await call(worker, 'POST', '/api/admin/faults/trap');
    assert.equal(trapped.status, 500);
    assert.equal(trapped.body.error.code, 'engine_trap');
    assert.match(trapped.body.error.message, /restarted from saved state/);
    const status = await call(worker, 'GET', '/api/health/circuit-breaker');
    assert.equal(status.status, 200);
    assert.equal(status.body.state, 'forced_open');
  } finally {
    await worker.dispose();
  }
});

test('with FAULT_INJECTION off the fault routes do not exist', async () => {
  const worker = await startWorker({ vars: { FAULT_INJECTION: 'off' } });
  try {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await call(worker, method, '/api/admin/faults', method === 'PUT' ? { operation: 'get' } : undefined);
      assert.equal(res.status, 404, method);
    }
    assert.equal((await call(worker, 'POST', '/api/admin/faults/trap')).status, 404);
  } finally {
    await worker.dispose();
  }
});

test('bad fault settings are refused naming the field and change nothing', async () => {
  const worker = await startWorker();
  try {
    await call(worker, 'PUT', '/api/admin/faults', { operation: 'get', error_rate: 0.5 });
    const bad = await call(worker, 'PUT', '/api/admin/faults', { operation: 'get', error_rate: 2 });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.error.field, 'error_rate');
    const op = await call(worker, 'PUT', '/api/admin/faults', { operation: 'copy' });
    assert.equal(op.body.error.field, 'operation');
    const now = await call(worker, 'GET', '/api/admin/faults');
    assert.deepEqual(now.body.faults, { get: { error_rate: 0.5, latency_ms: 0 } });
  } finally {
    await worker.dispose();
  }
});
