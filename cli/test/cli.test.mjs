// The real `r2watch` binary against the Worker served locally by Miniflare: tables by default,
// --json equal to the API's answer, exports written with progress, exit codes and messages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startWorker, call, tempDir, ROOT } from '../../worker-shim/test/helpers.mjs';

const BIN = join(ROOT, 'cli/r2watch.mjs');
let worker;
let dir;

/** Runs the binary; resolves {code, stdout, stderr} whatever the exit code. */
function r2watch(args, env = {}) {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, R2WATCH_URL: '', R2WATCH_TOKEN: worker?.adminToken ?? '', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}
const at = (...args) => r2watch([...args, '--url', worker.url]);

before(async () => {
  worker = await startWorker({ port: 0 });
  dir = tempDir('cli');
  for (const [key, size] of [['photos/a.jpg', 5000], ['photos/b.jpg', 7000], ['logs/x.log', 300]]) {
    assert.equal((await worker.fetch(`/api/storage/files/${key}`, { method: 'PUT', body: 'x'.repeat(size) })).status, 201);
  }
  await (await worker.fetch('/api/storage/files/photos/a.jpg')).arrayBuffer();
  assert.equal((await call(worker, 'POST', '/api/admin/jobs/collect-metrics')).status, 200);
});
after(async () => {
  await worker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('usage prints a table, and --json is the API answer', async () => {
  const table = await at('usage', '--period', 'day');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^Usage over the last day/);
  assert.match(table.stdout, /  Class A\s+\d/);
  assert.match(table.stdout, /^put\s+A\s+3\s+0\s+12\.30 KB/m);
  const json = await at('usage', '--period', 'day', '--json');
  const api = (await call(worker, 'GET', '/api/usage/summary?period=day')).body;
  const printed = JSON.parse(json.stdout);
  assert.deepEqual(printed.api_calls, api.api_calls);
  assert.deepEqual(printed.by_operation, api.by_operation);
});

test('details, status and health read their routes', async () => {
  const details = await at('details', '--hours', '24', '--resource', 'bandwidth_upload');
  assert.equal(details.code, 0, details.stderr);
  assert.match(details.stdout, /bandwidth_upload per hour, last 24 hours/);
  assert.match(details.stdout, /12\.30 KB/);
  const status = await at('status');
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^r2watch-data\s+closed/m);
  const health = await at('health');
  assert.equal(health.code, 0, health.stderr);
  assert.match(health.stdout, /^r2watch is healthy/);
});

test('health check runs a probe round; failing probes exit 3', async () => {
  const ok = await at('health', 'check');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /5 of 5 probes ok/);
  await call(worker, 'PUT', '/api/admin/faults', { operation: 'head', error_rate: 1.0 });
  try {
    const bad = await at('health', 'check');
    assert.equal(bad.code, 3);
    assert.match(bad.stdout, /^head\s+error/m);
    assert.match(bad.stderr, /r2watch: 1 probe\(s\) failed: head/);
  } finally {
    await call(worker, 'DELETE', '/api/admin/faults');
  }
});

test('export writes the API answer to the file with a progress line', async () => {
  for (const format of ['json', 'csv']) {
    const output = join(dir, `weekly.${format}`);
    const res = await at('export', '--hours', '168', '--output', output);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, new RegExp(`exporting 168 hours of usage to .*weekly\\.${format}: [\\d.]+ (B|KB) written`));
    const apiRes = await worker.fetch(`/api/usage/export?hours=168&format=${format}`);
    const written = readFileSync(output, 'utf8');
    if (format === 'json') assert.deepEqual(JSON.parse(written).records, (await apiRes.json()).records);
    else assert.equal(written, await apiRes.text());
  }
  const bad = await at('export', '--output', join(dir, 'weekly.xml'));
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--output must end in \.json or \.csv/);
});

test('costs and alerts answer, or say what is missing', async () => {
  const costs = await at('costs');
  const api = await call(worker, 'GET', '/api/costs');
  if (api.status === 200) {
    assert.equal(costs.code, 0, costs.stderr);
    assert.match(costs.stdout, new RegExp(`month to date\\s+\\$${api.body.monthlyTotal.replace('.', '\\.')}`));
  } else {
    assert.equal(costs.code, 1);
    assert.match(costs.stderr, /this r2watch has no \/api\/costs/);
  }
  const alerts = await at('alerts', '--state', 'firing');
  assert.equal(alerts.code, 0, alerts.stderr);
  assert.match(alerts.stdout, /No firing alerts\./);
});

test('a refused request names the field; bad usage exits 2', async () => {
  const period = await at('usage', '--period', 'year');
  assert.equal(period.code, 1);
  assert.match(period.stderr, /r2watch answered 422: .*period.*\(field: period\)/);
  const unknown = await at('usage', '--frobnicate');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown option '--frobnicate'[\s\S]*r2watch --help/);
  const none = await r2watch([]);
  assert.equal(none.code, 2);
  assert.match(none.stdout, /Usage: r2watch <command>/);
});

test('the URL and token come from flags or R2WATCH_URL / R2WATCH_TOKEN', async () => {
  const fromEnv = await r2watch(['status', '--json'], { R2WATCH_URL: worker.url });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  assert.equal(JSON.parse(fromEnv.stdout).buckets[0].bucket, 'r2watch-data');

  const seen = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization ?? null);
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'unauthorized', message: 'bad token' } }));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  try {
    const flag = await r2watch(['status', '--url', url, '--token', 'from-flag']);
    const env = await r2watch(['status'], { R2WATCH_URL: url, R2WATCH_TOKEN: 'from-env' });
    assert.deepEqual(seen, ['Bearer from-flag', 'Bearer from-env']);
    assert.equal(env.code, 1);
    assert.match(env.stderr, /refused the request \(401: bad token\)[\s\S]*--token or R2WATCH_TOKEN/);
  } finally {
    server.close();
  }
  const down = await r2watch(['status', '--url', url]); // the server is closed now
  assert.equal(down.code, 1);
  assert.match(down.stderr, /cannot reach r2watch at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)[\s\S]*make dev/);
});

test('buckets lists every bucket of the account (the GraphQL stand-in), or says the feature is off', async () => {
  const off = await at('buckets');
  assert.equal(off.code, 0, off.stderr);
  assert.match(off.stdout, /Account analytics are off/);
  const { startStandIn } = await import('../../tools/graphql-standin.mjs');
  const standIn = await startStandIn();
  const w = await startWorker({
    port: 0,
    vars: { CLOUDFLARE_ACCOUNT_ID: standIn.accountId, CLOUDFLARE_API_TOKEN: standIn.token, CLOUDFLARE_GRAPHQL_URL: standIn.url, ACCOUNT_QUERIES_PER_RUN: '100' },
  });
  try {
    assert.equal((await call(w, 'POST', '/api/admin/jobs/account-analytics')).status, 200);
    const out = await r2watch(['buckets', '--url', w.url], { R2WATCH_TOKEN: w.adminToken });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^bucket\s+objects\s+stored\s+pending uploads/);
    // backups keeps most of its bytes in Infrequent Access storage: both classes count
    // (1,380 GB on the stand-in's day of the run, 1,366 GB the day before: which day is the
    // latest stored depends on the hour the collector runs).
    assert.match(out.stdout, /^backups\s+[\d,]+\s+1\.3[78] TB\s+37\s/m);
    for (const b of ['assets', 'logs', 'media']) assert.match(out.stdout, new RegExp(`^${b}\\s`, 'm'));
  } finally {
    await w.dispose();
    await standIn.close();
  }
});
