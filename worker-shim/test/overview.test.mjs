// GET /api/metrics/overview: the dashboard's performance figures over a range against the
// period just before it, with the alert rules' thresholds as warning lines, for one user or all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, call, tokenFor } from './helpers.mjs';

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

test('the warning lines come from the enabled alert rules, and follow a change of a rule', async () => {
  const res = await call(worker, 'GET', '/api/metrics/overview?range=1h');
  // The default rules: high_error_rate (5%, not the breaker's 50%) and slow_response (2,000 ms).
  assert.equal(res.body.figures.error_rate_pct.threshold, 5);
  assert.equal(res.body.threshold_rules.error_rate_pct, 'high_error_rate');
  assert.equal(res.body.figures.avg_ms.threshold, 2000);
  assert.equal(res.body.figures.p95_ms.threshold, 2000);
  assert.equal(res.body.threshold_rules.response_ms, 'slow_response');
  assert.equal(res.body.figures.error_rate_pct.over_threshold, false);
  try {
    assert.equal((await call(worker, 'PUT', '/api/alerts/rules/high_error_rate', { threshold: 0.5 })).status, 200);
    assert.equal((await call(worker, 'PUT', '/api/alerts/rules/slow_response', { threshold: 1.5 })).status, 200);
    let after = (await call(worker, 'GET', '/api/metrics/overview?range=1h')).body;
    assert.equal(after.figures.error_rate_pct.threshold, 0.5);
    assert.equal(after.figures.avg_ms.threshold, 1.5);
    // The previous hour's copied minutes hold errors: 50% is over the new line.
    assert.equal(after.figures.error_rate_pct.previous, 50);
    // A disabled rule draws no line: the next enabled rule of the type does.
    assert.equal((await call(worker, 'PUT', '/api/alerts/rules/high_error_rate', { enabled: false })).status, 200);
    after = (await call(worker, 'GET', '/api/metrics/overview?range=1h')).body;
    assert.equal(after.figures.error_rate_pct.threshold, 50);
    assert.equal(after.threshold_rules.error_rate_pct, 'critical_error_rate');
  } finally {
    await call(worker, 'PUT', '/api/alerts/rules/high_error_rate', { threshold: 5, enabled: true });
    await call(worker, 'PUT', '/api/alerts/rules/slow_response', { threshold: 2000 });
  }
});

test('the overview refuses an unknown range or query parameter', async () => {
  assert.equal((await call(worker, 'GET', '/api/metrics/overview?range=2h')).body.error.field, 'range');
  assert.equal((await call(worker, 'GET', '/api/metrics/overview?hours=3')).status, 400);
});

test('?user= narrows the overview: an admin sees one user, a user only their own', async () => {
  const alice = await tokenFor(worker, 'alice', { role: 'user' });
  for (let i = 0; i < 3; i++) {
    assert.equal((await call(worker, 'PUT', `/api/storage/files/a/f${i}.txt`, 'abc', { as: alice })).status, 201);
  }
  const forAlice = await call(worker, 'GET', '/api/metrics/overview?range=1h&user=alice');
  assert.equal(forAlice.status, 200, JSON.stringify(forAlice.body));
  assert.equal(forAlice.body.user, 'alice');
  assert.equal(forAlice.body.figures.uploads.value, 3);
  const own = await call(worker, 'GET', '/api/metrics/overview?range=1h', undefined, { as: alice });
  assert.equal(own.status, 200, JSON.stringify(own.body));
  assert.equal(own.body.user, 'alice');
  assert.equal(own.body.figures.uploads.value, 3);
  const ownNamed = await call(worker, 'GET', '/api/metrics/overview?range=1h&user=alice', undefined, { as: alice });
  assert.equal(ownNamed.body.figures.uploads.value, 3);
  const everyone = await call(worker, 'GET', '/api/metrics/overview?range=1h');
  assert.equal(everyone.body.user, null);
  assert.equal(everyone.body.figures.uploads.value, 7);
  const other = await call(worker, 'GET', '/api/metrics/overview?range=1h&user=admin', undefined, { as: alice });
  assert.equal(other.status, 403);
  assert.equal((await call(worker, 'GET', '/api/metrics/overview?user=a%2Fb')).status, 400);
});
