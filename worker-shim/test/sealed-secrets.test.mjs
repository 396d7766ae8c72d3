// Secrets kept in D1 (inline channel URLs in the alert settings) are sealed with AES-GCM under
// SECRETS_KEY, answered masked, rotated by POST /api/admin/secrets/rotate, and refused clearly
// without the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { rmSync } from 'node:fs';
import { startWorker, call, tempDir } from './helpers.mjs';

const KEY_1 = 'first-sealing-key-0123456789abcdef0123456789abcdef';
const KEY_2 = 'second-sealing-key-fedcba9876543210fedcba9876543210';

async function startReceiver() {
  const received = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      received.push({ path: req.url, body: text });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    // A path that is itself secret-like, as a Slack or Teams webhook URL is.
    url: `http://127.0.0.1:${server.address().port}/hook/T000-secret-path-9d8c7b6a`,
    received,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function storedSettings(worker) {
  return (await worker.db.prepare('SELECT settings_json FROM alert_config WHERE id = 1').first()).settings_json;
}

test('an inline channel URL is sealed in D1, answered masked, and still delivered', async () => {
  const receiver = await startReceiver();
  const worker = await startWorker({ vars: { ENVIRONMENT: 'development' } });
  try {
    const put = await call(worker, 'PUT', '/api/alerts/channels', { channels: [{ name: 'hook', type: 'webhook', url: receiver.url }] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.doesNotMatch(JSON.stringify(put.body), /secret-path/);

    const row = await storedSettings(worker);
    assert.match(row, /^sealed:v1:[0-9a-f]{16}:/);
    assert.doesNotMatch(row, /secret-path|127\.0\.0\.1|hook|webhook/);

    // Every view that reads the settings opens them: the channels (masked), a test notification.
    const view = await call(worker, 'GET', '/api/alerts/channels');
    assert.equal(view.status, 200);
    assert.equal(view.body.channels[0].name, 'hook');
    assert.doesNotMatch(JSON.stringify(view.body), /secret-path-9d8c7b6a/);
    const sent = await call(worker, 'POST', '/api/alerts/test', { channel: 'hook' });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    assert.equal(receiver.received.length, 1);
    assert.equal(receiver.received[0].path, '/hook/T000-secret-path-9d8c7b6a');
    const attempts = await call(worker, 'GET', '/api/alerts/notifications');
    assert.doesNotMatch(JSON.stringify(attempts.body), /secret-path-9d8c7b6a/);

    // Two seals of the same settings differ (a fresh IV each time).
    await call(worker, 'PUT', '/api/alerts/channels', { channels: [{ name: 'hook', type: 'webhook', url: receiver.url }] });
    assert.notEqual(await storedSettings(worker), row);
  } finally {
    await worker.dispose();
    await receiver.close();
  }
});

test('rotation re-seals under SECRETS_KEY what SECRETS_KEY_PREVIOUS sealed; without the old key the settings do not open', async () => {
  const receiver = await startReceiver();
  const dir = tempDir('sealed');
  const start = (vars, migrate = false) =>
    startWorker({ persistDir: dir, migrate, vars: { ENVIRONMENT: 'development', ...vars } });
  try {
    let worker = await start({ SECRETS_KEY: KEY_1 }, true);
    const put = await call(worker, 'PUT', '/api/alerts/channels', { channels: [{ name: 'hook', type: 'webhook', url: receiver.url }] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const underKey1 = await storedSettings(worker);
    const key1Id = underKey1.split(':')[2];
    await worker.dispose();

    // The key changed and the old one is not given: a clear error, never the value.
    worker = await start({ SECRETS_KEY: KEY_2 });
    const refused = await call(worker, 'GET', '/api/alerts/channels');
    assert.equal(refused.status, 500);
    assert.equal(refused.body.error.code, 'secrets_key_mismatch');
    assert.equal(refused.body.error.field, 'SECRETS_KEY');
    assert.match(refused.body.error.message, new RegExp(`sealed under key ${key1Id}`));
    assert.doesNotMatch(JSON.stringify(refused.body), /secret-path/);
    await worker.dispose();

    worker = await start({ SECRETS_KEY: KEY_2, SECRETS_KEY_PREVIOUS: KEY_1 });
    assert.equal((await call(worker, 'GET', '/api/alerts/channels')).status, 200);
    const rotated = await call(worker, 'POST', '/api/admin/secrets/rotate');
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.notEqual(rotated.body.key_id, key1Id);
    assert.deepEqual(rotated.body.places, [
      { place: 'alert_config.settings_json', resealed: 1, from_keys: { [key1Id]: 1 } },
    ]);
    const underKey2 = await storedSettings(worker);
    assert.equal(underKey2.split(':')[2], rotated.body.key_id);
    assert.doesNotMatch(underKey2, /secret-path/);
    // A second rotation has nothing left to do.
    const again = await call(worker, 'POST', '/api/admin/secrets/rotate');
    assert.equal(again.body.places[0].resealed, 0);
    const audit = await call(worker, 'GET', '/api/admin/audit?limit=20');
    assert.ok(JSON.stringify(audit.body).includes('/api/admin/secrets/rotate'), JSON.stringify(audit.body).slice(0, 500));
    await worker.dispose();

    // The old key retired: the settings open and deliver under the new one alone.
    worker = await start({ SECRETS_KEY: KEY_2 });
    assert.equal((await call(worker, 'GET', '/api/alerts/channels')).status, 200);
    const sent = await call(worker, 'POST', '/api/alerts/test', { channel: 'hook' });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    assert.equal(receiver.received.length, 1);
    await worker.dispose();
  } finally {
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rotation seals settings written before sealing; a plain row is read as it is', async () => {
  const worker = await startWorker();
  try {
    await call(worker, 'GET', '/api/alerts/channels'); // installs the defaults
    await worker.db
      .prepare('UPDATE alert_config SET settings_json = ? WHERE id = 1')
      .bind(JSON.stringify({ channels: [{ name: 'chat', type: 'slack', url: 'https://hooks.slack.com/services/T0/B0/plainsecretvalue' }] }))
      .run();
    const view = await call(worker, 'GET', '/api/alerts/channels');
    assert.equal(view.status, 200);
    assert.equal(view.body.channels[0].name, 'chat');
    assert.doesNotMatch(JSON.stringify(view.body), /plainsecretvalue/);
    const rotated = await call(worker, 'POST', '/api/admin/secrets/rotate');
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.deepEqual(rotated.body.places[0].from_keys, { plain: 1 });
    assert.equal(rotated.body.places[0].resealed, 1);
    const row = await storedSettings(worker);
    assert.match(row, /^sealed:v1:/);
    assert.doesNotMatch(row, /plainsecretvalue|hooks\.slack/);
    assert.equal((await call(worker, 'GET', '/api/alerts/channels')).body.channels[0].name, 'chat');
  } finally {
    await worker.dispose();
  }
});

test('without SECRETS_KEY a channel is not stored (503 naming it) and /api/health says so', async () => {
  const worker = await startWorker({ vars: { SECRETS_KEY: null } });
  const short = await startWorker({ vars: { SECRETS_KEY: 'too-short', SECRETS_KEY_PREVIOUS: 'also-short' } });
  try {
    const health = await call(worker, 'GET', '/api/health', undefined, { as: null });
    assert.ok(
      health.body.configuration_errors.some((e) => /SECRETS_KEY is not set/.test(e)),
      JSON.stringify(health.body.configuration_errors),
    );
    await call(worker, 'GET', '/api/alerts/channels'); // the defaults (no secret in them)
    const before = await storedSettings(worker);
    const put = await call(worker, 'PUT', '/api/alerts/channels', {
      channels: [{ name: 'chat', type: 'slack', url: 'https://hooks.slack.com/services/T0/B0/unsealedsecret' }],
    });
    assert.equal(put.status, 503, JSON.stringify(put.body));
    assert.equal(put.body.error.code, 'secrets_key_missing');
    assert.equal(put.body.error.field, 'SECRETS_KEY');
    assert.equal(await storedSettings(worker), before);
    assert.equal((await call(worker, 'POST', '/api/admin/secrets/rotate')).status, 503);

    const shortHealth = await call(short, 'GET', '/api/health', undefined, { as: null });
    const errors = shortHealth.body.configuration_errors.join('\n');
    assert.match(errors, /SECRETS_KEY is too short/);
    assert.match(errors, /SECRETS_KEY_PREVIOUS is too short/);
  } finally {
    await worker.dispose();
    await short.dispose();
  }
});
