// One user's costs and alerts inside workerd with real local D1 and R2: a user sees their part of
// the account's bill (each line shared in proportion to usage, their storage split out of the
// bucket's users/ namespace), never another user's costs or alerts, and acts only on their own
// alerts; the alert engine reads quotas, failed sign-ins and the month's bill from the same
// tables the API answers from.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, call, tokenFor, R2_BUCKET_NAME } from './helpers.mjs';

const month = new Date().toISOString().slice(0, 7);
let worker;
const t = {};
const as = (who) => ({ get: (path) => call(worker, 'GET', path, undefined, { as: t[who] }) });

before(async () => {
  worker = await startWorker();
  t.alice = await tokenFor(worker, 'alice', { role: 'user' });
  t.bob = await tokenFor(worker, 'bob', { role: 'user' });
  t.carol = await tokenFor(worker, 'carol', { role: 'readonly' });
  // This month without a free tier, so every line of the account's bill is charged.
  const pricing = await call(worker, 'PUT', '/api/pricing', { effective_from: `${month}-01`, free_tier: { applies_to: [] } });
  assert.equal(pricing.status, 200, JSON.stringify(pricing.body));
  for (const [key, size] of [['photos/a.jpg', 3000], ['photos/b.jpg', 2000], ['notes.txt', 500]]) {
    const res = await call(worker, 'PUT', `/api/storage/files/${key}`, 'a'.repeat(size), { as: t.alice });
    assert.equal(res.status, 201);
  }
  assert.equal((await call(worker, 'PUT', '/api/storage/files/docs/x.txt', 'b'.repeat(1000), { as: t.bob })).status, 201);
  for (let i = 0; i < 2; i++) await as('alice').get('/api/storage/files/photos/a.jpg');
  const collected = await call(worker, 'POST', '/api/admin/jobs/collect-metrics');
  assert.equal(collected.status, 200, JSON.stringify(collected.body));
});
after(async () => {
  await worker?.dispose();
});

test("a user's costs are their part of the account's bill, and the parts add up", async () => {
  const account = (await call(worker, 'GET', '/api/costs')).body;
  const byUser = (await call(worker, 'GET', '/api/costs/breakdown?by=user')).body;
  assert.equal(byUser.rows.reduce((n, r) => n + r.total_micro_usd, 0), account.bill.month_to_date.total_micro_usd);
  const alice = await as('alice').get('/api/costs');
  const bob = await as('bob').get('/api/costs');
  assert.equal(alice.status, 200, JSON.stringify(alice.body));
  assert.equal(alice.body.user, 'alice');
  assert.deepEqual(alice.body.budgets, [], "budgets are the account's");
  assert.equal(alice.body.bill, undefined, "the account's bill is not a user's to see");
  for (const [who, own] of [['alice', alice.body], ['bob', bob.body]]) {
    const row = byUser.rows.find((r) => r.key === who);
    assert.ok(row, `${who} in the admin's breakdown`);
    assert.equal(own.share.month_to_date.total_micro_usd, row.total_micro_usd, who);
    assert.equal(own.share.month_to_date.storage_micro_usd, row.storage_micro_usd, who);
    assert.equal(own.monthlyTotal, own.share.charges.total_usd);
  }
  // Storage: the account's 1 GB-month ($0.015) split by bytes: alice 5,500 of the 6,500 bytes
  // under users/, bob 1,000 (nothing else is stored).
  const storage = account.bill.month_to_date.storage_micro_usd;
  assert.equal(storage, 15_000);
  assert.ok(Math.abs(alice.body.share.month_to_date.storage_micro_usd - (storage * 5500) / 6500) <= 1);
  assert.ok(Math.abs(bob.body.share.month_to_date.storage_micro_usd - (storage * 1000) / 6500) <= 1);
  // Requests: alice's 3 uploads of the account's class A calls, her 2 reads of class B.
  assert.ok(alice.body.share.month_to_date.class_a_micro_usd > bob.body.share.month_to_date.class_a_micro_usd);
  assert.ok(alice.body.share.month_to_date.class_b_micro_usd > 0);
  assert.equal(bob.body.share.month_to_date.class_b_micro_usd, 0, 'bob read nothing');
  // By prefix, as each wrote their keys; the parts add up to the user's part.
  const parts = (await as('alice').get('/api/costs/breakdown')).body;
  assert.deepEqual(parts.rows.map((r) => r.key), ['(root)', 'photos']);
  assert.equal(parts.rows.reduce((n, r) => n + r.total_micro_usd, 0), alice.body.share.month_to_date.total_micro_usd);
  assert.deepEqual((await as('bob').get('/api/costs/breakdown?by=prefix')).body.rows.map((r) => r.key), ['docs']);
  assert.equal((await as('bob').get('/api/costs/breakdown?by=bucket')).status, 400);
  // The forecast and the daily trend are the user's too.
  const fc = alice.body.forecast;
  assert.ok(fc.low.total_micro_usd <= fc.expected.total_micro_usd && fc.expected.total_micro_usd <= fc.high.total_micro_usd);
  assert.ok(alice.body.trend.length >= 1 && alice.body.trend.every((d) => d.bill_to_date_micro_usd === undefined));
  // The usage summary's cost is the user's part as well.
  const summary = await as('alice').get('/api/usage/summary?period=day');
  assert.equal(summary.body.cost.month_to_date_usd, alice.body.monthlyTotal);
  // Narrowed to a bucket: all of it in r2watch's bucket (where the API keeps her objects), none elsewhere.
  const inOwn = await as('alice').get(`/api/usage/summary?period=day&bucket=${R2_BUCKET_NAME}`);
  assert.equal(inOwn.body.cost.month_to_date_usd, alice.body.monthlyTotal);
  const elsewhere = await as('alice').get('/api/usage/summary?period=day&bucket=no-such-bucket');
  assert.equal(elsewhere.body.cost.month_to_date_usd, '0.00');
  // A readonly user with no usage owes nothing.
  const carol = await as('carol').get('/api/costs');
  assert.equal(carol.status, 200);
  assert.equal(carol.body.share.month_to_date.total_micro_usd, 0);
  // The what-if and the anomaly check of one's own usage.
  const whatIf = await as('alice').get('/api/costs/whatif?class=infrequent_access');
  assert.equal(whatIf.status, 200, JSON.stringify(whatIf.body));
  assert.equal(whatIf.body.current.month_to_date.total_micro_usd, alice.body.share.month_to_date.total_micro_usd);
  assert.ok(['cheaper', 'more_expensive', 'same'].includes(whatIf.body.verdict));
  const anomaly = await as('alice').get('/api/costs/anomaly');
  assert.equal(anomaly.status, 200, JSON.stringify(anomaly.body));
  assert.equal(anomaly.body.user, 'alice');
});

test("no one reaches another user's costs; reports are the admin's", async () => {
  for (const path of ['/api/costs', '/api/costs/breakdown', '/api/costs/whatif', '/api/costs/anomaly']) {
    assert.equal((await as('bob').get(`${path}?user=alice`)).status, 403, path);
    assert.equal((await as('carol').get(`${path}?user=alice`)).status, 403, path);
  }
  const own = await as('alice').get('/api/costs');
  const named = await call(worker, 'GET', '/api/costs?user=alice');
  assert.deepEqual(named.body.share, own.body.share, 'an admin naming alice sees what alice sees');
  assert.equal((await as('alice').get('/api/reports')).status, 403);
  assert.equal((await as('alice').get('/api/costs/budgets')).status, 403);
});

test("a day's storage peak stays after a delete", async () => {
  const before = (await as('alice').get('/api/costs')).body.share.month_to_date.storage_micro_usd;
  const del = await call(worker, 'DELETE', '/api/storage/files/photos/b.jpg', undefined, { as: t.alice });
  assert.equal(del.status, 204);
  await call(worker, 'POST', '/api/admin/jobs/collect-metrics');
  await call(worker, 'POST', '/api/admin/jobs/cost');
  const day = new Date().toISOString().slice(0, 10);
  const peaks = await worker.db
    .prepare('SELECT prefix, peak_bytes, objects FROM user_storage_daily_peaks WHERE user_id = ? AND day = ? ORDER BY prefix')
    .bind('alice', day)
    .all();
  assert.deepEqual(peaks.results, [{ prefix: '(root)', peak_bytes: 500, objects: 1 }, { prefix: 'photos', peak_bytes: 5000, objects: 2 }]);
  const now = await worker.db.prepare("SELECT bytes, objects FROM user_prefix_usage WHERE user_id = 'alice' AND prefix = 'photos'").first();
  assert.deepEqual(now, { bytes: 3000, objects: 1 });
  const after = (await as('alice').get('/api/costs')).body.share.month_to_date.storage_micro_usd;
  assert.equal(after, before);
});

// ---- alerts ---------------------------------------------------------------------------------

test("quota alerts come from the stored quotas, and each user sees and acts on only their own", async () => {
  // Bob stores 1,000 bytes: a 1,100-byte quota is 91% used; alice has none.
  assert.equal((await call(worker, 'PUT', '/api/admin/users/bob/quota', { max_bytes: 1100 })).status, 200);
  const round = await call(worker, 'POST', '/api/admin/jobs/check-alerts');
  assert.equal(round.status, 200, JSON.stringify(round.body));
  const all = (await call(worker, 'GET', '/api/alerts?state=firing')).body.alerts;
  const quota = all.find((a) => a.rule_id === 'quota_usage');
  assert.ok(quota, `quota alert among ${all.map((a) => a.rule_id).join()}`);
  assert.equal(quota.user, 'bob');
  assert.ok(Math.abs(quota.value - 90.909) < 0.01, String(quota.value));

  const bobs = await as('bob').get('/api/alerts');
  assert.equal(bobs.status, 200);
  assert.ok(bobs.body.alerts.length >= 1);
  assert.ok(bobs.body.alerts.every((a) => a.user === 'bob'), 'only his own');
  assert.equal(bobs.body.total, bobs.body.alerts.length);
  const alices = await as('alice').get('/api/alerts');
  assert.ok(alices.body.alerts.every((a) => a.user === 'alice'));
  assert.ok(!alices.body.alerts.some((a) => a.id === quota.id));
  assert.equal((await as('alice').get('/api/alerts?user=bob')).status, 403);
  assert.equal((await as('carol').get('/api/alerts')).body.total, 0);
  const named = await call(worker, 'GET', '/api/alerts?user=bob');
  assert.ok(named.body.alerts.every((a) => a.user === 'bob') && named.body.alerts.some((a) => a.id === quota.id));

  // Acting on another's alert: as if it did not exist, and nothing changes.
  const ack = (who, body) => call(worker, 'POST', `/api/alerts/${quota.id}/ack`, body, { as: t[who] });
  const foreign = await ack('alice', { note: 'not mine' });
  assert.equal(foreign.status, 404);
  assert.equal((await call(worker, 'POST', `/api/alerts/${quota.id}/resolve`, {}, { as: t.alice })).status, 404);
  assert.equal((await ack('carol', {})).status, 403, 'readonly reads only');
  const impersonated = await ack('bob', { by: 'alice' });
  assert.equal(impersonated.status, 422);
  assert.equal(impersonated.body.error.field, 'by');
  let stored = (await call(worker, 'GET', '/api/alerts?state=firing')).body.alerts.find((a) => a.id === quota.id);
  assert.equal(stored.acknowledged_at_ms, null);
  const own = await ack('bob', { note: 'cleaning up' });
  assert.equal(own.status, 200, JSON.stringify(own.body));
  stored = (await as('bob').get('/api/alerts')).body.alerts.find((a) => a.id === quota.id);
  assert.equal(stored.acknowledged_by, 'bob');
  assert.equal(stored.ack_note, 'cleaning up');
  const audit = await call(worker, 'GET', '/api/admin/audit?actor=bob');
  assert.ok(audit.body.entries.some((e) => JSON.stringify(e).includes(quota.id)), JSON.stringify(audit.body.entries.slice(0, 3)));
});

test('failed sign-ins reach the security rule, and the cost rule reads the bill the API shows', async () => {
  for (let i = 0; i < 12; i++) {
    const res = await call(worker, 'GET', '/api/costs', undefined, { as: `r2w_nosuch_${'x'.repeat(32)}${i}` });
    assert.equal(res.status, 401);
  }
  await call(worker, 'PUT', '/api/alerts/rules/monthly_cost', { threshold: 0 });
  const round = await call(worker, 'POST', '/api/admin/jobs/check-alerts');
  assert.equal(round.status, 200, JSON.stringify(round.body));
  assert.deepEqual(round.body.unavailable_figures, {});
  const alerts = (await call(worker, 'GET', '/api/alerts')).body.alerts;
  const failed = alerts.find((a) => a.rule_id === 'failed_access' && a.user === '');
  assert.ok(failed, `failed_access among ${alerts.map((a) => `${a.rule_id}:${a.state}`).join()}`);
  assert.ok(failed.value >= 12, String(failed.value));
  const cost = alerts.find((a) => a.rule_id === 'monthly_cost' && a.bucket === '');
  assert.ok(cost, 'monthly cost alert');
  const bill = (await call(worker, 'GET', '/api/costs')).body.bill.month_to_date.total_micro_usd;
  assert.equal(Math.round(cost.value * 1e6), bill);
});
