// The reports view: a report's link (dashboard_url + /reports/<type>/<period>) opens it in
// Chromium with its sections; /reports lists the stored reports; a period with no report says so.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { call } from '../../worker-shim/test/helpers.mjs';
import { startSession, openPage, refreshed } from './browser.mjs';

let session;
let worker;
let browser;

before(async () => {
  session = await startSession();
  ({ worker, browser } = session);
});
after(() => session?.dispose());

test("a report's link shows its sections, and /reports lists the reports", async () => {
  for (let i = 0; i < 3; i++) assert.equal((await call(worker, 'PUT', `/api/storage/files/docs/${i}.txt`, 'hello')).status, 201);
  assert.equal((await call(worker, 'POST', '/api/admin/jobs/metrics-flush')).status, 200);
  const today = new Date().toISOString().slice(0, 10);
  const made = await call(worker, 'POST', `/api/admin/jobs/reports?type=daily&period=${today}`);
  assert.equal(made.status, 200, JSON.stringify(made.body));

  const { page, errors, context } = await openPage(browser);
  assert.equal((await page.goto(`${worker.url}/reports/daily/${today}`)).status(), 200);
  await refreshed(page);
  const text = await page.locator('#report').innerText();
  assert.match(text, new RegExp(`Daily report ${today}`));
  for (const heading of ['Cost', 'Errors', 'Alerts', 'Recommendations']) assert.match(text, new RegExp(heading));
  assert.match(await page.locator('#report .report-performance caption').innerText(), /^Performance: 3 calls, 0(\.0)?% errors/);
  assert.match(await page.locator('#report .report-performance').innerText(), /r2watch-data put/);

  await page.goto(`${worker.url}/reports`);
  await refreshed(page);
  const link = page.locator('#report .report-list a', { hasText: `daily ${today}` });
  assert.equal(await link.getAttribute('href'), `/reports/daily/${today}`);

  await page.goto(`${worker.url}/reports/weekly/2020-W01`);
  await refreshed(page);
  assert.equal(await page.locator('#report').getAttribute('data-state'), 'missing');
  assert.deepEqual(errors.list, []);
  await context.close();
});
