// Multipart uploads through the storage API, in workerd with real local R2 and D1: a person
// uploads a large file in parts, lists them, completes it and reads it back; bad part numbers,
// unknown uploads and misordered parts are refused naming the field; an abort leaves nothing
// behind in R2; parts count against the quota while they are stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { startWorker, call, tokenFor } from './helpers.mjs';

const MiB = 1024 * 1024;
let worker;
before(async () => {
  worker = await startWorker();
});
after(async () => {
  await worker?.dispose();
});

async function create(path, headers = {}, as) {
  if (as) headers.authorization = `Bearer ${as}`;
  const res = await worker.fetch(`/api/storage/files/${path}?uploads`, { method: 'POST', headers });
  return { status: res.status, body: await res.json() };
}

async function putPart(id, n, bytes, as) {
  const headers = { 'content-length': String(bytes.length) };
  if (as) headers.authorization = `Bearer ${as}`;
  const res = await worker.fetch(`/api/storage/uploads/${id}/parts/${n}`, { method: 'PUT', body: bytes, headers });
  return { status: res.status, body: await res.json() };
}

const reservations = async () => (await worker.db.prepare('SELECT COUNT(*) AS n FROM quota_reservations').first()).n;
const r2UploadId = async (id) => (await worker.db.prepare('SELECT r2_upload_id FROM multipart_uploads WHERE id = ?').bind(id).first())?.r2_upload_id;

test('a large file goes up in parts, is listed, completed and read back byte for byte', async () => {
  const token = await tokenFor(worker, 'mia');
  await call(worker, 'PUT', '/api/admin/users/mia/quota', { max_bytes: 1000 * MiB });
  const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(123_457)];
  const whole = Buffer.concat(parts);
  const created = await create('videos/big.mp4', { 'content-type': 'video/mp4', 'x-r2watch-meta-camera': 'front' }, token);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.key, 'videos/big.mp4');
  const id = created.body.upload_id;
  assert.ok(Date.parse(created.body.expires_at) - Date.parse(created.body.created_at) >= 7 * 24 * 3600 * 1000 - 1000);

  // Parts may arrive in any order; each answers its etag.
  const etags = {};
  for (const n of [2, 1, 3]) {
    const res = await putPart(id, n, parts[n - 1], token);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.part_number, n);
    assert.equal(res.body.size_bytes, parts[n - 1].length);
    etags[n] = res.body.etag;
  }
  const listed = await call(worker, 'GET', `/api/storage/uploads/${id}`, undefined, { as: token });
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body.parts.map((p) => [p.part_number, p.etag, p.size_bytes]), [1, 2, 3].map((n) => [n, etags[n], parts[n - 1].length]));
  const open = await call(worker, 'GET', '/api/storage/uploads', undefined, { as: token });
  assert.deepEqual(open.body.uploads.map((u) => [u.upload_id, u.parts, u.size_bytes]), [[id, 3, whole.length]]);
  // Nothing at the key yet; the object and its parts are reserved against the user's quota.
  assert.equal((await call(worker, 'GET', '/api/storage/files/videos/big.mp4', undefined, { as: token })).status, 404);
  assert.equal(await reservations(), 4);

  const done = await call(worker, 'POST', `/api/storage/uploads/${id}/complete`,
    { parts: [1, 2, 3].map((n) => ({ part_number: n, etag: etags[n] })) }, { as: token });
  assert.equal(done.status, 201, JSON.stringify(done.body));
  assert.equal(done.body.key, 'videos/big.mp4');
  assert.equal(done.body.size, whole.length);

  const res = await worker.fetch('/api/storage/files/videos/big.mp4', { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'video/mp4');
  assert.equal(res.headers.get('x-r2watch-meta-camera'), 'front');
  const got = Buffer.from(await res.arrayBuffer());
  assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(whole).digest('hex'));
  // A range across the boundary of two parts.
  const across = await worker.fetch('/api/storage/files/videos/big.mp4', {
    headers: { authorization: `Bearer ${token}`, range: `bytes=${5 * MiB - 3}-${5 * MiB + 2}` },
  });
  assert.equal(across.status, 206);
  assert.deepEqual(Buffer.from(await across.arrayBuffer()), whole.subarray(5 * MiB - 3, 5 * MiB + 3));

  // Usage is the object's size; the reservations ended; the upload is gone.
  const quota = await call(worker, 'GET', '/api/quota?user=mia');
  assert.equal(quota.body.bytes, whole.length);
  assert.equal(quota.body.objects, 1);
  assert.equal(await reservations(), 0);
  assert.equal((await call(worker, 'GET', `/api/storage/uploads/${id}`, undefined, { as: token })).status, 404);
  assert.deepEqual((await call(worker, 'GET', '/api/storage/uploads', undefined, { as: token })).body.uploads, []);
});

test('completing with no part list takes every uploaded part in order', async () => {
  const created = await create('logs/all.txt');
  const id = created.body.upload_id;
  await putPart(id, 1, Buffer.alloc(5 * MiB, 'a'));
  await putPart(id, 2, Buffer.from('tail'));
  const done = await worker.fetch(`/api/storage/uploads/${id}/complete`, { method: 'POST' });
  assert.equal(done.status, 201);
  assert.equal((await done.json()).size, 5 * MiB + 4);
  const stored = await worker.bucket.head('users/admin/logs/all.txt');
  assert.equal(stored.size, 5 * MiB + 4);
});

test('bad part numbers, unknown uploads and misordered or stale parts are refused naming the field', async () => {
  const created = await create('bad/x.bin');
  const id = created.body.upload_id;
  for (const n of ['0', '10001', 'abc', '1.5', '-1']) {
    const res = await putPart(id, n, Buffer.from('x'));
    assert.equal(res.status, 400, n);
    assert.equal(res.body.error.code, 'invalid_part', n);
    assert.equal(res.body.error.field, 'part_number', n);
  }
  assert.equal((await putPart(id, 10000, Buffer.from('x'))).status, 200);
  for (const [method, path] of [
    ['PUT', '/api/storage/uploads/no-such-upload/parts/1'],
    ['GET', '/api/storage/uploads/no-such-upload'],
    ['POST', '/api/storage/uploads/no-such-upload/complete'],
    ['DELETE', '/api/storage/uploads/no-such-upload'],
  ]) {
    const res = await call(worker, method, path, method === 'POST' ? { parts: [] } : method === 'PUT' ? 'x' : undefined);
    assert.equal(res.status, 404, `${method} ${path}`);
    assert.equal(res.body.error.code, 'no_such_upload');
    assert.equal(res.body.error.field, 'upload_id');
  }
  // Another user's upload is not theirs to touch.
  const other = await tokenFor(worker, 'olga');
  assert.equal((await putPart(id, 1, Buffer.from('x'), other)).status, 404);
  assert.equal((await call(worker, 'DELETE', `/api/storage/uploads/${id}`, undefined, { as: other })).status, 404);

  const p1 = (await putPart(id, 1, Buffer.alloc(5 * MiB, 1))).body.etag;
  const p2 = (await putPart(id, 2, Buffer.alloc(5 * MiB, 2))).body.etag;
  for (const [parts, code, field] of [
    [[{ part_number: 2, etag: p2 }, { part_number: 1, etag: p1 }], 'invalid_part_order', 'parts[1].part_number'],
    [[{ part_number: 1, etag: p1 }, { part_number: 1, etag: p1 }], 'invalid_part_order', 'parts[1].part_number'],
    [[{ part_number: 1, etag: p1 }, { part_number: 7, etag: p1 }], 'invalid_part', 'parts[1].part_number'],
    [[{ part_number: 1, etag: p2 }], 'invalid_part', 'parts[0].etag'],
    [[{ part_number: 0, etag: p1 }], 'invalid_part', 'parts[0].part_number'],
    [[{ part_number: 1 }], 'invalid_part', 'parts[0].etag'],
    [[], 'invalid_part', 'parts'],
  ]) {
    const res = await call(worker, 'POST', `/api/storage/uploads/${id}/complete`, { parts });
    assert.equal(res.status, 400, JSON.stringify(parts));
    assert.equal(res.body.error.code, code, JSON.stringify(parts));
    assert.equal(res.body.error.field, field, JSON.stringify(parts));
  }
  // A part without a length cannot be streamed to R2.
  const chunked = await worker.fetch(`/api/storage/uploads/${id}/parts/3`, {
    method: 'PUT',
    body: new ReadableStream({ start(c) { c.enqueue(new Uint8Array(10)); c.close(); } }),
    duplex: 'half',
  });
  assert.equal(chunked.status, 411);
  assert.equal((await chunked.json()).error.field, 'content-length');
  // None of it reached the key.
  assert.equal(await worker.bucket.head('users/admin/bad/x.bin'), null);
});

test('an aborted upload leaves no parts behind: R2 no longer knows it, its reservations end', async () => {
  const token = await tokenFor(worker, 'abe');
  await call(worker, 'PUT', '/api/admin/users/abe/quota', { max_bytes: 100 * MiB });
  const created = await create('tmp/abandoned.bin', {}, token);
  const id = created.body.upload_id;
  const p1 = await putPart(id, 1, Buffer.alloc(5 * MiB, 7), token);
  const p2 = await putPart(id, 2, Buffer.alloc(1000, 8), token);
  assert.equal(p1.status, 200);
  assert.equal(p2.status, 200);
  const r2Id = await r2UploadId(id);
  assert.ok(r2Id);
  const before = await reservations();
  assert.ok(before >= 3);
  const aborted = await call(worker, 'DELETE', `/api/storage/uploads/${id}`, undefined, { as: token });
  assert.equal(aborted.status, 204);
  // R2 itself is asked: the upload can neither take another part nor be completed with the
  // parts it had (both of which it would do for a live upload).
  const mpu = await worker.bucket.resumeMultipartUpload('users/abe/tmp/abandoned.bin', r2Id);
  await assert.rejects(mpu.uploadPart(3, 'x'));
  await assert.rejects(mpu.complete([{ partNumber: 1, etag: p1.body.etag }, { partNumber: 2, etag: p2.body.etag }]));
  // Listing its parts through r2watch: gone.
  assert.equal((await call(worker, 'GET', `/api/storage/uploads/${id}`, undefined, { as: token })).status, 404);
  assert.equal(await reservations(), before - 3);
  const quota = await call(worker, 'GET', '/api/quota?user=abe');
  assert.equal(quota.body.bytes, 0);
  assert.equal(await worker.bucket.head('users/abe/tmp/abandoned.bin'), null);
});

test('stored parts count against the quota; a refused or failed part gives its reservation back', async () => {
  const token = await tokenFor(worker, 'quinn');
  await call(worker, 'PUT', '/api/admin/users/quinn/quota', { max_bytes: 14 * MiB });
  const id = (await create('q/big.bin', {}, token)).body.upload_id;
  assert.equal((await putPart(id, 1, Buffer.alloc(5 * MiB, 1), token)).status, 200);
  assert.equal((await putPart(id, 2, Buffer.alloc(5 * MiB, 2), token)).status, 200);
  const over = await putPart(id, 3, Buffer.alloc(5 * MiB, 3), token);
  assert.equal(over.status, 413);
  assert.equal(over.body.error.code, 'quota_exceeded');
  // A plain upload sees the stored parts too.
  const put = await worker.fetch('/api/storage/files/q/other.bin', {
    method: 'PUT',
    body: Buffer.alloc(4.5 * MiB),
    headers: { authorization: `Bearer ${token}`, 'content-length': String(4.5 * MiB) },
  });
  assert.equal(put.status, 413);
  assert.equal((await put.json()).error.code, 'quota_exceeded');
  // A failing R2 part gives its reservation back.
  const held = await reservations();
  await call(worker, 'PUT', '/api/admin/faults', { operation: 'put', error_rate: 1, latency_ms: 0 });
  const failed = await putPart(id, 3, Buffer.alloc(1000, 3), token);
  await call(worker, 'DELETE', '/api/admin/faults');
  assert.equal(failed.status, 502);
  assert.equal(await reservations(), held);
  // Uploading a part again replaces it and its reservation (both are held while it is sent:
  // 10 MiB stored + 4 MiB sent fits the 14 MiB quota).
  const again = await putPart(id, 2, Buffer.alloc(4 * MiB, 9), token);
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.equal(await reservations(), held);
  const listed = await call(worker, 'GET', `/api/storage/uploads/${id}`, undefined, { as: token });
  assert.deepEqual(listed.body.parts.map((p) => p.size_bytes), [5 * MiB, 4 * MiB]);
  const done = await worker.fetch(`/api/storage/uploads/${id}/complete`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  assert.equal(done.status, 201);
  const quota = await call(worker, 'GET', '/api/quota?user=quinn');
  assert.equal(quota.body.bytes, 9 * MiB);
  assert.equal(await reservations(), held - 3);
  const stored = Buffer.from(await (await worker.bucket.get('users/quinn/q/big.bin')).arrayBuffer());
  assert.equal(stored.length, 9 * MiB);
  assert.equal(stored[5 * MiB], 9); // the second upload of part 2
});

test('every multipart call goes through the breaker: with R2 failing, a create is refused and counted', async () => {
  await call(worker, 'PUT', '/api/admin/faults', { operation: 'put', error_rate: 1, latency_ms: 0 });
  try {
    const res = await create('f/x.bin');
    assert.equal(res.status, 502);
    assert.equal(res.body.error.code, 'storage_error');
  } finally {
    await call(worker, 'DELETE', '/api/admin/faults');
  }
  const { n } = await worker.db.prepare('SELECT COUNT(*) AS n FROM multipart_uploads WHERE key = ?').bind('f/x.bin').first();
  assert.equal(n, 0);
});

test('multipart calls are counted by R2 class: create, parts and complete as Class A, abort free', async () => {
  const w = await startWorker();
  try {
    const summary = async () => {
      assert.equal((await call(w, 'POST', '/api/admin/jobs/metrics-flush')).status, 200);
      return (await call(w, 'GET', '/api/usage/summary?period=hour')).body;
    };
    const before = await summary();
    const start = async (key) => (await (await w.fetch(`/api/storage/files/${key}?uploads`, { method: 'POST' })).json()).upload_id;
    const part = async (id, n, bytes) =>
      (await w.fetch(`/api/storage/uploads/${id}/parts/${n}`, { method: 'PUT', body: bytes, headers: { 'content-length': String(bytes.length) } })).status;
    const kept = await start('c/kept.bin');
    assert.equal(await part(kept, 1, Buffer.alloc(5 * MiB)), 200);
    assert.equal(await part(kept, 2, Buffer.alloc(10)), 200);
    assert.equal((await w.fetch(`/api/storage/uploads/${kept}/complete`, { method: 'POST' })).status, 201);
    const dropped = await start('c/dropped.bin');
    assert.equal(await part(dropped, 1, Buffer.alloc(10)), 200);
    assert.equal((await w.fetch(`/api/storage/uploads/${dropped}`, { method: 'DELETE' })).status, 204);
    // Listing parts is answered from r2watch's records: no R2 call.
    assert.equal((await call(w, 'GET', '/api/storage/uploads')).status, 200);
    const afterwards = await summary();
    // create, 2 parts, complete; create, 1 part: 6 Class A. The abort is free.
    assert.equal(afterwards.api_calls.class_a - before.api_calls.class_a, 6);
    assert.equal(afterwards.api_calls.class_b - before.api_calls.class_b, 0);
    assert.equal(afterwards.api_calls.free - before.api_calls.free, 1);
    // The parts' bytes went up once; the complete moved none.
    assert.equal(afterwards.bandwidth.upload_bytes - before.bandwidth.upload_bytes, 5 * MiB + 20);
  } finally {
    await w.dispose();
  }
});

test('an expired upload (R2 aborts one left 7 days) takes no more parts and is forgotten', async () => {
  const token = await tokenFor(worker, 'eve');
  const id = (await create('old/x.bin', {}, token)).body.upload_id;
  assert.equal((await putPart(id, 1, Buffer.from('x'), token)).status, 200);
  // Seven days pass.
  await worker.db.prepare('UPDATE multipart_uploads SET expires_at_ms = ? WHERE id = ?').bind(Date.now() - 1, id).run();
  const late = await putPart(id, 2, Buffer.from('y'), token);
  assert.equal(late.status, 404);
  assert.equal(late.body.error.code, 'no_such_upload');
  assert.equal(late.body.error.field, 'upload_id');
  const completed = await call(worker, 'POST', `/api/storage/uploads/${id}/complete`, {}, { as: token });
  assert.equal(completed.status, 404);
  // Starting another upload forgets it.
  await create('old/y.bin', {}, token);
  assert.equal((await call(worker, 'GET', `/api/storage/uploads/${id}`, undefined, { as: token })).status, 404);
  const open = await call(worker, 'GET', '/api/storage/uploads', undefined, { as: token });
  assert.deepEqual(open.body.uploads.map((u) => u.key), ['old/y.bin']);
});

test('a multipart upload counts as one object against max_objects, from its start', async () => {
  const token = await tokenFor(worker, 'otto');
  await call(worker, 'PUT', '/api/admin/users/otto/quota', { max_bytes: 100 * MiB, max_objects: 2 });
  assert.equal((await call(worker, 'PUT', '/api/storage/files/one.txt', 'x', { as: token })).status, 201);
  const id = (await create('many-parts.bin', {}, token)).body.upload_id;
  // Many parts, one object: none of them is refused for the object count.
  for (let n = 1; n <= 4; n++) assert.equal((await putPart(id, n, Buffer.alloc(n < 4 ? 5 * MiB : 10, n), token)).status, 200, `part ${n}`);
  // The upload holds the second object's place: a third object is refused meanwhile...
  const third = await call(worker, 'PUT', '/api/storage/files/three.txt', 'x', { as: token });
  assert.equal(third.status, 413);
  assert.equal(third.body.error.field, 'max_objects');
  // ...and so is a second upload.
  assert.equal((await create('other.bin', {}, token)).status, 413);
  const done = await worker.fetch(`/api/storage/uploads/${id}/complete`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  assert.equal(done.status, 201);
  const quota = await call(worker, 'GET', '/api/quota?user=otto');
  assert.equal(quota.body.objects, 2);
  assert.equal(quota.body.bytes, 1 + 15 * MiB + 10);
});

test('an object above what one request may carry is stored in parts, and the large-upload alert sees it', async () => {
  const w = await startWorker({ vars: { MAX_UPLOAD_BYTES: String(6 * MiB) } });
  try {
    const size = 6 * MiB + 2 * MiB;
    const whole = randomBytes(size);
    // One request cannot carry it...
    const single = await w.fetch('/api/storage/files/media/huge.bin', { method: 'PUT', body: whole, headers: { 'content-length': String(size) } });
    assert.equal(single.status, 413);
    // ...two parts can.
    const id = (await (await w.fetch('/api/storage/files/media/huge.bin?uploads', { method: 'POST' })).json()).upload_id;
    for (const [n, bytes] of [[1, whole.subarray(0, 6 * MiB)], [2, whole.subarray(6 * MiB)]]) {
      const res = await w.fetch(`/api/storage/uploads/${id}/parts/${n}`, { method: 'PUT', body: bytes, headers: { 'content-length': String(bytes.length) } });
      assert.equal(res.status, 200);
    }
    assert.equal((await w.fetch(`/api/storage/uploads/${id}/complete`, { method: 'POST' })).status, 201);
    const back = Buffer.from(await (await w.fetch('/api/storage/files/media/huge.bin')).arrayBuffer());
    assert.ok(back.equals(whole));
    // The "large upload" rule, its threshold brought down to this test's scale, fires for it.
    assert.equal((await call(w, 'PUT', '/api/alerts/rules/large_upload', { threshold: 7 * MiB })).status, 200);
    assert.equal((await call(w, 'POST', '/api/admin/jobs/collect-metrics')).status, 200);
    assert.equal((await call(w, 'POST', '/api/admin/jobs/check-alerts')).status, 200);
    const firing = (await call(w, 'GET', '/api/alerts?state=firing')).body.alerts.map((a) => a.rule_id);
    assert.ok(firing.includes('large_upload'), JSON.stringify(firing));
  } finally {
    await w.dispose();
  }
});
