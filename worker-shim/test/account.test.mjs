// The account's figures inside workerd, against the local stand-in for Cloudflare's GraphQL
// Analytics API (tools/graphql-standin.mjs): the backfill across runs, late data replacing
// counts, windows split when an answer may be cut off, 429 and `errors` answers, a bad token,
// the token kept out of every answer, log line and table, the account's bill against sums
// worked here by hand, and the unclassified action type priced as Class A and warned of.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, call, runCron, tempDir } from './helpers.mjs';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStandIn, UNKNOWN_ACTION } from '../../tools/graphql-standin.mjs';

const CRON = '2-59/5 * * * *';
const TOKEN = 'cf-token-S3CRET-7f1e2d3c4b5a69788796a5b4c3d2e1f0';
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

// Every line workerd prints while these tests run (the token must be in none of them).
const printed = [];
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream);
  stream.write = (chunk, ...rest) => {
    printed.push(String(chunk));
    return write(chunk, ...rest);
  };
}
// Every answer the Worker gave in these tests.
const answers = [];
async function ask(worker, method, path, body) {
  const res = await call(worker, method, path, body);
  answers.push(JSON.stringify(res.body));
  return res;
}

let standIn;
let worker;

const varsFor = (s, extra = {}) => ({
  CLOUDFLARE_ACCOUNT_ID: s.accountId,
  CLOUDFLARE_API_TOKEN: TOKEN,
  CLOUDFLARE_GRAPHQL_URL: s.url,
  ...extra,
});

before(async () => {
  standIn = await startStandIn({ token: TOKEN });
  worker = await startWorker({ vars: varsFor(standIn) });
});
after(async () => {
  await worker?.dispose();
  await standIn?.close();
});

async function collect(w = worker, at = undefined) {
  if (at !== undefined) {
    const r = await runCron(w, CRON, at);
    assert.equal(r.outcome, 'ok', JSON.stringify(r));
    return null;
  }
  const res = await ask(w, 'POST', '/api/admin/jobs/account-analytics');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

async function health(w = worker) {
  const res = await ask(w, 'GET', '/api/health');
  return res.body.account;
}

async function storedRequests(db, fromMs = 0) {
  const row = await db.prepare('SELECT COALESCE(SUM(requests), 0) AS n FROM account_operations_hourly WHERE hour_ms >= ?').bind(fromMs).first();
  return row.n;
}

const standInRequests = (s, fromMs = 0) => s.account.operations.filter((o) => o.hour >= fromMs).reduce((n, o) => n + o.requests, 0);

/** Runs the collector until it has caught up (at most `max` runs); returns the runs made. */
async function backfill(w, max = 12) {
  for (let runs = 1; runs <= max; runs++) {
    const r = await collect(w);
    const until = r.state.operations_until_ms;
    if (until !== null && until > Date.now() && r.state.storage_until_ms > Date.now()) return { runs, last: r };
  }
  throw new Error(`not caught up after ${max} runs`);
}

test('the stand-in answers only Cloudflare-shaped queries and refuses the rest with `errors`', async (t) => {
  const s = await startStandIn({ token: TOKEN });
  t.after(() => s.close());
  const post = async (body, token = TOKEN) => {
    const res = await fetch(s.url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };
  const start = new Date(Date.now() - 2 * HOUR_MS).toISOString();
  const end = new Date().toISOString();
  const q = (dataset, filter, limit = 100, tag = '$accountTag') =>
    `query { viewer { accounts(filter: {accountTag: ${tag}}) { ${dataset}(limit: ${limit}, filter: {${filter}}) { sum { requests } dimensions { bucketName } } } } }`;
  const vars = { accountTag: s.accountId, start, end };
  const ok = await post({ query: q('r2OperationsAdaptiveGroups', 'datetime_geq: $start, datetime_lt: $end'), variables: vars });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.errors, null);
  assert.ok(ok.body.data.viewer.accounts[0].r2OperationsAdaptiveGroups.length >= 4);
  const refused = [
    { query: q('r2OperationsAdaptiveGroups', 'datetime_geq: $start, datetime_lt: $end', 100, '"someone-else"'), variables: vars },
    { query: q('r2OperationsAdaptiveGroups', 'datetime_geq: $start, datetime_lt: $end', 20_000), variables: vars },
    { query: q('r2OperationsAdaptiveGroups', 'bucketName: "assets"'), variables: vars },
    { query: q('r2BucketsAdaptiveGroups', 'datetime_geq: $start, datetime_lt: $end'), variables: vars },
    { query: q('r2OperationsAdaptiveGroups', 'datetime_geq: $start, datetime_lt: $end'), variables: { ...vars, start: new Date(Date.now() - 40 * DAY_MS).toISOString() } },
    { query: 'query { viewer { zones { httpRequests1dGroups(limit: 1) { sum { requests } } } } }' },
  ];
  for (const body of refused) {
    const r = await post(body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(Array.isArray(r.body.errors) && r.body.errors[0].message, JSON.stringify(r.body));
    assert.equal(r.body.data, null);
  }
  assert.equal((await post({ query: q('r2OperationsAdaptiveGroups', 'datetime_geq: $start, datetime_lt: $end'), variables: vars }, 'wrong')).status, 403);
});

test('without an account the feature is off and /api/health says so in words', async () => {
  const plain = await startWorker();
  try {
    const h = await call(plain, 'GET', '/api/health');
    assert.equal(h.status, 200);
    assert.equal(h.body.account.status, 'off');
    assert.match(h.body.account.message, /CLOUDFLARE_ACCOUNT_ID/);
    const job = await call(plain, 'POST', '/api/admin/jobs/account-analytics');
    assert.equal(job.status, 200);
    assert.equal(job.body.enabled, false);
    const costs = await call(plain, 'GET', '/api/costs');
    assert.equal(costs.body.source, 'r2watch');
    const refused = await call(plain, 'GET', '/api/costs?source=account');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.field, 'source');
  } finally {
    await plain.dispose();
  }
});

test('the first runs backfill 31 days, bounded per run and resumed by the next', async () => {
  const first = await collect();
  assert.equal(first.queries, 8, 'one run makes at most 8 queries');
  assert.ok(first.state.operations_until_ms < Date.now() - 20 * DAY_MS, 'the first run does not reach today');
  assert.equal((await health()).status, 'backfilling');
  const { runs } = await backfill(worker);
  assert.ok(runs >= 3, `caught up in ${runs} more runs`);
  // Every request the stand-in holds since the backfill's start is stored, once.
  const from = Math.ceil((Date.now() - 31 * DAY_MS) / HOUR_MS) * HOUR_MS;
  assert.equal(await storedRequests(worker.db, from), standInRequests(standIn, from));
  const h = await health();
  assert.equal(h.status, 'ok', h.message);
  // The cron entry runs the same job.
  await collect(worker, Date.now());
  assert.equal(await storedRequests(worker.db, from), standInRequests(standIn, from));
});

test('late data in the last two hours replaces the stored counts, never adds to them', async () => {
  const last = standIn.account.lastHour;
  // The stand-in's latest hour: within the re-pull even if the clock has since moved an hour on.
  const row = standIn.account.operations.find((o) => o.hour === last && o.bucket === 'assets' && o.action === 'GetObject' && o.code === 200);
  const stored = () =>
    worker.db
      .prepare(
        `SELECT g.value->>3 AS requests FROM account_operations_hourly h, json_each(h.groups) g
          WHERE h.hour_ms = ? AND h.bucket = 'assets' AND g.value->>0 = 'GetObject' AND g.value->>2 = 200`,
      )
      .bind(row.hour)
      .first();
  const before = await stored();
  assert.equal(before.requests, row.requests);
  row.requests += 1234;
  await collect();
  await collect();
  const after = await stored();
  assert.equal(after.requests, row.requests);
  // One row per bucket and hour, its total the sum of its groups.
  const hourRow = await worker.db.prepare("SELECT requests FROM account_operations_hourly WHERE hour_ms = ? AND bucket = 'assets'").bind(row.hour).first();
  const hand = standIn.account.operations.filter((o) => o.hour === row.hour && o.bucket === 'assets').reduce((n, o) => n + o.requests, 0);
  assert.equal(hourRow.requests, hand);
  // The day sums (migration 0024) followed the re-pulls: every day, bucket, action type and
  // status holds exactly the sum of its hours' groups, nothing counted twice or left behind.
  const daySums = (
    await worker.db
      .prepare('SELECT day, bucket, action_type, status_code, requests, response_bytes FROM account_operations_daily ORDER BY 1, 2, 3, 4')
      .all()
  ).results;
  const fromHours = (
    await worker.db
      .prepare(
        `SELECT strftime('%Y-%m-%d', h.hour_ms / 1000, 'unixepoch') AS day, h.bucket AS bucket, g.value->>0 AS action_type,
                g.value->>2 AS status_code, SUM(g.value->>3) AS requests, SUM(g.value->>4) AS response_bytes
           FROM account_operations_hourly h, json_each(h.groups) g GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
      )
      .all()
  ).results;
  assert.ok(fromHours.length > 100);
  assert.deepEqual(daySums, fromHours);
});

test('429 backs off, stores nothing, and the same window is asked for again later', async () => {
  const stateBefore = await worker.db.prepare('SELECT state_json FROM account_collector_state').first();
  const storedBefore = await storedRequests(worker.db);
  standIn.failNext(1, 429);
  const r = await collect();
  assert.equal(r.verdicts.at(-1).verdict, 'backoff');
  assert.equal(r.queries, 1);
  const h = await health();
  assert.equal(h.status, 'backing_off');
  assert.match(h.message, /429/);
  assert.equal(await storedRequests(worker.db), storedBefore);
  const asked = JSON.parse(standIn.requests.at(-1).body ? JSON.stringify(standIn.requests.at(-1).body) : '{}').variables;
  // Still backing off: no query at all.
  const n = standIn.requests.length;
  assert.equal((await collect()).queries, 0);
  assert.equal(standIn.requests.length, n);
  // A run after the backoff asks for the same window and succeeds.
  await collect(worker, Date.now() + 5 * 60_000);
  assert.equal(standIn.requests[n].body.variables.start, asked.start);
  assert.equal(JSON.parse((await worker.db.prepare('SELECT state_json FROM account_collector_state').first()).state_json).consecutive_failures, 0);
  assert.ok(stateBefore);
});

test('an answer with `errors` or a negative figure stores nothing and keeps the watermark', async () => {
  const read = async () => JSON.parse((await worker.db.prepare('SELECT state_json FROM account_collector_state').first()).state_json);
  const storedBefore = await storedRequests(worker.db);
  const stateBefore = await read();
  standIn.errorsNext(1); // the storage window
  standIn.garbleNext(1); // the first operations window
  const r = await collect(worker, Date.now() + 10 * 60_000);
  assert.equal(r, null);
  const after = await read();
  assert.equal(after.storage_until_ms, stateBefore.storage_until_ms);
  assert.equal(after.operations_until_ms, stateBefore.operations_until_ms);
  assert.equal(await storedRequests(worker.db), storedBefore);
  const h = await health();
  assert.equal(h.status, 'failing');
  assert.match(h.message, /nothing stored/);
  // The next good run clears it.
  await collect(worker, Date.now() + 15 * 60_000);
  assert.equal((await health()).status, 'ok');
});

test('a window with more groups than the limit is never taken as complete: its whole hours are kept, the rest asked again', async () => {
  const s = await startStandIn({ token: TOKEN });
  const w = await startWorker({ vars: varsFor(s, { ACCOUNT_QUERY_LIMIT: '500', ACCOUNT_QUERIES_PER_RUN: '100' }) });
  try {
    const r = await collect(w);
    // A 24-hour window (about 700 groups) is cut off at 500: the hours before the last one it
    // reached are stored, and the next query starts at that hour.
    const cut = r.verdicts.findIndex((v) => v.dataset === 'operations' && v.stored && v.stored[1] < v.end_ms);
    assert.ok(cut >= 0, JSON.stringify(r.verdicts.slice(0, 4)));
    const v = r.verdicts[cut];
    assert.equal(v.verdict, 'store');
    assert.equal(v.stored[0], v.start_ms);
    assert.equal((v.stored[1] - v.start_ms) % HOUR_MS, 0);
    assert.equal(r.verdicts[cut + 1].start_ms, v.stored[1]);
    for (const q of s.requests) assert.equal(q.body.variables.limit, 500);
    const from = Math.ceil((Date.now() - 31 * DAY_MS) / HOUR_MS) * HOUR_MS;
    assert.equal(await storedRequests(w.db, from), standInRequests(s, from));
  } finally {
    await w.dispose();
    await s.close();
  }
});

test('a refused setting stops the collector and /api/health names it, still answering 200', async () => {
  const w = await startWorker({ vars: varsFor(standIn, { ACCOUNT_QUERY_LIMIT: 'lots' }) });
  try {
    const h = await call(w, 'GET', '/api/health');
    assert.equal(h.status, 200);
    assert.equal(h.body.account.status, 'failing');
    assert.match(h.body.account.message, /options\.limit/);
    const job = await call(w, 'POST', '/api/admin/jobs/account-analytics');
    assert.equal(job.status, 422);
    assert.equal(job.body.error.field, 'options.limit');
  } finally {
    await w.dispose();
  }
});

test('a bad token: /api/health says why, nothing is stored and nothing else breaks', async () => {
  const s = await startStandIn({ token: 'the-right-token' });
  const w = await startWorker({ vars: varsFor(s) });
  try {
    const r = await collect(w);
    assert.equal(r.verdicts[0].verdict, 'fail');
    const h = await call(w, 'GET', '/api/health');
    answers.push(JSON.stringify(h.body));
    assert.equal(h.status, 200);
    assert.equal(h.body.account.status, 'failing');
    assert.match(h.body.account.message, /refused the API token/);
    assert.equal(await storedRequests(w.db), 0);
    assert.equal((await call(w, 'GET', '/api/costs')).status, 200);
    const put = await w.fetch('/api/storage/files/a.txt', { method: 'PUT', body: 'hello' });
    assert.equal(put.status, 201);
  } finally {
    await w.dispose();
    await s.close();
  }
});

/** R2's bill of the stand-in's month to date, worked here from its raw figures. */
function billByHand(s) {
  const now = new Date();
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const daysInMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0)).getUTCDate();
  const classA = ['ListBuckets', 'PutBucket', 'ListObjects', 'PutObject', 'CopyObject', 'CompleteMultipartUpload', 'CreateMultipartUpload',
    'LifecycleStorageTierTransition', 'ListMultipartUploads', 'UploadPart', 'UploadPartCopy', 'ListParts', 'PutBucketEncryption', 'PutBucketCors',
    'PutBucketLifecycleConfiguration'];
  const free = ['DeleteObject', 'DeleteBucket', 'AbortMultipartUpload'];
  let a = 0;
  let b = 0;
  let unknown = 0;
  for (const o of s.account.operations) {
    if (o.hour < monthStart || o.code === 401 || o.code === 403) continue;
    if (o.action === UNKNOWN_ACTION) unknown += o.requests;
    if (classA.includes(o.action) || o.action === UNKNOWN_ACTION) a += o.requests;
    else if (!free.includes(o.action)) b += o.requests;
  }
  // Storage per class: each day's peak (payload + metadata), averaged over the month's days;
  // Standard less its 10 GB-month free tier at $0.015, Infrequent Access (no free tier) at
  // $0.01, each rounded up to a whole GB-month.
  const byteDays = { Standard: 0, InfrequentAccess: 0 };
  for (const d of s.account.storage) {
    if (d.day >= monthStart && d.day <= now.getTime()) byteDays[d.storageClass] += d.payloadSize + d.metadataSize;
  }
  const millions = (n, freeN) => Math.ceil(Math.max(0, n - freeN) / 1e6);
  const gbMonths = (bytes, freeGb) => Math.ceil(Math.max(0, bytes / (1e9 * daysInMonth) - freeGb));
  return {
    class_a: millions(a, 1e6) * 4_500_000,
    class_b: millions(b, 10e6) * 360_000,
    storage: gbMonths(byteDays.Standard, 10) * 15_000 + gbMonths(byteDays.InfrequentAccess, 0) * 10_000,
    storage_infrequent: gbMonths(byteDays.InfrequentAccess, 0) * 10_000,
    unknown,
  };
}

test("the account's bill is R2's, worked by hand, and stays the same when the collector runs again", async () => {
  const hand = billByHand(standIn);
  const res = await ask(worker, 'GET', '/api/costs?source=account');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.source, 'account');
  const m = res.body.bill.month_to_date;
  assert.equal(m.class_a_micro_usd, hand.class_a);
  assert.equal(m.class_b_micro_usd, hand.class_b);
  assert.equal(m.storage_micro_usd, hand.storage);
  // Infrequent Access storage (the backups bucket's older data) at its own price.
  assert.ok(hand.storage_infrequent > 0);
  assert.equal(m.infrequent_access.lines.find((l) => l.line === 'storage').cost_micro_usd, hand.storage_infrequent);
  assert.equal(m.total_micro_usd, hand.class_a + hand.class_b + hand.storage);
  // Default source is the account when configured; a rerun of the collector changes nothing.
  await collect();
  const again = await ask(worker, 'GET', '/api/costs');
  assert.equal(again.body.source, 'account');
  assert.equal(again.body.bill.month_to_date.total_micro_usd, m.total_micro_usd);
  const own = await ask(worker, 'GET', '/api/costs?source=r2watch');
  assert.equal(own.body.source, 'r2watch');
  const byBucket = await ask(worker, 'GET', '/api/costs/breakdown?by=bucket&source=account');
  assert.equal(byBucket.status, 200, JSON.stringify(byBucket.body));
  assert.deepEqual(byBucket.body.rows.map((r) => r.key).sort(), ['assets', 'backups', 'logs', 'media']);
  assert.equal(byBucket.body.rows.reduce((n, r) => n + r.total_micro_usd, 0), m.total_micro_usd);
});

test('an unknown action type is kept, priced as Class A and raised as a warning', async () => {
  const hand = billByHand(standIn);
  const res = await ask(worker, 'GET', '/api/costs');
  const u = res.body.unclassified.find((x) => x.action_type === UNKNOWN_ACTION);
  assert.ok(u, JSON.stringify(res.body.unclassified));
  assert.equal(u.requests, hand.unknown);
  assert.equal(u.billed_as, 'class_a');
  const h = await health();
  assert.deepEqual(h.unclassified_action_types, [UNKNOWN_ACTION]);
  assert.ok(h.warnings.some((w) => w.includes(UNKNOWN_ACTION)));
});

test('buckets and reconciliation cover every bucket of the account', async () => {
  const res = await ask(worker, 'GET', '/api/account/buckets');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const names = res.body.buckets.map((b) => b.bucket);
  assert.deepEqual(names, ['assets', 'backups', 'logs', 'media']);
  const backups = res.body.buckets.find((b) => b.bucket === 'backups');
  assert.equal(backups.pending_multipart_uploads, 37);
  // Its latest day per storage class, as the stand-in holds it.
  const latest = (cls) => standIn.account.storage.filter((d) => d.bucket === 'backups' && d.storageClass === cls).at(-1);
  const bytesOf = (d) => d.payloadSize + d.metadataSize;
  assert.deepEqual(backups.stored_bytes_by_class, { standard: bytesOf(latest('Standard')), infrequent_access: bytesOf(latest('InfrequentAccess')) });
  assert.equal(backups.stored_bytes, bytesOf(latest('Standard')) + bytesOf(latest('InfrequentAccess')));
  assert.ok(res.body.buckets.every((b) => b.requests_24h > 0 && b.stored_bytes > 0));
  const rec = await ask(worker, 'GET', '/api/account/reconcile');
  assert.equal(rec.status, 200, JSON.stringify(rec.body));
  assert.ok(rec.body.rows.length >= 4);
  // Nothing went through r2watch here: everything Cloudflare counted went around it.
  assert.equal(rec.body.total.around_r2watch_pct, 100);
  // Cloudflare's month by class, every request (auth failures too), as the stand-in holds it:
  // the day rows summed by class in D1 (account_reads' grouping) lose nothing.
  const now = new Date();
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const byClass = { class_a: 0, class_b: 0, free: 0, unclassified: 0 };
  const free = ['DeleteObject', 'DeleteBucket', 'AbortMultipartUpload'];
  const classB = ['HeadBucket', 'HeadObject', 'GetObject', 'UsageSummary', 'GetBucketEncryption', 'GetBucketLocation', 'GetBucketCors',
    'GetBucketLifecycleConfiguration'];
  for (const o of standIn.account.operations) {
    if (o.hour < monthStart) continue;
    const cls = o.action === UNKNOWN_ACTION ? 'unclassified' : free.includes(o.action) ? 'free' : classB.includes(o.action) ? 'class_b' : 'class_a';
    byClass[cls] += o.requests;
  }
  assert.ok(byClass.unclassified > 0 && byClass.free > 0);
  assert.deepEqual(rec.body.total.cloudflare, byClass);
  const bad = await ask(worker, 'GET', '/api/account/reconcile?month=2026-13');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.field, 'month');
});

test('alerts on the account: a request spike against past weeks, abandoned multipart uploads', async () => {
  // A spike in the last complete hour: 40 times the usual GetObject on media.
  const lastHour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - HOUR_MS;
  const row = standIn.account.operations.find((o) => o.hour === lastHour && o.bucket === 'media' && o.action === 'GetObject' && o.code === 200);
  assert.ok(row, 'the stand-in has the last hour');
  row.requests *= 40;
  // Earlier tests ran the collector up to 15 minutes ahead (maybe into the next hour): put the
  // watermark back to the end of the last hour so this run re-pulls it.
  await worker.db
    .prepare("UPDATE account_collector_state SET state_json = json_set(state_json, '$.operations_until_ms', ?)")
    .bind(lastHour + HOUR_MS)
    .run();
  await collect();
  const round = await ask(worker, 'POST', '/api/admin/jobs/check-alerts');
  assert.equal(round.status, 200, JSON.stringify(round.body));
  const firing = (await ask(worker, 'GET', '/api/alerts?state=firing&limit=100')).body.alerts;
  const of = (rule) => firing.filter((a) => a.rule_id === rule).map((a) => a.bucket);
  assert.deepEqual(of('bucket_request_spike'), ['media'], JSON.stringify(firing.map((a) => [a.rule_id, a.bucket, a.value])));
  assert.deepEqual(of('abandoned_multipart_uploads'), ['backups']);
  assert.deepEqual(of('bucket_internal_errors'), []);
});

test('/metrics carries per-bucket families from the account and passes promtool', async () => {
  const res = await worker.fetch('/metrics');
  assert.equal(res.status, 200);
  const text = await res.text();
  answers.push(text);
  assert.match(text, /r2watch_account_requests_24h\{bucket="assets",action="GetObject",status="success"\} \d+/);
  assert.match(text, /r2watch_account_pending_multipart_uploads\{bucket="backups"\} 37/);
  assert.match(text, /r2watch_account_stored_bytes\{bucket="media"\} \d+/);
  assert.match(text, /r2watch_account_objects\{bucket="logs"\} \d+/);
  const file = join(tempDir('prom'), 'metrics.txt');
  writeFileSync(file, text);
  execFileSync('sh', ['-c', `promtool check metrics < ${file}`], { stdio: 'pipe' });
});

test('the API token is in no answer, no log line and no table', async () => {
  for (const a of answers) assert.ok(!a.includes(TOKEN), `answer leaks the token: ${a.slice(0, 200)}`);
  for (const line of printed) assert.ok(!line.includes(TOKEN), 'a log line leaks the token');
  const { results: tables } = await worker.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'").all();
  for (const { name } of tables) {
    const { results } = await worker.db.prepare(`SELECT * FROM "${name}"`).all();
    assert.ok(!JSON.stringify(results).includes(TOKEN), `table ${name} holds the token`);
  }
  // It was sent to Cloudflare (the stand-in), and only as the bearer token.
  assert.ok(standIn.requests.every((r) => r.authorization === `Bearer ${TOKEN}`));
});

test('migration 0020 carries the one-row-per-group operations over into one row per bucket and hour', async () => {
  const w = await startWorker();
  try {
    const sql = (file) =>
      readFileSync(fileURLToPath(new URL(`../../migrations/${file}`, import.meta.url)), 'utf8')
        .split('\n')
        .filter((line) => !line.trim().startsWith('--'))
        .join('\n')
        .split(/;\s*$/m)
        .map((x) => x.trim())
        .filter(Boolean);
    // The database as 0010 left it, with rows in it.
    await w.db.batch([w.db.prepare('DROP TABLE account_operations_hourly'), ...sql('0010_account.sql').map((x) => w.db.prepare(x))]);
    const h = Date.UTC(2026, 10, 1, 10);
    const old = [
      [h, 'a', 'GetObject', 'success', 200, 100, 5000],
      [h, 'a', 'PutObject', 'internalError', 500, 3, 0],
      [h, 'b', 'GetObject', 'userError', 404, 7, 0],
      [h + HOUR_MS, 'a', 'GetObject', 'success', 200, 40, 10],
    ];
    await w.db.batch(
      old.map((r) =>
        w.db
          .prepare('INSERT INTO account_operations_hourly (hour_ms, bucket, action_type, action_status, status_code, requests, response_bytes) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .bind(...r),
      ),
    );
    await w.db.batch(sql('0020_account_bucket_hours.sql').map((x) => w.db.prepare(x)));
    const { results } = await w.db.prepare('SELECT hour_ms, bucket, requests, internal_errors, groups FROM account_operations_hourly ORDER BY hour_ms, bucket').all();
    assert.equal(results.length, 3);
    assert.deepEqual(results.map((r) => [r.hour_ms, r.bucket, r.requests, r.internal_errors]), [
      [h, 'a', 103, 3],
      [h, 'b', 7, 0],
      [h + HOUR_MS, 'a', 40, 0],
    ]);
    assert.deepEqual(JSON.parse(results[0].groups).sort(), [
      ['GetObject', 'success', 200, 100, 5000],
      ['PutObject', 'internalError', 500, 3, 0],
    ]);
    // The bill's reading of them is what it was, once 0024 has carried their day sums over.
    await w.db.batch(sql('0024_account_operations_daily.sql').map((x) => w.db.prepare(x)));
    const { accountUsage } = await import('../src/db/account.js');
    // The reach as account_reads names it for (h, 2026-11-01).
    const reach = { since_ms: h, until_ms: Date.UTC(2026, 10, 2), from_day: '2026-11-01', to_day: '2026-11-01' };
    const usage = await accountUsage(w.db, reach);
    assert.deepEqual(usage.operations.sort(), [
      ['2026-11-01', 'a', 'GetObject', 200, 140, 5010],
      ['2026-11-01', 'a', 'PutObject', 500, 3, 0],
      ['2026-11-01', 'b', 'GetObject', 404, 7, 0],
    ]);
  } finally {
    await w.dispose();
  }
});
