// The public status page inside workerd with real local D1 and R2: /status (HTML) and
// /api/status (JSON) without a token; uptime from the scheduled probes per operation and
// window; incidents published by an admin from an alert, with their updates; nothing private
// (bucket, key, user, rule, figures) on the page; cached with the Cache API for CACHE_TTL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, call, runCron, tokenFor } from './helpers.mjs';

const COLLECT = '*/5 * * * *';
const EVERY_MINUTE = '* * * * *';
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Cron times 30 s apart (the default check_interval_ms), ending in the recent past. */
function cronClock() {
  let t = Date.now() - 10 * 60_000;
  return () => (t += 30_000);
}

async function publicJson(worker) {
  const res = await call(worker, 'GET', '/api/status', undefined, { as: null });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res;
}

async function publicHtml(worker) {
  const res = await worker.fetch('/status', { anonymous: true });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/html/);
  return { headers: res.headers, text: await res.text() };
}

function uptimeOf(page, operation) {
  return page.uptime.operations.find((o) => o.operation === operation).uptime_pct;
}

async function seedTally(worker, period, startMs, operation, status, checks, trigger = 'scheduled') {
  await worker.db
    .prepare(
      `INSERT INTO status_probe_counts (period, start_ms, operation, trigger, status, checks, updated_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, 0)`,
    )
    .bind(period, startMs, operation, trigger, status, checks)
    .run();
}

test('uptime counts the scheduled probes per operation and window, never the manual ones', async () => {
  const worker = await startWorker({ vars: { CACHE_TTL: '0' } });
  try {
    const clock = cronClock();
    for (let i = 0; i < 3; i++) assert.equal((await runCron(worker, COLLECT, clock())).outcome, 'ok');
    // One scheduled round with every GET failing, and manual rounds that fail too.
    assert.equal((await call(worker, 'PUT', '/api/admin/faults', { operation: 'get', error_rate: 1, latency_ms: 0 })).status, 200);
    assert.equal((await runCron(worker, COLLECT, clock())).outcome, 'ok');
    for (let i = 0; i < 3; i++) assert.equal((await call(worker, 'POST', '/api/health/check')).status, 200);
    assert.equal((await call(worker, 'DELETE', '/api/admin/faults')).status, 200);

    const failedGets = await worker.db
      .prepare(`SELECT trigger, COUNT(*) AS n FROM r2_health_checks WHERE operation = 'get' AND ok = 0 GROUP BY trigger ORDER BY trigger`)
      .all();
    assert.deepEqual(failedGets.results.map((r) => `${r.trigger}:${r.n}`), ['manual:3', 'scheduled:1']);
    // The tallies agree with the stored checks (recomputed, not added to).
    const tallied = await worker.db
      .prepare(`SELECT SUM(checks) AS n FROM status_probe_counts WHERE period = 'day'`)
      .first();
    const checks = await worker.db.prepare('SELECT COUNT(*) AS n FROM r2_health_checks').first();
    assert.equal(tallied.n, checks.n);
    // So do the monitor's hourly aggregates (each round recomputes its whole hour).
    const aggregated = await worker.db.prepare('SELECT SUM(checks) AS n FROM r2_operation_metrics').first();
    assert.equal(aggregated.n, checks.n);

    // History older than the probes above: ten days ago GET failed 4 of 8 scheduled probes
    // (in 90 days, not in 7); 95 days ago everything failed (in no window).
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    await seedTally(worker, 'day', today - 10 * DAY_MS, 'get', 'ok', 4);
    await seedTally(worker, 'day', today - 10 * DAY_MS, 'get', 'timeout', 4);
    await seedTally(worker, 'day', today - 95 * DAY_MS, 'get', 'error', 1000);
    // An hour row from 2 days ago is outside the 24 hours.
    await seedTally(worker, 'hour', Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 48 * HOUR_MS, 'put', 'error', 50);

    const { body: page, headers } = await publicJson(worker);
    assert.equal(headers.get('cache-control'), 'no-store');
    assert.deepEqual(page.uptime.windows, ['24h', '7d', '90d']);
    // 4 scheduled GETs, 1 failed: 75%; the manual failures do not count.
    assert.deepEqual(uptimeOf(page, 'get'), { '24h': 75, '7d': 75, '90d': 58.333 });
    assert.deepEqual(uptimeOf(page, 'put'), { '24h': 100, '7d': 100, '90d': 100 });
    assert.deepEqual(page.uptime.overall_pct['24h'], 95); // 19 of 20
    assert.equal(page.uptime.days.length, 90);
    const tenDaysAgo = page.uptime.days[page.uptime.days.length - 11];
    assert.equal(tenDaysAgo.date, new Date(today - 10 * DAY_MS).toISOString().slice(0, 10));
    assert.deepEqual([tenDaysAgo.uptime_pct, tenDaysAgo.level], [50, 'down']);
    assert.equal(page.uptime.days.at(-1).level, 'partial'); // today: 19 of 20
    assert.equal(page.uptime.days[0].level, 'none');
    assert.deepEqual(page.components.map((c) => c.name), ['storage', 'database', 'jobs']);
    assert.equal(page.incidents.length, 0);

    const html = await publicHtml(worker);
    assert.match(html.text, /<td>75%<\/td>/);
    assert.match(html.text, /58\.333%/);
    assert.match(html.text, /No incidents reported/);
    assert.match(html.headers.get('content-security-policy'), /default-src 'none'/);
  } finally {
    await worker.dispose();
  }
});

/** Every key of a JSON value, at any depth. */
function keysOf(value, out = new Set()) {
  if (Array.isArray(value)) value.forEach((v) => keysOf(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.add(k);
      keysOf(v, out);
    }
  }
  return out;
}

test('an alert made public shows the words the admin wrote, and nothing private', async () => {
  const BUCKET = 'zebra-bucket-4471';
  const USER = 'zebra-user-8812';
  const KEY_PREFIX = 'zebra-prefix-5531';
  const worker = await startWorker({ vars: { CACHE_TTL: '0', BUCKET_NAME: BUCKET, ENVIRONMENT: 'development' } });
  try {
    const userToken = await tokenFor(worker, USER);
    // Traffic with distinctive names and sizes.
    for (let i = 0; i < 3; i++) {
      const put = await call(worker, 'PUT', `/api/storage/files/${KEY_PREFIX}/quokka-file-${i}.txt`, 'q'.repeat(7777), { as: userToken });
      assert.equal(put.status, 201, JSON.stringify(put.body));
    }
    // An alert that fires on the user's failing uploads, under a rule with distinctive figures.
    for (const rule of (await call(worker, 'GET', '/api/alerts/rules')).body.rules) {
      assert.equal((await call(worker, 'PUT', `/api/alerts/rules/${rule.id}`, { enabled: false })).status, 200);
    }
    const rule = await call(worker, 'POST', '/api/alerts/rules', {
      id: 'zebra-rule', name: 'ZebraRuleName', type: 'error_rate', threshold: 37.25, window_ms: 30 * 60_000, min_calls: 5,
      scope: { user: USER },
    });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    await call(worker, 'POST', '/api/health/circuit-breaker/disable');
    await call(worker, 'PUT', '/api/admin/faults', { operation: 'put', error_rate: 1 });
    for (let i = 0; i < 6; i++) {
      assert.equal((await call(worker, 'PUT', `/api/storage/files/${KEY_PREFIX}/failing-${i}.txt`, 'x', { as: userToken })).status, 502);
    }
    assert.equal((await runCron(worker, EVERY_MINUTE)).outcome, 'ok');
    await call(worker, 'DELETE', '/api/admin/faults');
    await call(worker, 'POST', '/api/health/circuit-breaker/reset');
    const alerts = await call(worker, 'GET', '/api/alerts?state=firing');
    assert.equal(alerts.body.alerts.length, 1, JSON.stringify(alerts.body));
    const alert = alerts.body.alerts[0];
    assert.equal(alert.user, USER);
    await runCron(worker, COLLECT);

    // Not public yet: the page has no incident.
    assert.deepEqual((await call(worker, 'GET', `/api/alerts/${alert.id}/incident`)).body, { incident: null });
    assert.equal((await publicJson(worker)).body.incidents.length, 0);

    // The admin marks it public, then posts an update.
    const published = await call(worker, 'PUT', `/api/alerts/${alert.id}/incident`, {
      title: 'Uploads are failing for some customers',
      impact: 'major',
      message: 'We are looking into failed uploads.',
    });
    assert.equal(published.status, 201, JSON.stringify(published.body));
    assert.equal(published.body.incident.alert_id, alert.id);
    assert.equal(published.body.incident.status, 'investigating');
    const updated = await call(worker, 'POST', `/api/alerts/${alert.id}/incident/updates`, {
      status: 'identified',
      message: 'A fault in the storage layer.\nA fix is on its way.',
    });
    assert.equal(updated.status, 201, JSON.stringify(updated.body));
    assert.equal(updated.body.incident.updates.length, 2);
    assert.equal(updated.body.incident.updates[0].posted_by, 'admin');

    const { body: page } = await publicJson(worker);
    assert.equal(page.incidents.length, 1);
    const [incident] = page.incidents;
    assert.equal(incident.title, 'Uploads are failing for some customers');
    assert.deepEqual([incident.status, incident.impact], ['identified', 'major']);
    assert.deepEqual(incident.updates.map((u) => u.status), ['identified', 'investigating']);
    const html = await publicHtml(worker);
    assert.match(html.text, /Uploads are failing for some customers/);
    assert.match(html.text, /A fault in the storage layer\.<br>A fix is on its way\./);

    // Nothing private, in either form.
    // (Times in ms left out: a figure such as 7777 may stand inside a timestamp by chance.)
    const jsonText = JSON.stringify(page, (k, v) => (k.endsWith('_at_ms') ? undefined : v));
    const privateWords = [BUCKET, USER, KEY_PREFIX, 'quokka', 'zebra', 'ZebraRuleName', alert.id, alert.rule_id,
      alert.fingerprint, '37.25', '7777', String(alert.value), alert.detail];
    for (const word of privateWords) {
      assert.ok(!jsonText.toLowerCase().includes(word.toLowerCase()), `/api/status holds ${word}`);
      assert.ok(!html.text.toLowerCase().includes(word.toLowerCase()), `/status holds ${word}`);
    }
    // Only these fields exist: states, uptime percentages, dates and what the admin wrote.
    const allowed = new Set(['status', 'generated_at_ms', 'components', 'name', 'title', 'state', 'uptime', 'windows',
      'overall_pct', '24h', '7d', '90d', 'operations', 'operation', 'uptime_pct', 'days', 'date', 'level', 'incidents',
      'id', 'impact', 'started_at_ms', 'updated_at_ms', 'resolved_at_ms', 'updates', 'message', 'posted_at_ms']);
    assert.deepEqual([...keysOf(page)].filter((k) => !allowed.has(k)), []);
    // The incident's id is the incident's own, not the alert's.
    assert.match(incident.id, /^inc-[0-9a-f]{12}$/);

    // Resolved, it stays on the page as resolved; taken off the page, it is gone.
    await call(worker, 'POST', `/api/alerts/${alert.id}/incident/updates`, { status: 'resolved', message: 'Fixed.' });
    const resolved = (await publicJson(worker)).body.incidents[0];
    assert.equal(resolved.status, 'resolved');
    assert.ok(resolved.resolved_at_ms > 0);
    assert.equal((await call(worker, 'DELETE', `/api/alerts/${alert.id}/incident`)).status, 204);
    assert.equal((await publicJson(worker)).body.incidents.length, 0);
    assert.equal((await call(worker, 'DELETE', `/api/alerts/${alert.id}/incident`)).status, 404);
  } finally {
    await worker.dispose();
  }
});

test('publishing is for admins, and a bad request names its field and changes nothing', async () => {
  const worker = await startWorker({ vars: { CACHE_TTL: '0' } });
  try {
    const now = Date.now();
    await worker.db
      .prepare(
        `INSERT INTO alerts (id, fingerprint, rule_id, name, type, severity, state, bucket, prefix, user_id, value,
           threshold, detail, labels_json, escalation_level, muted_by, updated_at_ms)
         VALUES ('a-1', 'f-1', 'r-1', 'n', 'error_rate', 'high', 'firing', 'b', '', '', 50, 5, 'd', '{}', 0, '', ?)`,
      )
      .bind(now)
      .run();
    const user = await tokenFor(worker, 'plain-user');
    assert.equal((await call(worker, 'PUT', '/api/alerts/a-1/incident', { title: 'x' }, { as: user })).status, 403);
    assert.equal((await call(worker, 'PUT', '/api/alerts/a-1/incident', { title: 'x' }, { as: null })).status, 401);

    const cases = [
      [{}, 'title'],
      [{ title: '' }, 'title'],
      [{ title: 'x'.repeat(121) }, 'title'],
      [{ title: 'ok', impact: 'huge' }, 'impact'],
      [{ title: 'ok', status: 'identified' }, 'message'],
      [{ title: 'ok', bucket: 'b' }, 'bucket'],
      [{ title: 7 }, 'title'],
    ];
    for (const [body, field] of cases) {
      const res = await call(worker, 'PUT', '/api/alerts/a-1/incident', body);
      assert.equal(res.status, 422, JSON.stringify([body, res.body]));
      assert.equal(res.body.error.field, field, JSON.stringify(res.body));
    }
    assert.equal((await call(worker, 'GET', '/api/alerts/a-1/incident')).body.incident, null);
    assert.equal((await call(worker, 'PUT', '/api/alerts/no-such/incident', { title: 'x' })).status, 404);
    assert.equal((await call(worker, 'POST', '/api/alerts/a-1/incident/updates', { status: 'identified', message: 'm' })).status, 404);

    assert.equal((await call(worker, 'PUT', '/api/alerts/a-1/incident', { title: 'Slow reads' })).status, 201);
    const bad = await call(worker, 'POST', '/api/alerts/a-1/incident/updates', { status: 'fixed', message: 'm' });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.error.field, 'status');
    const after = (await call(worker, 'GET', '/api/alerts/a-1/incident')).body.incident;
    assert.deepEqual([after.status, after.updates.length], ['investigating', 0]);
    // Published again with a new title: the same incident.
    const again = await call(worker, 'PUT', '/api/alerts/a-1/incident', { title: 'Slow reads in Europe' });
    assert.equal(again.status, 200);
    assert.equal(again.body.incident.id, after.id);
  } finally {
    await worker.dispose();
  }
});

test('the page is cached for CACHE_TTL seconds, and an incident change clears it', async () => {
  const worker = await startWorker();
  try {
    const first = await publicJson(worker);
    assert.equal(first.headers.get('x-r2watch-cache'), 'miss');
    assert.equal(first.headers.get('cache-control'), 'public, max-age=60');
    // A probe round changes the figures, but the cached page is answered.
    assert.equal((await runCron(worker, COLLECT)).outcome, 'ok');
    const second = await publicJson(worker);
    assert.equal(second.headers.get('x-r2watch-cache'), 'hit');
    assert.deepEqual(second.body, first.body);
    assert.equal(second.body.uptime.overall_pct['24h'], null);
    const html1 = await publicHtml(worker);
    const html2 = await publicHtml(worker);
    assert.deepEqual([html1.headers.get('x-r2watch-cache'), html2.headers.get('x-r2watch-cache')], ['miss', 'hit']);
    assert.equal(html2.text, html1.text);

    // An admin's change to an incident clears the cached page here.
    await worker.db
      .prepare(
        `INSERT INTO alerts (id, fingerprint, rule_id, name, type, severity, state, bucket, prefix, user_id, value,
           threshold, detail, labels_json, escalation_level, muted_by, updated_at_ms)
         VALUES ('a-1', 'f-1', 'r-1', 'n', 'error_rate', 'high', 'firing', 'b', '', '', 50, 5, 'd', '{}', 0, '', 0)`,
      )
      .run();
    assert.equal((await call(worker, 'PUT', '/api/alerts/a-1/incident', { title: 'Slow reads' })).status, 201);
    const third = await publicJson(worker);
    assert.equal(third.headers.get('x-r2watch-cache'), 'miss');
    assert.equal(third.body.incidents[0].title, 'Slow reads');
    assert.equal(third.body.uptime.overall_pct['24h'], 100);
    assert.match((await publicHtml(worker)).text, /Slow reads/);
  } finally {
    await worker.dispose();
  }
  // CACHE_TTL=0: never cached; a CACHE_TTL that does not read: the default, the page stays up.
  for (const [ttl, cacheControl, seen] of [['0', 'no-store', 'off'], ['soon', 'public, max-age=60', 'miss']]) {
    const w = await startWorker({ vars: { CACHE_TTL: ttl } });
    try {
      const res = await publicJson(w);
      assert.equal(res.headers.get('cache-control'), cacheControl);
      assert.equal(res.headers.get('x-r2watch-cache'), seen);
      if (ttl === '0') assert.equal((await publicJson(w)).headers.get('x-r2watch-cache'), 'off');
    } finally {
      await w.dispose();
    }
  }
});
