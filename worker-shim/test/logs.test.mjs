// The structured log: one JSON line per request and per job run on the Worker's console (what
// `wrangler tail` shows), with the fields core/ops/log-line.h decides, and never a credential.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createInterface } from 'node:readline';
import { startWorker, call, runCron, sleep, TEST_JWT_SECRET } from './helpers.mjs';

const REQUEST_FIELDS = ['time', 'level', 'kind', 'method', 'route', 'status', 'duration_ms', 'request_id', 'user'];
const JOB_FIELDS = ['time', 'level', 'kind', 'job', 'trigger', 'outcome', 'duration_ms', 'error'];

/** Starts a Worker whose console lines (stdout and stderr) are collected in `lines`. */
async function workerWithConsole() {
  const lines = [];
  const collect = (stream) => createInterface({ input: stream }).on('line', (l) => lines.push(l));
  const worker = await startWorker({
    handleRuntimeStdio: (stdout, stderr) => {
      collect(stdout);
      collect(stderr);
    },
  });
  return { worker, lines };
}

function logLines(lines, kind) {
  return lines
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return null;
      }
    })
    .filter((l) => l?.kind === kind);
}

async function waitFor(check, what) {
  for (let i = 0; i < 100; i++) {
    if (check()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('every request writes one JSON log line with its route, status, duration, cf-ray and hashed user, never the token', { timeout: 120_000 }, async () => {
  const { worker: w, lines } = await workerWithConsole();
  try {
    await sleep(200);
    lines.length = 0; // startup output
    const sent = [
      { method: 'GET', path: '/api/health', ray: '8c1f000000000001-AMS', as: null, status: 200, route: '/api/health', user: false },
      { method: 'GET', path: '/api/admin/jobs', ray: '8c1f000000000002-AMS', status: 200, route: '/api/admin/jobs', user: true },
      { method: 'GET', path: '/api/no-such-route', ray: '8c1f000000000003-AMS', status: 404, route: null, user: false },
      { method: 'GET', path: '/api/admin/jobs?limit=0', ray: null, status: 400, route: '/api/admin/jobs', user: true },
      { method: 'GET', path: '/api/admin/jobs', ray: '8c1f000000000005-AMS', as: 'r2w_not-a-real-token', status: 401, route: '/api/admin/jobs', user: false },
    ];
    for (const r of sent) {
      const headers = r.ray ? { 'cf-ray': r.ray } : {};
      const res = await call(w, r.method, r.path, undefined, { as: r.as, headers });
      assert.equal(res.status, r.status, `${r.method} ${r.path}`);
    }
    await waitFor(() => logLines(lines, 'request').length >= sent.length, 'the request lines');
    await sleep(200);
    const logged = logLines(lines, 'request');
    assert.equal(logged.length, sent.length, 'one line per request');
    for (const [i, r] of sent.entries()) {
      const line = logged[i];
      assert.deepEqual(Object.keys(line), REQUEST_FIELDS);
      assert.match(line.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      assert.ok(Math.abs(Date.parse(line.time) - Date.now()) < 60_000);
      assert.equal(line.method, r.method);
      assert.equal(line.route, r.route);
      assert.equal(line.status, r.status);
      assert.equal(line.level, r.status >= 500 ? 'error' : r.status >= 400 ? 'warn' : 'info');
      assert.ok(Number.isInteger(line.duration_ms) && line.duration_ms >= 0);
      assert.equal(line.request_id, r.ray);
      if (r.user) assert.match(line.user, /^[0-9a-f]{16}$/, 'the caller as a keyed hash');
      else assert.equal(line.user, null);
    }
    // The same caller, the same hash (its lines can be followed); never its id in the clear.
    assert.equal(logged[1].user, logged[3].user);
    const all = lines.join('\n');
    assert.ok(!all.includes(w.adminToken), 'the admin token never appears');
    assert.ok(!all.includes('r2w_not-a-real-token'), 'a refused token never appears');
    assert.ok(!all.includes(TEST_JWT_SECRET), 'the JWT secret never appears');
    assert.ok(!all.includes('"user":"admin"'));
  } finally {
    await w.dispose();
  }
});

test('every job run writes one JSON log line with its job, trigger, outcome and duration', { timeout: 120_000 }, async () => {
  const { worker: w, lines } = await workerWithConsole();
  try {
    const result = await runCron(w, '* * * * *');
    assert.equal(result.outcome, 'ok');
    await waitFor(() => logLines(lines, 'job').length >= 1, 'the job line');
    const [line, ...more] = logLines(lines, 'job');
    assert.equal(more.length, 0, 'one line per run');
    assert.deepEqual(Object.keys(line), JOB_FIELDS);
    assert.equal(line.job, 'check-alerts');
    assert.equal(line.trigger, 'cron');
    assert.equal(line.outcome, 'ok');
    assert.equal(line.level, 'info');
    assert.equal(line.error, null);
    assert.ok(Number.isInteger(line.duration_ms) && line.duration_ms >= 0);
    assert.ok(!lines.join('\n').includes(w.adminToken));
  } finally {
    await w.dispose();
  }
});
