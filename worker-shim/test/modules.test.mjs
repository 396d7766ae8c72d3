// The engine is two wasm modules (wasm-bindings/modules.h): an isolate that only serves storage
// calls instantiates r2watch.wasm alone; the first dashboard or admin call instantiates
// r2watch-console.wasm beside it. The Worker says which it has instantiated where fault
// injection is on (x-r2watch-modules, src/index.js), as the test Worker has it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, call } from './helpers.mjs';

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
