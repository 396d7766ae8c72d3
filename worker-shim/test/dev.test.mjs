// `make dev`, the README's start command, brings r2watch up on the given port with migrated
// local D1 and R2 and prints an admin token: with it a file can be stored and read back; without
// it the API refuses; health answers anyone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { rmSync } from 'node:fs';
import { ROOT, tempDir, sleep } from './helpers.mjs';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

test('make dev serves the API on 127.0.0.1:PORT with local D1 and R2', { timeout: 300_000 }, async () => {
  const port = await freePort();
  const state = tempDir('dev');
  const child = spawn('make', ['--no-print-directory', 'dev', `PORT=${port}`, `DEV_STATE=${state}`], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: 'true' },
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const base = `http://127.0.0.1:${port}`;
  try {
    let health = null;
    for (let i = 0; i < 240 && !health; i++) {
      if (child.exitCode !== null) break;
      try {
        const res = await fetch(`${base}/api/health`);
        health = { status: res.status, body: await res.json() };
      } catch {
        await sleep(500);
      }
    }
    assert.ok(health, `make dev did not answer on ${base}:\n${output.slice(-3000)}`);
    assert.equal(health.status, 200);
    assert.equal(health.body.components.database.status, 'healthy', JSON.stringify(health.body));
    // With no account in the environment, the account's figures come from the local stand-in.
    assert.equal(health.body.account.enabled, true, JSON.stringify(health.body.account));

    const token = /admin token for this local r2watch: (r2w_[0-9a-f_]+)/.exec(output)?.[1];
    assert.ok(token, `make dev printed no admin token:\n${output.slice(-3000)}`);
    const authorization = `Bearer ${token}`;
    const anonymous = await fetch(`${base}/api/storage/files/dev/hello.txt`, { method: 'PUT', body: 'x' });
    assert.equal(anonymous.status, 401);
    const put = await fetch(`${base}/api/storage/files/dev/hello.txt`, {
      method: 'PUT',
      body: 'hello r2watch',
      headers: { authorization },
    });
    assert.equal(put.status, 201);
    const get = await fetch(`${base}/api/storage/files/dev/hello.txt`, { headers: { authorization } });
    assert.equal(await get.text(), 'hello r2watch');
    const breaker = await (await fetch(`${base}/api/health/circuit-breaker`, { headers: { authorization } })).json();
    assert.equal(breaker.state, 'closed');

    // The crons run by themselves: within a minute and a bit the every-minute job has run
    // through the Worker's scheduled handler, with no manual step.
    let checkAlerts = null;
    for (let i = 0; i < 90 && !checkAlerts?.last_success_ms; i++) {
      const jobs = await (await fetch(`${base}/api/admin/jobs?job=check-alerts`, { headers: { authorization } })).json();
      checkAlerts = jobs.jobs.find((j) => j.name === 'check-alerts');
      if (!checkAlerts?.last_success_ms) await sleep(1000);
    }
    assert.ok(checkAlerts?.last_success_ms, `no scheduled run of check-alerts:\n${output.slice(-3000)}`);
    const runs = await (await fetch(`${base}/api/admin/jobs?job=check-alerts`, { headers: { authorization } })).json();
    assert.equal(runs.recent_runs[0].trigger, 'cron');
    assert.equal(runs.recent_runs[0].scheduled_ms % 60_000, 0);
    assert.match(output, /dev-scheduler: check-alerts \(\* \* \* \* \*\) ok/);
  } finally {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
    await sleep(500);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
    rmSync(state, { recursive: true, force: true });
  }
});
