// The dashboard in real headless Chromium against the Worker served by Miniflare (workerd, with
// local D1 and R2, the page as static assets): every panel shows what the API answers for data
// made through the API, the what-if equals POST /api/costs/estimate, resolving an alert in the
// page changes it in the API, empty and error states, refresh, range, token, phone width, and
// screenshots in light and dark (build/screenshots/).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startWorker, call, tokenFor, ROOT } from '../../worker-shim/test/helpers.mjs';
import { launch, openPage, refreshed, useToken, LAPTOP, PHONE, SCREENSHOTS } from './browser.mjs';
import { newApiToken } from '../../tools/admin-token.mjs';

// One admin token for both Workers, in every page's localStorage.
const ADMIN = newApiToken();
useToken(ADMIN.token);

let worker;
let empty;
let browser;

const FILES = [
  ['photos/2026/beach.jpg', 'image/jpeg', 48_000],
  ['photos/2026/city.jpg', 'image/jpeg', 31_000],
  ['photos/2026/dog.png', 'image/png', 12_500],
  ['docs/report.pdf', 'application/pdf', 90_000],
  ['docs/notes.txt', 'text/plain', 900],
  ['backups/db.tar', 'application/x-tar', 150_000],
];

/** Uploads, downloads, a missing key, a fault-injected failure, a probe round, the jobs. */
async function seed(w) {
  for (const [key, type, size] of FILES) {
    const res = await w.fetch(`/api/storage/files/${key}`, { method: 'PUT', body: 'x'.repeat(size), headers: { 'content-type': type } });
    assert.equal(res.status, 201);
  }
  for (const [key] of FILES.slice(0, 4)) await (await w.fetch(`/api/storage/files/${key}`)).arrayBuffer();
  await (await w.fetch('/api/storage/files/photos/missing.jpg')).arrayBuffer();
  await call(w, 'PUT', '/api/admin/faults', { operation: 'get', error_rate: 1.0, latency_ms: 0 });
  await (await w.fetch('/api/storage/files/docs/notes.txt')).arrayBuffer();
  await call(w, 'DELETE', '/api/admin/faults');
  assert.equal((await call(w, 'POST', '/api/health/check')).status, 200);
  assert.equal((await call(w, 'POST', '/api/admin/jobs/collect-metrics')).status, 200);
}

/** A price list for this month that differs from the published one, so pricing must flow through. */
async function storePrices(w) {
  const now = new Date();
  const month = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}-01`;
  const res = await call(w, 'PUT', '/api/pricing', {
    effective_from: month,
    source: 'dashboard test',
    standard: { storage_usd_per_gb_month: '0.02', class_a_usd_per_million: '5.00', class_b_usd_per_million: '0.50' },
    free_tier: { storage_gb_months: 0, class_a_requests: 0, class_b_requests: 0 },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

before(async () => {
  worker = await startWorker({ port: 0, adminToken: ADMIN });
  empty = await startWorker({ port: 0, adminToken: ADMIN });
  await seed(worker);
  await storePrices(worker);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await worker?.dispose();
  await empty?.dispose();
});

async function figure(page, name) {
  return page.locator(`[data-figure="${name}"]`).getAttribute('data-value');
}

test('the page loads every panel without console errors and shows the API figures', async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${worker.url}/`);
  await refreshed(page);
  for (const id of ['performance', 'cost', 'storage', 'health', 'alerts', 'activity']) {
    const state = await page.locator(`#${id}`).getAttribute('data-state');
    assert.ok(['ready', 'empty'].includes(state), `${id} is ${state}: ${await page.locator(`#${id}`).innerText()}`);
  }
  const overview = (await call(worker, 'GET', '/api/metrics/overview?range=24h')).body.figures;
  assert.equal(Number(await figure(page, 'uploads')), overview.uploads.value);
  assert.equal(Number(await figure(page, 'downloads')), overview.downloads.value);
  assert.equal(Number(await figure(page, 'error_rate')), overview.error_rate_pct.value);
  assert.ok(overview.error_rate_pct.value > 0, 'the injected failure counts');
  assert.equal(Number(await figure(page, 'p95_ms')), overview.p95_ms.value);
  const storage = (await call(worker, 'GET', '/api/storage/usage')).body;
  assert.equal(Number(await figure(page, 'total_files')), storage.inventory.objects);
  assert.equal(Number(await figure(page, 'storage_used')), storage.inventory.bytes);
  assert.equal(storage.inventory.objects, FILES.length);
  assert.match(await page.locator('#storage').innerText(), /backups\/db\.tar/);
  assert.match(await page.locator('#storage').innerText(), /application\/pdf/);
  const health = (await call(worker, 'GET', '/api/health')).body;
  assert.equal((await page.locator('#health .overall .badge').innerText()).toLowerCase(), health.status);
  assert.equal(await page.locator('#health [data-breaker]').getAttribute('data-breaker'), 'closed');
  assert.equal(await page.locator('#health .probes tbody tr').count(), 5);
  assert.ok((await page.locator('#activity tbody tr').count()) >= 5, 'probe checks are recent activity');
  const costs = await call(worker, 'GET', '/api/costs');
  if (costs.status === 200) {
    assert.equal(await figure(page, 'month_to_date'), costs.body.monthlyTotal);
  } else {
    assert.equal(costs.status, 404);
    assert.equal(await page.locator('#cost [data-missing="GET /api/costs"]').count(), 1);
  }
  // Every chart has its figures as a table.
  const charts = await page.locator('.chart').count();
  assert.ok(charts >= 3, `${charts} charts`);
  assert.equal(await page.locator('.chart-figure details table').count(), charts);
  assert.equal(await page.locator('.chart canvas').count(), charts);
  await page.screenshot({ path: join(SCREENSHOTS, 'laptop-light.png'), fullPage: true });
  assert.deepEqual(errors.list, []);
  await context.close();
});

test('the what-if is computed in the page and equals POST /api/costs/estimate', async () => {
  const { page, errors, context } = await openPage(browser);
  const apiCalls = [];
  page.on('request', (r) => apiCalls.push(new URL(r.url()).pathname));
  await page.goto(`${worker.url}/`);
  await page.waitForSelector('.whatif[data-state="ready"]');
  const check = async () => {
    const cells = page.locator('.whatif td[data-scenario]');
    assert.equal(await cells.count(), 3);
    for (let i = 0; i < 3; i++) {
      const body = JSON.parse(await cells.nth(i).getAttribute('data-body'));
      const pageTotal = Number(await cells.nth(i).getAttribute('data-total-micro-usd'));
      const api = await call(worker, 'POST', '/api/costs/estimate', body);
      assert.equal(api.status, 200, JSON.stringify(api.body));
      assert.equal(pageTotal, api.body.total_micro_usd, JSON.stringify(body));
      assert.equal((await cells.nth(i).innerText()).trim(), `$${api.body.total_usd}`);
    }
    return cells;
  };
  await check();
  // Edited usage: a large bucket with heavy traffic, the three scenarios differ.
  await page.fill('#whatif-storage_gb_months', '1234.5');
  await page.fill('#whatif-class_a', '3500000');
  await page.fill('#whatif-class_b', '21000000');
  await page.fill('#whatif-retrieval_gb', '800');
  await page.locator('#whatif-retrieval_gb').dispatchEvent('change');
  await page.waitForFunction(() => document.querySelector('.whatif td[data-scenario="now"]')?.dataset.body.includes('1234.5')
    && document.querySelector('.whatif td[data-scenario="now"]')?.dataset.body.includes('800'));
  const cells = await check();
  const totals = await cells.evaluateAll((tds) => tds.map((td) => Number(td.dataset.totalMicroUsd)));
  assert.equal(new Set(totals).size, 3, `scenarios ${totals}`);
  // The stored price list is the one used: $0.02/GB-month x 1235 GB-months (rounded up), no free tier.
  const now = JSON.parse(await cells.nth(0).getAttribute('data-body'));
  assert.equal(now.standard.storage_gb_months, 1234.5);
  assert.match(await page.locator('.whatif-table').innerText(), /\$24\.70/);
  assert.ok(!apiCalls.includes('/api/costs/estimate'), 'the page computed the what-if itself');
  assert.ok(apiCalls.includes('/cost-model.wasm'));
  // A refused input shows the engine's message, not a blank.
  await page.fill('#whatif-class_a', '1.5');
  await page.locator('#whatif-class_a').dispatchEvent('change');
  await page.waitForSelector('.whatif[data-state="error"]');
  assert.match(await page.locator('.whatif').innerText(), /refused this input: .*class_a/);
  assert.deepEqual(errors.list, []);
  await context.close();
});

test('the cost panel shows the bill as GET /api/costs gives it: tiles, charges, budgets, daily chart', async () => {
  // The engine's own answers (golden cases) in the shape of GET /api/costs, whether or not this
  // Worker serves the route yet.
  const golden = (name) => JSON.parse(readFileSync(join(ROOT, 'testdata/golden', name), 'utf8'));
  const bill = golden('cost_bill/steady-month-day-10.out.json');
  const { budgets } = golden('cost_budget_status/steady-month-exceeded-and-warning.out.json');
  const costs = {
    month: bill.month, as_of: bill.as_of, monthlyTotal: bill.month_to_date.total_usd,
    dailyAverage: bill.daily_average_usd, storageCharges: '1.35', requestCharges: '0.00',
    retrievalCharges: '0.00', trend: bill.trend, forecast: bill.forecast, budgets, bill,
  };
  const { page, errors, context } = await openPage(browser);
  await page.route('**/api/costs', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(costs) }));
  await page.goto(`${worker.url}/`);
  await refreshed(page);
  assert.equal(await page.locator('#cost').getAttribute('data-state'), 'ready');
  assert.equal(await figure(page, 'month_to_date'), bill.month_to_date.total_usd);
  assert.equal(await figure(page, 'forecast'), bill.forecast.expected.total_usd);
  assert.match(await page.locator('[data-figure="forecast"]').innerText(), /range \$15\.15 – \$15\.15/);
  assert.match(await page.locator('#cost .budget[data-budget="account"]').innerText(), /\$1\.35 of \$1\.00 \(135\.0%\)[\s\S]*exceeded/i);
  assert.match(await page.locator('#cost .budget[data-budget="logs"]').innerText(), /warning/i);
  // The daily chart is drawn even though the panel is filled after the what-if's wasm loads.
  await page.waitForSelector('#cost .chart canvas');
  assert.equal(await page.locator('#cost .chart-table tbody tr').count(), bill.trend.length);
  await page.locator('#cost').screenshot({ path: join(SCREENSHOTS, 'cost-panel-laptop-light.png') });
  assert.deepEqual(errors.list, []);
  await context.close();
});

test('resolving an alert in the page resolves it in the API', async () => {
  // Failing PUTs open the breaker; the next probe round raises a critical alert.
  await call(worker, 'PUT', '/api/admin/faults', { operation: 'put', error_rate: 1.0, latency_ms: 0 });
  for (let i = 0; i < 3; i++) await (await worker.fetch(`/api/storage/files/tmp/f${i}`, { method: 'PUT', body: 'x' })).arrayBuffer();
  await call(worker, 'POST', '/api/health/check');
  await call(worker, 'DELETE', '/api/admin/faults');
  // Closed again by the operator; the alert stays active until someone resolves it.
  assert.equal((await call(worker, 'POST', '/api/health/circuit-breaker/reset')).status, 200);
  const active = (await call(worker, 'GET', '/api/health/alerts?status=active')).body.alerts;
  assert.ok(active.length > 0, 'the failing probes raised an alert');
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${worker.url}/`);
  await refreshed(page);
  const target = active[0];
  const item = page.locator(`#alerts li[data-alert-id="${target.id}"]`);
  assert.equal(await item.count(), 1);
  assert.equal(await page.locator('#alerts li[data-alert-id]').count(), active.length);
  await page.screenshot({ path: join(SCREENSHOTS, 'alerts-laptop-light.png'), fullPage: true });
  await item.getByRole('button', { name: 'Resolve' }).click();
  await page.waitForSelector(`#alerts li[data-alert-id="${target.id}"]`, { state: 'detached' });
  const after = (await call(worker, 'GET', '/api/health/alerts?status=resolved')).body.alerts;
  const resolved = after.find((a) => a.id === target.id);
  assert.equal(resolved?.status, 'resolved');
  assert.equal(resolved.resolution_note, 'resolved from the dashboard');
  assert.deepEqual(errors.list, []);
  await context.close();
});

test("a user's page shows their own storage, quota and part of the bill, nobody else's", async () => {
  const dana = await tokenFor(worker, 'dana', { role: 'user' });
  for (const [key, size] of [['music/song.mp3', 20_000], ['music/live.mp3', 5_000], ['todo.txt', 300]]) {
    assert.equal((await call(worker, 'PUT', `/api/storage/files/${key}`, 'd'.repeat(size), { as: dana })).status, 201);
  }
  assert.equal((await call(worker, 'PUT', '/api/admin/users/dana/quota', { max_bytes: 30_000 })).status, 200);
  assert.equal((await call(worker, 'POST', '/api/admin/jobs/collect-metrics')).status, 200);
  const own = (await call(worker, 'GET', '/api/storage/usage', undefined, { as: dana })).body;
  const costs = (await call(worker, 'GET', '/api/costs', undefined, { as: dana })).body;
  assert.equal(own.storage.bytes, 25_300);

  const { page, errors, context } = await openPage(browser, { token: dana });
  await page.goto(`${worker.url}/`);
  await refreshed(page);
  assert.equal(await page.locator('#storage').getAttribute('data-state'), 'ready');
  assert.equal(Number(await figure(page, 'bucket_bytes')), 25_300);
  assert.equal(Number(await figure(page, 'storage_used')), 25_300, 'the overview counts her files only');
  assert.equal(Number(await figure(page, 'total_files')), 3);
  assert.equal(Number(await figure(page, 'quota')), own.quota.bytes_pct);
  assert.equal(await page.locator('#storage [data-figure="quota"]').getAttribute('class'), 'tile warn', 'above 80%');
  const storageText = await page.locator('#storage').innerText();
  assert.match(storageText, /music/);
  for (const other of ['backups', 'photos', 'application/pdf']) assert.doesNotMatch(storageText, new RegExp(other));
  assert.equal(await figure(page, 'month_to_date'), costs.monthlyTotal);
  assert.match(await page.locator('#cost').innerText(), /Your part, month to date/);
  assert.equal(await page.locator('#cost .budgets').count(), 0, "budgets are the account's");
  await page.locator('#storage').screenshot({ path: join(SCREENSHOTS, 'storage-panel-user.png') });
  assert.deepEqual(errors.list, []);
  await context.close();
});

test("an admin's storage panel shows the prefixes inside users' namespaces, and each user", async () => {
  // dana's files (the test above) and the admin's seed are both in the last inventory.
  const inv = (await call(worker, 'GET', '/api/storage/usage')).body.inventory;
  assert.equal(inv.by_prefix.users, undefined);
  assert.equal(inv.by_user.dana.bytes, 25_300);
  assert.equal(inv.by_user_prefix.dana.music.objects, 2);
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${worker.url}/`);
  await refreshed(page);
  const byPrefix = page.locator('#storage figure.bars', { hasText: 'By prefix' });
  const labels = await byPrefix.locator('.bar-label').allInnerTexts();
  for (const prefix of ['photos', 'docs', 'backups', 'music']) assert.ok(labels.includes(prefix), labels.join(', '));
  assert.ok(!labels.includes('users'), labels.join(', '));
  const byUser = page.locator('#storage figure.bars', { hasText: 'By user' });
  assert.deepEqual((await byUser.locator('.bar-label').allInnerTexts()).sort(), ['admin', 'dana']);
  assert.match(await byUser.innerText(), /music/);
  assert.deepEqual(errors.list, []);
  await context.close();
});

test("the error-rate warning line is the alert rule's threshold, and follows a change of the rule", async () => {
  const before = (await call(worker, 'GET', '/api/metrics/overview?range=24h')).body;
  assert.equal(before.figures.error_rate_pct.threshold, 5, 'the default rule, not the breaker');
  assert.ok(before.figures.error_rate_pct.value > 1.5, `${before.figures.error_rate_pct.value}`);
  assert.equal((await call(worker, 'PUT', '/api/alerts/rules/high_error_rate', { threshold: 1.5 })).status, 200);
  try {
    const overview = (await call(worker, 'GET', '/api/metrics/overview?range=24h')).body;
    assert.equal(overview.figures.error_rate_pct.threshold, 1.5);
    assert.equal(overview.figures.error_rate_pct.over_threshold, true);
    const { page, errors, context } = await openPage(browser);
    await page.goto(`${worker.url}/#range=24h`);
    await refreshed(page);
    const tile = page.locator('[data-figure="error_rate"]');
    assert.equal(await tile.getAttribute('data-threshold'), '1.5');
    assert.equal(await tile.getAttribute('class'), 'tile warn');
    assert.match(await tile.innerText(), /above the 1\.50% threshold of alert rule high_error_rate/);
    assert.deepEqual(errors.list, []);
    await context.close();
  } finally {
    await call(worker, 'PUT', '/api/alerts/rules/high_error_rate', { threshold: 5 });
  }
});

test('with no data every panel says how to send some', async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${empty.url}/`);
  await refreshed(page);
  assert.equal(await page.locator('#performance').getAttribute('data-state'), 'empty');
  assert.match(await page.locator('#performance').innerText(), /No data yet: .*\n[\s\S]*curl -X PUT[\s\S]*npm run demo/);
  assert.equal(await page.locator('#storage').getAttribute('data-state'), 'empty');
  assert.equal(await page.locator('#alerts').getAttribute('data-state'), 'empty');
  assert.match(await page.locator('#alerts').innerText(), /No active alerts/);
  await page.screenshot({ path: join(SCREENSHOTS, 'empty-laptop-light.png'), fullPage: true });
  assert.deepEqual(errors.list, []);
  await context.close();
});

test('a failing API shows an error state with a retry, and the rest of the page stands', async () => {
  const { page, context } = await openPage(browser);
  let fail = true;
  await page.route('**/api/storage/usage', (route) =>
    fail
      ? route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ error: { code: 'engine_trap', message: 'engine trapped: test' } }) })
      : route.continue(),
  );
  await page.goto(`${worker.url}/`);
  await refreshed(page);
  assert.equal(await page.locator('#storage').getAttribute('data-state'), 'error');
  assert.match(await page.locator('#storage').innerText(), /Could not load this panel\.\s+engine trapped: test/);
  assert.equal(await page.locator('#health').getAttribute('data-state'), 'ready');
  fail = false;
  await page.locator('#storage').getByRole('button', { name: 'Retry' }).click();
  await page.waitForSelector('#storage[data-state="ready"]');
  await context.close();
});

test('a refused token asks for one, and the token entered is sent as a bearer token', async () => {
  const { page, context } = await openPage(browser, { token: null });
  const auth = [];
  await page.route('**/api/**', (route) => {
    const header = route.request().headers().authorization;
    auth.push(header ?? null);
    if (header !== `Bearer ${ADMIN.token}`) {
      return route.fulfill({ status: 401, contentType: 'application/json', body: JSON.stringify({ error: { code: 'unauthorized', message: 'a bearer token is required' } }) });
    }
    return route.continue();
  });
  await page.goto(`${worker.url}/`);
  await refreshed(page);
  assert.match(await page.locator('#banner').innerText(), /asks for a token/);
  assert.match(await page.locator('#health').innerText(), /refused the token/);
  await page.getByRole('button', { name: 'Token' }).click();
  await page.fill('#token-input', ADMIN.token);
  await page.getByRole('button', { name: 'Save' }).click();
  await refreshed(page, 2);
  assert.equal(await page.locator('#banner').isHidden(), true);
  assert.equal(await page.locator('#health').getAttribute('data-state'), 'ready');
  assert.equal(await page.evaluate(() => localStorage.getItem('r2watch.token')), ADMIN.token);
  assert.ok(auth.includes(`Bearer ${ADMIN.token}`));
  await context.close();
});

test('the range picker and the minute refresh update the panels without a reload', async () => {
  const { page, errors, context } = await openPage(browser);
  await page.clock.install();
  const overviews = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname === '/api/metrics/overview') overviews.push(u.searchParams.get('range'));
  });
  await page.goto(`${worker.url}/`);
  await refreshed(page);
  await page.evaluate(() => (window.sameDocument = true));
  await page.getByRole('button', { name: '7d' }).click();
  await refreshed(page, 2);
  assert.equal(await page.getByRole('button', { name: '7d' }).getAttribute('aria-pressed'), 'true');
  assert.match(await page.locator('[data-figure="uploads"]').innerText(), /Uploads \(7d\)/);
  assert.match(page.url(), /#range=7d$/);
  await page.clock.runFor(60_000);
  await refreshed(page, 3);
  assert.deepEqual(overviews, ['24h', '7d', '7d']);
  assert.equal(await page.evaluate(() => window.sameDocument), true);
  assert.match(await page.locator('#updated').innerText(), /^Updated \d\d:\d\d:\d\d$/);
  assert.deepEqual(errors.list, []);
  await context.close();
});

test('dark theme and phone width: readable, nothing wider than the screen', async () => {
  for (const [name, viewport, colorScheme] of [
    ['laptop-dark', LAPTOP, 'dark'],
    ['phone-light', PHONE, 'light'],
    ['phone-dark', PHONE, 'dark'],
  ]) {
    const { page, errors, context } = await openPage(browser, { viewport, colorScheme });
    await page.goto(`${worker.url}/`);
    await refreshed(page);
    await page.waitForSelector('.whatif[data-state="ready"]');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= viewport.width, `${name}: page is ${width}px wide`);
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    if (colorScheme === 'dark') assert.equal(bg, 'rgb(13, 17, 23)');
    else assert.equal(bg, 'rgb(246, 247, 249)');
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    assert.deepEqual(errors.list, [], name);
    await context.close();
  }
});

test('the whole-account panel: overview, a bucket picker and the chosen bucket with its reconciliation', async () => {
  const { startStandIn } = await import('../../tools/graphql-standin.mjs');
  const standIn = await startStandIn();
  const w = await startWorker({
    port: 0,
    adminToken: ADMIN,
    vars: { CLOUDFLARE_ACCOUNT_ID: standIn.accountId, CLOUDFLARE_API_TOKEN: standIn.token, CLOUDFLARE_GRAPHQL_URL: standIn.url, ACCOUNT_QUERIES_PER_RUN: '100' },
  });
  const { page, errors, context } = await openPage(browser);
  try {
    assert.equal((await call(w, 'POST', '/api/admin/jobs/account-analytics')).status, 200);
    const api = (await call(w, 'GET', '/api/account/buckets')).body;
    await page.goto(`${w.url}/`);
    await refreshed(page);
    assert.equal(await page.locator('#account').getAttribute('data-state'), 'ready', await page.locator('#account').innerText());
    assert.equal(Number(await figure(page, 'account_buckets')), 4);
    assert.equal(Number(await figure(page, 'account_stored')), api.buckets.reduce((n, b) => n + b.stored_bytes, 0));
    assert.equal(Number(await figure(page, 'around_r2watch')), 100);
    assert.deepEqual(await page.locator('#bucket-picker option').allInnerTexts(), ['assets', 'backups', 'logs', 'media']);
    await page.selectOption('#bucket-picker', 'backups');
    await page.waitForSelector('#account [data-bucket="backups"]');
    assert.equal(Number(await figure(page, 'bucket_pending')), 37);
    assert.ok((await page.locator('#account table.reconcile tbody tr').count()) >= 1);
    assert.deepEqual(errors.list, []);
  } finally {
    await context.close();
    await w.dispose();
    await standIn.close();
  }
});
