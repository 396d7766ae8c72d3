// Reports people read: daily, weekly and monthly reports with cost, performance, errors,
// alerts, storage and recommendations, kept in D1, written to R2 under .r2watch/, and delivered
// to the channels subscribed to their type: Slack (a local HTTP receiver), GitHub (a local
// stand-in for the REST API: the weekly summary is an issue of its own) and email (Miniflare's
// local send_email, to EMAIL_TO from EMAIL_FROM). Traffic goes through the storage API; alert
// history, daily storage and the account's figures are seeded in D1 for periods the test picks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { Log, LogLevel } from 'miniflare';
import { startWorker, call, runDailyWork, sleep } from './helpers.mjs';

const DAY = 86_400_000;
const GB = 1_000_000_000;
const TOKEN = 'ghs_reports_test_token';

class CaptureLog extends Log {
  lines = [];
  constructor() {
    super(LogLevel.INFO);
  }
  logWithLevel(_level, message) {
    this.lines.push(message);
  }
}

/** Slack and GitHub stand-ins on one loopback server: every call recorded. */
async function startReceiver() {
  const received = [];
  let issue = 100;
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const entry = { method: req.method, path: req.url, headers: req.headers, body: text ? JSON.parse(text) : null };
      received.push(entry);
      if (req.url.startsWith('/repos/')) {
        if (req.headers.authorization !== `Bearer ${TOKEN}`) {
          res.writeHead(401, { 'content-type': 'application/json' });
          return res.end('{"message":"Bad credentials"}');
        }
        res.writeHead(201, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ number: ++issue, html_url: `https://github.example/issues/${issue}` }));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  return { base, received, at: (p) => received.filter((e) => e.path.startsWith(p)), close: () => new Promise((r) => server.close(r)) };
}

const iso = (ms) => new Date(ms).toISOString().slice(0, 10);
/** Monday 00:00 UTC of the week holding `ms`. */
const mondayOf = (ms) => {
  const day = Math.floor(ms / DAY);
  return (day - ((day + 3) % 7)) * DAY;
};
/** The ISO week label of the week starting on Monday `ms`. */
function isoWeek(mondayMs) {
  const thursday = new Date(mondayMs + 3 * DAY);
  const year = thursday.getUTCFullYear();
  const jan4 = Date.UTC(year, 0, 4);
  const week = Math.floor((mondayMs - mondayOf(jan4)) / (7 * DAY)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

function sentEmails(log) {
  return log.lines.flatMap((l) => [...l.matchAll(/(\S+\.eml)/g)].map((m) => m[1])).map((p) => readFileSync(p, 'utf8'));
}

/** The MIME parts of a raw message, base64 bodies decoded. */
function mimeParts(raw) {
  const boundary = /boundary="([^"]+)"/.exec(raw)[1];
  return raw
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((p) => {
      const [head, ...body] = p.replace(/^\r\n/, '').split('\r\n\r\n');
      return { type: /Content-Type: ([^;\r\n]+)/.exec(head)[1], text: Buffer.from(body.join('').trim(), 'base64').toString('utf8') };
    });
}

let worker;
let receiver;
const log = new CaptureLog();
const now = Date.now();
const today = iso(now);
const thisWeek = mondayOf(now);
const lastWeek = thisWeek - 7 * DAY;
const lastWeekLabel = isoWeek(lastWeek);
const thisMonth = today.slice(0, 7);

before(async () => {
  receiver = await startReceiver();
  worker = await startWorker({
    vars: { ENVIRONMENT: 'development', EMAIL_TO: 'ops@example.com, cfo@example.com', EMAIL_FROM: 'r2watch@example.com', GITHUB_TOKEN: TOKEN },
    miniflare: { email: { send_email: [{ name: 'SEND_EMAIL' }] }, log },
  });
  const channels = await call(worker, 'PUT', '/api/alerts/channels', {
    dashboard_url: 'https://r2watch.example.com',
    channels: [
      { name: 'chat', type: 'slack', url: `${receiver.base}/slack` },
      { name: 'gh', type: 'github', repository: 'acme/storage', token_secret: 'GITHUB_TOKEN', api_url: receiver.base },
      { name: 'pager', type: 'pagerduty', routing_key_secret: 'PD_KEY' },
    ],
  });
  assert.equal(channels.status, 200, JSON.stringify(channels.body));
});

after(async () => {
  await worker?.dispose();
  await receiver?.close();
});

test('a subscription naming an unknown channel or report type is a 422 naming the field; nothing is stored', async () => {
  const good = await call(worker, 'PUT', '/api/reports/subscriptions', {
    subscriptions: [
      { report_type: 'daily', channels: ['chat', 'email'] },
      { report_type: 'weekly', channels: ['gh'] },
      { report_type: 'monthly', channels: ['email'] },
    ],
  });
  assert.equal(good.status, 200, JSON.stringify(good.body));
  const cases = [
    [{ subscriptions: [{ report_type: 'daily', channels: ['nowhere'] }] }, 'subscriptions[0].channels[0]'],
    [{ subscriptions: [{ report_type: 'hourly', channels: ['chat'] }] }, 'subscriptions[0].report_type'],
    [{ subscriptions: [{ report_type: 'daily', channels: ['chat', 'pager'] }] }, 'subscriptions[0].channels[1]'],
    [{ subscriptions: [{ report_type: 'daily', channels: ['chat'], colour: 'red' }] }, 'subscriptions[0].colour'],
  ];
  for (const [body, field] of cases) {
    const res = await call(worker, 'PUT', '/api/reports/subscriptions', body);
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.equal(res.body.error.field, field);
  }
  const kept = await call(worker, 'GET', '/api/reports/subscriptions');
  assert.deepEqual(kept.body.subscriptions, good.body.subscriptions);
  assert.deepEqual(kept.body.email, { to: ['ops@example.com', 'cfo@example.com'], from: 'r2watch@example.com' });
});

test('the daily report: traffic by hand, stored, in R2, delivered to Slack and email once', async () => {
  // 4 puts and 6 gets on docs/, then 3 puts that fail (fault injection): 13 calls, 3 errors.
  for (let i = 0; i < 4; i++) assert.equal((await call(worker, 'PUT', `/api/storage/files/docs/${i}.txt`, 'hello')).status, 201);
  for (let i = 0; i < 6; i++) assert.equal((await call(worker, 'GET', `/api/storage/files/docs/${i % 4}.txt`)).status, 200);
  await call(worker, 'POST', '/api/health/circuit-breaker/disable');
  await call(worker, 'PUT', '/api/admin/faults', { operation: 'put', error_rate: 1 });
  for (let i = 0; i < 3; i++) assert.equal((await call(worker, 'PUT', `/api/storage/files/docs/bad${i}.txt`, 'x')).status, 502);
  await call(worker, 'DELETE', '/api/admin/faults');
  assert.equal((await call(worker, 'POST', '/api/admin/jobs/metrics-flush')).status, 200);

  const made = await call(worker, 'POST', `/api/admin/jobs/reports?type=daily&period=${today}`);
  assert.equal(made.status, 200, JSON.stringify(made.body));
  const r = made.body;
  assert.equal(r.type, 'daily');
  assert.equal(r.period, today);
  assert.equal(r.r2_key, `.r2watch/reports/daily/${today}.json`);
  // Performance: every call through the storage API, percentiles of the merged sketch.
  assert.equal(r.performance.calls, 13);
  assert.equal(r.performance.errors, 3);
  assert.equal(r.performance.error_rate_pct, (3 * 100) / 13);
  const put = r.performance.by_bucket_operation.find((l) => l.operation === 'put');
  const get = r.performance.by_bucket_operation.find((l) => l.operation === 'get');
  assert.deepEqual([put.calls, put.errors, get.calls, get.errors], [7, 3, 6, 0]);
  for (const l of [r.performance, put, get]) assert.ok(l.p50_ms <= l.p95_ms && l.p95_ms <= l.p99_ms, JSON.stringify(l));
  // Errors: the failed puts.
  assert.equal(r.errors.total, 3);
  assert.deepEqual(r.errors.operations, [{ operation: 'put', count: 3 }]);
  assert.deepEqual(r.errors.buckets, [{ bucket: 'r2watch-data', count: 3 }]);
  // The cost section is still the cost report.
  assert.equal(r.usage.class_b_requests, 6);
  assert.ok(r.cost.total_micro_usd >= 0);
  // Every section is there.
  for (const k of ['performance', 'errors', 'alerts', 'storage', 'recommendations']) assert.ok(k in r, k);

  // In R2, as stored, with the latest usage snapshot beside it.
  const object = await worker.bucket.get(r.r2_key);
  assert.ok(object, 'the report is in R2');
  assert.deepEqual(JSON.parse(await object.text()).performance, r.performance);
  const snapshot = JSON.parse(await (await worker.bucket.get('.r2watch/metrics/r2_usage.json')).text());
  assert.equal(snapshot.period, today);
  assert.equal(snapshot.performance.calls, 13);

  // Delivered: Slack blocks to the receiver, one email per EMAIL_TO address (text and HTML).
  const slack = receiver.at('/slack');
  assert.equal(slack.length, 1);
  assert.equal(slack[0].body.blocks[0].type, 'header');
  assert.equal(slack[0].body.blocks[0].text.text, `Daily report ${today}`);
  const perfBlock = slack[0].body.blocks.find((b) => b.text?.text?.startsWith('*Performance*'));
  assert.match(perfBlock.text.text, /13 calls, error rate 23\.08%/);
  for (let i = 0; i < 50 && sentEmails(log).length < 2; i++) await sleep(100);
  const mails = sentEmails(log);
  assert.equal(mails.length, 2);
  assert.match(mails[0], /^From: r2watch@example\.com\r\nTo: ops@example\.com, cfo@example\.com\r\n/);
  assert.match(mails[0], new RegExp(`Subject: \\[r2watch\\] Daily report ${today}`));
  const parts = mimeParts(mails[0]);
  assert.deepEqual(parts.map((p) => p.type), ['text/plain', 'text/html']);
  assert.match(parts[0].text, /13 calls, error rate 23\.08%/);
  assert.match(parts[1].text, /<h3>Errors<\/h3><ul><li>3 failed calls<\/li>/);
  assert.match(parts[1].text, new RegExp(`https://r2watch\\.example\\.com/reports/daily/${today}`));

  // A re-run replaces the report and delivers nothing twice.
  const again = await call(worker, 'POST', `/api/admin/jobs/reports?type=daily&period=${today}`);
  assert.equal(again.status, 200);
  assert.equal((await call(worker, 'GET', '/api/reports?type=daily')).body.reports.length, 1);
  await sleep(300);
  assert.equal(receiver.at('/slack').length, 1);
  assert.equal(sentEmails(log).length, 2);
  const outbox = await worker.db.prepare("SELECT key, status FROM alert_outbox WHERE kind = 'report' ORDER BY key").all();
  assert.deepEqual(outbox.results, [
    { key: `report:daily:${today}:chat`, status: 'sent' },
    { key: `report:daily:${today}:email`, status: 'sent' },
  ]);
  // The run has its heartbeat.
  const runs = await worker.db.prepare("SELECT outcome FROM job_runs WHERE job = 'reports'").all();
  assert.deepEqual(runs.results.map((x) => x.outcome), ['ok', 'ok']);
});

test('the weekly report: alerts, storage growth and recommendations by hand; an issue of its own', async () => {
  const mon = lastWeek;
  const alert = (id, severity, firedMs, ackMs, resolvedMs) =>
    worker.db
      .prepare(
        `INSERT INTO alerts (id, fingerprint, rule_id, name, type, severity, state, bucket, prefix, user_id, value,
           threshold, detail, labels_json, started_at_ms, fired_at_ms, resolved_at_ms, acknowledged_at_ms,
           escalation_level, muted_by, updated_at_ms)
         VALUES (?, ?, 'r', ?, 'error_rate', ?, ?, 'r2watch-data', '', '', 1, 1, '', '{}', ?, ?, ?, ?, 0, '', ?)`,
      )
      .bind(id, `fp-${id}`, `alert ${id}`, severity, resolvedMs ? 'resolved' : 'firing', firedMs, firedMs, resolvedMs, ackMs, firedMs);
  const t = mon + DAY; // Tuesday of last week
  await worker.db.batch([
    // Acknowledged after 5 and 15 minutes; resolved after 30 min and 2 h; one still open.
    alert('w1', 'high', t, t + 5 * 60_000, t + 30 * 60_000),
    alert('w2', 'critical', t + 3_600_000, t + 3_600_000 + 15 * 60_000, t + 3_600_000 + 2 * 3_600_000),
    alert('w3', 'high', t + 7_200_000, null, null),
    // Before the week: left out.
    alert('w0', 'low', mon - DAY, null, null),
  ]);
  const peak = (day, prefix, bytes) =>
    worker.db
      .prepare(
        `INSERT INTO storage_daily_peaks (day, bucket, prefix, storage_class, peak_bytes, objects, updated_at_ms)
         VALUES (?, 'r2watch-data', ?, 'standard', ?, 1, 0)`,
      )
      .bind(iso(day), prefix, bytes);
  const account = (day, bucket, bytes, pending) =>
    worker.db
      .prepare(
        `INSERT INTO account_storage_daily (day, bucket, storage_class, payload_bytes, metadata_bytes, objects, pending_uploads)
         VALUES (?, ?, 'Standard', ?, 0, 1, ?)`,
      )
      .bind(iso(day), bucket, bytes, pending);
  await worker.db.batch([
    // archive/: 200 GB all week, never read: Infrequent Access saves 200 x ($0.015 - $0.010) = $1.00 a month.
    peak(mon, 'archive', 200 * GB),
    peak(mon + 6 * DAY, 'archive', 200 * GB),
    // logs/: 10 GB -> 30 GB.
    peak(mon, 'logs', 10 * GB),
    peak(mon + 6 * DAY, 'logs', 30 * GB),
    // Another bucket of the account: 40 GB -> 50 GB, 3 multipart uploads pending on its last day.
    account(mon, 'media', 40 * GB, 1),
    account(mon + 6 * DAY, 'media', 50 * GB, 3),
  ]);

  const made = await call(worker, 'POST', '/api/admin/jobs/reports?type=weekly');
  assert.equal(made.status, 200, JSON.stringify(made.body));
  const r = made.body;
  assert.equal(r.period, lastWeekLabel);
  assert.deepEqual([r.first_day, r.last_day, r.days], [iso(mon), iso(mon + 6 * DAY), 7]);
  assert.equal(r.r2_key, `.r2watch/reports/weekly/${lastWeekLabel}.json`);
  assert.equal(r.alerts.fired, 3);
  assert.deepEqual(r.alerts.by_severity, [{ severity: 'critical', count: 1 }, { severity: 'high', count: 2 }]);
  assert.equal(r.alerts.still_open, 1);
  assert.deepEqual(r.alerts.time_to_acknowledge, { count: 2, median_ms: 5 * 60_000, max_ms: 15 * 60_000 });
  assert.deepEqual(r.alerts.time_to_resolve, { count: 2, median_ms: 30 * 60_000, max_ms: 2 * 3_600_000 });
  assert.equal(r.alerts.top[0].id, 'w3');
  // Storage: r2watch-data 210 GB -> 230 GB, media 40 GB -> 50 GB.
  assert.equal(r.storage.start_bytes, 250 * GB);
  assert.equal(r.storage.end_bytes, 280 * GB);
  assert.equal(r.storage.growth_bytes, 30 * GB);
  assert.equal(r.storage.growth_pct, 12);
  assert.deepEqual(r.storage.buckets.map((b) => [b.bucket, b.growth_bytes, b.pending_uploads]), [
    ['r2watch-data', 20 * GB, 0],
    ['media', 10 * GB, 3],
  ]);
  assert.deepEqual(r.storage.largest_prefixes.map((p) => [p.prefix, p.bytes]), [['archive', 200 * GB], ['logs', 30 * GB]]);
  const ia = r.recommendations.filter((x) => x.kind === 'infrequent_access');
  assert.deepEqual(ia.map((x) => [x.prefix, x.monthly_saving_micro_usd]), [['archive', 1_000_000], ['logs', 150_000]]);
  const uploads = r.recommendations.find((x) => x.kind === 'abandoned_uploads');
  assert.deepEqual([uploads.bucket, uploads.pending_uploads], ['media', 3]);

  // The weekly summary is a GitHub issue of its own.
  const issues = receiver.at('/repos/acme/storage/issues');
  assert.equal(issues.length, 1);
  assert.equal(issues[0].body.title, `Weekly report ${lastWeekLabel}`);
  assert.deepEqual(issues[0].body.labels, ['r2watch-report', 'weekly']);
  assert.match(issues[0].body.body, /### Alerts\n\n- 3 fired \(critical \(1\), high \(2\)\), 1 still open/);
  assert.match(issues[0].body.body, /Move r2watch-data\/archive\/ to Infrequent Access: about \$1\.00 a month less/);
  // Re-run: no second issue.
  assert.equal((await call(worker, 'POST', `/api/admin/jobs/reports?type=weekly&period=${lastWeekLabel}`)).status, 200);
  assert.equal(receiver.at('/repos/acme/storage/issues').length, 1);
  assert.ok(await worker.bucket.head(r.r2_key), 'the weekly report is in R2');
});

test('the monthly report: top status codes, budgets near their limit; listed and shown as JSON and CSV', async () => {
  const hour = Math.floor(now / 3_600_000) * 3_600_000;
  // One row per bucket and hour, its groups [action_type, action_status, status_code, requests,
  // response_bytes] (migration 0020).
  const group = (status, requests) => ['GetObject', status < 400 ? 'success' : 'userError', status, requests, 0];
  const groups = [group(200, 1000), group(404, 40), group(403, 12), group(500, 2)];
  await worker.db.batch([
    worker.db
      .prepare(
        `INSERT INTO account_operations_hourly (hour_ms, bucket, requests, internal_errors, groups)
         VALUES (?, 'media', ?, 0, ?)`,
      )
      .bind(hour, groups.reduce((n, g) => n + g[3], 0), JSON.stringify(groups)),
    // 3 TB stored today: the month's bill passes a $0.01 budget whatever day it is.
    worker.db
      .prepare(
        `INSERT INTO storage_daily_peaks (day, bucket, prefix, storage_class, peak_bytes, objects, updated_at_ms)
         VALUES (?, 'r2watch-data', 'bulk', 'standard', ?, 1, 0)`,
      )
      .bind(today, 3000 * GB),
  ]);
  const budget = await call(worker, 'PUT', '/api/costs/budgets', { budgets: [{ monthly_usd: '0.01', warn_at_pct: 50 }] });
  assert.equal(budget.status, 200, JSON.stringify(budget.body));

  const made = await call(worker, 'POST', `/api/admin/jobs/reports?type=monthly&period=${thisMonth}`);
  assert.equal(made.status, 200, JSON.stringify(made.body));
  const r = made.body;
  assert.deepEqual(r.errors.status_codes, [{ status: '404', count: 40 }, { status: '403', count: 12 }, { status: '500', count: 2 }]);
  const near = r.recommendations.find((x) => x.kind === 'budget');
  assert.ok(near, JSON.stringify(r.recommendations));
  assert.match(near.text, /^Spending of the account is over its budget/);
  // Email only (the subscription), not Slack.
  assert.equal(receiver.at('/slack').length, 1);

  const list = await call(worker, 'GET', '/api/reports');
  assert.deepEqual(list.body.reports.map((x) => x.type).sort(), ['daily', 'monthly', 'weekly']);
  const monthly = list.body.reports.find((x) => x.type === 'monthly');
  assert.equal(monthly.r2_key, `.r2watch/reports/monthly/${thisMonth}.json`);
  const shown = await call(worker, 'GET', `/api/reports/${monthly.id}`);
  assert.deepEqual(shown.body.errors, r.errors);
  const csv = await worker.fetch(`/api/reports/${monthly.id}?format=csv`);
  assert.match(await csv.text(), /^section,key,/);
  assert.equal((await call(worker, 'GET', '/api/reports?type=hourly')).status, 400);
  const badWeek = await call(worker, 'POST', '/api/admin/jobs/reports?type=weekly&period=2026-W60');
  assert.deepEqual([badWeek.status, badWeek.body.error.field], [400, 'period']);
});

test('the daily cron makes the weekly report on Mondays and the monthly one on the 1st (the engine decides)', async () => {
  const before = (await call(worker, 'GET', '/api/reports')).body.reports.filter((x) => x.type !== 'monthly').length + 1;
  // A Monday: yesterday's daily and last week's weekly (already there: replaced, not doubled).
  const monday = await runDailyWork(worker, thisWeek + 60_000);
  assert.equal(monday.start.outcome, 'ok', JSON.stringify(monday.start));
  assert.equal(monday.finish?.outcome, 'ok', JSON.stringify(monday.finish));
  // (A Monday that is also the 1st makes last month's report too.)
  const made = monday.finish.summary.reports.filter((x) => !x.startsWith('monthly:'));
  assert.deepEqual(made, [`daily:${iso(thisWeek - DAY)}`, `weekly:${lastWeekLabel}`]);
  const after = (await call(worker, 'GET', '/api/reports')).body.reports.filter((x) => x.type !== 'monthly');
  assert.equal(after.length, before, 'one new daily; the weekly replaced');
  assert.equal(receiver.at('/repos/acme/storage/issues').length, 1, 'no second issue for the same week');
  // Last week's Wednesday: the daily only.
  const wed = await runDailyWork(worker, lastWeek + 2 * DAY + 60_000);
  assert.deepEqual(wed.finish.summary.reports, [`daily:${iso(lastWeek + DAY)}`]);
});

test('a report that cannot be made is tried again, then given up: the day\'s work ends in error by name, after the backup is made', async () => {
  const backups = async () => (await worker.bucket.list({ prefix: '.r2watch/backups/' })).objects.length;
  const before = await backups();
  // The subscriptions cannot be read: every report of the run fails.
  await worker.db.prepare('ALTER TABLE report_subscriptions RENAME TO report_subscriptions_gone').run();
  try {
    const at = lastWeek - 7 * DAY + 60_000; // a Monday with no backup yet
    // The earlier tests' days are later than this one, whose work would leave its backup to
    // them (core/ops/daily.h): this is the latest day here.
    await worker.db.prepare('DELETE FROM daily_work').run();
    const run = await runDailyWork(worker, at);
    assert.equal(run.start.outcome, 'ok');
    const last = run.finish;
    assert.equal(last.outcome, 'error');
    assert.match(last.error, new RegExp(`report_daily: reports not made: daily:${iso(at - DAY)}: .*; report_weekly: reports not made: weekly:${isoWeek(lastWeek - 14 * DAY)}: `));
    assert.deepEqual(last.summary.failed, ['report_daily', 'report_weekly']);
    assert.ok((await backups()) > before, 'the backup was made all the same');
  } finally {
    await worker.db.prepare('ALTER TABLE report_subscriptions_gone RENAME TO report_subscriptions').run();
  }
});
