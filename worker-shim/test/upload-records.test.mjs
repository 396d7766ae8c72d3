// What r2watch records of a user's objects stays true to R2: parallel uploads cannot overshoot a
// quota together (each reserves its bytes before it is admitted), and records left out of step
// with R2 (a PUT and a DELETE of one key racing, in either order, or a write around r2watch)
// converge on the next inventory walk, so usage and quotas follow what R2 really holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, call, tokenFor } from './helpers.mjs';

const quotaOf = async (worker, user) => (await call(worker, 'GET', `/api/quota?user=${user}`)).body;

async function r2Keys(worker, prefix) {
  const listing = await worker.bucket.list({ prefix });
  return listing.objects.map((o) => o.key).sort();
}

test('50 parallel uploads against a quota that fits half: never more than the quota is admitted', async () => {
  const worker = await startWorker();
  try {
    const token = await tokenFor(worker, 'pat');
    assert.equal((await call(worker, 'PUT', '/api/admin/users/pat/quota', { max_bytes: 2500 })).status, 200);
    const body = 'x'.repeat(100);
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        worker.fetch(`/api/storage/files/p/${String(i).padStart(2, '0')}.bin`, {
          method: 'PUT',
          body,
          headers: { authorization: `Bearer ${token}`, 'content-length': String(body.length) },
        }).then(async (res) => ({ status: res.status, body: await res.json() })),
      ),
    );
    const accepted = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status === 413);
    assert.equal(accepted.length + refused.length, 50, JSON.stringify(answers.filter((a) => ![201, 413].includes(a.status))));
    assert.ok(accepted.length <= 25, `${accepted.length} uploads of 100 bytes admitted under a quota of 2500`);
    assert.ok(accepted.length >= 1);
    for (const r of refused) assert.equal(r.body.error.code, 'quota_exceeded');
    // What is stored, what is recorded and what the quota says all agree, within the quota.
    const stored = await r2Keys(worker, 'users/pat/');
    assert.equal(stored.length, accepted.length);
    const quota = await quotaOf(worker, 'pat');
    assert.equal(quota.bytes, accepted.length * 100);
    assert.equal(quota.objects, accepted.length);
    assert.ok(quota.bytes <= 2500);
    // No reservation outlives its upload.
    const { n } = await worker.db.prepare('SELECT COUNT(*) AS n FROM quota_reservations').first();
    assert.equal(n, 0);
    // Once the rush is over, the room left is usable to the byte.
    const room = 2500 - quota.bytes;
    if (room > 0) {
      const fill = await call(worker, 'PUT', '/api/storage/files/p/fill.bin', 'y'.repeat(room), { as: token });
      assert.equal(fill.status, 201, JSON.stringify(fill.body));
    }
    const over = await call(worker, 'PUT', '/api/storage/files/p/one-more.bin', 'z', { as: token });
    assert.equal(over.status, 413);
  } finally {
    await worker.dispose();
  }
});

test('a refused or failed upload gives its reservation back', async () => {
  const worker = await startWorker();
  try {
    const token = await tokenFor(worker, 'quin');
    await call(worker, 'PUT', '/api/admin/users/quin/quota', { max_bytes: 10 });
    assert.equal((await call(worker, 'PUT', '/api/storage/files/a', 'x'.repeat(11), { as: token })).status, 413);
    await call(worker, 'PUT', '/api/admin/faults', { operation: 'put', error_rate: 1, latency_ms: 0 });
    assert.equal((await call(worker, 'PUT', '/api/storage/files/a', 'x'.repeat(10), { as: token })).status, 502);
    await call(worker, 'DELETE', '/api/admin/faults');
    const { n } = await worker.db.prepare('SELECT COUNT(*) AS n FROM quota_reservations').first();
    assert.equal(n, 0);
    assert.equal((await call(worker, 'PUT', '/api/storage/files/a', 'x'.repeat(10), { as: token })).status, 201);
  } finally {
    await worker.dispose();
  }
});

test('a record R2 no longer backs (the DELETE reached R2 after the PUT, its record landed first) converges', async () => {
  const worker = await startWorker();
  try {
    const token = await tokenFor(worker, 'rita');
    await call(worker, 'PUT', '/api/admin/users/rita/quota', { max_bytes: 1000 });
    assert.equal((await call(worker, 'PUT', '/api/storage/files/docs/a.txt', 'a'.repeat(400), { as: token })).status, 201);
    assert.equal((await call(worker, 'PUT', '/api/storage/files/docs/b.txt', 'b'.repeat(500), { as: token })).status, 201);
    // The end state of PUT(R2) < DELETE(R2) < DELETE(record) < PUT(record): R2 has no object, the
    // record says it has.
    await worker.bucket.delete('users/rita/docs/a.txt');
    assert.equal((await quotaOf(worker, 'rita')).bytes, 900, 'out of step before the walk');
    assert.equal((await call(worker, 'PUT', '/api/storage/files/docs/c.txt', 'c'.repeat(400), { as: token })).status, 413);

    const job = await call(worker, 'POST', '/api/admin/jobs/collect-metrics');
    assert.equal(job.status, 200, JSON.stringify(job.body));
    assert.equal(job.body.inventory.complete, true);
    assert.equal(job.body.inventory.records_fixed, 1);
    const quota = await quotaOf(worker, 'rita');
    assert.equal(quota.bytes, 500);
    assert.equal(quota.objects, 1);
    // The freed room is usable again, and a second walk changes nothing.
    assert.equal((await call(worker, 'PUT', '/api/storage/files/docs/c.txt', 'c'.repeat(400), { as: token })).status, 201);
    const again = await call(worker, 'POST', '/api/admin/jobs/collect-metrics');
    assert.equal(again.body.inventory.records_fixed, 0);
    assert.equal((await quotaOf(worker, 'rita')).bytes, 900);
    // The user's storage by prefix follows too.
    const usage = await call(worker, 'GET', '/api/storage/usage', undefined, { as: token });
    assert.equal(usage.status, 200);
    assert.match(JSON.stringify(usage.body), /900/);
  } finally {
    await worker.dispose();
  }
});

test('an object R2 holds without a record (the PUT reached R2 after the DELETE) converges', async () => {
  const worker = await startWorker();
  try {
    const token = await tokenFor(worker, 'sam');
    await call(worker, 'PUT', '/api/admin/users/sam/quota', { max_bytes: 1000 });
    assert.equal((await call(worker, 'PUT', '/api/storage/files/x/keep.txt', 'k'.repeat(100), { as: token })).status, 201);
    // The end state of DELETE(R2) < PUT(R2) < PUT(record) < DELETE(record): R2 holds the object,
    // no record counts it, so its bytes escape the quota.
    await worker.bucket.put('users/sam/x/escaped.bin', 'e'.repeat(700));
    assert.equal((await quotaOf(worker, 'sam')).bytes, 100, 'out of step before the walk');

    const job = await call(worker, 'POST', '/api/admin/jobs/collect-metrics');
    assert.equal(job.body.inventory.records_fixed, 1, JSON.stringify(job.body));
    const quota = await quotaOf(worker, 'sam');
    assert.equal(quota.bytes, 800);
    assert.equal(quota.objects, 2);
    // The bytes count against the quota again.
    assert.equal((await call(worker, 'PUT', '/api/storage/files/x/more.bin', 'm'.repeat(300), { as: token })).status, 413);
    // And deleting the object through the API frees them exactly.
    assert.equal((await call(worker, 'DELETE', '/api/storage/files/x/escaped.bin', undefined, { as: token })).status, 204);
    assert.equal((await quotaOf(worker, 'sam')).bytes, 100);
  } finally {
    await worker.dispose();
  }
});

test('records out of step in several listing pages all converge, page by page', async () => {
  const worker = await startWorker({ vars: { INVENTORY_PAGE_SIZE: '2' } });
  try {
    const token = await tokenFor(worker, 'tia');
    for (const k of ['a', 'b', 'c', 'd', 'e']) {
      assert.equal((await call(worker, 'PUT', `/api/storage/files/${k}`, 'x'.repeat(10), { as: token })).status, 201);
    }
    // Out of step in several pages: one record without its object, one object without a record.
    await worker.bucket.delete('users/tia/b');
    await worker.bucket.put('users/tia/f', 'y'.repeat(20));
    let job;
    for (let run = 0; run < 10; run++) {
      job = await call(worker, 'POST', '/api/admin/jobs/collect-metrics');
      if (job.body.inventory.complete) break;
    }
    assert.equal(job.body.inventory.complete, true);
    const quota = await quotaOf(worker, 'tia');
    assert.equal(quota.objects, 5);
    assert.equal(quota.bytes, 60);
  } finally {
    await worker.dispose();
  }
});
