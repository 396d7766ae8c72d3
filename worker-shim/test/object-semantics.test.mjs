// Reads behave like an object store: Range (206, 416, a malformed one ignored), conditional
// requests (304, 412, If-Range), ETag and Last-Modified kept, custom metadata round-tripped as
// x-r2watch-meta-* headers. In workerd with real local R2 and D1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, call } from './helpers.mjs';

let worker;
const BYTES = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
const PATH = '/api/storage/files/docs/thousand.bin';

before(async () => {
  worker = await startWorker();
  const put = await worker.fetch(PATH, { method: 'PUT', body: BYTES, headers: { 'content-type': 'application/x-test' } });
  assert.equal(put.status, 201);
});
after(async () => {
  await worker?.dispose();
});

async function get(headers, method = 'GET', path = PATH) {
  const res = await worker.fetch(path, { method, headers });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body };
}

test('a single byte range is a 206 with exactly those bytes and its Content-Range', async () => {
  for (const [range, first, last] of [
    ['bytes=10-19', 10, 19],
    ['bytes=0-0', 0, 0],
    ['bytes=990-', 990, 999],
    ['bytes=-5', 995, 999],
    ['bytes=995-5000', 995, 999], // a last byte past the end is the end
    ['bytes=-5000', 0, 999], // a suffix longer than the object is all of it
    ['Bytes = 100-199', 100, 199],
  ]) {
    const res = await get({ range });
    assert.equal(res.status, 206, range);
    assert.equal(res.headers.get('content-range'), `bytes ${first}-${last}/1000`, range);
    assert.equal(res.headers.get('content-length'), String(last - first + 1), range);
    assert.deepEqual(res.body, BYTES.subarray(first, last + 1), range);
    assert.equal(res.headers.get('content-type'), 'application/x-test', range);
    assert.equal(res.headers.get('accept-ranges'), 'bytes', range);
  }
});

test('an unsatisfiable range is a 416 naming the size; it is the client\'s error, not R2\'s', async () => {
  for (const range of ['bytes=1000-', 'bytes=5000-6000', 'bytes=-0']) {
    const res = await call(worker, 'GET', PATH, undefined, { headers: { range } });
    assert.equal(res.status, 416, range);
    assert.equal(res.headers.get('content-range'), 'bytes */1000', range);
    assert.equal(res.body.error.code, 'range_not_satisfiable', range);
    assert.equal(res.body.error.field, 'range');
  }
  // Many of them do not open the breaker: R2 answered correctly each time.
  for (let i = 0; i < 30; i++) {
    const res = await worker.fetch(PATH, { headers: { range: 'bytes=2000-' } });
    await res.arrayBuffer();
    assert.equal(res.status, 416);
  }
  const breaker = await call(worker, 'GET', '/api/health/circuit-breaker');
  assert.equal(breaker.body.state, 'closed');
  // An empty object has no byte to give.
  await worker.fetch('/api/storage/files/docs/empty', { method: 'PUT', body: '' });
  const empty = await get({ range: 'bytes=0-' }, 'GET', '/api/storage/files/docs/empty');
  assert.equal(empty.status, 416);
  assert.equal(empty.headers.get('content-range'), 'bytes */0');
});

test('a malformed or multi-range Range is ignored (RFC 9110): the whole object, 200', async () => {
  for (const range of ['bytes=abc', 'bytes=20-10', 'items=0-5', 'bytes=0-1,5-6', 'bytes=', '0-5']) {
    const res = await get({ range });
    assert.equal(res.status, 200, range);
    assert.deepEqual(res.body, BYTES, range);
    assert.equal(res.headers.get('content-range'), null, range);
  }
  // HEAD ignores Range.
  const head = await get({ range: 'bytes=0-9' }, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), '1000');
});

test('ETag and Last-Modified are R2\'s, and answer conditional requests with 304 and 412', async () => {
  const stored = await worker.bucket.head('users/admin/docs/thousand.bin');
  const first = await get({});
  const etag = first.headers.get('etag');
  assert.equal(etag, stored.httpEtag);
  const lastModified = first.headers.get('last-modified');
  assert.equal(Date.parse(lastModified), Math.floor(stored.uploaded.getTime() / 1000) * 1000);

  for (const [headers, status] of [
    [{ 'if-none-match': etag }, 304],
    [{ 'if-none-match': `W/${etag}` }, 304],
    [{ 'if-none-match': `"nope", ${etag}` }, 304],
    [{ 'if-none-match': '*' }, 304],
    [{ 'if-none-match': '"nope"' }, 200],
    [{ 'if-modified-since': lastModified }, 304],
    [{ 'if-modified-since': new Date(Date.parse(lastModified) - 1000).toUTCString() }, 200],
    [{ 'if-modified-since': 'not a date' }, 200],
    // If-None-Match wins over If-Modified-Since.
    [{ 'if-none-match': '"nope"', 'if-modified-since': lastModified }, 200],
    [{ 'if-match': etag }, 200],
    [{ 'if-match': '"nope"' }, 412],
    [{ 'if-unmodified-since': new Date(Date.parse(lastModified) - 1000).toUTCString() }, 412],
    [{ 'if-unmodified-since': lastModified }, 200],
    // Conditions come before the range.
    [{ 'if-none-match': etag, range: 'bytes=0-9' }, 304],
  ]) {
    for (const method of ['GET', 'HEAD']) {
      const res = await get(headers, method);
      assert.equal(res.status, status, `${method} ${JSON.stringify(headers)}`);
      if (status === 304) {
        assert.equal(res.body.length, 0);
        assert.equal(res.headers.get('etag'), etag);
        assert.equal(res.headers.get('last-modified'), lastModified);
      }
      if (status === 412 && method === 'GET') assert.equal(JSON.parse(res.body).error.code, 'precondition_failed');
      if (status === 200 && method === 'GET') assert.deepEqual(res.body, BYTES);
    }
  }
});

test('If-Range keeps a range only for the version it names; a new version changes the ETag', async () => {
  const path = '/api/storage/files/docs/versioned.txt';
  await worker.fetch(path, { method: 'PUT', body: 'version one, long enough' });
  const v1 = (await get({}, 'HEAD', path)).headers.get('etag');
  const partial = await get({ range: 'bytes=0-6', 'if-range': v1 }, 'GET', path);
  assert.equal(partial.status, 206);
  assert.equal(partial.body.toString(), 'version');
  await worker.fetch(path, { method: 'PUT', body: 'version two, longer than the first' });
  const whole = await get({ range: 'bytes=0-6', 'if-range': v1 }, 'GET', path);
  assert.equal(whole.status, 200);
  assert.equal(whole.body.toString(), 'version two, longer than the first');
  const v2 = whole.headers.get('etag');
  assert.notEqual(v2, v1);
  // The old ETag no longer matches: a cache holding version one gets version two.
  const fresh = await get({ 'if-none-match': v1 }, 'GET', path);
  assert.equal(fresh.status, 200);
  assert.equal(fresh.body.toString(), 'version two, longer than the first');
  assert.equal((await get({ 'if-none-match': v2 }, 'GET', path)).status, 304);
});

test('x-r2watch-meta-* headers are stored as R2 custom metadata and come back on GET and HEAD', async () => {
  const path = '/api/storage/files/docs/tagged.txt';
  const put = await worker.fetch(path, {
    method: 'PUT',
    body: 'tagged',
    headers: { 'X-R2watch-Meta-Owner': 'ana', 'x-r2watch-meta-build_id': '42 (nightly)', 'x-other': 'not kept' },
  });
  assert.equal(put.status, 201);
  const stored = await worker.bucket.head('users/admin/docs/tagged.txt');
  assert.deepEqual(stored.customMetadata, { owner: 'ana', build_id: '42 (nightly)' });
  for (const method of ['GET', 'HEAD']) {
    const res = await get({}, method, path);
    assert.equal(res.headers.get('x-r2watch-meta-owner'), 'ana', method);
    assert.equal(res.headers.get('x-r2watch-meta-build_id'), '42 (nightly)', method);
    assert.equal(res.headers.get('x-other'), null, method);
  }
  // Written around r2watch with a name no header can carry: the rest still comes back.
  await worker.bucket.put('users/admin/docs/foreign.txt', 'x', { customMetadata: { 'Bad Name': 'x', fine: 'yes' } });
  const foreign = await get({}, 'GET', '/api/storage/files/docs/foreign.txt');
  assert.equal(foreign.headers.get('x-r2watch-meta-fine'), 'yes');
});

test('bad metadata is refused naming the header, and nothing is stored', async () => {
  for (const [headers, field] of [
    [{ 'x-r2watch-meta-a.b': 'v' }, 'x-r2watch-meta-a.b'],
    [{ [`x-r2watch-meta-${'n'.repeat(65)}`]: 'v' }, `x-r2watch-meta-${'n'.repeat(65)}`],
    [{ 'x-r2watch-meta-a': 'v'.repeat(1500), 'x-r2watch-meta-b': 'v'.repeat(600) }, 'x-r2watch-meta-b'],
  ]) {
    const res = await call(worker, 'PUT', '/api/storage/files/docs/refused.txt', 'data', { headers });
    assert.equal(res.status, 422, field);
    assert.equal(res.body.error.field, field);
  }
  assert.equal(await worker.bucket.head('users/admin/docs/refused.txt'), null);
});

test('If-None-Match: * creates only, If-Match replaces only the version named; a failed one writes nothing', async () => {
  const path = '/api/storage/files/docs/once.txt';
  const first = await call(worker, 'PUT', path, 'first', { headers: { 'if-none-match': '*' } });
  assert.equal(first.status, 201);
  const etag = `"${first.body.etag}"`;
  const again = await call(worker, 'PUT', path, 'second', { headers: { 'if-none-match': '*' } });
  assert.equal(again.status, 412);
  assert.equal(again.body.error.code, 'precondition_failed');
  assert.equal(again.body.error.field, 'if-none-match');
  assert.equal(await (await worker.bucket.get('users/admin/docs/once.txt')).text(), 'first');
  const stale = await call(worker, 'PUT', path, 'third', { headers: { 'if-match': '"not-the-etag"' } });
  assert.equal(stale.status, 412);
  assert.equal(stale.body.error.field, 'if-match');
  const replaced = await call(worker, 'PUT', path, 'fourth', { headers: { 'if-match': etag } });
  assert.equal(replaced.status, 201);
  assert.equal(await (await worker.bucket.get('users/admin/docs/once.txt')).text(), 'fourth');
  // Usage follows what was written: one object of 6 bytes, no reservation left behind.
  const { n } = await worker.db.prepare('SELECT COUNT(*) AS n FROM quota_reservations').first();
  assert.equal(n, 0);
  const row = await worker.db.prepare("SELECT size FROM user_objects WHERE user_id = 'admin' AND key = 'docs/once.txt'").first();
  assert.equal(row.size, 6);
  // A precondition that is not one is refused rather than ignored.
  const junk = await call(worker, 'PUT', path, 'fifth', { headers: { 'if-match': 'not-quoted' } });
  assert.equal(junk.status, 422);
  assert.equal(junk.body.error.field, 'if-match');
  assert.equal(await (await worker.bucket.get('users/admin/docs/once.txt')).text(), 'fourth');
});
