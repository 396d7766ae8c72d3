// The alert engine inside workerd with real local D1 and R2, and real HTTP receivers on
// 127.0.0.1 started here: injected faults raise the error rate, the rule goes pending then
// firing, exactly one webhook and one Slack POST arrive, escalation, a silence, recovery and
// one resolved notification; retries with backoff; rules, channels and silences refused with
// the field named; PagerDuty acknowledge; targets refused in production; email without its
// binding; Alertmanager from Debian's prometheus-alertmanager receiving the pushed alert.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startWorker, call, runCron, tempDir, sleep, tokenFor } from './helpers.mjs';

const CHECK = '* * * * *';
const MINUTE = 60_000;

/** An HTTP server on a free loopback port that records every request (JSON bodies parsed). */
async function startReceiver(statusFor = () => 200) {
  const received = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      const entry = { method: req.method, path: req.url, body: text ? JSON.parse(text) : null };
      received.push(entry);
      res.writeHead(statusFor(entry, received), { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    at: (path) => received.filter((e) => e.path === path),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Turns off every rule but the ones named (the defaults would fire on the same faults). */
async function onlyRules(worker, keep) {
  const { body } = await call(worker, 'GET', '/api/alerts/rules');
  for (const rule of body.rules) {
    if (!keep.includes(rule.id)) {
      const res = await call(worker, 'PUT', `/api/alerts/rules/${rule.id}`, { enabled: false });
      assert.equal(res.status, 200);
    }
  }
}

async function failingPuts(worker, n) {
  await call(worker, 'POST', '/api/health/circuit-breaker/disable');
  await call(worker, 'PUT', '/api/admin/faults', { operation: 'put', error_rate: 1 });
  for (let i = 0; i < n; i++) {
    const res = await call(worker, 'PUT', `/api/storage/files/data/${i}.txt`, 'x');
    assert.equal(res.status, 502);
  }
}

/**
 * The notification channels, one error-rate rule "errs" (the only rule on; `rule` overrides its
 * fields) and 6 failing PUTs that break it. Returns the time to check at: taken after the calls,
 * since a minute boundary between it and them would leave them out of the window.
 */
async function errorsFiring(worker, channels, rule = {}) {
  const res = await call(worker, 'PUT', '/api/alerts/channels', { channels });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  await call(worker, 'POST', '/api/alerts/rules', {
    id: 'errs', name: 'errs', type: 'error_rate', threshold: 20, window_ms: 30 * MINUTE, min_calls: 5, ...rule,
  });
  await onlyRules(worker, ['errs']);
  await failingPuts(worker, 6);
  return Date.now();
}

async function cron(worker, at) {
  const run = await runCron(worker, CHECK, at);
  assert.equal(run.outcome, 'ok', JSON.stringify(run));
}

async function alertOf(worker, ruleId) {
  const { body } = await call(worker, 'GET', '/api/alerts');
  return body.alerts.find((a) => a.rule_id === ruleId);
}

test('faults raise the error rate: pending, firing once, escalation, silence, one resolved', async () => {
  const receiver = await startReceiver();
  const worker = await startWorker({
    vars: {
      ENVIRONMENT: 'development',
      ALERT_WEBHOOK_URL: receiver.url('/hook'),
      ALERT_SLACK_URL: receiver.url('/slack'),
      ALERT_LEAD_URL: receiver.url('/lead'),
      ALERT_CTO_URL: receiver.url('/cto'),
    },
  });
  try {
    const channels = await call(worker, 'PUT', '/api/alerts/channels', {
      escalation_after_ms: [10 * MINUTE, 20 * MINUTE],
      dashboard_url: 'https://r2watch.example.com',
      channels: [
        { name: 'hook', type: 'webhook', url_secret: 'ALERT_WEBHOOK_URL' },
        { name: 'slack', type: 'slack', url_secret: 'ALERT_SLACK_URL' },
        { name: 'lead', type: 'webhook', url_secret: 'ALERT_LEAD_URL', escalation_level: 1 },
        { name: 'cto', type: 'webhook', url_secret: 'ALERT_CTO_URL', escalation_level: 2 },
      ],
    });
    assert.equal(channels.status, 200, JSON.stringify(channels.body));
    const created = await call(worker, 'POST', '/api/alerts/rules', {
      id: 'put-errors',
      name: 'PUT errors',
      type: 'error_rate',
      threshold: 20,
      window_ms: 30 * MINUTE,
      for_ms: MINUTE,
      min_calls: 5,
      severity: 'high',
      labels: { team: 'storage' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await onlyRules(worker, ['put-errors']);

    await failingPuts(worker, 10);
    const t0 = Date.now(); // after the calls: a minute boundary in between would leave them out
    await cron(worker, t0 + 1_000);
    let alert = await alertOf(worker, 'put-errors');
    assert.equal(alert.state, 'pending');
    assert.equal(alert.value, 100);
    assert.equal(receiver.received.length, 0, 'nothing is sent while pending');

    await cron(worker, t0 + 61_000);
    alert = await alertOf(worker, 'put-errors');
    assert.equal(alert.state, 'firing');
    await cron(worker, t0 + 61_000); // the job run twice for the same minute
    assert.equal(receiver.at('/hook').length, 1, 'exactly one webhook');
    assert.equal(receiver.at('/slack').length, 1, 'exactly one Slack message');
    const hook = receiver.at('/hook')[0].body;
    assert.equal(hook.version, '4');
    assert.equal(hook.status, 'firing');
    assert.equal(hook.receiver, 'hook');
    assert.equal(hook.alerts.length, 1);
    assert.equal(hook.alerts[0].status, 'firing');
    assert.equal(hook.alerts[0].id, alert.id);
    assert.equal(hook.alerts[0].name, 'PUT errors');
    assert.equal(hook.alerts[0].type, 'error_rate');
    assert.equal(hook.alerts[0].severity, 'high');
    assert.equal(hook.alerts[0].labels.alertname, 'PUT errors');
    assert.equal(hook.alerts[0].labels.bucket, 'r2watch-data');
    assert.equal(hook.alerts[0].labels.team, 'storage');
    assert.equal(hook.alerts[0].details, '10 of 10 calls failed in the last 30 min');
    assert.equal(hook.alerts[0].startsAt, new Date(t0 + 61_000).toISOString());
    assert.equal(hook.alerts[0].endsAt, '0001-01-01T00:00:00Z');
    assert.equal(hook.alerts[0].generatorURL, `https://r2watch.example.com/alerts/${alert.id}`);
    assert.equal(alert.muted_by, null, 'nothing held back: null, not ""');
    const slack = receiver.at('/slack')[0].body;
    assert.equal(slack.attachments.length, 1);
    assert.equal(slack.attachments[0].color, '#e01e5a');
    assert.match(slack.attachments[0].title, /^\[FIRING\] \[HIGH\] PUT errors \(bucket r2watch-data\)$/);
    assert.equal(receiver.at('/lead').length, 0);

    // Not acknowledged for 10 minutes: level 1.
    await cron(worker, t0 + 61_000 + 10 * MINUTE - 1);
    assert.equal(receiver.at('/lead').length, 0, 'not a millisecond early');
    await cron(worker, t0 + 61_000 + 10 * MINUTE);
    assert.equal(receiver.at('/lead').length, 1);
    assert.equal(receiver.at('/lead')[0].body.alerts[0].escalation_level, 1);
    assert.equal(receiver.at('/hook').length, 1);

    // A silence mutes level 2.
    const silence = await call(worker, 'POST', '/api/alerts/silences', {
      matchers: [{ name: 'rule_id', value: 'put-errors' }],
      ends_at_ms: t0 + 2 * 3_600_000,
      comment: 'known: the client retries',
      created_by: 'ana',
    });
    assert.equal(silence.status, 201, JSON.stringify(silence.body));
    assert.equal(silence.body.silence.active, true);
    await cron(worker, t0 + 61_000 + 20 * MINUTE);
    assert.equal(receiver.at('/cto').length, 0, 'the silence mutes the escalation');
    alert = await alertOf(worker, 'put-errors');
    assert.equal(alert.muted_by, `silence:${silence.body.silence.id}`);

    // The fault clears and calls succeed: the rate drops below 20%, one resolved notice each.
    await call(worker, 'DELETE', '/api/admin/faults');
    for (let i = 0; i < 60; i++) {
      assert.equal((await call(worker, 'PUT', `/api/storage/files/ok/${i}.txt`, 'x')).status, 201);
    }
    await cron(worker, t0 + 61_000 + 21 * MINUTE);
    await cron(worker, t0 + 61_000 + 21 * MINUTE);
    alert = await alertOf(worker, 'put-errors');
    assert.equal(alert.state, 'resolved');
    assert.equal(receiver.at('/hook').length, 2);
    assert.equal(receiver.at('/slack').length, 2);
    assert.equal(receiver.at('/lead').length, 2);
    assert.equal(receiver.at('/cto').length, 0);
    assert.equal(receiver.at('/hook')[1].body.status, 'resolved');
    assert.equal(receiver.at('/hook')[1].body.alerts[0].endsAt, new Date(t0 + 61_000 + 21 * MINUTE).toISOString());
    assert.equal(receiver.at('/slack')[1].body.attachments[0].color, '#2eb886');

    // Every attempt is recorded, with the target masked.
    const log = await call(worker, 'GET', '/api/alerts/notifications');
    assert.equal(log.body.attempts.length, 6);
    assert.ok(log.body.attempts.every((a) => a.status === 'sent' && a.response_code === 200 && a.attempt === 1));
    assert.ok(log.body.attempts.every((a) => !a.target.includes('/hook') && !a.target.includes('/slack')));
    // The health issue's alerts still answer.
    assert.equal((await call(worker, 'GET', '/api/health/alerts')).status, 200);
  } finally {
    await worker.dispose();
    await receiver.close();
  }
});

test('a failed delivery is retried with backoff on later runs, every attempt recorded', async () => {
  const receiver = await startReceiver((_entry, all) => (all.length === 1 ? 500 : 200));
  const worker = await startWorker({ vars: { ENVIRONMENT: 'development', HOOK: receiver.url('/hook') } });
  try {
    const t0 = await errorsFiring(worker, [{ name: 'hook', type: 'webhook', url_secret: 'HOOK' }]);
    await cron(worker, t0);
    assert.equal(receiver.received.length, 1);
    await cron(worker, t0 + 59_999); // the first backoff is 60 s
    assert.equal(receiver.received.length, 1);
    await cron(worker, t0 + 60_000);
    assert.equal(receiver.received.length, 2);
    await cron(worker, t0 + 120_000);
    assert.equal(receiver.received.length, 2, 'sent once, never again');
    const { body } = await call(worker, 'GET', '/api/alerts/notifications');
    const attempts = body.attempts.sort((a, b) => a.attempt - b.attempt);
    assert.deepEqual(attempts.map((a) => [a.attempt, a.status, a.response_code]), [[1, 'failed', 500], [2, 'sent', 200]]);
    assert.equal(attempts[0].error, 'HTTP 500');
    assert.equal(body.notifications[0].status, 'sent');
    assert.deepEqual(receiver.received[0].body, receiver.received[1].body);
  } finally {
    await worker.dispose();
    await receiver.close();
  }
});

test('a failing channel does not block the others', async () => {
  const broken = await startReceiver(() => 500);
  const healthy = await startReceiver(() => 200);
  const worker = await startWorker({
    vars: { ENVIRONMENT: 'development', BROKEN: broken.url('/hook'), HEALTHY: healthy.url('/hook') },
  });
  try {
    const t0 = await errorsFiring(worker, [
      { name: 'broken', type: 'webhook', url_secret: 'BROKEN' },
      { name: 'healthy', type: 'webhook', url_secret: 'HEALTHY' },
    ]);
    await cron(worker, t0);
    // Both were tried in the same run; the healthy one got its notification in spite of the other.
    assert.equal(broken.received.length, 1);
    assert.equal(healthy.received.length, 1);
    assert.equal(healthy.received[0].body.alerts[0].status, 'firing');
    const { body } = await call(worker, 'GET', '/api/alerts/notifications');
    const byChannel = Object.fromEntries(body.attempts.map((a) => [a.channel, a.status]));
    assert.deepEqual(byChannel, { broken: 'failed', healthy: 'sent' });
  } finally {
    await worker.dispose();
    await broken.close();
    await healthy.close();
  }
});

test('a bad rule, channel or silence is a 422 naming the field and changes nothing', async () => {
  const worker = await startWorker();
  try {
    const before = (await call(worker, 'GET', '/api/alerts/rules')).body.rules;
    assert.equal(before.length, 16, 'the defaults are installed on first start');
    const cases = [
      [{ name: 'x', type: 'frobnicate', threshold: 1 }, 'type'],
      [{ name: 'x', type: 'error_rate', threshold: -1 }, 'threshold'],
      [{ name: 'x', type: 'error_rate', threshold: 1, colour: 'red' }, 'colour'],
      [{ name: 'x', type: 'latency', threshold: 1, statistic: 'p42' }, 'statistic'],
    ];
    for (const [body, field] of cases) {
      const res = await call(worker, 'POST', '/api/alerts/rules', body);
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.equal(res.body.error.field, field);
    }
    const put = await call(worker, 'PUT', '/api/alerts/rules/high_error_rate', { threshold: -5 });
    assert.equal(put.status, 422);
    assert.equal(put.body.error.field, 'threshold');
    assert.deepEqual((await call(worker, 'GET', '/api/alerts/rules')).body.rules, before);
    assert.equal((await call(worker, 'GET', '/api/alerts/rules/nope')).status, 404);
    assert.equal((await call(worker, 'DELETE', '/api/alerts/rules/storage_growth')).status, 204);
    assert.equal((await call(worker, 'GET', '/api/alerts/rules')).body.rules.length, 15);

    const channel = await call(worker, 'PUT', '/api/alerts/channels', {
      channels: [{ name: 'x', type: 'webhook', url: 'https://192.168.1.10/hook' }],
    });
    assert.equal(channel.status, 422);
    assert.equal(channel.body.error.field, 'channels[0].url');
    const silence = await call(worker, 'POST', '/api/alerts/silences', { matchers: [], ends_at_ms: Date.now() + 1000, comment: 'c', created_by: 'a' });
    assert.equal(silence.status, 422);
    assert.equal(silence.body.error.field, 'matchers');
    const query = await call(worker, 'GET', '/api/alerts?state=burning');
    assert.equal(query.status, 400);
    assert.equal(query.body.error.field, 'state');

    // An inline URL is stored but never answered in full.
    const saved = await call(worker, 'PUT', '/api/alerts/channels', {
      channels: [{ name: 'ops', type: 'slack', url: 'https://hooks.slack.com/services/T000/B000/abcdefsecret' }],
    });
    assert.equal(saved.status, 200);
    assert.equal(saved.body.channels[0].url, 'https://hooks.slack.com/…cret');
    assert.ok(!JSON.stringify((await call(worker, 'GET', '/api/alerts/channels')).body).includes('abcdef'));
  } finally {
    await worker.dispose();
  }
});

test('production refuses loopback targets; email without its binding is a recorded failure', async () => {
  const receiver = await startReceiver();
  const worker = await startWorker({ vars: { HOOK: receiver.url('/hook') } }); // no ENVIRONMENT: production
  try {
    await call(worker, 'PUT', '/api/alerts/channels', {
      channels: [
        { name: 'hook', type: 'webhook', url_secret: 'HOOK' },
        { name: 'mail', type: 'email', to: ['ops@example.com'], from: 'r2watch@example.com' },
      ],
    });
    const hook = await call(worker, 'POST', '/api/alerts/test', { channel: 'hook' });
    assert.equal(hook.status, 200, JSON.stringify(hook.body));
    assert.equal(hook.body.deliveries[0].ok, false);
    assert.match(hook.body.deliveries[0].error, /target refused: loopback targets are refused in production/);
    const mail = await call(worker, 'POST', '/api/alerts/test', { channel: 'mail' });
    assert.equal(mail.body.deliveries[0].ok, false);
    assert.match(mail.body.deliveries[0].error, /no send_email binding/);
    assert.equal(receiver.received.length, 0);
    const { body } = await call(worker, 'GET', '/api/alerts/notifications');
    assert.deepEqual(body.attempts.map((a) => a.status), ['failed', 'failed']);
    assert.equal((await call(worker, 'POST', '/api/alerts/test', { channel: 'nope' })).status, 404);
  } finally {
    await worker.dispose();
    await receiver.close();
  }
});

const INTERNAL_FORMS = [
  'https://[::ffff:127.0.0.1]/hook', 'https://[::ffff:7f00:1]/hook', 'https://[64:ff9b::a9fe:a9fe]/hook',
  'https://[0:0:0:0:0:0:0:1]/hook', 'https://[::1]/hook', 'https://2130706433/hook', 'https://0x7f.1/hook',
  'https://017700000001/hook', 'https://localhost/hook', 'https://api.localhost/hook', 'https://100.64.0.1/hook',
  'https://169.254.169.254/latest', 'https://[fd00::1]/hook', 'https://[fe80::1]/hook', 'https://224.0.0.1/hook',
  'https://255.255.255.255/hook', 'https://0.0.0.0/hook', 'https://10.0.0.1/hook',
];

test('every internal address form is refused as a target; development takes http://127.0.0.1:<port>', async () => {
  const receiver = await startReceiver();
  const production = await startWorker();
  const development = await startWorker({ vars: { ENVIRONMENT: 'development' } });
  try {
    // Loopback written plainly is a local receiver in development (below); everything else is
    // refused in both.
    const plainLoopback = ['https://[0:0:0:0:0:0:0:1]/hook', 'https://[::1]/hook', 'https://localhost/hook', 'https://api.localhost/hook'];
    for (const url of INTERNAL_FORMS) {
      for (const worker of plainLoopback.includes(url) ? [production] : [production, development]) {
        const res = await call(worker, 'PUT', '/api/alerts/channels', { channels: [{ name: 'hook', type: 'webhook', url }] });
        assert.equal(res.status, 422, `${url}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.field, 'channels[0].url');
      }
    }
    // Obfuscated loopback stays refused in development too; the plain form is taken there.
    const port = new URL(receiver.url('/')).port;
    for (const url of [`http://0x7f.1:${port}/hook`, `http://2130706433:${port}/hook`, `http://[::ffff:127.0.0.1]:${port}/hook`]) {
      assert.equal((await call(development, 'PUT', '/api/alerts/channels', { channels: [{ name: 'hook', type: 'webhook', url }] })).status, 422, url);
    }
    assert.equal((await call(production, 'PUT', '/api/alerts/channels', { channels: [{ name: 'hook', type: 'webhook', url: receiver.url('/hook') }] })).status, 422);
    // A url stored before these checks stays readable (the channels still load and the other
    // channels still deliver) and is refused when sent.
    await production.db
      .prepare('UPDATE alert_config SET settings_json = ? WHERE id = 1')
      .bind(JSON.stringify({ channels: [{ name: 'old', type: 'webhook', url: 'https://0x7f.1/hook' }] }))
      .run();
    assert.equal((await call(production, 'GET', '/api/alerts/channels')).status, 200);
    const old = await call(production, 'POST', '/api/alerts/test', { channel: 'old' });
    assert.equal(old.status, 200, JSON.stringify(old.body));
    assert.match(old.body.deliveries[0].error, /target refused: an IPv4 address must be written as four decimal numbers/);
    const local = await call(development, 'PUT', '/api/alerts/channels', { channels: [{ name: 'hook', type: 'webhook', url: receiver.url('/hook') }] });
    assert.equal(local.status, 200, JSON.stringify(local.body));
    const sent = await call(development, 'POST', '/api/alerts/test', { channel: 'hook' });
    assert.equal(sent.body.deliveries[0].ok, true, JSON.stringify(sent.body));
    assert.equal(receiver.at('/hook').length, 1);
  } finally {
    await production.dispose();
    await development.dispose();
    await receiver.close();
  }
});

test('a delivery never follows a redirect: a 3xx is a failed attempt and the routing key stays put', async () => {
  const elsewhere = await startReceiver();
  const redirecting = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(307, { location: elsewhere.url('/stolen') });
      res.end();
    });
  });
  await new Promise((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
  const worker = await startWorker({
    vars: { ENVIRONMENT: 'development', PD_URL: `http://127.0.0.1:${redirecting.address().port}/v2/enqueue`, PD_KEY: 'routing-key-1' },
  });
  try {
    const channels = await call(worker, 'PUT', '/api/alerts/channels', {
      channels: [{ name: 'pd', type: 'pagerduty', url_secret: 'PD_URL', routing_key_secret: 'PD_KEY' }],
    });
    assert.equal(channels.status, 200, JSON.stringify(channels.body));
    const sent = await call(worker, 'POST', '/api/alerts/test', { channel: 'pd' });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const attempt = sent.body.deliveries[0];
    assert.equal(attempt.ok, false);
    assert.equal(attempt.code, 307);
    assert.match(attempt.error, /redirect, which is not followed/);
    assert.equal(elsewhere.received.length, 0, 'the redirect target got nothing');
    const { body } = await call(worker, 'GET', '/api/alerts/notifications');
    assert.equal(body.attempts[0].status, 'failed');
    assert.equal(body.attempts[0].response_code, 307);
  } finally {
    await worker.dispose();
    await elsewhere.close();
    await new Promise((resolve) => redirecting.close(resolve));
  }
});

test('PagerDuty gets trigger, acknowledge and resolve with one dedup key; notes are kept', async () => {
  const receiver = await startReceiver();
  const worker = await startWorker({
    vars: { ENVIRONMENT: 'development', PD_URL: receiver.url('/v2/enqueue'), PD_KEY: 'routing-key-1' },
  });
  try {
    const t0 = await errorsFiring(
      worker,
      [{ name: 'pd', type: 'pagerduty', url_secret: 'PD_URL', routing_key_secret: 'PD_KEY' }],
      { severity: 'critical' },
    );
    assert.equal((await call(worker, 'GET', '/api/alerts/channels')).body.channels[0].routing_key_secret, 'PD_KEY');
    await cron(worker, t0);
    const alert = await alertOf(worker, 'errs');
    const ack = await call(worker, 'POST', `/api/alerts/${alert.id}/ack`, { note: 'looking', by: 'ana' });
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    assert.equal(ack.body.alert.ack_note, 'looking');
    assert.equal((await call(worker, 'POST', `/api/alerts/${alert.id}/ack`, {})).status, 409);
    const resolved = await call(worker, 'POST', `/api/alerts/${alert.id}/resolve`, { note: 'client fixed', by: 'ana' });
    assert.equal(resolved.status, 200);
    assert.equal(resolved.body.alert.state, 'resolved');
    assert.equal(resolved.body.alert.resolve_note, 'client fixed');
    assert.equal((await call(worker, 'POST', '/api/alerts/nope/resolve', {})).status, 404);
    // The alert's page: its notifications (within the engine's limits); its query parameters
    // are the engine's to check (only ?user=, an admin's).
    const page = await call(worker, 'GET', `/api/alerts/${alert.id}`);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    assert.equal(page.body.alert.state, 'resolved');
    assert.ok(page.body.notifications.length >= 1 && page.body.notifications.length <= 50, JSON.stringify(page.body.notifications));
    const odd = await call(worker, 'GET', `/api/alerts/${alert.id}?colour=blue`);
    assert.equal(odd.status, 400);
    assert.equal(odd.body.error.code, 'invalid_query');
    assert.equal(odd.body.error.field, 'colour');
    const events = receiver.at('/v2/enqueue').map((e) => e.body);
    assert.deepEqual(events.map((e) => e.event_action), ['trigger', 'acknowledge', 'resolve']);
    assert.equal(new Set(events.map((e) => e.dedup_key)).size, 1);
    assert.ok(events.every((e) => e.routing_key === 'routing-key-1'));
    assert.equal(events[0].payload.severity, 'critical');
    // The condition still holds but a hand-resolved alert stays resolved.
    await cron(worker, t0 + MINUTE);
    assert.equal((await alertOf(worker, 'errs')).state, 'resolved');
    assert.equal(receiver.received.length, 3);
  } finally {
    await worker.dispose();
    await receiver.close();
  }
});

test('a quota above 80% alerts, and cost rules read the month from the cost engine', async () => {
  const receiver = await startReceiver();
  const worker = await startWorker({ vars: { ENVIRONMENT: 'development', HOOK: receiver.url('/hook') } });
  try {
    await call(worker, 'PUT', '/api/alerts/channels', { channels: [{ name: 'hook', type: 'webhook', url_secret: 'HOOK' }] });
    await onlyRules(worker, ['quota_usage', 'monthly_cost']);
    await call(worker, 'PUT', '/api/alerts/rules/monthly_cost', { threshold: 0 });
    // Storage for the month: 2 TB stored today (the day's peak) bills above $0.
    await worker.db
      .prepare(
        `INSERT INTO storage_daily_peaks (day, bucket, prefix, storage_class, peak_bytes, objects, updated_at_ms)
         VALUES (?, 'r2watch-data', 'logs', 'standard', 2000000000000, 1, ?)`,
      )
      .bind(new Date().toISOString().slice(0, 10), Date.now())
      .run();
    // Alice stores 85 bytes of a 100-byte quota (through the API); bob 10 of 100.
    for (const [user, bytes] of [['alice', 85], ['bob', 10]]) {
      const token = await tokenFor(worker, user, { role: 'user' });
      assert.equal((await call(worker, 'PUT', `/api/admin/users/${user}/quota`, { max_bytes: 100 })).status, 200);
      const put = await call(worker, 'PUT', '/api/storage/files/f.bin', 'x'.repeat(bytes), { as: token });
      assert.equal(put.status, 201);
    }
    const res = await call(worker, 'POST', '/api/admin/jobs/check-alerts');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.unavailable_figures, {});
    const { body } = await call(worker, 'GET', '/api/alerts?state=firing');
    const firing = body.alerts.map((a) => `${a.rule_id}:${a.user}`).sort();
    assert.deepEqual(firing, ['monthly_cost:', 'quota_usage:alice']);
    const quota = body.alerts.find((a) => a.rule_id === 'quota_usage');
    assert.equal(quota.value, 85);
    const cost = body.alerts.find((a) => a.rule_id === 'monthly_cost');
    const bill = (await call(worker, 'GET', '/api/costs')).body.bill.month_to_date.total_micro_usd;
    assert.ok(bill > 0);
    assert.equal(Math.round(cost.value * 1e6), bill, 'the alert reads the bill GET /api/costs shows');
    // The user concerned is told too (no address known here: a recorded failure).
    const log = await call(worker, 'GET', '/api/alerts/notifications');
    assert.ok(log.body.notifications.some((n) => n.channel === 'user:alice' && n.kind === 'user'));
    const bad = await call(worker, 'POST', '/api/admin/jobs/check-alerts', { quotas: [{ user: 'x', used_bytes: -1, quota_bytes: 1 }] });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.error.field, 'figures.quotas[2].used_bytes', 'after the two stored quotas');
  } finally {
    await worker.dispose();
    await receiver.close();
  }
});

// ---- Alertmanager (Debian's prometheus-alertmanager) ----------------------------------------

const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';

async function freePort() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startAlertmanager() {
  const dir = tempDir('alertmanager');
  const config = join(dir, 'alertmanager.yml');
  writeFileSync(config, 'route:\n  receiver: none\nreceivers:\n  - name: none\n');
  const port = await freePort();
  const proc = spawn(
    ALERTMANAGER,
    [
      `--config.file=${config}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  proc.stderr.on('data', (d) => (log += d));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/-/ready`)).ok) break;
    } catch {
      // not up yet
    }
    if (proc.exitCode !== null) throw new Error(`alertmanager exited: ${log}`);
    await sleep(100);
  }
  return {
    base,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((resolve) => (proc.exitCode !== null ? resolve() : proc.on('exit', resolve)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('Alertmanager receives the pushed alert, and its resolution', { skip: !existsSync(ALERTMANAGER) && 'prometheus-alertmanager is not installed (tools/ensure-deps.sh installs it)' }, async () => {
  const am = await startAlertmanager();
  const worker = await startWorker({ vars: { ENVIRONMENT: 'development', AM_URL: am.base } });
  try {
    const t0 = await errorsFiring(worker, [{ name: 'am', type: 'alertmanager', url_secret: 'AM_URL' }], { name: 'R2PutErrors' });
    await cron(worker, t0);
    const log = await call(worker, 'GET', '/api/alerts/notifications');
    assert.equal(log.body.attempts[0].status, 'sent', JSON.stringify(log.body.attempts[0]));
    let alerts = await (await fetch(`${am.base}/api/v2/alerts`)).json();
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0].labels.alertname, 'R2PutErrors');
    assert.equal(alerts[0].labels.rule_id, 'errs');
    assert.equal(alerts[0].labels.bucket, 'r2watch-data');
    assert.equal(alerts[0].status.state, 'active');
    assert.equal(alerts[0].annotations.description, '6 of 6 calls failed in the last 30 min; value 100, threshold 20');

    // Resolved (the rule is disabled): Alertmanager marks it ended.
    await call(worker, 'PUT', '/api/alerts/rules/errs', { enabled: false });
    await cron(worker, Date.now());
    alerts = await (await fetch(`${am.base}/api/v2/alerts?active=true`)).json();
    assert.equal(alerts.length, 0);
  } finally {
    await worker.dispose();
    await am.stop();
  }
});
