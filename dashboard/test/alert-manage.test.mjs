// Managing alerts from the page (/alerts) in headless Chromium against the Worker in Miniflare:
// a person creates a rule with a bad value, reads the API's message beside the field, fixes it
// and finds the rule in the list; edits and disables it; adds a silence; adds a webhook channel
// and sees its URL masked; presses "Send test" and a local HTTP receiver gets the notification;
// then opens an alert's page from the list of recent alerts, makes it public with an update
// for the status page, and finds it there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { call, runCron } from '../../worker-shim/test/helpers.mjs';
import { startSession, openPage, refreshed, SCREENSHOTS, PHONE } from './browser.mjs';
import { join } from 'node:path';

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

test('a person manages rules, silences and channels from the page, and opens an alert', async () => {
  const { page, errors, context } = await openPage(browser);
  const res = await page.goto(`${worker.url}/alerts`);
  assert.equal(res.status(), 200);
  await refreshed(page);
  const rules = page.locator('#manage-rules');
  assert.equal(await rules.getAttribute('data-state'), 'ready');
  // The default rules are listed.
  assert.ok((await rules.locator('.rules-table tbody tr').count()) >= 10);

  // A rule with a negative threshold: the API's message appears beside the threshold field.
  await page.fill('#rule-name', 'UploadErrorsFromPage');
  await page.selectOption('#rule-type', 'error_rate');
  await page.fill('#rule-threshold', '-5');
  await page.fill('#rule-window', '600000');
  await page.click('#manage-rules button[type=submit]');
  const thresholdError = page.locator('#rule-threshold-error');
  await thresholdError.waitFor({ state: 'visible' });
  assert.match(await thresholdError.innerText(), /threshold/);
  assert.equal(await page.getAttribute('#rule-threshold', 'aria-invalid'), 'true');
  assert.equal(await page.locator('#rule-name-error').isVisible(), false);
  // Nothing was created.
  const before = (await call(worker, 'GET', '/api/alerts/rules')).body.rules;
  assert.ok(!before.some((r) => r.name === 'UploadErrorsFromPage'));

  // Fixed, saved, and in the list.
  await page.fill('#rule-threshold', '12.5');
  await page.click('#manage-rules button[type=submit]');
  const row = rules.locator('.rules-table tbody tr', { hasText: 'UploadErrorsFromPage' });
  await row.waitFor();
  assert.match(await row.innerText(), /error_rate_pct > 12\.5/);
  assert.equal(await thresholdError.isVisible(), false);
  const created = (await call(worker, 'GET', '/api/alerts/rules')).body.rules.find((r) => r.name === 'UploadErrorsFromPage');
  assert.deepEqual([created.threshold, created.window_ms, created.enabled], [12.5, 600_000, true]);

  // Edited (threshold 15) and disabled from the list.
  await row.getByRole('button', { name: 'Edit UploadErrorsFromPage' }).click();
  assert.equal(await page.inputValue('#rule-threshold'), '12.5');
  await page.fill('#rule-threshold', '15');
  await page.click('#manage-rules button[type=submit]');
  await page.waitForFunction(() => /> 15\b/.test([...document.querySelectorAll('#manage-rules tbody tr')].find((tr) => tr.innerText.includes('UploadErrorsFromPage'))?.innerText ?? ''));
  await rules.locator('.rules-table tbody tr', { hasText: 'UploadErrorsFromPage' }).getByRole('button', { name: 'Disable UploadErrorsFromPage' }).click();
  await page.waitForFunction(() => /disabled/.test([...document.querySelectorAll('#manage-rules tbody tr')].find((tr) => tr.innerText.includes('UploadErrorsFromPage'))?.innerText ?? ''));
  const edited = (await call(worker, 'GET', `/api/alerts/rules/${created.id}`)).body.rule;
  assert.deepEqual([edited.threshold, edited.enabled], [15, false]);

  // A maintenance window for one bucket.
  await page.selectOption('#silence-kind', 'maintenance');
  await page.fill('#silence-matchers', 'bucket=photos, severity!=critical');
  await page.fill('#silence-comment', 'storage migration');
  await page.click('#manage-silences button[type=submit]');
  const silenceRow = page.locator('#manage-silences .silences-table tbody tr', { hasText: 'storage migration' });
  await silenceRow.waitFor();
  assert.match(await silenceRow.innerText(), /bucket=photos, severity!=critical/);
  assert.match(await silenceRow.innerText(), /active/);
  const silences = (await call(worker, 'GET', '/api/alerts/silences')).body.silences;
  assert.equal(silences.length, 1);
  assert.deepEqual([silences[0].kind, silences[0].created_by], ['maintenance', 'admin']);

  // A webhook channel: its URL is shown masked, never in full.
  const hookUrl = `http://127.0.0.1:${receiver.address().port}/hook-7f3a9c/secret-path-token`;
  await page.fill('#channel-name', 'pagehook');
  await page.selectOption('#channel-type', 'webhook');
  await page.fill('#channel-url', hookUrl);
  await page.click('#manage-channels button[type=submit]');
  const channelRow = page.locator('#manage-channels .channels-table tbody tr', { hasText: 'pagehook' });
  await channelRow.waitFor();
  const shown = await channelRow.locator('.channel-target').innerText();
  assert.notEqual(shown, hookUrl);
  assert.ok(!shown.includes('secret-path'), shown);
  assert.match(shown, /^http:\/\/127\.0\.0\.1/);
  assert.ok(!(await page.content()).includes('secret-path-token'), 'the full URL is nowhere in the page');

  // "Send test": the receiver gets the test notification.
  await channelRow.getByRole('button', { name: 'Send a test notification to pagehook' }).click();
  await page.waitForFunction(() => document.querySelector('#manage-channels .test-result')?.dataset.result);
  assert.equal(await channelRow.locator('.test-result').getAttribute('data-result'), 'sent');
  const hit = received.find((r) => r.path === '/hook-7f3a9c/secret-path-token');
  assert.ok(hit, `the receiver got the test: ${JSON.stringify(received)}`);
  await page.screenshot({ path: join(SCREENSHOTS, 'alert-manage.png'), fullPage: true });

  // An alert fires; the list of recent alerts links to its page.
  for (const rule of (await call(worker, 'GET', '/api/alerts/rules')).body.rules) {
    await call(worker, 'PUT', `/api/alerts/rules/${rule.id}`, { enabled: false });
  }
  await call(worker, 'POST', '/api/alerts/rules', { id: 'errs', name: 'R2PutErrors', type: 'error_rate', threshold: 20, window_ms: 30 * 60_000, min_calls: 5 });
  await call(worker, 'POST', '/api/health/circuit-breaker/disable');
  await call(worker, 'PUT', '/api/admin/faults', { operation: 'put', error_rate: 1 });
  for (let i = 0; i < 6; i++) await call(worker, 'PUT', `/api/storage/files/data/${i}.txt`, 'x');
  assert.equal((await runCron(worker, '* * * * *')).outcome, 'ok');
  const firing = (await call(worker, 'GET', '/api/alerts?state=firing')).body.alerts[0];
  assert.ok(firing);
  await page.click('#refresh');
  await refreshed(page, 2);
  await page.locator('#manage-recent').getByRole('link', { name: firing.id }).click();
  await page.waitForURL(`${worker.url}/alerts/${firing.id}`);
  await refreshed(page);
  assert.equal(await page.locator('#alert .alert-facts').getAttribute('data-alert-id'), firing.id);
  assert.match(await page.locator('#alert').innerText(), /R2PutErrors/);

  // Made public from its page: an empty title is refused beside the field; written, published.
  await page.locator('#alert').getByRole('button', { name: 'Make public' }).click();
  const titleError = page.locator('#incident-title-error');
  await titleError.waitFor({ state: 'visible' });
  assert.match(await titleError.innerText(), /title/);
  await page.fill('#incident-title', 'Uploads are failing');
  await page.fill('#incident-message', 'We are looking into it.');
  await page.locator('#alert').getByRole('button', { name: 'Make public' }).click();
  await page.locator('#alert .incident-summary').waitFor();
  await page.selectOption('#incident-update-status', 'resolved');
  await page.fill('#incident-update-message', 'Fixed at 12:05.');
  await page.locator('#alert').getByRole('button', { name: 'Post update' }).click();
  await page.waitForFunction(() => document.querySelector('#alert .incident-summary')?.dataset.incidentStatus === 'resolved');
  assert.match(await page.locator('#alert .incident-updates').innerText(), /resolved[\s\S]*Fixed at 12:05\.[\s\S]*investigating[\s\S]*looking into it/);
  // Anyone reads it on the status page, without a token.
  const statusPage = await (await fetch(`${worker.url}/status`)).text();
  assert.match(statusPage, /Uploads are failing/);
  assert.match(statusPage, /Fixed at 12:05\./);
  assert.ok(!statusPage.includes(firing.id));
  // The refused rule's 422 is logged by Chromium as a failed load; nothing else may be.
  assert.deepEqual(errors.list.filter((e) => !/status of 422/.test(e)), []);
  await context.close();
});

test('at phone width the page is one column: wide tables scroll inside their panel', async () => {
  const { page, errors, context } = await openPage(browser, { viewport: PHONE, colorScheme: 'dark' });
  await page.goto(`${worker.url}/alerts`);
  await refreshed(page);
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth), 0);
  assert.equal(await page.locator('.ranges').isVisible(), false);
  await page.screenshot({ path: join(SCREENSHOTS, 'alert-manage-phone.png') });
  assert.deepEqual(errors.list, []);
  await context.close();
});
