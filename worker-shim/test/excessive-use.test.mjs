// Excessive use and rate limits as security events: more than EXCESSIVE_REQUESTS_PER_HOUR
// requests from one user within the hour is an excessive_requests event (the engine's rule);
// rate-limited answers are counted per subject and window (rate_limited) and audited once a window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, call, insertToken, sleep, runCron } from './helpers.mjs';

/** Waits out the end of a window of `ms` when fewer than `margin` ms are left in it. */
async function awayFromBoundary(ms, margin = 8000) {
  const left = ms - (Date.now() % ms);
  if (left < margin) await sleep(left + 50);
}

test('more requests in an hour than EXCESSIVE_REQUESTS_PER_HOUR from one user is a security event', async () => {
  const worker = await startWorker({ vars: { EXCESSIVE_REQUESTS_PER_HOUR: '5' } });
  try {
    await awayFromBoundary(3_600_000, 20_000);
    const heavy = await insertToken(worker, 'heavy');
    const light = await insertToken(worker, 'light');
    for (let i = 0; i < 7; i++) assert.equal((await call(worker, 'GET', '/api/auth/whoami', undefined, { as: heavy })).status, 200);
    for (let i = 0; i < 5; i++) assert.equal((await call(worker, 'GET', '/api/auth/whoami', undefined, { as: light })).status, 200);
    const { body } = await call(worker, 'GET', '/api/admin/security-events?kind=excessive_requests');
    const subjects = body.events.map((e) => e.subject);
    assert.ok(subjects.includes('user:heavy'), JSON.stringify(body));
    assert.ok(!subjects.includes('user:light'), JSON.stringify(body));
    const event = body.events.find((e) => e.subject === 'user:heavy');
    assert.equal(event.count, 7);
    assert.equal(event.threshold, 5);
    assert.equal(event.details.window_ms, 3_600_000);
    assert.equal(Date.parse(event.window_start) % 3_600_000, 0);
    // A bad limit is refused (defaults apply) and named in /api/health.
    const bad = await startWorker({ vars: { EXCESSIVE_REQUESTS_PER_HOUR: '0' } });
    try {
      const health = await call(bad, 'GET', '/api/health', undefined, { as: null });
      assert.ok(health.body.configuration_errors.some((e) => /EXCESSIVE_REQUESTS_PER_HOUR/.test(e)), JSON.stringify(health.body));
    } finally {
      await bad.dispose();
    }
  } finally {
    await worker.dispose();
  }
});

test('rate-limited answers are counted as a security event per window and audited once', async () => {
  const worker = await startWorker({ vars: { RATE_LIMIT_PER_MINUTE: '3' } });
  try {
    const token = await insertToken(worker, 'burst');
    await awayFromBoundary(60_000);
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await call(worker, 'GET', '/api/auth/whoami', undefined, { as: token })).status);
    assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429]);
    // Read with another admin token: the test's own admin token has its own limit of 3 too.
    const admin = await insertToken(worker, 'auditor', 'admin');
    const events = await call(worker, 'GET', '/api/admin/security-events?kind=rate_limited', undefined, { as: admin });
    assert.equal(events.status, 200, JSON.stringify(events.body));
    assert.equal(events.body.events.length, 1, JSON.stringify(events.body));
    const [event] = events.body.events;
    assert.equal(event.count, 3);
    assert.equal(event.threshold, 3);
    assert.equal(event.details.limited_by, 'token');
    assert.equal(Date.parse(event.window_start) % 60_000, 0);
    const admin2 = await insertToken(worker, 'auditor2', 'admin');
    const audit = await call(worker, 'GET', '/api/admin/audit?actor=burst', undefined, { as: admin2 });
    assert.equal(audit.status, 200, JSON.stringify(audit.body));
    const limited = audit.body.entries.filter((e) => e.status === 429);
    assert.equal(limited.length, 1, JSON.stringify(audit.body.entries));
    assert.equal(limited[0].result, 'refused');
    assert.equal(limited[0].action, 'GET /api/auth/whoami');
    assert.match(limited[0].details.message, /too many requests/);
  } finally {
    await worker.dispose();
  }
});

test('excessive use raises an excessive_requests alert per user (a default rule whose threshold is the admin\'s)', async () => {
  const worker = await startWorker();
  try {
    await awayFromBoundary(3_600_000, 20_000);
    const rules = (await call(worker, 'GET', '/api/alerts/rules')).body.rules;
    const rule = rules.find((r) => r.id === 'excessive_requests');
    assert.deepEqual([rule.type, rule.threshold, rule.comparison], ['excessive_requests', 1000, '>']);
    for (const r of rules) {
      if (r.id !== 'excessive_requests') assert.equal((await call(worker, 'PUT', `/api/alerts/rules/${r.id}`, { enabled: false })).status, 200);
    }
    assert.equal((await call(worker, 'PUT', '/api/alerts/rules/excessive_requests', { threshold: 5 })).status, 200);
    const heavy = await insertToken(worker, 'heavy');
    const light = await insertToken(worker, 'light');
    for (let i = 0; i < 7; i++) assert.equal((await call(worker, 'GET', '/api/auth/whoami', undefined, { as: heavy })).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await call(worker, 'GET', '/api/auth/whoami', undefined, { as: light })).status, 200);
    const run = await runCron(worker, '* * * * *');
    assert.equal(run.outcome, 'ok', JSON.stringify(run));
    const { body } = await call(worker, 'GET', '/api/alerts?state=firing');
    // (The admin's own calls above count too: left out here.)
    const firing = body.alerts.filter((a) => a.type === 'excessive_requests' && a.user !== 'admin');
    assert.deepEqual(firing.map((a) => [a.user, a.value, a.detail]), [['heavy', 7, '7 requests by heavy this hour']], JSON.stringify(body.alerts));
  } finally {
    await worker.dispose();
  }
});
