// GET /api/metrics/overview: the dashboard's performance figures over a range against the
// period just before it, with the breaker's thresholds as warning lines.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, call } from './helpers.mjs';

let worker;
before(async () => {
  worker = await startWorker();
  for (let i = 0; i < 4; i++) {
    const res = await worker.fetch(`/api/storage/files/docs/d${i}.txt`, { method: 'PUT', body: 'x'.repeat(100) });
    assert.equal(res.status, 201);
  }
  for (let i = 0; i < 2; i++) await (await worker.fetch(`/api/storage/files/docs/d${i}.txt`)).arrayBuffer();
  assert.equal((await call(worker, 'POST', '/api/admin/jobs/metrics-flush')).status, 200);
  // The same minutes one hour earlier: the previous period of the 1h range.
  await worker.db
    .prepare(
      `INSERT INTO storage_metrics (level, period_start_ms, bucket, prefix, user_id, operation, writer,
         r2_class, calls, errors, bytes_up, bytes_down, latency_sketch, updated_at_ms)
       SELECT level, period_start_ms - 3600000, bucket, prefix, user_id, operation, writer, r2_class,
         calls * 2, calls, bytes_up, bytes_down, latency_sketch, updated_at_ms
       FROM storage_metrics WHERE level = 'minute' AND operation = 'put'`,
    )
    .run();
});
after(async () => {
  await worker?.dispose();
});

test('the overview compares the range with the period before it', async () => {
  const res = await call(worker, 'GET', '/api/metrics/overview?range=1h');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const f = res.body.figures;
  assert.equal(res.body.range, '1h');
  assert.equal(res.body.previous.to_ms, res.body.current.from_ms);
  assert.equal(f.uploads.value, 4);
  assert.equal(f.downloads.value, 2);
  assert.equal(f.calls.value, 6);
  assert.equal(f.bytes_up.value, 400);
  assert.equal(f.uploads.previous, 8); // the copied minutes doubled the calls
  assert.equal(f.uploads.change_pct, -50);
  assert.equal(f.downloads.previous, 0);
  assert.equal(f.downloads.change_pct, null);
  assert.equal(f.error_rate_pct.value, 0);
  assert.equal(f.error_rate_pct.previous, 50); // 4 errors in 8 calls
  assert.equal(typeof f.p95_ms.value, 'number');
});

test('the warning lines are the breaker thresholds', async () => {
  const res = await call(worker, 'GET', '/api/metrics/overview?range=1h');
  const options = (await call(worker, 'GET', '/api/health/circuit-breaker/config')).body;
  assert.equal(res.body.figures.error_rate_pct.threshold, options.failure_rate_threshold_pct);
  assert.equal(res.body.figures.avg_ms.threshold, options.slow_call_duration_ms);
  assert.equal(res.body.figures.error_rate_pct.over_threshold, false);
});

test('the overview refuses an unknown range or query parameter', async () => {
  assert.equal((await call(worker, 'GET', '/api/metrics/overview?range=2h')).body.error.field, 'range');
  assert.equal((await call(worker, 'GET', '/api/metrics/overview?hours=3')).status, 400);
});
