// Every setting r2watch stores, stored through the API the way a person would, then read back
// through every view that reads it: its own GET, a GET-then-PUT of exactly what GET answered
// (accepted, nothing changed), every route and job that reads it, the CLI, and the same again
// after a cold start on the same persisted state (what D1 holds must be accepted by the engine).
// Issue #12: a saved budget's stored form was refused by every cost view.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startWorker, call, tempDir, ROOT, startReceiver } from './helpers.mjs';

const CLI = join(ROOT, 'cli/r2watch.mjs');

/** Asserts a 2xx answer; returns it. */
async function ok(worker, method, path, body) {
  const res = await call(worker, method, path, body);
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

/** GET `getPath`, send `pick(answer)` back with `method putPath`: accepted, and GET answers the same. */
async function getThenPut(worker, getPath, method, putPath, pick = (b) => b, strip = (b) => b) {
  const before = await ok(worker, 'GET', getPath);
  await ok(worker, method, putPath, pick(before.body));
  const after = await ok(worker, 'GET', getPath);
  assert.deepEqual(strip(after.body), strip(before.body), `${getPath} changed by sending back what it answered`);
  return after.body;
}

/** Runs the CLI against the worker; asserts exit 0 and returns stdout. */
function cli(worker, ...args) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args, '--url', worker.url], { env: { ...process.env, R2WATCH_TOKEN: worker.adminToken } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`r2watch ${args.join(' ')}: exit ${err.code}: ${stderr}${stdout}`));
      else resolve(stdout);
    });
  });
}

async function cliViews(worker) {
  const costs = await cli(worker, 'costs');
  await cli(worker, 'costs', '--by', 'bucket');
  await cli(worker, 'alerts');
  await cli(worker, 'usage');
  return costs;
}

/**
 * Runs `fn(worker)` on a Worker with persisted state, then `cold(worker)` on a Worker restarted
 * on that same state.
 */
async function withColdStart(fn, cold, vars = {}) {
  const dir = tempDir('settings');
  let worker = await startWorker({ persistDir: dir, port: 0, vars });
  try {
    await fn(worker);
    await worker.dispose();
    worker = undefined;
    worker = await startWorker({ persistDir: dir, migrate: false, port: 0, vars });
    await cold(worker);
  } finally {
    await worker?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Some usage to price and to alert on: objects in two buckets' prefixes and an inventory. */
async function seed(worker) {
  for (const [key, size] of [['photos/a.jpg', 5000], ['logs/x.log', 300]]) {
    const res = await worker.fetch(`/api/storage/files/${key}`, { method: 'PUT', body: 'x'.repeat(size) });
    assert.equal(res.status, 201);
  }
  await (await worker.fetch('/api/storage/files/photos/a.jpg')).arrayBuffer();
  await ok(worker, 'POST', '/api/admin/jobs/collect-metrics');
  await ok(worker, 'POST', '/api/admin/jobs/metrics-flush');
}

const thisMonth = () => new Date().toISOString().slice(0, 7);
const today = () => new Date().toISOString().slice(0, 10);

// ---------------------------------------------------------------------------------------------

async function budgetViews(worker) {
  const got = (await ok(worker, 'GET', '/api/costs/budgets')).body;
  assert.equal(got.budgets.length, 3);
  const account = got.budgets.find((b) => !b.bucket);
  assert.equal(account.monthly_micro_usd, 25_000_000);
  const data = got.budgets.find((b) => b.bucket === 'r2watch-data');
  assert.deepEqual([data.monthly_usd, data.monthly_micro_usd], ['12.35', 12_345_678]);
  const costs = (await ok(worker, 'GET', '/api/costs')).body;
  assert.ok(JSON.stringify(costs.budgets).includes('25000000'), JSON.stringify(costs.budgets));
  await ok(worker, 'GET', '/api/costs/breakdown?by=bucket');
  await ok(worker, 'GET', '/api/costs/breakdown?by=user');
  await ok(worker, 'GET', '/api/usage/summary?period=month');
  await ok(worker, 'POST', '/api/admin/jobs/cost');
  await ok(worker, 'POST', `/api/admin/jobs/reports?type=daily&period=${today()}`);
  await ok(worker, 'POST', `/api/admin/jobs/reports?type=monthly&period=${thisMonth()}`);
  await ok(worker, 'POST', '/api/admin/jobs/check-alerts');
  await ok(worker, 'GET', '/metrics');
  // The stored reports the report jobs wrote.
  const reports = (await ok(worker, 'GET', '/api/reports?type=daily')).body;
  const list = reports.reports ?? reports.items ?? [];
  assert.ok(list.length > 0, JSON.stringify(reports));
  await ok(worker, 'GET', `/api/reports/${encodeURIComponent(list[0].id)}?format=json`);
  await ok(worker, 'GET', `/api/reports/${encodeURIComponent(list[0].id)}?format=csv`);
  const printed = await cliViews(worker);
  assert.match(printed, /^account\s+\$25\.00/m, printed);
  assert.match(printed, /^r2watch-data\s+\$12\.35/m, printed);
}

test('budgets: stored, read back by every cost view, sent back unchanged, after a cold start', async () => {
  await withColdStart(
    async (worker) => {
      await seed(worker);
      const put = await ok(worker, 'PUT', '/api/costs/budgets', {
        budgets: [
          { monthly_usd: '25.00' },
          { bucket: 'photos', monthly_usd: 5, warn_at_pct: 90 },
          // Answered rounded to the cent ("12.35"), kept exact in monthly_micro_usd.
          { bucket: 'r2watch-data', monthly_usd: '12.345678' },
        ],
      });
      assert.equal(put.body.budgets.length, 3);
      await budgetViews(worker);
      await getThenPut(worker, '/api/costs/budgets', 'PUT', '/api/costs/budgets');
      await budgetViews(worker);
    },
    async (worker) => {
      await budgetViews(worker);
      await getThenPut(worker, '/api/costs/budgets', 'PUT', '/api/costs/budgets');
    },
  );
});

// ---------------------------------------------------------------------------------------------

/** The dashboard's what-if engine: cost-model.wasm, the browser build of the cost core. */
let costModel;
async function browserEstimate(body, versions, month) {
  if (!costModel) {
    const { default: create } = await import(join(ROOT, 'dashboard/dist/cost-model.js'));
    costModel = await create({ wasmBinary: readFileSync(join(ROOT, 'dashboard/dist/cost-model.wasm')) });
  }
  const input = JSON.stringify({ request: body, pricing: versions, month });
  const done = costModel.ccall('r2w_cost_call', 'number', ['string', 'string', 'number'], ['cost_estimate', input, Date.now()]);
  const answer = JSON.parse(costModel.UTF8ToString(costModel._r2w_cost_output()));
  assert.ok(done, `the dashboard's cost engine refused GET /api/pricing's versions: ${JSON.stringify(answer)}`);
  return answer;
}

async function pricingViews(worker) {
  const got = (await ok(worker, 'GET', '/api/pricing')).body;
  assert.equal(got.in_effect.source, 'contract 2026');
  assert.equal(got.in_effect.standard.class_a_usd_per_million, '5');
  // The dashboard's what-if prices in the page with the versions exactly as GET lists them.
  const page = await browserEstimate({ standard: { class_a: 2_000_000 } }, got.versions, got.month);
  const estimate = (await ok(worker, 'POST', '/api/costs/estimate', { standard: { class_a: 2_000_000 } })).body;
  assert.equal(estimate.class_a_micro_usd, 5_000_000); // (2M - 1M free) at $5 a million
  assert.equal(page.total_micro_usd, estimate.total_micro_usd);
  assert.equal(estimate.standard.lines.find((l) => l.line === 'class_a').unit_price_usd, '5');
  await ok(worker, 'GET', '/api/costs');
  await ok(worker, 'GET', '/api/costs/breakdown?by=class');
  await ok(worker, 'GET', '/api/costs/whatif?class=infrequent_access');
  await ok(worker, 'GET', `/api/costs/anomaly?date=${today()}`);
  await ok(worker, 'GET', '/api/usage/summary?period=month');
  await ok(worker, 'POST', '/api/admin/jobs/cost');
  await ok(worker, 'POST', `/api/admin/jobs/reports?type=daily&period=${today()}`);
  await ok(worker, 'POST', `/api/admin/jobs/reports?type=monthly&period=${thisMonth()}`);
  await ok(worker, 'POST', '/api/admin/jobs/check-alerts');
  await ok(worker, 'GET', '/metrics');
  await cliViews(worker);
}

test('price list: stored, read back by the calculator and every cost view, sent back unchanged, after a cold start', async () => {
  await withColdStart(
    async (worker) => {
      await seed(worker);
      // The built-in default in effect, sent back as read: accepted, nothing stored.
      await getThenPut(worker, '/api/pricing', 'PUT', '/api/pricing', (b) => b.in_effect);
      await getThenPut(worker, '/api/pricing', 'PUT', '/api/pricing');
      await ok(worker, 'PUT', '/api/pricing', {
        effective_from: `${thisMonth()}-01`,
        source: 'contract 2026',
        standard: { class_a_usd_per_million: '5.00', storage_usd_per_gb_month: 0.02 },
        infrequent_access: { retrieval_usd_per_gb: '0.02', min_storage_days: 30 },
        free_tier: { storage_gb_months: 10, class_a_requests: 1000000, class_b_requests: 10000000, applies_to: ['standard'] },
      });
      await pricingViews(worker);
      // What GET answers in effect, sent back as the update for this month.
      const resend = (b) => b.in_effect;
      const strip = (b) => b;
      await getThenPut(worker, '/api/pricing', 'PUT', '/api/pricing', (b) => ({ ...resend(b), effective_from: `${thisMonth()}-01` }), strip);
      // Each stored version too.
      const versions = (await ok(worker, 'GET', '/api/pricing')).body.versions;
      await getThenPut(worker, '/api/pricing', 'PUT', '/api/pricing', () => versions.at(-1), strip);
      await pricingViews(worker);
    },
    async (worker) => {
      await pricingViews(worker);
      await getThenPut(worker, '/api/pricing', 'PUT', '/api/pricing', (b) => b.in_effect);
      await getThenPut(worker, '/api/pricing', 'PUT', '/api/pricing');
    },
  );
});

// ---------------------------------------------------------------------------------------------

const RULE = {
  id: 'put-errors',
  name: 'PUT errors',
  type: 'error_rate',
  threshold: 20,
  comparison: '>',
  window_ms: 300000,
  for_ms: 60000,
  min_calls: 10,
  scope: { bucket: 'r2watch-data', prefix: 'photos/', user: '' },
  severity: 'high',
  labels: { team: 'storage' },
  enabled: true,
  repeat_interval_ms: 3_600_000,
  actions: { force_breaker_open: false, notify_user: false },
  channels: ['ops'],
};

// An inline URL must be safe anywhere (https, public): it is answered masked.
const INLINE = 'https://hooks.slack.example.com/services/T000/B000/secretpart-wxyz';
const CHANNELS = (hook) => ({
  channels: [
    { name: 'ops', type: 'webhook', url_secret: 'HOOK' },
    { name: 'chat', type: 'slack', url: hook, min_severity: 'medium' },
    { name: 'pager', type: 'pagerduty', routing_key_secret: 'PD_KEY', url_secret: 'HOOK', escalation_level: 1 },
    { name: 'mail', type: 'email', to: ['ops@example.com'], from: 'r2watch@example.com' },
    { name: 'pd', type: 'pagerduty', routing_key_secret: 'PD_KEY' }, // the default events URL, answered masked
    { name: 'am', type: 'alertmanager', url_secret: 'HOOK' },
  ],
  escalation_after_ms: [900000],
  repeat_interval_ms: 7_200_000,
  max_notices_per_type_per_hour: 4,
  max_attempts: 5,
  backoff_base_ms: 30000,
  backoff_max_ms: 1_800_000,
  dashboard_url: 'https://r2watch.example.com',
  inhibit: [{ source_severity: 'critical', target_severities: ['medium', 'low'], equal: ['bucket'] }],
});

async function alertViews(worker) {
  await ok(worker, 'GET', '/api/alerts');
  await ok(worker, 'GET', '/api/alerts/notifications');
  await ok(worker, 'POST', '/api/admin/jobs/check-alerts');
  await ok(worker, 'GET', '/metrics');
  await cliViews(worker);
}

async function ruleViews(worker) {
  const one = (await ok(worker, 'GET', '/api/alerts/rules/put-errors')).body;
  const rule = one.rule ?? one;
  assert.equal(rule.threshold, 20);
  assert.deepEqual(rule.labels, { team: 'storage' });
  assert.equal(rule.repeat_interval_ms, 3_600_000);
  const list = (await ok(worker, 'GET', '/api/alerts/rules')).body.rules;
  assert.ok(list.some((r) => r.id === 'put-errors'));
  const cost = list.find((r) => r.id === 'budget-forecast');
  assert.equal(cost.statistic, 'forecast');
  await ok(worker, 'POST', '/api/alerts/test', { channel: 'ops' });
  await alertViews(worker);
}

test('alert rules: created, read back, every rule sent back unchanged, evaluated, after a cold start', async () => {
  const receiver = await startReceiver();
  const vars = { ENVIRONMENT: 'development', HOOK: receiver.url('/hook') };
  try {
    await withColdStart(
      async (worker) => {
        await seed(worker);
        await ok(worker, 'PUT', '/api/alerts/channels', CHANNELS(INLINE));
        await ok(worker, 'POST', '/api/alerts/rules', RULE);
        await ok(worker, 'POST', '/api/alerts/rules', {
          id: 'budget-forecast',
          name: 'Forecast above $10',
          type: 'cost_threshold',
          statistic: 'forecast',
          threshold: 10,
        });
        await ok(worker, 'PUT', '/api/alerts/rules/put-errors', { threshold: 20, labels: { team: 'storage' } });
        await ruleViews(worker);
        // Every rule, the defaults too, sent back exactly as GET answered it.
        for (const r of (await ok(worker, 'GET', '/api/alerts/rules')).body.rules) {
          await getThenPut(worker, `/api/alerts/rules/${r.id}`, 'PUT', `/api/alerts/rules/${r.id}`);
          // The rule alone, as a person would cut it out of the answer.
          await getThenPut(worker, `/api/alerts/rules/${r.id}`, 'PUT', `/api/alerts/rules/${r.id}`, (b) => b.rule);
        }
        await ruleViews(worker);
      },
      async (worker) => {
        await ruleViews(worker);
        await getThenPut(worker, '/api/alerts/rules/put-errors', 'PUT', '/api/alerts/rules/put-errors');
      },
      vars,
    );
  } finally {
    await receiver.close();
  }
});

// ---------------------------------------------------------------------------------------------

async function channelViews(worker) {
  const got = (await ok(worker, 'GET', '/api/alerts/channels')).body;
  assert.deepEqual(got.channels.map((c) => c.name), ['ops', 'chat', 'pager', 'mail', 'pd', 'am']);
  assert.equal(got.repeat_interval_ms, 7_200_000);
  assert.deepEqual(got.escalation_after_ms, [900000]);
  assert.ok(!JSON.stringify(got).includes('secretpart'), 'inline URL answered masked');
  for (const channel of ['ops', 'pager', 'am']) {
    const sent = (await ok(worker, 'POST', '/api/alerts/test', { channel })).body;
    assert.ok(sent.deliveries.every((d) => d.ok), `${channel}: ${JSON.stringify(sent)}`);
  }
  await ok(worker, 'POST', '/api/alerts/test', { channel: 'mail' }); // no binding: a recorded failure
  await alertViews(worker);
}

test('channels and delivery settings: stored, read back (masked), sent back unchanged, delivered, after a cold start', async () => {
  const receiver = await startReceiver();
  const vars = { ENVIRONMENT: 'development', HOOK: receiver.url('/hook'), PD_KEY: 'routing-key-1' };
  // The inline URL is the receiver's too (development allows 127.0.0.1), so a delivery proves
  // the real URL survived: D1 holds the settings sealed, never the URL itself.
  const inline = receiver.url('/inline/secretpart-wxyz');
  const inlineDelivered = async (worker) => {
    const before = receiver.received.filter((r) => r.path === '/inline/secretpart-wxyz').length;
    const sent = (await ok(worker, 'POST', '/api/alerts/test', { channel: 'chat' })).body;
    assert.ok(sent.deliveries.every((d) => d.ok), `chat: ${JSON.stringify(sent)}`);
    assert.equal(receiver.received.filter((r) => r.path === '/inline/secretpart-wxyz').length, before + 1);
  };
  try {
    await withColdStart(
      async (worker) => {
        await seed(worker);
        await ok(worker, 'PUT', '/api/alerts/channels', CHANNELS(inline));
        await channelViews(worker);
        await inlineDelivered(worker);
        await getThenPut(worker, '/api/alerts/channels', 'PUT', '/api/alerts/channels');
        await channelViews(worker);
        // Sent back masked, the inline URL is kept as stored: still delivered to, never in D1.
        await inlineDelivered(worker);
        const stored = await worker.db.prepare('SELECT settings_json FROM alert_config WHERE id = 1').first();
        assert.ok(!stored.settings_json.includes('secretpart'), 'the stored settings are sealed');
      },
      async (worker) => {
        await channelViews(worker);
        await inlineDelivered(worker);
        await getThenPut(worker, '/api/alerts/channels', 'PUT', '/api/alerts/channels');
        await inlineDelivered(worker);
        // A masked URL an earlier r2watch stored, in a row written before sealing (plain JSON),
        // still loads: every view answers, and sending it back changes nothing.
        const answered = (await ok(worker, 'GET', '/api/alerts/channels')).body;
        await worker.db.prepare('UPDATE alert_config SET settings_json = ? WHERE id = 1').bind(JSON.stringify(answered)).run();
        await getThenPut(worker, '/api/alerts/channels', 'PUT', '/api/alerts/channels');
        await channelViews(worker);
      },
      vars,
    );
  } finally {
    await receiver.close();
  }
});

// ---------------------------------------------------------------------------------------------

async function silenceViews(worker, ids) {
  const got = (await ok(worker, 'GET', '/api/alerts/silences')).body.silences;
  for (const id of ids) assert.ok(got.some((s) => s.id === id), `silence ${id} listed`);
  const maint = got.find((s) => s.kind === 'maintenance');
  assert.equal(maint.comment, 'disk swap');
  await alertViews(worker);
}

test('silences and maintenance windows: stored, listed, a listed one sent back is accepted, evaluated, after a cold start', async () => {
  const ids = [];
  await withColdStart(
    async (worker) => {
      await seed(worker);
      const now = Date.now();
      const s1 = await ok(worker, 'POST', '/api/alerts/silences', {
        kind: 'silence',
        ends_at_ms: now + 3_600_000,
        matchers: [{ name: 'rule_id', value: 'high_error_rate' }, { name: 'bucket', value: 'other', op: '!=' }],
        comment: 'known: the client retries',
        created_by: 'ops',
      });
      const s2 = await ok(worker, 'POST', '/api/alerts/silences', {
        kind: 'maintenance',
        starts_at_ms: now,
        ends_at_ms: now + 7_200_000,
        matchers: [{ name: 'severity', value: 'low', op: '=' }],
        comment: 'disk swap',
        created_by: 'ops',
      });
      for (const s of [s1, s2]) ids.push((s.body.silence ?? s.body).id);
      await silenceViews(worker, ids);
      // Silences have no update route: a person copying a listed one sends back what they read
      // but the id r2watch gave it (refused by design: "id is given by r2watch").
      const listed = (await ok(worker, 'GET', '/api/alerts/silences')).body.silences;
      const { id: _id, ...readBack } = listed.find((s) => s.id === ids[1]);
      const copy = await ok(worker, 'POST', '/api/alerts/silences', readBack);
      ids.push((copy.body.silence ?? copy.body).id);
      await silenceViews(worker, ids);
    },
    async (worker) => {
      await silenceViews(worker, ids);
    },
  );
});

// ---------------------------------------------------------------------------------------------

async function monitorViews(worker) {
  const got = (await ok(worker, 'GET', '/api/health/config')).body.config;
  assert.equal(got.timeout_ms, 4000);
  assert.equal(got.failure_threshold, 4);
  assert.deepEqual(got.test_operations, ['get', 'put', 'head']);
  const round = (await ok(worker, 'POST', '/api/health/check')).body;
  assert.deepEqual(round.checks.map((c) => c.operation).sort(), ['get', 'head', 'put']);
  await ok(worker, 'POST', '/api/admin/jobs/collect-metrics');
  await ok(worker, 'GET', '/api/health');
  const breaker = (await ok(worker, 'GET', '/api/health/circuit-breaker')).body;
  assert.equal(breaker.options.consecutive_failure_threshold, 4);
  assert.equal(breaker.options.wait_in_open_ms, 90000);
  assert.equal(breaker.options.slow_call_duration_ms, 1500);
  await ok(worker, 'GET', '/api/health/history?limit=5');
  await ok(worker, 'GET', '/api/health/metrics?hours=24');
  await ok(worker, 'POST', '/api/admin/jobs/retention');
  await ok(worker, 'GET', '/metrics');
  assert.match(await cli(worker, 'health', 'check'), /3 of 3 probes ok/);
  await cli(worker, 'health');
}

test('health monitor config: stored, read back, sent back unchanged, used by probe rounds, after a cold start', async () => {
  await withColdStart(
    async (worker) => {
      await ok(worker, 'PUT', '/api/health/config', {
        timeout_ms: 4000,
        failure_threshold: 4,
        recovery_timeout_ms: 90000,
        slow_response_threshold_ms: 1500,
        test_operations: ['get', 'put', 'head'],
        retention_days: 14,
        check_interval_ms: 60000,
        alert_on_recovery: false,
      });
      await monitorViews(worker);
      await getThenPut(worker, '/api/health/config', 'PUT', '/api/health/config', (b) => b.config);
      await getThenPut(worker, '/api/health/config', 'PUT', '/api/health/config');
      await monitorViews(worker);
    },
    async (worker) => {
      await monitorViews(worker);
      await getThenPut(worker, '/api/health/config', 'PUT', '/api/health/config', (b) => b.config);
    },
  );
});

// ---------------------------------------------------------------------------------------------

async function breakerViews(worker) {
  const got = (await ok(worker, 'GET', '/api/health/circuit-breaker/config')).body;
  assert.equal(got.window_type, 'count_based');
  assert.equal(got.window_size_calls, 20);
  assert.equal(got.wait_in_open_ms, 45000);
  assert.equal(got.ema_alpha, 0.3);
  const status = (await ok(worker, 'GET', '/api/health/circuit-breaker')).body;
  assert.equal(status.options.window_size_calls, 20);
  assert.equal(status.state, 'closed');
  await ok(worker, 'PUT', '/api/storage/files/docs/b.txt', 'hello');
  await ok(worker, 'GET', '/api/storage/files/docs/b.txt');
  await ok(worker, 'GET', '/api/health');
  await ok(worker, 'GET', '/api/health/circuit-breaker/events');
  await ok(worker, 'GET', '/api/usage/status');
  const metrics = await ok(worker, 'GET', '/metrics');
  assert.match(metrics.body, /breaker/);
  await ok(worker, 'POST', '/api/health/check');
  await ok(worker, 'POST', '/api/admin/jobs/check-alerts');
  assert.match(await cli(worker, 'status'), /^r2watch-data\s+closed/m);
  await cli(worker, 'health');
}

test('circuit breaker config: stored, read back, sent back unchanged, used by storage calls, after a cold start', async () => {
  await withColdStart(
    async (worker) => {
      await ok(worker, 'PUT', '/api/health/circuit-breaker/config', {
        window_type: 'count_based',
        window_size_calls: 20,
        wait_in_open_ms: 45000,
        ema_alpha: 0.3,
        failure_rate_threshold_pct: 60,
        minimum_calls: 5,
      });
      await breakerViews(worker);
      await getThenPut(worker, '/api/health/circuit-breaker/config', 'PUT', '/api/health/circuit-breaker/config');
      // The options as the breaker's status answers them.
      const status = (await ok(worker, 'GET', '/api/health/circuit-breaker')).body;
      await ok(worker, 'PUT', '/api/health/circuit-breaker/config', status.options);
      await breakerViews(worker);
    },
    async (worker) => {
      await breakerViews(worker);
      await getThenPut(worker, '/api/health/circuit-breaker/config', 'PUT', '/api/health/circuit-breaker/config');
      const status = (await ok(worker, 'GET', '/api/health/circuit-breaker')).body;
      await ok(worker, 'PUT', '/api/health/circuit-breaker/config', status.options);
      await breakerViews(worker);
    },
  );
});

// ---------------------------------------------------------------------------------------------

async function faultViews(worker) {
  const got = (await ok(worker, 'GET', '/api/admin/faults')).body;
  assert.deepEqual(got.faults.get, { error_rate: 0, latency_ms: 5 });
  assert.equal(got.faults.list.error_rate, 0.25);
  await ok(worker, 'GET', '/api/storage/files/photos/a.jpg');
  await ok(worker, 'GET', '/api/health');
  await ok(worker, 'GET', '/api/health/circuit-breaker');
  await ok(worker, 'GET', '/metrics');
  await ok(worker, 'POST', '/api/admin/jobs/check-alerts');
}

test('fault plans: stored, read back, sent back unchanged, applied, after a cold start', async () => {
  await withColdStart(
    async (worker) => {
      await seed(worker);
      await ok(worker, 'PUT', '/api/admin/faults', { operation: 'get', latency_ms: 5 });
      await ok(worker, 'PUT', '/api/admin/faults', { operation: 'list', error_rate: 0.25 });
      await faultViews(worker);
      // Each operation's plan as GET answered it, sent back.
      const { faults } = (await ok(worker, 'GET', '/api/admin/faults')).body;
      for (const [operation, plan] of Object.entries(faults)) {
        await getThenPut(worker, '/api/admin/faults', 'PUT', '/api/admin/faults', () => ({ operation, ...plan }));
      }
      // Exactly what GET answered, sent back whole.
      await getThenPut(worker, '/api/admin/faults', 'PUT', '/api/admin/faults');
      await faultViews(worker);
    },
    async (worker) => {
      await faultViews(worker);
      await getThenPut(worker, '/api/admin/faults', 'PUT', '/api/admin/faults');
    },
  );
});

// ---------------------------------------------------------------------------------------------

async function userViews(worker, tokens) {
  const users = (await ok(worker, 'GET', '/api/admin/users')).body.users;
  const alice = users.find((u) => u.id === 'alice');
  assert.equal(alice.email, 'alice@example.com');
  assert.equal(alice.role, 'user');
  const one = (await ok(worker, 'GET', '/api/admin/users/alice')).body;
  assert.equal((one.user ?? one).id, 'alice');
  assert.equal(one.quota?.max_bytes ?? one.user?.quota?.max_bytes, 1_000_000);
  const listed = (await ok(worker, 'GET', '/api/admin/tokens?user_id=alice')).body.tokens;
  assert.equal(listed.length, 2);
  const readonly = listed.find((t) => t.role === 'readonly');
  assert.ok(readonly.expires_at);
  // The tokens work as made.
  const who = await call(worker, 'GET', '/api/auth/whoami', undefined, { as: tokens.user });
  assert.equal(who.status, 200);
  assert.equal(who.body.user, 'alice');
  assert.equal((await call(worker, 'GET', '/api/auth/whoami', undefined, { as: tokens.readonly })).body.role, 'readonly');
  const up = await call(worker, 'PUT', '/api/storage/files/alice/notes.txt', 'x'.repeat(100), { as: tokens.user });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  assert.equal((await call(worker, 'PUT', '/api/storage/files/alice/n2.txt', 'x', { as: tokens.readonly })).status, 403);
  // Quota views.
  const quota = (await ok(worker, 'GET', '/api/quota?user=alice')).body;
  assert.ok(JSON.stringify(quota).includes('1000000'), JSON.stringify(quota));
  const own = await call(worker, 'GET', '/api/quota', undefined, { as: tokens.user });
  assert.equal(own.status, 200, JSON.stringify(own.body));
  const quotas = (await ok(worker, 'GET', '/api/admin/quotas')).body.users;
  const aq = quotas.find((q) => q.user_id === 'alice' || q.user === 'alice' || q.id === 'alice');
  assert.ok(aq, JSON.stringify(quotas));
  assert.ok(JSON.stringify(aq).includes('1000000'));
  const storage = await call(worker, 'GET', '/api/storage/usage', undefined, { as: tokens.user });
  assert.equal(storage.status, 200, JSON.stringify(storage.body));
  assert.equal(storage.body.quota.max_bytes, 1_000_000);
  await ok(worker, 'GET', '/api/storage/usage?user=alice');
  await ok(worker, 'POST', '/api/admin/jobs/check-alerts');
  await ok(worker, 'GET', '/api/costs?user=alice');
  await ok(worker, 'GET', '/api/costs/breakdown?by=user');
  await ok(worker, 'GET', '/api/admin/audit?limit=5');
  await cliViews(worker);
}

test('users, tokens and quotas: created, read back, quota sent back unchanged, enforced, after a cold start', async () => {
  const tokens = {};
  await withColdStart(
    async (worker) => {
      await ok(worker, 'POST', '/api/admin/users', { id: 'alice', role: 'user', name: 'Alice', email: 'alice@example.com' });
      tokens.user = (await ok(worker, 'POST', '/api/admin/tokens', { user_id: 'alice', name: 'laptop', scopes: ['*'] })).body.token;
      tokens.readonly = (await ok(worker, 'POST', '/api/admin/tokens', { user_id: 'alice', name: 'ci', role: 'readonly', expires_in_days: 30 })).body.token;
      await ok(worker, 'PUT', '/api/admin/users/alice/quota', { max_bytes: 1_000_000, max_objects: 50 });
      await userViews(worker, tokens);
      // The quota as GET /api/admin/users/{id} answers it, sent back.
      const quotaOf = (b) => b.quota ?? b.user?.quota;
      await getThenPut(worker, '/api/admin/users/alice', 'PUT', '/api/admin/users/alice/quota', quotaOf, (b) => quotaOf(b));
      // ...and as GET /api/quota and GET /api/admin/quotas answer it.
      await getThenPut(worker, '/api/quota?user=alice', 'PUT', '/api/admin/users/alice/quota');
      const row = (b) => b.users.find((u) => u.user_id === 'alice');
      await getThenPut(worker, '/api/admin/quotas', 'PUT', '/api/admin/users/alice/quota', row, row);
      // An upload past the quota is refused.
      const big = await call(worker, 'PUT', '/api/storage/files/alice/big.bin', 'x'.repeat(1_000_001), { as: tokens.user });
      assert.ok([403, 413, 507].includes(big.status), `${big.status} ${JSON.stringify(big.body)}`);
      await userViews(worker, tokens);
    },
    async (worker) => {
      await userViews(worker, tokens);
      const quotaOf = (b) => b.quota ?? b.user?.quota;
      await getThenPut(worker, '/api/admin/users/alice', 'PUT', '/api/admin/users/alice/quota', quotaOf, (b) => quotaOf(b));
    },
  );
});
