// The local demo's first burst fills every panel: the dashboard opened after it shows data
// (not an empty state) in performance, storage, health and activity, with some failures.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { startWorker, call, ROOT } from '../../worker-shim/test/helpers.mjs';
import { launch, openPage, refreshed, useToken, SCREENSHOTS } from './browser.mjs';

let worker;
let browser;
before(async () => {
  worker = await startWorker({ port: 0 });
  useToken(worker.adminToken);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await worker?.dispose();
});

test('the demo fills every panel within its first burst', async () => {
  const out = await new Promise((resolve, reject) =>
    execFile(process.execPath, [join(ROOT, 'tools/demo.mjs'), '--url', worker.url, '--token', worker.adminToken, '--minutes', '0'], (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
  assert.match(out, /first burst sent \(\d+ files\); jobs: collect-metrics 200, account-analytics 200, check 200/);
  const summary = (await call(worker, 'GET', '/api/usage/summary?period=hour')).body;
  assert.ok(summary.api_calls.total >= 30, `${summary.api_calls.total} calls`);
  assert.ok(summary.errors > 0, 'the injected faults failed some reads');
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${worker.url}/`);
  await refreshed(page);
  for (const id of ['performance', 'storage', 'health', 'activity']) {
    assert.equal(await page.locator(`#${id}`).getAttribute('data-state'), 'ready', id);
  }
  assert.equal(await page.locator('#cost .whatif').getAttribute('data-state'), 'ready');
  await page.screenshot({ path: join(SCREENSHOTS, 'demo-laptop-light.png'), fullPage: true });
  assert.deepEqual(errors.list, []);
  await context.close();
});
