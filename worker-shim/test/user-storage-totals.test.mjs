// Every user's storage peaks added up per day (user_storage_daily_totals, migration 0030): what
// one user's share of the bill reads for everyone else's storage (the day's total less the
// user's own), so it reads one row per day instead of every user's. The migration carries the
// existing peaks over; its triggers keep the totals in step with every write of a peak
// (uploads, deletes, the cost job), and a re-run never counts twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startWorker, call, tokenFor, ROOT } from './helpers.mjs';

const month = new Date().toISOString().slice(0, 7);
const today = new Date().toISOString().slice(0, 10);
let worker;
const t = {};

// Migration 0030's statements, split as the test helper splits every migration.
const migration = readFileSync(join(ROOT, 'migrations/0030_user_storage_daily_totals.sql'), 'utf8')
  .split('\n')
  .filter((line) => !line.trim().startsWith('--'))
  .join('\n')
  .split(/;\s*$/m)
  .map((s) => s.trim())
  .filter(Boolean);

const totals = async () =>
  (await worker.db.prepare('SELECT day, peak_bytes FROM user_storage_daily_totals ORDER BY day').all()).results;
const sums = async () =>
  (
    await worker.db
      .prepare('SELECT day, SUM(peak_bytes) AS peak_bytes FROM user_storage_daily_peaks GROUP BY day ORDER BY day')
      .all()
  ).results;

before(async () => {
  worker = await startWorker();
  const pricing = await call(worker, 'PUT', '/api/pricing', { effective_from: `${month}-01`, free_tier: { applies_to: [] } });
  assert.equal(pricing.status, 200, JSON.stringify(pricing.body));
  for (const who of ['alice', 'bob', 'carol']) t[who] = await tokenFor(worker, who, { role: 'user' });
});
after(async () => {
  await worker?.dispose();
});

test('the migration carries the existing peaks over, one total per day', async () => {
  // As before 0030: no totals, no triggers, peaks already stored.
  await worker.db.batch(
    [
      'DROP TRIGGER user_storage_daily_totals_insert',
      'DROP TRIGGER user_storage_daily_totals_update',
      'DROP TRIGGER user_storage_daily_totals_delete',
      'DROP TABLE user_storage_daily_totals',
    ].map((s) => worker.db.prepare(s)),
  );
  const insert = worker.db.prepare(
    'INSERT INTO user_storage_daily_peaks (user_id, day, prefix, peak_bytes, objects, updated_at_ms) VALUES (?, ?, ?, ?, 1, 0)',
  );
  await worker.db.batch([
    insert.bind('alice', '2026-01-01', 'photos', 3000),
    insert.bind('alice', '2026-01-01', 'docs', 200),
    insert.bind('bob', '2026-01-01', 'docs', 1000),
    insert.bind('carol', '2026-01-02', '(root)', 7),
  ]);
  await worker.db.batch(migration.map((s) => worker.db.prepare(s)));
  assert.deepEqual(await totals(), [
    { day: '2026-01-01', peak_bytes: 4200 },
    { day: '2026-01-02', peak_bytes: 7 },
  ]);
  // Applied again (IF NOT EXISTS, the carry-over replaces): the same totals, not twice them.
  await worker.db.batch(migration.map((s) => worker.db.prepare(s)));
  assert.deepEqual(await totals(), await sums());
  assert.equal((await totals())[0].peak_bytes, 4200);
});

test('uploads, deletes and re-runs of the cost job keep each day total the sum of its peaks', async () => {
  const put = async (who, key, size) => {
    const res = await call(worker, 'PUT', `/api/storage/files/${key}`, 'x'.repeat(size), { as: t[who] });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  };
  await put('alice', 'photos/a.jpg', 3000);
  await put('alice', 'photos/a.jpg', 1000); // replaced: today's peak stays 3000
  await put('bob', 'docs/x.txt', 500);
  await put('carol', 'notes.txt', 40);
  const del = await call(worker, 'DELETE', '/api/storage/files/docs/x.txt', undefined, { as: t.bob });
  assert.equal(del.status, 204);
  const todayTotal = async () => (await totals()).find((r) => r.day === today)?.peak_bytes;
  assert.equal(await todayTotal(), 3000 + 500 + 40);
  for (let i = 0; i < 2; i++) {
    const job = await call(worker, 'POST', '/api/admin/jobs/cost');
    assert.equal(job.status, 200, JSON.stringify(job.body));
    assert.equal(await todayTotal(), 3540, 'a re-run of the cost job counts nothing twice');
  }
  await put('bob', 'docs/y.txt', 2000); // raises bob's docs peak from 500 to 2000
  assert.equal(await todayTotal(), 5040);
  assert.deepEqual(await totals(), await sums());
  // Rows deleted (as retention deletes them) are taken off their day.
  await worker.db.prepare("DELETE FROM user_storage_daily_peaks WHERE day = '2026-01-01' AND user_id = 'bob'").run();
  assert.equal((await totals()).find((r) => r.day === '2026-01-01').peak_bytes, 3200);
  assert.deepEqual(await totals(), await sums());
});

test("a user's share reads everyone else's storage as the day's total less the user's own: the same figures", async () => {
  // Everyone else's peaks added up per day, as the share read them before the totals.
  const othersBefore = async (user) =>
    (
      await worker.db
        .prepare(
          `SELECT day, SUM(peak_bytes) AS peak_bytes FROM user_storage_daily_peaks WHERE user_id != ? GROUP BY day ORDER BY day`,
        )
        .bind(user)
        .all()
    ).results;
  const othersNow = async (user) =>
    (
      await worker.db
        .prepare(
          `SELECT t.day, t.peak_bytes - IFNULL((SELECT SUM(p.peak_bytes) FROM user_storage_daily_peaks p
              WHERE p.user_id = ? AND p.day = t.day), 0) AS peak_bytes
             FROM user_storage_daily_totals t ORDER BY t.day`,
        )
        .bind(user)
        .all()
    ).results.filter((r) => r.peak_bytes > 0);
  for (const user of ['alice', 'bob', 'carol', 'nobody']) {
    assert.deepEqual(await othersNow(user), (await othersBefore(user)).filter((r) => r.peak_bytes > 0), user);
  }
  // Hand-worked: today alice's peak is 3000 bytes of the users' 5040, so everyone else's is 2040.
  assert.deepEqual((await othersNow('alice')).find((r) => r.day === today), { day: today, peak_bytes: 2040 });
  // The user's answer: their part of the account's bill, as an admin naming them sees it too.
  const named = await call(worker, 'GET', '/api/costs?user=alice');
  const own = await call(worker, 'GET', '/api/costs', undefined, { as: t.alice });
  assert.equal(named.status, 200, JSON.stringify(named.body));
  assert.deepEqual(named.body.share, own.body.share);
  const byUser = (await call(worker, 'GET', '/api/costs/breakdown?by=user')).body.rows;
  const account = (await call(worker, 'GET', '/api/costs')).body.bill.month_to_date.total_micro_usd;
  assert.equal(byUser.reduce((n, r) => n + r.total_micro_usd, 0), account);
});
