// What a check-alerts round takes again from the last one instead of reading it again (the
// account's cost figures and series, alerts.js gatherFigures): rules on them fire and resolve on
// the same minute as when every round read everything. The collector storing new rows between two
// minutes (its stamp moves) is read on the next minute; so is a new hour (the engine's
// account_until_ms) with no new rows; the rules on r2watch's own rollups are read every minute.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, call, runCron } from './helpers.mjs';
import { startStandIn } from '../../tools/graphql-standin.mjs';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

let standIn;
let worker;

before(async () => {
  standIn = await startStandIn();
  worker = await startWorker({
    vars: { CLOUDFLARE_ACCOUNT_ID: standIn.accountId, CLOUDFLARE_API_TOKEN: standIn.token, CLOUDFLARE_GRAPHQL_URL: standIn.url },
  });
  for (let runs = 0; ; runs++) {
    assert.ok(runs < 12, 'the collector caught up');
    const res = await call(worker, 'POST', '/api/admin/jobs/account-analytics');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const s = res.body.state;
    if (s.operations_until_ms > Date.now() && s.storage_until_ms > Date.now()) break;
  }
});
after(async () => {
  await worker?.dispose();
  await standIn?.close();
});

async function check(atMs) {
  const r = await runCron(worker, '* * * * *', atMs);
  assert.equal(r.outcome, 'ok', JSON.stringify(r));
}

async function firing() {
  const res = await call(worker, 'GET', '/api/alerts?state=firing&limit=100');
  assert.equal(res.status, 200);
  return res.body.alerts.map((a) => `${a.rule_id}:${a.bucket ?? ''}`);
}

test("new account rows fire their rules on the next minute, a new hour moves them, r2watch's own rollups are read every minute", async () => {
  // A cost rule a dollar above the month to date, and an error-rate rule on r2watch's own
  // minute rollups of one bucket.
  const bill = await call(worker, 'GET', '/api/costs');
  assert.equal(bill.status, 200, JSON.stringify(bill.body));
  const mtd = bill.body.bill.month_to_date.total_micro_usd;
  for (const rule of [
    { id: 'month-cost', name: 'month cost', type: 'cost_threshold', threshold: Math.ceil(mtd / 1e6) + 1 },
    { id: 'own-errors', name: 'own errors', type: 'error_rate', threshold: 10, scope: { bucket: 'held-test' }, window_ms: 5 * MINUTE_MS, min_calls: 1 },
  ]) {
    const res = await call(worker, 'POST', '/api/alerts/rules', rule);
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  const hour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  const lastHour = hour - HOUR_MS;
  const t1 = hour + MINUTE_MS;

  await check(t1);
  let now = await firing();
  assert.ok(!now.includes('bucket_request_spike:media'), now.join(' '));
  assert.ok(!now.includes('month-cost:'), now.join(' '));

  // Between two minutes: ten million PutObject on media in the last complete hour reach D1
  // (the collector re-pulls it), and r2watch's own rollups of bucket held-test get failing
  // calls in the minute before t2.
  const row = standIn.account.operations.find((o) => o.hour === lastHour && o.bucket === 'media' && o.action === 'PutObject' && o.code === 200);
  assert.ok(row, 'the stand-in has the last hour');
  row.requests = 10_000_000;
  await worker.db
    .prepare("UPDATE account_collector_state SET state_json = json_set(state_json, '$.operations_until_ms', ?)")
    .bind(hour)
    .run();
  const collected = await call(worker, 'POST', '/api/admin/jobs/account-analytics');
  assert.equal(collected.status, 200, JSON.stringify(collected.body));
  await worker.db
    .prepare(
      `INSERT INTO storage_metrics (level, period_start_ms, bucket, prefix, user_id, operation, writer, r2_class,
         calls, errors, bytes_up, bytes_down, latency_sketch, updated_at_ms)
       VALUES ('minute', ?, 'held-test', 'data', 'u1', 'get', 'test', 'B', 10, 5, 0, 0,
               '{"zero":0,"bins":[[180,8],[240,2]],"sum":350,"min":25,"max":90}', ?)`,
    )
    .bind(t1, t1)
    .run();

  await check(t1 + MINUTE_MS);
  now = await firing();
  assert.ok(now.includes('bucket_request_spike:media'), now.join(' '));
  assert.ok(now.includes('month-cost:'), now.join(' '));
  assert.ok(now.includes('own-errors:held-test'), now.join(' '));

  // The next minute, nothing new: the same alerts, taken again.
  await check(t1 + 2 * MINUTE_MS);
  assert.deepEqual((await firing()).sort(), [...now].sort());

  // The next hour, no new rows: the spike's hour is another one (the engine's account_until_ms
  // has come), so the media spike resolves on that minute; the failing minute is out of the
  // own-errors window.
  await check(hour + HOUR_MS + MINUTE_MS);
  now = await firing();
  assert.ok(!now.includes('bucket_request_spike:media'), now.join(' '));
  assert.ok(!now.includes('own-errors:held-test'), now.join(' '));
});
