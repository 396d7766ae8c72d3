// The metrics pipeline inside workerd with real local R2 and D1: exact counts and bytes in
// the rollups and the usage figures, idempotent flushes and cron runs, no loss when D1 fails,
// hour rollups with merged sketches, the inventory walk, retention, CSV and Prometheus.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startWorker, call, tempDir, tokenFor } from './helpers.mjs';

const PUT_SIZES = [10, 200, 3000, 45, 0, 1024, 77];

async function doKnownOperations(worker) {
  for (const [i, size] of PUT_SIZES.entries()) {
    const res = await worker.fetch(`/api/storage/files/photos/p${i}.bin`, { method: 'PUT', body: 'x'.repeat(size) });
    assert.equal(res.status, 201);
  }
  for (let i = 0; i < 5; i++) {
    const res = await worker.fetch(`/api/storage/files/photos/p${i}.bin`);
    await res.arrayBuffer();
  }
  for (const key of ['photos/p0.bin', 'photos/p1.bin', 'photos/missing']) {
    await worker.fetch(`/api/storage/files/${key}`, { method: 'HEAD' });
  }
  for (const key of ['photos/p5.bin', 'photos/p6.bin']) {
    await worker.fetch(`/api/storage/files/${key}`, { method: 'DELETE' });
  }
  await call(worker, 'GET', '/api/storage/files?prefix=photos/');
  await call(worker, 'GET', '/api/storage/files?prefix=photos/&limit=1');
}

const EXPECTED = {
  put: { calls: 7, bytes_up: PUT_SIZES.reduce((a, b) => a + b, 0), bytes_down: 0 },
  get: { calls: 5, bytes_up: 0, bytes_down: 10 + 200 + 3000 + 45 + 0 },
  head: { calls: 3, bytes_up: 0, bytes_down: 0 },
  delete: { calls: 2, bytes_up: 0, bytes_down: 0 },
  list: { calls: 2, bytes_up: 0, bytes_down: 0 },
};

async function minuteTotals(worker, where = '') {
  const { results } = await worker.db
    .prepare(
      `SELECT operation, SUM(calls) AS calls, SUM(bytes_up) AS bytes_up, SUM(bytes_down) AS bytes_down
         FROM storage_metrics WHERE level = 'minute' ${where} GROUP BY operation`,
    )
    .all();
  return Object.fromEntries(results.map((r) => [r.operation, { calls: r.calls, bytes_up: r.bytes_up, bytes_down: r.bytes_down }]));
}

async function allRows(worker) {
  const { results } = await worker.db
    .prepare(
      `SELECT level, period_start_ms, bucket, prefix, user_id, operation, writer, calls, errors,
              bytes_up, bytes_down, latency_sketch FROM storage_metrics
        ORDER BY level, period_start_ms, bucket, prefix, user_id, operation, writer`,
    )
    .all();
  return results;
}

let worker;
before(async () => {
  worker = await startWorker();
  await doKnownOperations(worker);
  const flushed = await call(worker, 'POST', '/api/admin/jobs/metrics-flush');
  assert.equal(flushed.status, 200);
});
after(async () => {
  await worker?.dispose();
});

test('N known operations give exactly N calls and the exact bytes in the minute rollups', async () => {
  assert.deepEqual(await minuteTotals(worker, "AND prefix = 'photos'"), EXPECTED);
});

test('the usage summary has the exact calls by class and bytes', async () => {
  const res = await call(worker, 'GET', '/api/usage/summary?period=hour');
  assert.equal(res.status, 200);
  assert.equal(res.body.api_calls.class_a, EXPECTED.put.calls + EXPECTED.list.calls);
  assert.equal(res.body.api_calls.class_b, EXPECTED.get.calls + EXPECTED.head.calls);
  assert.equal(res.body.api_calls.free, EXPECTED.delete.calls);
  assert.equal(res.body.bandwidth.upload_bytes, EXPECTED.put.bytes_up);
  assert.equal(res.body.bandwidth.download_bytes, EXPECTED.get.bytes_down);
  assert.equal(res.body.by_operation.head.calls, 3);
  const bad = await call(worker, 'GET', '/api/usage/summary?period=year');
  assert.equal(bad.status, 422);
  assert.equal(bad.body.error.field, 'period');
});

test('a flush repeated and a cron run twice change nothing', async () => {
  const before = await allRows(worker);
  await call(worker, 'POST', '/api/admin/jobs/metrics-flush');
  await call(worker, 'POST', '/api/admin/jobs/metrics-flush');
  assert.deepEqual(await allRows(worker), before);

  const w = await worker.mf.getWorker();
  await w.scheduled({ cron: '*/5 * * * *', scheduledTime: new Date() });
  const afterOne = await allRows(worker);
  await w.scheduled({ cron: '*/5 * * * *', scheduledTime: new Date() });
  await call(worker, 'POST', '/api/admin/jobs/collect-metrics');
  const afterThree = await allRows(worker);
  const strip = (rows) => rows.filter((r) => r.user_id !== 'r2watch'); // the inventory's own lists
  assert.deepEqual(strip(afterThree), strip(afterOne));
  assert.deepEqual(await minuteTotals(worker, "AND prefix = 'photos'"), EXPECTED);
});

test('hour rollups add up the minutes and merge their sketches exactly', async () => {
  await call(worker, 'POST', '/api/admin/jobs/collect-metrics');
  const { results } = await worker.db
    .prepare(
      `SELECT operation, SUM(calls) AS calls, SUM(bytes_up) AS bytes_up, SUM(bytes_down) AS bytes_down
         FROM storage_metrics WHERE level = 'hour' AND prefix = 'photos' GROUP BY operation`,
    )
    .all();
  const hours = Object.fromEntries(results.map((r) => [r.operation, { calls: r.calls, bytes_up: r.bytes_up, bytes_down: r.bytes_down }]));
  assert.deepEqual(hours, EXPECTED);
  // The open day is not rolled up (every reader takes it from its hours, rolled up once it is
  // complete): no day row yet, and the month's views count the calls all the same.
  const day = await worker.db.prepare("SELECT SUM(calls) AS n FROM storage_metrics WHERE level = 'day' AND prefix = 'photos'").first();
  assert.equal(day.n, null);
  const month = await call(worker, 'GET', '/api/metrics/history?range=30d');
  assert.equal(month.body.points.reduce((n, p) => n + p.calls, 0) >= 19, true);
  const hourPut = await worker.db
    .prepare("SELECT latency_sketch FROM storage_metrics WHERE level = 'hour' AND prefix = 'photos' AND operation = 'put'")
    .all();
  const counts = hourPut.results.map((r) => JSON.parse(r.latency_sketch)).reduce((n, s) => n + s.zero + s.bins.reduce((a, b) => a + b[1], 0), 0);
  assert.equal(counts, 7);
});

test('history has the calls and latency quantiles of the range; bad ranges are refused', async () => {
  const res = await call(worker, 'GET', '/api/metrics/history?range=1h');
  assert.equal(res.status, 200);
  assert.equal(res.body.points.length, 60);
  const total = res.body.points.reduce((n, p) => n + p.calls, 0);
  assert.ok(total >= 19, `history counts ${total}`);
  const withCalls = res.body.points.filter((p) => p.calls > 0);
  assert.ok(withCalls.every((p) => typeof p.p95_ms === 'number' && p.p50_ms <= p.p99_ms));
  const puts = await call(worker, 'GET', '/api/metrics/history?range=1h&operation=put');
  assert.equal(puts.body.points.reduce((n, p) => n + p.calls, 0), 7);
  assert.equal(puts.body.points.reduce((n, p) => n + p.bytes_up, 0), EXPECTED.put.bytes_up);
  const day = await call(worker, 'GET', '/api/metrics/history?range=24h');
  assert.equal(day.body.points.length, 24);
  assert.equal(day.body.points.reduce((n, p) => n + p.calls, 0), total);
  const bad = await call(worker, 'GET', '/api/metrics/history?range=2h');
  assert.equal(bad.status, 422);
  assert.equal(bad.body.error.field, 'range');
  const badOp = await call(worker, 'GET', '/api/metrics/history?operation=copy');
  assert.equal(badOp.status, 400);
});

test('the CSV export parses and adds up to the same calls', async () => {
  const res = await worker.fetch('/api/usage/export?hours=24&format=csv');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /text\/csv/);
  const lines = (await res.text()).trim().split('\n');
  const header = lines[0].split(',');
  assert.deepEqual(header, ['hour', 'bucket', 'operation', 'r2_class', 'calls', 'errors', 'bytes_up', 'bytes_down']);
  const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])));
  const puts = rows.filter((r) => r.operation === 'put').reduce((n, r) => n + Number(r.calls), 0);
  assert.equal(puts, 7);
  assert.ok(rows.every((r) => !Number.isNaN(Date.parse(r.hour))));
  const asJson = await call(worker, 'GET', '/api/usage/export?hours=24');
  assert.ok(Array.isArray(asJson.body.records));
  assert.equal((await call(worker, 'GET', '/api/usage/export?format=xml')).status, 400);
});

test('details and status answer per resource and bucket', async () => {
  const up = await call(worker, 'GET', '/api/usage/details?hours=24&resource=bandwidth_upload');
  assert.equal(up.body.records.reduce((n, r) => n + r.value, 0), EXPECTED.put.bytes_up);
  const calls = await call(worker, 'GET', '/api/usage/details?hours=24&resource=api_calls');
  assert.ok(calls.body.records.reduce((n, r) => n + (r.by_class.free ?? 0), 0) >= 2);
  assert.equal((await call(worker, 'GET', '/api/usage/details?resource=cpu')).status, 400);
  // Hours are the engine's rule: up to a leap year (8784), the same as /api/health/metrics.
  const year = await call(worker, 'GET', '/api/usage/details?hours=8784&resource=api_calls');
  assert.equal(year.status, 200);
  assert.equal(year.body.hours, 8784);
  for (const bad of ['0', '8785', '1e3', '-5']) {
    const refused = await call(worker, 'GET', `/api/usage/details?hours=${bad}&resource=api_calls`);
    assert.equal(refused.status, 400, bad);
    assert.equal(refused.body.error.field, 'hours', bad);
  }
  assert.equal((await call(worker, 'GET', '/api/usage/export?hours=8785')).status, 400);
  const status = await call(worker, 'GET', '/api/usage/status');
  assert.equal(status.body.buckets[0].bucket, 'r2watch-data');
  assert.equal(status.body.buckets[0].health.circuit_breaker, 'closed');
  assert.ok(status.body.buckets[0].last_operation_at);
});

test('the inventory counts what the bucket holds, by prefix and type, and the largest', async () => {
  await worker.bucket.put('.r2watch/health/leftover', 'xxxxxxxxxx'); // r2watch's own: not counted
  await call(worker, 'POST', '/api/admin/jobs/collect-metrics');
  const usage = await call(worker, 'GET', '/api/storage/usage');
  assert.equal(usage.status, 200);
  const listed = await worker.bucket.list();
  const mine = listed.objects.filter((o) => !o.key.startsWith('.r2watch/'));
  assert.equal(usage.body.inventory.objects, mine.length);
  assert.equal(usage.body.inventory.bytes, mine.reduce((n, o) => n + o.size, 0));
  // Every user's objects are under users/<id>/ (the admin's here): the inventory counts them by
  // the prefix inside the user's namespace (not one "users" row), and per user.
  assert.equal(usage.body.inventory.by_prefix.users, undefined);
  const inside = (o) => o.key.split('/')[2];
  for (const prefix of new Set(mine.map(inside))) {
    assert.equal(usage.body.inventory.by_prefix[prefix].objects, mine.filter((o) => inside(o) === prefix).length, prefix);
  }
  assert.equal(usage.body.inventory.by_user.admin.objects, mine.length);
  assert.equal(usage.body.inventory.by_user_prefix.admin.photos.objects, mine.filter((o) => inside(o) === 'photos').length);
  assert.equal(usage.body.inventory.largest[0].key, 'users/admin/photos/p2.bin');
  assert.equal(usage.body.growth.latest.objects, mine.length);
  // The stored inventory state carries its schema version.
  assert.equal(usage.body.inventory.version, 1);
});

test('the usage CSV neutralizes a cell that a spreadsheet would run as a formula', async () => {
  const w = await startWorker({ vars: { BUCKET_NAME: '=HYPERLINK("http://x","y")' } });
  try {
    assert.equal((await w.fetch('/api/storage/files/a/b.txt', { method: 'PUT', body: 'abc' })).status, 201);
    const res = await w.fetch('/api/usage/export?hours=1&format=csv');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const lines = (await res.text()).trim().split('\n');
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[1], /^[^,]+,"'=HYPERLINK\(""http:\/\/x"",""y""\)",put,A,1,0,3,0$/);
  } finally {
    await w.dispose();
  }
});

test('Prometheus /metrics passes promtool and carries the counters', async () => {
  const res = await worker.fetch('/metrics');
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.match(text, /r2watch_operations_total\{bucket="r2watch-data",operation="put",r2_class="A"\} 7/);
  assert.match(text, /r2watch_circuit_breaker_state\{state="closed"\} 1/);
  const file = join(tempDir('prom'), 'metrics.txt');
  writeFileSync(file, text);
  // promtool reads the exposition from stdin and exits non-zero on a problem.
  execFileSync('sh', ['-c', `promtool check metrics < ${file}`], { stdio: 'pipe' });
});

test('a D1 failure during a flush loses nothing once D1 is back', async () => {
  const w = await startWorker();
  try {
    await w.db.exec('ALTER TABLE storage_metrics RENAME TO storage_metrics_away');
    for (let i = 0; i < 4; i++) {
      await w.fetch(`/api/storage/files/docs/d${i}.txt`, { method: 'PUT', body: 'abc' });
    }
    const failed = await call(w, 'POST', '/api/admin/jobs/metrics-flush');
    assert.equal(failed.status, 500);
    await w.db.exec('ALTER TABLE storage_metrics_away RENAME TO storage_metrics');
    await w.fetch('/api/storage/files/docs/d0.txt');
    const ok = await call(w, 'POST', '/api/admin/jobs/metrics-flush');
    assert.equal(ok.status, 200);
    const totals = await minuteTotals(w, "AND prefix = 'docs'");
    assert.deepEqual(totals.put, { calls: 4, bytes_up: 12, bytes_down: 0 });
    assert.deepEqual(totals.get, { calls: 1, bytes_up: 0, bytes_down: 3 });
  } finally {
    await w.dispose();
  }
});

test('the inventory walk resumes across runs for a big bucket', async () => {
  const w = await startWorker({ vars: { INVENTORY_PAGE_SIZE: '2', INVENTORY_PAGES_PER_RUN: '2' } });
  try {
    for (let i = 0; i < 9; i++) await w.bucket.put(`big/${i}`, 'x'.repeat(i));
    const first = await call(w, 'POST', '/api/admin/jobs/collect-metrics');
    assert.equal(first.body.inventory.complete, false);
    assert.equal((await call(w, 'GET', '/api/storage/usage')).body.walk_in_progress.objects_so_far, 4);
    await call(w, 'POST', '/api/admin/jobs/collect-metrics');
    const third = await call(w, 'POST', '/api/admin/jobs/collect-metrics');
    assert.equal(third.body.inventory.complete, true);
    const usage = await call(w, 'GET', '/api/storage/usage');
    assert.equal(usage.body.inventory.objects, 9);
    assert.equal(usage.body.inventory.bytes, 36);
    assert.equal(usage.body.walk_in_progress, null);
  } finally {
    await w.dispose();
  }
});

test('retention deletes minute rows past 30 days and keeps newer ones (hour and day rows wait for the archive)', async () => {
  const w = await startWorker();
  try {
    const now = Date.now();
    const insert = (level, t) =>
      w.db
        .prepare(
          `INSERT INTO storage_metrics VALUES (?, ?, 'b', 'p', '', 'get', 'w', 'B', 1, 0, 0, 0,
             '{"zero":0,"bins":[],"sum":0,"min":null,"max":null}', 0)`,
        )
        .bind(level, t)
        .run();
    await insert('minute', now - 31 * 86_400_000);
    await insert('minute', now - 29 * 86_400_000);
    await insert('hour', now - 31 * 86_400_000);
    await insert('day', now - 400 * 86_400_000);
    const res = await call(w, 'POST', '/api/admin/jobs/retention');
    assert.deepEqual(res.body, { minute_rows_deleted: 1, expired_reservations_deleted: 0 });
    const left = await w.db.prepare('SELECT level FROM storage_metrics ORDER BY level').all();
    assert.deepEqual(left.results.map((r) => r.level), ['day', 'hour', 'minute']);
  } finally {
    await w.dispose();
  }
});

test('bad metrics variables fall back to defaults and say so', async () => {
  const w = await startWorker({ vars: { SUCCESS_SAMPLING_RATE: '5' } });
  try {
    const res = await call(w, 'GET', '/api/storage/files');
    assert.equal(res.status, 200);
    const health = await call(w, 'GET', '/api/health');
    assert.match(health.body.configuration_errors[0], /SUCCESS_SAMPLING_RATE/);
  } finally {
    await w.dispose();
  }
});

// The account-wide rows (account_metrics, per bucket and operation) against the per-user rows
// they stand for, before and after the rollups, through a flush repeated and a flush retried.
test('the account-wide views equal the sum of the per-user rows, and a re-flush does not double count', async () => {
  const w = await startWorker();
  const users = ['ana', 'ben', 'cai'];
  // Sums per bucket and operation, or per operation over every bucket (`allBuckets`).
  const sumBy = (rows, allBuckets = false) => {
    const out = {};
    for (const r of rows) {
      const k = `${allBuckets ? '*' : r.bucket}/${r.operation}`;
      const t = (out[k] ??= { calls: 0, errors: 0, bytes_up: 0, bytes_down: 0, bins: {} });
      t.calls += r.calls;
      t.errors += r.errors;
      t.bytes_up += r.bytes_up;
      t.bytes_down += r.bytes_down;
      const sketch = JSON.parse(r.latency_sketch);
      for (const [i, n] of sketch.bins) t.bins[i] = (t.bins[i] ?? 0) + n;
      t.bins.zero = (t.bins.zero ?? 0) + sketch.zero;
    }
    return out;
  };
  const perUser = async (level, allBuckets = false) =>
    sumBy((await w.db.prepare(`SELECT * FROM storage_metrics WHERE level = ? AND prefix != '.r2watch'`).bind(level).all()).results, allBuckets);
  // Each bucket's account rows; with `allBuckets` the rows of every bucket together ('*').
  const account = async (level, writers, allBuckets = false) =>
    sumBy(
      (await w.db.prepare(`SELECT * FROM account_metrics WHERE level = ? AND ${writers} AND bucket ${allBuckets ? '=' : '!='} '*'`).bind(level).all()).results,
    );
  const bothAgree = async (level, writers, userLevel) => {
    assert.deepEqual(await account(level, writers), await perUser(userLevel));
    assert.deepEqual(await account(level, writers, true), await perUser(userLevel, true));
  };
  const accountRows = async () => (await w.db.prepare('SELECT * FROM account_metrics ORDER BY level, period_start_ms, bucket, operation, writer').all()).results;
  // What the API says the account did, and what it says each user did.
  const summaryCalls = async (user) => {
    const res = await call(w, 'GET', `/api/usage/summary?period=day${user ? `&user=${user}` : ''}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.by_operation;
  };
  const historyCalls = async (user) => {
    const res = await call(w, 'GET', `/api/metrics/history?range=30d${user ? `&user=${user}` : ''}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.points.length, 30);
    return res.body.points.reduce((n, p) => n + p.calls, 0);
  };
  // r2watch's own calls (the inventory walk's lists) are the account's too.
  const everyone = [...users, 'r2watch'];
  const checkViews = async () => {
    const all = await summaryCalls(null);
    const each = await Promise.all(everyone.map((u) => summaryCalls(u)));
    for (const op of ['put', 'get', 'head', 'delete', 'list']) {
      const sum = each.reduce((n, s) => n + s[op].calls, 0);
      assert.equal(all[op].calls, sum, `${op}: account ${all[op].calls}, users ${sum}`);
      assert.equal(all[op].bytes_up, each.reduce((n, s) => n + s[op].bytes_up, 0), op);
    }
    const histories = await Promise.all(everyone.map((u) => historyCalls(u)));
    assert.equal(await historyCalls(null), histories.reduce((a, b) => a + b, 0));
    return all;
  };
  try {
    for (const [i, user] of users.entries()) {
      const token = await tokenFor(w, user);
      for (let k = 0; k <= i; k++) {
        const put = await call(w, 'PUT', `/api/storage/files/docs/f${k}.txt`, 'x'.repeat(100 * (k + 1)), { as: token });
        assert.equal(put.status, 201, JSON.stringify(put.body));
        assert.equal((await call(w, 'GET', `/api/storage/files/docs/f${k}.txt`, undefined, { as: token })).status, 200);
      }
      await call(w, 'GET', '/api/storage/files?prefix=docs/', undefined, { as: token });
    }
    assert.equal((await call(w, 'POST', '/api/admin/jobs/metrics-flush')).status, 200);
    // Before any rollup: the writers' own hour rows add up to the minute rows.
    await bothAgree('hour', "writer != ''", 'minute');
    const before = await checkViews();
    assert.equal(before.put.calls, 6);
    assert.equal(before.get.calls, 6);
    // Flushing again (and again) rewrites the same cumulative rows: nothing is added.
    const rows = await accountRows();
    await call(w, 'POST', '/api/admin/jobs/metrics-flush');
    await call(w, 'POST', '/api/admin/jobs/metrics-flush');
    assert.deepEqual(await accountRows(), rows);
    // A flush that fails (D1 refuses the account table) is retried whole once D1 is back.
    await w.db.exec('ALTER TABLE account_metrics RENAME TO account_metrics_away');
    const token = await tokenFor(w, 'ana');
    await call(w, 'GET', '/api/storage/files/docs/f0.txt', undefined, { as: token });
    assert.equal((await call(w, 'POST', '/api/admin/jobs/metrics-flush')).status, 500);
    await w.db.exec('ALTER TABLE account_metrics_away RENAME TO account_metrics');
    assert.equal((await call(w, 'POST', '/api/admin/jobs/metrics-flush')).status, 200);
    await bothAgree('hour', "writer != ''", 'minute');
    assert.equal((await checkViews()).get.calls, 7);
    // The rollups: the account's hour and day rows are the users' hour and day rows added up,
    // sketches merged bin by bin; running them twice changes nothing.
    await call(w, 'POST', '/api/admin/jobs/collect-metrics');
    await call(w, 'POST', '/api/admin/jobs/collect-metrics');
    const rolledUp = async () => {
      await bothAgree('hour', "writer = ''", 'hour');
      await bothAgree('day', "writer = ''", 'day');
    };
    await rolledUp();
    const gets = async () => (await w.db.prepare("SELECT * FROM account_metrics WHERE operation = 'get' ORDER BY level, writer").all()).results;
    const settled = await gets();
    // Once more: the same sums (each run's inventory walk adds its own list calls, nothing else).
    await call(w, 'POST', '/api/admin/jobs/collect-metrics');
    await rolledUp();
    assert.deepEqual((await gets()).map(({ updated_at_ms, ...r }) => r), settled.map(({ updated_at_ms, ...r }) => r));
    assert.equal((await checkViews()).get.calls, 7);
  } finally {
    await w.dispose();
  }
});
