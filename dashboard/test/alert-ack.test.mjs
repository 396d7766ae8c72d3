// Acknowledging an alert in the page acknowledges it in the API: a rule fires from injected
// faults (through the real alert engine), the page lists it, a click on Acknowledge, and the
// API shows who acknowledged it. The listed alert is also a link to its own page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { call, runCron, sleep } from '../../worker-shim/test/helpers.mjs';
import { startSession, openPage, refreshed } from './browser.mjs';

let session;
let worker;
let browser;

before(async () => {
  session = await startSession();
  ({ worker, browser } = session);
});
after(() => session?.dispose());

async function firingAlert(ruleId) {
  const { body } = await call(worker, 'GET', '/api/alerts?state=firing');
  return body.alerts.find((a) => a.rule_id === ruleId);
}

test('acknowledging an alert in the page acknowledges it in the API', async () => {
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
  const firing = await firingAlert('errs');
  assert.ok(firing, 'the rule fires');
  assert.equal(firing.acknowledged_at_ms, null);

  const { page, context } = await openPage(browser);
  await page.goto(`${worker.url}/`);
  await refreshed(page);
  const button = page.locator('#alerts').getByRole('button', { name: 'Acknowledge' });
  assert.equal(await button.count(), 1);
  await button.click();
  let acked = null;
  for (let i = 0; i < 100 && !acked?.acknowledged_at_ms; i++) {
    acked = await firingAlert('errs');
    if (!acked?.acknowledged_at_ms) await sleep(100);
  }
  assert.ok(acked.acknowledged_at_ms, JSON.stringify(acked));
  await context.close();
});

test("an active alert on the main page links to the alert's page", async () => {
  // The rule of the test above is still firing (acknowledged, not resolved).
  const firing = await firingAlert('errs');
  assert.ok(firing, 'the rule still fires');

  const { page, errors, context } = await openPage(browser);
  await page.goto(`${worker.url}/`);
  await refreshed(page);
  const item = page.locator(`#alerts li[data-alert-id="${firing.id}"]`);
  assert.equal(await item.count(), 1);
  const link = item.locator('a.alert-link');
  assert.equal(await link.getAttribute('href'), `/alerts/${encodeURIComponent(firing.id)}`);
  assert.equal(await link.innerText(), 'R2PutErrors');
  await Promise.all([page.waitForURL(`${worker.url}/alerts/${encodeURIComponent(firing.id)}`), link.click()]);
  await refreshed(page);
  const facts = page.locator('#alert .alert-facts');
  assert.equal(await facts.getAttribute('data-alert-id'), firing.id);
  assert.equal(await facts.getAttribute('data-alert-state'), 'firing');
  assert.match(await page.locator('#alert').innerText(), /R2PutErrors/);
  assert.deepEqual(errors.list, []);
  await context.close();
});
