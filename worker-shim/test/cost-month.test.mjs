// The month's bill from real usage inside workerd: operations through the storage API and the
// bytes the inventory finds produce the bill R2 would compute, by line, with breakdowns that
// add up, a what-if, snapshots and reports (JSON and CSV).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, call } from './helpers.mjs';

const month = new Date().toISOString().slice(0, 7);
let worker;

before(async () => {
  worker = await startWorker();
  // This month without a free tier, so every line is billed (prices as published).
  const pricing = await call(worker, 'PUT', '/api/pricing', {
    effective_from: `${month}-01`,
    free_tier: { applies_to: [] },
  });
  assert.equal(pricing.status, 200, JSON.stringify(pricing.body));
  for (let i = 0; i < 7; i++) {
    await worker.fetch(`/api/storage/files/photos/p${i}.bin`, { method: 'PUT', body: 'x'.repeat(1000) });
  }
  for (let i = 0; i < 5; i++) await (await worker.fetch(`/api/storage/files/photos/p${i}.bin`)).arrayBuffer();
  for (let i = 0; i < 3; i++) await worker.fetch(`/api/storage/files/photos/p${i}.bin`, { method: 'HEAD' });
  await worker.fetch('/api/storage/files/photos/p6.bin', { method: 'DELETE' });
  await worker.fetch('/api/storage/files/docs/readme.txt', { method: 'PUT', body: 'hello' });
  const collected = await call(worker, 'POST', '/api/admin/jobs/collect-metrics');
  assert.equal(collected.status, 200, JSON.stringify(collected.body));
});
after(async () => {
  await worker?.dispose();
});

test('the month-to-date bill is what R2 would charge, line by line', async () => {
  const res = await call(worker, 'GET', '/api/costs');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const b = res.body;
  // Class A: 8 puts + lists (<= 1 million) -> 1 million x $4.50. Class B: 8 reads -> 1 million x
  // $0.36. Storage: a few KB -> rounded up to 1 GB-month x $0.015. Retrieval: free in Standard.
  assert.equal(b.bill.month_to_date.class_a_micro_usd, 4_500_000);
  assert.equal(b.bill.month_to_date.class_b_micro_usd, 360_000);
  assert.equal(b.bill.month_to_date.storage_micro_usd, 15_000);
  assert.equal(b.bill.month_to_date.retrieval_micro_usd, 0);
  assert.equal(b.monthlyTotal, '4.88');
  assert.equal(b.requestCharges, '4.86');
  assert.equal(b.storageCharges, '0.02');
  assert.equal(b.month, month);
  assert.ok(Array.isArray(b.trend) && b.trend.length >= 1);
  assert.ok(b.forecast.low.total_micro_usd <= b.forecast.expected.total_micro_usd);
  assert.ok(b.forecast.expected.total_micro_usd <= b.forecast.high.total_micro_usd);
});

test('breakdowns by bucket, prefix, class and user add up exactly to the total', async () => {
  const total = (await call(worker, 'GET', '/api/costs')).body.bill.month_to_date.total_micro_usd;
  for (const by of ['bucket', 'prefix', 'class', 'user']) {
    const res = await call(worker, 'GET', `/api/costs/breakdown?by=${by}`);
    assert.equal(res.status, 200, by);
    assert.equal(res.body.rows.reduce((n, r) => n + r.total_micro_usd, 0), total, by);
  }
  const prefixes = (await call(worker, 'GET', '/api/costs/breakdown?by=prefix')).body.rows.map((r) => r.key);
  assert.ok(prefixes.includes('photos') && prefixes.includes('docs'), prefixes.join());
  const bad = await call(worker, 'GET', '/api/costs/breakdown?by=colour');
  assert.equal(bad.status, 422);
  assert.equal(bad.body.error.field, 'by');
});

test('the what-if prices the same usage in Infrequent Access', async () => {
  const res = await call(worker, 'GET', '/api/costs/whatif?class=infrequent_access');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  // IA: Class A $9.00 + Class B $0.90 + storage 1 GB-month $0.01 + retrieval 1 GB $0.01.
  assert.equal(res.body.what_if.month_to_date.total_micro_usd, 9_000_000 + 900_000 + 10_000 + 10_000);
  assert.ok(res.body.saving_to_date_micro_usd < 0, 'IA is dearer for this usage');
});

test('the what-if and the splits by bucket and class read the rows the bill reads', async () => {
  const bill = await call(worker, 'GET', '/api/costs');
  const whatIf = await call(worker, 'GET', '/api/costs/whatif');
  assert.equal(whatIf.status, 200, JSON.stringify(whatIf.body));
  const usage = (lines) => Object.fromEntries(lines.map((l) => [l.line, l.usage]));
  assert.deepEqual(usage(whatIf.body.current.month_to_date.standard.lines), usage(bill.body.bill.month_to_date.standard.lines));
  const rowsRead = async (path) => {
    const res = await worker.fetch(path);
    assert.equal(res.status, 200, path);
    await res.arrayBuffer();
    return Number(res.headers.get('x-r2watch-d1-rows-read'));
  };
  const billRows = await rowsRead('/api/costs');
  assert.ok(billRows > 0, String(billRows));
  // The same account-wide rows (the users' storage stays in its bucket and class: not read).
  assert.equal(await rowsRead('/api/costs/breakdown?by=bucket'), billRows);
  assert.equal(await rowsRead('/api/costs/breakdown?by=class'), billRows);
});

test('the usage summary carries the cost of the month', async () => {
  const res = await call(worker, 'GET', '/api/usage/summary?period=day');
  assert.equal(res.body.cost.month_to_date_usd, '4.88');
  // Narrowed to a bucket: that bucket's part of the bill (the engine's split by bucket).
  const byBucket = (await call(worker, 'GET', '/api/costs')).body.bill.by_bucket;
  assert.ok(byBucket.length >= 1);
  for (const { bucket, total_usd: totalUsd } of byBucket) {
    const one = await call(worker, 'GET', `/api/usage/summary?period=day&bucket=${bucket}`);
    assert.equal(one.status, 200, JSON.stringify(one.body));
    assert.equal(one.body.cost.month_to_date_usd, totalUsd, bucket);
    assert.equal(one.body.cost.forecast_expected_usd, res.body.cost.forecast_expected_usd, 'the forecast stays the month\'s');
  }
  const none = await call(worker, 'GET', '/api/usage/summary?period=day&bucket=no-such-bucket');
  assert.equal(none.body.cost.month_to_date_usd, '0.00');
});

test('the cost job stores a snapshot; re-running replaces it', async () => {
  await call(worker, 'POST', '/api/admin/jobs/cost');
  await call(worker, 'POST', '/api/admin/jobs/cost');
  const rows = await worker.db.prepare('SELECT month, total_micro_usd FROM cost_snapshots').all();
  assert.deepEqual(rows.results, [{ month, total_micro_usd: 4_875_000 }]);
});

test('daily and monthly reports are kept and served as JSON and CSV', async () => {
  const today = new Date().toISOString().slice(0, 10);
  const daily = await call(worker, 'POST', `/api/admin/jobs/reports?type=daily&period=${today}`);
  assert.equal(daily.status, 200, JSON.stringify(daily.body));
  assert.equal(daily.body.usage.class_b_requests, 8);
  assert.equal(daily.body.cost.total_usd, '4.88');
  assert.equal(daily.body.top_prefixes.reduce((n, r) => n + r.total_micro_usd, 0) <= 4_875_000, true);
  // Storage is counted under the prefixes users wrote (photos, docs), not as one "users" prefix
  // (what is left there is what no user's own peaks account for: nothing here).
  assert.equal(daily.body.top_prefixes.find((r) => r.key === 'users')?.storage_micro_usd ?? 0, 0);
  assert.ok(daily.body.top_prefixes.find((r) => r.key === 'photos').storage_micro_usd > 0, JSON.stringify(daily.body.top_prefixes));
  const list = await call(worker, 'GET', '/api/reports?type=daily');
  assert.equal(list.body.reports.length, 1);
  const id = list.body.reports[0].id;
  const asJson = await call(worker, 'GET', `/api/reports/${id}`);
  assert.equal(asJson.body.period, today);
  const csv = await worker.fetch(`/api/reports/${id}?format=csv`);
  assert.match(csv.headers.get('content-type'), /text\/csv/);
  const lines = (await csv.text()).trim().split('\n');
  assert.equal(lines[0].split(',').length, 8);
  assert.ok(lines.some((l) => l.startsWith('prefix,photos,')));
  assert.equal((await call(worker, 'GET', '/api/reports/999')).status, 404);
  assert.equal((await call(worker, 'GET', '/api/reports?type=hourly')).status, 400);
  assert.equal((await call(worker, 'POST', '/api/admin/jobs/reports?type=daily&period=2026-1')).status, 400);
});

test("a report's CSV neutralizes prefixes that a spreadsheet would run as formulas", async () => {
  // User-chosen prefixes that start a formula (=, +, -, @).
  for (const prefix of ['=1+2', '@SUM(A1)', '-2+3', '+cmd']) {
    const res = await worker.fetch(`/api/storage/files/${encodeURIComponent(prefix)}/x.bin`, { method: 'PUT', body: 'abc' });
    assert.equal(res.status, 201);
  }
  assert.equal((await call(worker, 'POST', '/api/admin/jobs/metrics-flush')).status, 200);
  const today = new Date().toISOString().slice(0, 10);
  const daily = await call(worker, 'POST', `/api/admin/jobs/reports?type=daily&period=${today}`);
  assert.equal(daily.status, 200, JSON.stringify(daily.body));
  const { id } = (await call(worker, 'GET', '/api/reports?type=daily')).body.reports[0];
  const res = await worker.fetch(`/api/reports/${id}?format=csv`);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.match(res.headers.get('content-disposition'), /^attachment; filename="r2watch-daily-\d{4}-\d{2}-\d{2}\.csv"$/);
  const lines = (await res.text()).trim().split('\n');
  const prefixes = daily.body.top_prefixes.map((r) => r.key);
  for (const prefix of ['=1+2', '@SUM(A1)', '-2+3', '+cmd'].filter((p) => prefixes.includes(p))) {
    assert.ok(lines.some((l) => l.startsWith(`prefix,"'${prefix}",`)), `${prefix}: ${lines.join('\n')}`);
  }
  assert.ok(prefixes.some((p) => /^[=@+-]/.test(p)), JSON.stringify(prefixes));
  // No cell of the file starts a formula.
  for (const line of lines) {
    for (const cell of line.split(',')) assert.doesNotMatch(cell, /^"?[=+@\t\r-]/, line);
  }
});

test('a future month is refused', async () => {
  const res = await call(worker, 'GET', '/api/costs?month=2999-01');
  assert.equal(res.status, 400);
  assert.equal(res.body.error.field, 'month');
});

test('a malformed month is a 400 naming it, as the engine answers it', async () => {
  for (const m of ['2026-13', 'June']) {
    const res = await call(worker, 'GET', `/api/costs/breakdown?month=${m}`);
    assert.equal(res.status, 400, m);
    assert.equal(res.body.error.code, 'invalid_query', m);
    assert.equal(res.body.error.field, 'month', m);
  }
});

test("the anomaly check reads the engine's window: today by default, a bad date refused", async () => {
  const today = new Date().toISOString().slice(0, 10);
  const res = await call(worker, 'GET', '/api/costs/anomaly');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.date, today);
  assert.equal(res.body.baseline_days, 7);
  // Usage of the day is counted (the files above were written and read today).
  assert.ok(res.body.today.total_micro_usd > 0, JSON.stringify(res.body.today));
  const shape = await call(worker, 'GET', '/api/costs/anomaly?date=5-March');
  assert.equal(shape.status, 400);
  assert.equal(shape.body.error.field, 'date');
  const noDay = await call(worker, 'GET', '/api/costs/anomaly?date=2026-02-30');
  assert.equal(noDay.status, 422);
  assert.equal(noDay.body.error.field, 'date');
});
