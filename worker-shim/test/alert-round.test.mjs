// The check-alerts round kept in the engine between runs (worker-shim/src/alert-round.js,
// core/alerts/round.h), inside workerd with real local D1: after a cold start (the Worker
// stopped and started again on the same state) the next round continues from the stored
// states, with no second notification; a state changed by hand between rounds (acknowledged)
// reaches the engine's round through the stored generation; a round writes only what changed
// (a moved value as a value, nothing for what stayed). And the marshalling itself, on the built
// r2watch-console.wasm: rules sent when they change, the key table named again when it was emptied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startWorker, call, runCron, tempDir, ROOT } from './helpers.mjs';
import { Engine } from '../src/engine.js';
import { AlertRound } from '../src/alert-round.js';

const CHECK = '* * * * *';
const MINUTE = 60_000;

async function startReceiver() {
  const received = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      received.push({ path: req.url, body: text ? JSON.parse(text) : null });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    at: (path) => received.filter((e) => e.path === path),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Channels, one error-rate rule "errs" (every other rule off) and `fails` failing PUTs. */
async function errorsFiring(worker, settings, fails) {
  const res = await call(worker, 'PUT', '/api/alerts/channels', settings);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const created = await call(worker, 'POST', '/api/alerts/rules', {
    id: 'errs', name: 'errs', type: 'error_rate', threshold: 20, window_ms: 30 * MINUTE, min_calls: 5,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { body } = await call(worker, 'GET', '/api/alerts/rules');
  for (const rule of body.rules) {
    if (rule.id !== 'errs') await call(worker, 'PUT', `/api/alerts/rules/${rule.id}`, { enabled: false });
  }
  await call(worker, 'POST', '/api/health/circuit-breaker/disable');
  await call(worker, 'PUT', '/api/admin/faults', { operation: 'put', error_rate: 1 });
  for (let i = 0; i < fails; i++) assert.equal((await call(worker, 'PUT', `/api/storage/files/f/${i}.txt`, 'x')).status, 502);
  await call(worker, 'DELETE', '/api/admin/faults');
  return Date.now();
}

async function cron(worker, at) {
  const run = await runCron(worker, CHECK, at);
  assert.equal(run.outcome, 'ok', JSON.stringify(run));
}

async function alertsOf(worker) {
  const { body } = await call(worker, 'GET', '/api/alerts');
  return body.alerts.filter((a) => a.rule_id === 'errs');
}

async function storedState(worker) {
  const rows = (await worker.db.prepare('SELECT state_json, updated_at_ms FROM alert_states').all()).results;
  assert.equal(rows.length, 1);
  return { state: JSON.parse(rows[0].state_json), updatedAtMs: rows[0].updated_at_ms };
}

async function generation(worker) {
  return (await worker.db.prepare('SELECT states_generation AS g FROM alert_config WHERE id = 1').first()).g;
}

test('after a cold start the next round continues from the stored states: no second notification', async () => {
  const dir = tempDir('alert-round');
  const receiver = await startReceiver();
  const vars = { ENVIRONMENT: 'development', ALERT_WEBHOOK_URL: receiver.url('/hook') };
  try {
    let worker = await startWorker({ persistDir: dir, vars });
    let t0;
    try {
      t0 = await errorsFiring(worker, { channels: [{ name: 'hook', type: 'webhook', url_secret: 'ALERT_WEBHOOK_URL' }] }, 6);
      await cron(worker, t0 + 1_000);
      await cron(worker, t0 + 61_000); // the engine's own states, nothing new to say
      assert.equal(receiver.at('/hook').length, 1);
      const [alert] = await alertsOf(worker);
      assert.equal(alert.state, 'firing');
      assert.equal(alert.value, 100);
      // Nothing moved in the second round: the stored state was not written again.
      const stored = await storedState(worker);
      assert.equal(stored.updatedAtMs, t0 + 1_000);
      assert.equal(await generation(worker), 2);
    } finally {
      await worker.dispose();
    }

    // A new isolate: its engine holds no states and restores them from D1.
    worker = await startWorker({ persistDir: dir, migrate: false, vars });
    try {
      const before = (await alertsOf(worker))[0];
      await cron(worker, t0 + 121_000);
      assert.equal(receiver.at('/hook').length, 1, 'no second firing notification after the cold start');
      const after = await alertsOf(worker);
      assert.equal(after.length, 1, 'the same alert, not a new episode');
      assert.equal(after[0].id, before.id);
      assert.equal(after[0].state, 'firing');
      assert.equal(await generation(worker), 3);

      // Two calls succeed: 6 of 8 failed. Only the value moves: written as a value.
      for (let i = 0; i < 2; i++) assert.equal((await call(worker, 'PUT', `/api/storage/files/ok/${i}.txt`, 'x')).status, 201);
      await cron(worker, t0 + 181_000);
      const moved = await alertsOf(worker);
      assert.equal(moved[0].id, before.id);
      assert.equal(moved[0].value, 75);
      assert.equal(moved[0].updated_at_ms, t0 + 181_000);
      const stored = await storedState(worker);
      assert.equal(stored.state.value, 75);
      assert.equal(stored.state.detail, '6 of 8 calls failed in the last 30 min');
      assert.equal(stored.state.updated_at_ms, t0 + 181_000);
      assert.equal(stored.state.notices, 1);
      assert.equal(receiver.at('/hook').length, 1);
    } finally {
      await worker.dispose();
    }
  } finally {
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an alert acknowledged between rounds reaches the engine: it does not escalate', async () => {
  const receiver = await startReceiver();
  const worker = await startWorker({
    vars: { ENVIRONMENT: 'development', ALERT_WEBHOOK_URL: receiver.url('/hook'), ALERT_LEAD_URL: receiver.url('/lead') },
  });
  try {
    const t0 = await errorsFiring(
      worker,
      {
        escalation_after_ms: [10 * MINUTE],
        channels: [
          { name: 'hook', type: 'webhook', url_secret: 'ALERT_WEBHOOK_URL' },
          { name: 'lead', type: 'webhook', url_secret: 'ALERT_LEAD_URL', escalation_level: 1 },
        ],
      },
      6,
    );
    await cron(worker, t0 + 1_000);
    const [alert] = await alertsOf(worker);
    assert.equal(alert.state, 'firing');
    const g = await generation(worker);
    const ack = await call(worker, 'POST', `/api/alerts/${alert.id}/ack`, { note: 'on it', by: 'ana' });
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    assert.equal(await generation(worker), g + 1, 'a state written by hand raises the generation');

    // Ten minutes on: an unacknowledged alert would go to the lead; this one was acknowledged.
    await cron(worker, t0 + 1_000 + 10 * MINUTE);
    assert.equal(receiver.at('/lead').length, 0);
    const [after] = await alertsOf(worker);
    assert.equal(after.acknowledged_by, 'ana');
    assert.equal(after.ack_note, 'on it');
    assert.equal(after.escalation_level, 0);
    assert.equal((await storedState(worker)).state.acknowledged_by, 'ana');
    assert.equal(receiver.at('/hook').length, 1);

    // "r2watch" and "rule" stand for r2watch's own resolutions: no person acts under them.
    const named = await call(worker, 'POST', `/api/alerts/${alert.id}/resolve`, { by: 'rule' });
    assert.equal(named.status, 422);
    assert.equal(named.body.error.field, 'by');
  } finally {
    await worker.dispose();
    await receiver.close();
  }
});

test('alert-round.js: figures as typed arrays, rules re-sent when they change, an emptied key table named again', () => {
  const engine = new Engine(new WebAssembly.Module(readFileSync(join(ROOT, 'build/wasm/r2watch.wasm'))), 0, {
    console: new WebAssembly.Module(readFileSync(join(ROOT, 'build/wasm/r2watch-console.wasm'))),
  }).consoleEngine(0);
  const rule = (threshold) =>
    engine.call('alert_rule_create', { request: { id: 'errs', name: 'errs', type: 'error_rate', threshold }, id: 'errs' }, 0).rule;
  const round = AlertRound.of(engine);
  assert.equal(AlertRound.of(engine), round, 'one round per engine');
  assert.equal(round.generation(), null);
  assert.equal(round.needsRestore(0), true);
  const t0 = Date.UTC(2026, 5, 1);
  const at = (n) => t0 + n * MINUTE;
  const series = (value) => [{ metric: 'error_rate_pct', bucket: 'photos', window_ms: 300_000, value, samples: 100, detail: `${value}%` }];
  const base = { rules: JSON.stringify([rule(20)]), settings: 'null', silences: '[]', figures: '{}' };

  // Without states the engine refuses (it must be given D1's).
  assert.throws(() => round.run({ ...base, series: series(50), generation: 1 }, at(0)), (e) => e.field === 'restore');
  const first = round.run({ ...base, series: series(50), restore: { states: '[]', ledger: 'null', generation: 0 }, generation: 1 }, at(0));
  assert.equal(first.changed.length, 1);
  assert.equal(first.changed[0].state.status, 'firing');
  assert.equal(first.changed[0].state.detail, '50%');
  assert.equal(round.generation(), 1);
  assert.equal(round.needsRestore(1), false);

  // The key table emptied behind the round's back: the series are named again, nothing is lost.
  engine.exports.r2w_alert_keys_reset();
  const same = round.run({ ...base, series: series(50), generation: 2 }, at(1));
  assert.deepEqual([same.changed.length, same.values.length, same.summary.firing, same.ledger], [0, 0, 1, null]);

  // Only the value moves: a value, not a whole state.
  const moved = round.run({ ...base, series: series(60), generation: 3 }, at(2));
  assert.equal(moved.changed.length, 0);
  assert.deepEqual(moved.values, [{ fingerprint: first.changed[0].state.fingerprint, alert_id: first.changed[0].state.alert_id, value: 60, detail: '60%' }]);

  // The rules changed: sent again, and the alert resolves under the new threshold.
  const raised = round.run({ ...base, rules: JSON.stringify([rule(70)]), series: series(60), generation: 4 }, at(3));
  assert.equal(raised.changed.length, 1);
  assert.equal(raised.changed[0].state.status, 'resolved');
  assert.equal(raised.changed[0].state.resolved_by, 'r2watch');
  assert.equal(raised.changed[0].state.threshold, 70);

  // No figure this round (none written): nothing to match.
  const none = round.run({ ...base, rules: JSON.stringify([rule(70)]), generation: 5 }, at(4));
  assert.equal(none.summary.series, 0);
  round.forget();
  assert.equal(round.generation(), null);
});
