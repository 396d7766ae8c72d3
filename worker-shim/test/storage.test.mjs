// The storage API inside workerd with real local R2 and D1. Requests are the test admin's
// (helpers.mjs), whose objects live under users/admin/ in the bucket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startWorker, call } from './helpers.mjs';

let worker;
before(async () => {
  worker = await startWorker();
});
after(async () => {
  await worker?.dispose();
});

test('a file round-trips with exact bytes and its content type', async () => {
  const bytes = randomBytes(300 * 1024);
  const put = await worker.fetch('/api/storage/files/reports/2026/q3%20summary.bin', {
    method: 'PUT',
    body: bytes,
    headers: { 'content-type': 'application/x-test' },
  });
  assert.equal(put.status, 201);
  const meta = await put.json();
  assert.equal(meta.key, 'reports/2026/q3 summary.bin');
  assert.equal(meta.size, bytes.length);

  const get = await worker.fetch('/api/storage/files/reports/2026/q3%20summary.bin');
  assert.equal(get.status, 200);
  assert.equal(get.headers.get('content-type'), 'application/x-test');
  assert.deepEqual(Buffer.from(await get.arrayBuffer()), bytes);

  const stored = await worker.bucket.get('users/admin/reports/2026/q3 summary.bin');
  assert.deepEqual(Buffer.from(await stored.arrayBuffer()), bytes);

  const head = await worker.fetch('/api/storage/files/reports/2026/q3%20summary.bin', {
    method: 'HEAD',
  });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(bytes.length));
  assert.equal(head.headers.get('etag'), `"${meta.etag}"`);
});

test('objects are served nosniff, and active types (HTML, SVG, XML, scripts) as downloads', async () => {
  const cases = [
    ['page.html', 'text/html', true],
    ['upper.html', 'TEXT/HTML; charset=utf-8', true],
    ['page.xhtml', 'application/xhtml+xml', true],
    ['pic.svg', 'image/svg+xml', true],
    ['feed.xml', 'application/rss+xml', true],
    ['data.xml', 'text/xml', true],
    ['app.js', 'text/javascript', true],
    ['lib.js', 'application/javascript', true],
    ['doc.pdf', 'application/pdf', true],
    ['notes.txt', 'text/plain', false],
    ['photo.png', 'image/png', false],
    ['blob.bin', null, false], // stored as application/octet-stream
  ];
  for (const [name, type, active] of cases) {
    const headers = type ? { 'content-type': type } : {};
    const put = await worker.fetch(`/api/storage/files/served/${name}`, { method: 'PUT', body: new TextEncoder().encode('<script>alert(1)</script>'), headers });
    assert.equal(put.status, 201, name);
    for (const method of ['GET', 'HEAD']) {
      const res = await worker.fetch(`/api/storage/files/served/${name}`, { method });
      await res.arrayBuffer();
      assert.equal(res.status, 200, `${method} ${name}`);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${method} ${name}`);
      assert.equal(res.headers.get('content-disposition'), active ? 'attachment' : null, `${method} ${name}`);
    }
  }
  // An object stored without any content type (behind r2watch's back) is a download too.
  await worker.bucket.put('users/admin/served/untyped', 'x');
  const untyped = await worker.fetch('/api/storage/files/served/untyped');
  await untyped.arrayBuffer();
  assert.equal(untyped.headers.get('content-disposition'), 'attachment');
  assert.equal(untyped.headers.get('x-content-type-options'), 'nosniff');
});

test('delete removes the object; reading it afterwards is a JSON 404', async () => {
  await worker.fetch('/api/storage/files/tmp/gone.txt', { method: 'PUT', body: 'bye' });
  const del = await worker.fetch('/api/storage/files/tmp/gone.txt', { method: 'DELETE' });
  assert.equal(del.status, 204);
  assert.equal(await worker.bucket.head('users/admin/tmp/gone.txt'), null);
  const get = await call(worker, 'GET', '/api/storage/files/tmp/gone.txt');
  assert.equal(get.status, 404);
  assert.equal(get.body.error.code, 'not_found');
  const head = await worker.fetch('/api/storage/files/tmp/gone.txt', { method: 'HEAD' });
  assert.equal(head.status, 404);
});

test('listing pages through every object under a prefix exactly once', async () => {
  const keys = Array.from({ length: 25 }, (_, i) => `page/${String(i).padStart(2, '0')}.txt`);
  await Promise.all(keys.map((k) => worker.bucket.put(`users/admin/${k}`, k)));
  await worker.bucket.put('users/admin/other/skip.txt', 'x');
  await worker.bucket.put('users/someone/page/99.txt', 'not mine');
  const seen = [];
  let cursor = null;
  let pages = 0;
  do {
    const q = new URLSearchParams({ prefix: 'page/', limit: '10' });
    if (cursor) q.set('cursor', cursor);
    const res = await call(worker, 'GET', `/api/storage/files?${q}`);
    assert.equal(res.status, 200);
    assert.ok(res.body.objects.length <= 10);
    seen.push(...res.body.objects.map((o) => o.key));
    cursor = res.body.cursor;
    assert.equal(res.body.truncated, cursor !== null);
    pages++;
  } while (cursor);
  assert.equal(pages, 3);
  assert.deepEqual(seen, keys);
});

test('bad keys and list parameters are refused naming the field, and change nothing', async () => {
  for (const [path, field] of [
    ['/api/storage/files/a%2F..%2Fb', 'key'],
    ['/api/storage/files/.r2watch/health/x', 'key'],
    ['/api/storage/files/bad%ZZ', 'key'],
    ['/api/storage/files/ctl%01char', 'key'],
  ]) {
    const res = await call(worker, 'PUT', path, 'data');
    assert.equal(res.status, 422, path);
    assert.equal(res.body.error.field, field, path);
  }
  const listed = await worker.bucket.list({ prefix: '.r2watch/' });
  assert.equal(listed.objects.length, 0);
  for (const [query, field, status] of [
    ['limit=0', 'limit', 422],
    ['limit=1001', 'limit', 422],
    ['limit=ten', 'limit', 422],
    ['prefix=../', 'prefix', 422],
    ['colour=blue', 'colour', 400],
  ]) {
    const res = await call(worker, 'GET', `/api/storage/files?${query}`);
    assert.equal(res.status, status, query);
    assert.equal(res.body.error.field, field, query);
  }
});

test('each storage route takes only its own query parameters (the engine decides), refusing the first other one before R2', async () => {
  assert.equal((await call(worker, 'PUT', '/api/storage/files/qp/kept.txt', 'kept')).status, 201);
  const created = await call(worker, 'POST', '/api/storage/files/qp/big.bin?uploads');
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.upload_id;
  for (const [method, path] of [
    ['PUT', '/api/storage/files/qp/new.txt?colour=blue'],
    ['DELETE', '/api/storage/files/qp/kept.txt?colour=blue'],
    ['GET', '/api/storage/files?prefix=qp/&colour=blue'],
    ['POST', '/api/storage/files/qp/other.bin?uploads&colour=blue'],
    ['GET', '/api/storage/uploads?colour=blue'],
    ['GET', `/api/storage/uploads/${id}?colour=blue`],
    ['PUT', `/api/storage/uploads/${id}/parts/1?colour=blue`],
    ['POST', `/api/storage/uploads/${id}/complete?colour=blue`],
    ['DELETE', `/api/storage/uploads/${id}?colour=blue`],
    // ?uploads starts an upload; on an object's PUT or DELETE it is no parameter of theirs.
    ['PUT', '/api/storage/files/qp/new.txt?uploads'],
    ['DELETE', '/api/storage/files/qp/kept.txt?uploads'],
  ]) {
    const res = await call(worker, method, path, method === 'PUT' ? 'data' : undefined);
    assert.equal(res.status, 400, `${method} ${path}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error.code, 'invalid_query', `${method} ${path}`);
    assert.equal(res.body.error.field, path.includes('colour') ? 'colour' : 'uploads', `${method} ${path}`);
    assert.match(res.body.error.message, /unknown query parameter/);
  }
  // Nothing was written, deleted or aborted.
  assert.equal(await worker.bucket.head('users/admin/qp/new.txt'), null);
  assert.notEqual(await worker.bucket.head('users/admin/qp/kept.txt'), null);
  const uploads = await call(worker, 'GET', '/api/storage/uploads');
  assert.equal(uploads.status, 200);
  assert.ok(uploads.body.uploads.some((u) => u.upload_id === id), 'the upload is still open');
  // The parameters each route takes pass.
  assert.equal((await call(worker, 'GET', '/api/storage/files?prefix=qp/&limit=5')).status, 200);
  assert.equal((await call(worker, 'GET', `/api/storage/uploads/${id}`)).status, 200);
  assert.equal((await call(worker, 'DELETE', `/api/storage/uploads/${id}`)).status, 204);
  assert.equal((await call(worker, 'DELETE', '/api/storage/files/qp/kept.txt')).status, 204);
});

test('unknown routes are 404 and wrong methods 405, in the JSON error shape', async () => {
  const missing = await call(worker, 'GET', '/api/nothing-here');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'not_found');
  const wrong = await call(worker, 'PATCH', '/api/storage/files/a.txt');
  assert.equal(wrong.status, 405);
  assert.equal(wrong.body.error.code, 'method_not_allowed');
  assert.match(wrong.headers.get('allow'), /PUT/);
  const wrongHealth = await call(worker, 'POST', '/api/health');
  assert.equal(wrongHealth.status, 405);
});

test('malformed JSON is 400 with the position; an invalid field is 422 naming it', async () => {
  const bad = await call(worker, 'PUT', '/api/health/circuit-breaker/config', '{"wait_in_open_ms": 10,');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'invalid_json');
  assert.match(bad.body.error.message, /position|JSON/);
  const before = await call(worker, 'GET', '/api/health/circuit-breaker/config');
  const invalid = await call(worker, 'PUT', '/api/health/circuit-breaker/config', {
    minimum_calls: 5,
    failure_rate_threshold_pct: 0,
  });
  assert.equal(invalid.status, 422);
  assert.equal(invalid.body.error.field, 'failure_rate_threshold_pct');
  const afterwards = await call(worker, 'GET', '/api/health/circuit-breaker/config');
  assert.deepEqual(afterwards.body, before.body);
  const tooBig = await call(worker, 'PUT', '/api/health/circuit-breaker/config', {
    pad: 'x'.repeat(70 * 1024),
  });
  assert.equal(tooBig.status, 413);
});

test('health reports storage, database, analytics and the jobs with current figures', async () => {
  const res = await call(worker, 'GET', '/api/health');
  assert.equal(res.status, 200);
  assert.equal(res.body.status, 'healthy');
  assert.deepEqual(Object.keys(res.body.components).sort(), ['analytics', 'database', 'jobs', 'storage']);
  assert.equal(res.body.components.database.status, 'healthy');
  assert.equal(res.body.circuit_breaker.state, 'closed');
  assert.ok(res.body.figures.calls > 0, 'the earlier storage calls are counted');
  assert.equal(typeof res.body.figures.avg_response_ms, 'number');
});
