// The engine is two wasm modules (wasm-bindings/modules.h): an isolate that only serves storage
// calls instantiates r2watch.wasm alone; the first dashboard or admin call instantiates
// r2watch-console.wasm beside it. The Worker says which it has instantiated where fault
// injection is on (x-r2watch-modules, src/index.js), as the test Worker has it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, call, runCron } from './helpers.mjs';

let worker;
before(async () => {
  worker = await startWorker();
});
after(async () => {
  await worker?.dispose();
});

const modulesOf = (res) => res.headers.get('x-r2watch-modules');

test('storage calls alone never instantiate the console module; a dashboard call does', async () => {
  const seen = [];
  const check = (what, res, status) => {
    assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
    seen.push([what, modulesOf(res)]);
  };
  check('PUT', await call(worker, 'PUT', '/api/storage/files/docs/a.txt', 'hello'), 201);
  check('GET', await call(worker, 'GET', '/api/storage/files/docs/a.txt'), 200);
  check('HEAD', await call(worker, 'HEAD', '/api/storage/files/docs/a.txt'), 200);
  check('LIST', await call(worker, 'GET', '/api/storage/files?prefix=docs/'), 200);
  check('GET missing', await call(worker, 'GET', '/api/storage/files/docs/none.txt'), 404);
  check('GET unauthenticated', await call(worker, 'GET', '/api/storage/files/docs/a.txt', undefined, { as: null }), 401);
  const created = await call(worker, 'POST', '/api/storage/files/docs/big.bin?uploads');
  check('multipart create', created, 201);
  const id = created.body.upload_id;
  const part = await worker.fetch(`/api/storage/uploads/${id}/parts/1`, {
    method: 'PUT',
    body: 'part-one',
    headers: { 'content-length': '8' },
  });
  const partBody = await part.json();
  check('multipart part', { status: part.status, headers: part.headers, body: partBody }, 200);
  check(
    'multipart complete',
    await call(worker, 'POST', `/api/storage/uploads/${id}/complete`, { parts: [{ part_number: 1, etag: partBody.etag }] }),
    201,
  );
  check('DELETE', await call(worker, 'DELETE', '/api/storage/files/docs/a.txt'), 204);
  for (const [what, modules] of seen) assert.equal(modules, 'r2watch', `${what} instantiated ${modules}`);

  // The dashboard's overview is the console's: instantiated now, and kept for later calls.
  const overview = await call(worker, 'GET', '/api/metrics/overview');
  assert.equal(overview.status, 200, JSON.stringify(overview.body));
  assert.equal(modulesOf(overview), 'r2watch r2watch-console');
  const after = await call(worker, 'GET', '/api/storage/files?prefix=docs/');
  assert.equal(modulesOf(after), 'r2watch r2watch-console');
});

test('the console answers with the settings the Worker gave at load (own prefix, security)', async () => {
  // metrics_settings and the overview read the same settings: the console's come from the replay.
  const overview = await call(worker, 'GET', '/api/metrics/overview');
  assert.equal(overview.status, 200);
  // A token issued by the console is accepted by the request path: both hold JWT_SECRET and
  // SECRETS_KEY (security_configure sent to both).
  const user = await call(worker, 'POST', '/api/admin/users', { id: 'mod-user', role: 'user' });
  assert.equal(user.status, 201, JSON.stringify(user.body));
  const issued = await call(worker, 'POST', '/api/admin/tokens', { user_id: 'mod-user', name: 'mod' });
  assert.equal(issued.status, 201, JSON.stringify(issued.body));
  const put = await call(worker, 'PUT', '/api/storage/files/mod/x.txt', 'x', { as: issued.body.token });
  assert.equal(put.status, 201, JSON.stringify(put.body));
});

test("an alert's force-open action reaches the request path's breaker (the round runs in the console)", async () => {
  const created = await call(worker, 'POST', '/api/alerts/rules', {
    id: 'force-errs',
    name: 'PUT errors force the breaker open',
    type: 'error_rate',
    threshold: 20,
    window_ms: 30 * 60_000,
    for_ms: 60_000,
    min_calls: 5,
    severity: 'high',
    actions: { force_breaker_open: true },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const rules = (await call(worker, 'GET', '/api/alerts/rules')).body.rules;
  for (const rule of rules.filter((r) => r.id !== 'force-errs')) {
    assert.equal((await call(worker, 'PUT', `/api/alerts/rules/${rule.id}`, { enabled: false })).status, 200);
  }
  // Failing PUTs with the breaker disabled, so only the alert can open it.
  assert.equal((await call(worker, 'POST', '/api/health/circuit-breaker/disable')).status, 200);
  assert.equal((await call(worker, 'PUT', '/api/admin/faults', { operation: 'put', error_rate: 1 })).status, 200);
  for (let i = 0; i < 10; i++) assert.equal((await call(worker, 'PUT', `/api/storage/files/force/${i}.txt`, 'x')).status, 502);
  assert.equal((await call(worker, 'PUT', '/api/admin/faults', { operation: 'put', error_rate: 0 })).status, 200);
  const t0 = Date.now();
  for (const at of [t0 + 1_000, t0 + 61_000]) {
    const run = await runCron(worker, '* * * * *', at);
    assert.equal(run.outcome, 'ok', JSON.stringify(run));
  }
  const alert = (await call(worker, 'GET', '/api/alerts')).body.alerts.find((a) => a.rule_id === 'force-errs');
  assert.equal(alert?.state, 'firing', JSON.stringify(alert));
  const breaker = await call(worker, 'GET', '/api/health/circuit-breaker');
  assert.equal(breaker.body.state, 'forced_open', JSON.stringify(breaker.body));
  const refused = await call(worker, 'GET', '/api/storage/files/docs/none.txt');
  assert.equal(refused.status, 503, 'the request path refuses R2 calls');
  // A later round does not force it again (it is forced open already, as the request path says).
  const again = await runCron(worker, '* * * * *', t0 + 121_000);
  assert.equal(again.outcome, 'ok');
  const transitions = (await call(worker, 'GET', '/api/health/circuit-breaker')).body;
  assert.equal(transitions.state, 'forced_open');
});
