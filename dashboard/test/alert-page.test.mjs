// A notification's link leads to the alert's page: an error-rate rule fires from injected faults
// (through the real alert engine), the webhook (an inline http://127.0.0.1 URL, allowed in
// development) receives the alert with its dashboard link, and following the link in Chromium
// shows that alert, its notification and its history.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { call, runCron } from '../../worker-shim/test/helpers.mjs';
import { startSession, openPage, refreshed } from './browser.mjs';

let session;
let worker;
let browser;
let receiver;
let received;

before(async () => {
  session = await startSession({ receiver: true });
  ({ worker, browser, receiver, received } = session);
});
after(() => session?.dispose());

test("following a notification's link shows the alert and its history", async () => {
  const hook = `http://127.0.0.1:${receiver.address().port}/hook`;
  const channels = await call(worker, 'PUT', '/api/alerts/channels', {
    dashboard_url: `${worker.url}/`,
    channels: [{ name: 'hook', type: 'webhook', url: hook }],
  });
  assert.equal(channels.status, 200, JSON.stringify(channels.body));
  const rules = await call(worker, 'GET', '/api/alerts/rules');
  for (const rule of rules.body.rules) {
    assert.equal((await call(worker, 'PUT', `/api/alerts/rules/${rule.id}`, { enabled: false })).status, 200);
  }
  const created = await call(worker, 'POST', '/api/alerts/rules', {
    id: 'errs', name: 'R2PutErrors', type: 'error_rate', threshold: 20, window_ms: 30 * 60_000, min_calls: 5,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await call(worker, 'POST', '/api/health/circuit-breaker/disable');
  await call(worker, 'PUT', '/api/admin/faults', { operation: 'put', error_rate: 1 });
  for (let i = 0; i < 6; i++) {
    assert.equal((await call(worker, 'PUT', `/api/storage/files/data/${i}.txt`, 'x')).status, 502);
  }
  const run = await runCron(worker, '* * * * *');
  assert.equal(run.outcome, 'ok', JSON.stringify(run));

  const firing = received.find((r) => r.path === '/hook' && r.body?.status === 'firing');
  assert.ok(firing, `the webhook received the alert: ${JSON.stringify(received)}`);
  const sent = firing.body.alerts[0];
  const link = sent.dashboard_url;
  assert.equal(link, `${worker.url}/alerts/${sent.id}`);

  // The API behind the page.
  const api = await call(worker, 'GET', `/api/alerts/${encodeURIComponent(sent.id)}`);
  assert.equal(api.status, 200, JSON.stringify(api.body));
  assert.equal(api.body.alert.id, sent.id);
  assert.equal(api.body.notifications[0].channel, 'hook');
  assert.equal((await call(worker, 'GET', '/api/alerts/no-such-alert')).status, 404);

  const { page, errors, context } = await openPage(browser);
  const res = await page.goto(link);
  assert.equal(res.status(), 200);
  await refreshed(page);
  const facts = page.locator('#alert .alert-facts');
  assert.equal(await facts.getAttribute('data-alert-id'), sent.id);
  assert.equal(await facts.getAttribute('data-alert-state'), 'firing');
  const text = await page.locator('#alert').innerText();
  assert.match(text, /R2PutErrors/);
  assert.match(text, /Notifications/);
  assert.match(await page.locator('#alert .alert-notifications').innerText(), /hook/);
  assert.match(text, /No earlier alerts of this rule and scope/);
  // Acknowledged from its page, as from the list.
  await page.locator('#alert').getByRole('button', { name: 'Acknowledge' }).click();
  await page.waitForFunction(() => /acknowledged\s+.+ by admin/.test(document.querySelector('#alert .alert-facts')?.innerText ?? ''));
  const acked = await call(worker, 'GET', `/api/alerts/${encodeURIComponent(sent.id)}`);
  assert.equal(acked.body.alert.acknowledged_by, 'admin');
  assert.equal(await page.locator('#alert').getByRole('button', { name: 'Acknowledge' }).count(), 0);
  assert.deepEqual(errors.list, []);

  // An unknown alert, and a path the page does not have.
  await page.goto(`${worker.url}/alerts/no-such-alert`);
  await refreshed(page, 1);
  assert.equal(await page.locator('#alert').getAttribute('data-state'), 'missing');
  await page.goto(`${worker.url}/nowhere`);
  assert.match(await page.locator('#not-found').innerText(), /No such page/);
  await context.close();
});
