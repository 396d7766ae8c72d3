// D1 off the request path (issue #15): what a request waits for, counted by the Worker itself
// where fault injection is on (x-r2watch-d1-round-trips: the D1 round trips of the request, see
// src/instrument.js). A warm GET, HEAD or LIST (token seen in the last minute) waits on none, a
// PUT or DELETE on at most one; what moved behind the answer (counters, audit rows,
// stored-object records, token last use) is still written, exactly once, after D1 failures;
// token rows are cached for at most a minute (tested with the fault plan's clock skew); and
// quotas hold under 50 parallel uploads.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, call, tokenFor, sleep } from './helpers.mjs';

let worker;
before(async () => {
  worker = await startWorker();
});
after(async () => {
  await worker?.dispose();
});

/** One request as `token`; answers status and the D1 round trips the Worker says it waited for. */
async function send(method, path, token, body) {
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-length'] = String(body.length);
  const res = await worker.fetch(path, { method, body, headers });
  await res.arrayBuffer();
  const trips = res.headers.get('x-r2watch-d1-round-trips');
  return { status: res.status, trips: trips === null ? null : Number(trips) };
}

const faults = (body) => call(worker, 'PUT', '/api/admin/faults', body);
const clearFaults = () => call(worker, 'DELETE', '/api/admin/faults');
const health = async () => (await call(worker, 'GET', '/api/health', undefined, { as: null })).body;

/** Waits until the isolate has nothing left to write behind (through /api/health). */
async function drained() {
  for (let i = 0; i < 100; i++) {
    const w = (await health()).writes_behind;
    if (w.pending_writes === 0 && w.pending_batches === 0) return w;
    await sleep(50);
  }
  throw new Error(`writes behind still pending: ${JSON.stringify((await health()).writes_behind)}`);
}

async function counterSum(kind, subject) {
  const row = await worker.db
    .prepare('SELECT COALESCE(SUM(count), 0) AS n FROM security_counters WHERE kind = ? AND subject = ?')
    .bind(kind, subject)
    .first();
  return row.n;
}

test('a warm GET, HEAD and LIST wait on no D1 round trip; PUT and DELETE on at most one', async () => {
  const token = await tokenFor(worker, 'walt');
  // Cold: the token row is read from D1 once.
  const cold = await send('GET', '/api/storage/files?prefix=a', token);
  assert.equal(cold.status, 200);
  assert.ok(cold.trips >= 1, `a cold request reads the token row (${cold.trips})`);
  const put = await send('PUT', '/api/storage/files/a/one.txt', token, 'x'.repeat(1024));
  assert.equal(put.status, 201);
  assert.ok(put.trips <= 1, `PUT waited on ${put.trips} D1 round trips`);
  for (const [method, path] of [
    ['GET', '/api/storage/files/a/one.txt'],
    ['HEAD', '/api/storage/files/a/one.txt'],
    ['GET', '/api/storage/files?prefix=a'],
    ['GET', '/api/storage/files/a/one.txt'],
  ]) {
    const r = await send(method, path, token);
    assert.equal(r.status, 200, `${method} ${path}`);
    assert.equal(r.trips, 0, `warm ${method} ${path} waited on ${r.trips} D1 round trips`);
  }
  const again = await send('PUT', '/api/storage/files/a/one.txt', token, 'y'.repeat(10));
  assert.ok(again.trips <= 1, `PUT (replace) waited on ${again.trips}`);
  const del = await send('DELETE', '/api/storage/files/a/one.txt', token);
  assert.equal(del.status, 204);
  assert.ok(del.trips <= 1, `DELETE waited on ${del.trips}`);
  // Still all written behind: the records, the counters, the audit rows.
  await drained();
  const objects = await worker.db.prepare("SELECT COUNT(*) AS n FROM user_objects WHERE user_id = 'walt'").first();
  assert.equal(objects.n, 0);
  assert.equal(await counterSum('requests_hour', 'user:walt'), 8);
  const audit = await call(worker, 'GET', '/api/admin/audit?actor=walt');
  const actions = audit.body.entries.map((e) => e.action);
  assert.equal(actions.filter((a) => a === 'PUT /api/storage/files/*key').length, 2);
  assert.equal(actions.filter((a) => a === 'DELETE /api/storage/files/*key').length, 1);
});

test('a token row is cached for at most a minute: revoked or disabled elsewhere, refused within it', async () => {
  const revoked = await tokenFor(worker, 'rhea');
  const disabled = await tokenFor(worker, 'dora');
  assert.equal((await send('GET', '/api/storage/files', revoked)).status, 200);
  assert.equal((await send('GET', '/api/storage/files', disabled)).status, 200);
  // Another isolate revokes the token and disables the user (here: straight in D1).
  await worker.db.prepare("UPDATE api_tokens SET revoked_at_ms = ? WHERE user_id = 'rhea'").bind(Date.now()).run();
  await worker.db.prepare("UPDATE users SET disabled = 1 WHERE id = 'dora'").run();
  // Within the minute this isolate still uses the rows it read...
  assert.equal((await send('GET', '/api/storage/files', revoked)).status, 200);
  assert.equal((await send('GET', '/api/storage/files', disabled)).status, 200);
  try {
    // ...59 s on, still; a minute on, the rows are read again and both are refused.
    assert.equal((await faults({ target: 'clock', skew_ms: 59_000 })).status, 200);
    assert.equal((await send('GET', '/api/storage/files', revoked)).status, 200);
    assert.equal((await faults({ target: 'clock', skew_ms: 61_000 })).status, 200);
    const r = await send('GET', '/api/storage/files', revoked);
    assert.equal(r.status, 401);
    assert.ok(r.trips >= 1, 'the row was read again');
    assert.equal((await send('GET', '/api/storage/files', disabled)).status, 401);
  } finally {
    await clearFaults();
  }
  // Revoked through this isolate's admin API: refused at once.
  const third = await tokenFor(worker, 'ravi');
  assert.equal((await send('GET', '/api/storage/files', third)).status, 200);
  const tokens = await call(worker, 'GET', '/api/admin/tokens?user_id=ravi');
  assert.equal((await call(worker, 'DELETE', `/api/admin/tokens/${tokens.body.tokens[0].id}`)).status, 200);
  assert.equal((await send('GET', '/api/storage/files', third)).status, 401);
});

for (const fail of ['before', 'after']) {
  test(`writes behind survive D1 failing ${fail} they run: every row written, none twice`, async () => {
    const user = `wb-${fail}`;
    const token = await tokenFor(worker, user);
    assert.equal((await send('PUT', '/api/storage/files/k/doomed.txt', token, 'abc')).status, 201);
    assert.equal((await send('PUT', '/api/storage/files/k/kept.txt', token, 'abcdef')).status, 201);
    await drained();
    const failedBefore = (await health()).writes_behind.failed_writes;
    const requestsBefore = await counterSum('requests_hour', `user:${user}`);
    assert.equal((await faults({ target: 'd1', error_rate: 1, fail })).status, 200);
    let ok = 0;
    try {
      // D1 fails every statement: warm reads and a delete still answer (nothing waits on D1).
      for (let i = 0; i < 5; i++) {
        const r = await send('GET', '/api/storage/files/k/kept.txt', token);
        assert.equal(r.status, 200);
        ok += 1;
      }
      const del = await send('DELETE', '/api/storage/files/k/doomed.txt', token);
      assert.equal(del.status, 204);
      ok += 1;
      const w = (await health()).writes_behind;
      assert.ok(w.failed_writes > failedBefore, JSON.stringify(w));
      assert.ok(w.pending_writes > 0 || w.pending_batches > 0, JSON.stringify(w));
    } finally {
      await clearFaults();
    }
    const w = await drained();
    assert.ok(w.failed_writes > failedBefore);
    // Every request counted exactly once (a batch whose answer was lost is not applied twice).
    assert.equal(await counterSum('requests_hour', `user:${user}`), requestsBefore + ok);
    const audit = await call(worker, 'GET', `/api/admin/audit?actor=${user}`);
    const deletes = audit.body.entries.filter((e) => e.action === 'DELETE /api/storage/files/*key');
    assert.equal(deletes.length, 1, JSON.stringify(audit.body.entries));
    const quota = (await call(worker, 'GET', `/api/quota?user=${user}`)).body;
    assert.equal(quota.bytes, 6);
    assert.equal(quota.objects, 1);
  });
}

test('50 parallel PUTs with D1 at 30 ms against a quota that fits half: exactly half admitted, one round trip each', async () => {
  const token = await tokenFor(worker, 'quincy');
  assert.equal((await call(worker, 'PUT', '/api/admin/users/quincy/quota', { max_bytes: 2500 })).status, 200);
  assert.equal((await send('GET', '/api/storage/files', token)).status, 200); // warm
  const body = 'q'.repeat(100);
  let answers;
  try {
    await faults({ target: 'd1', latency_ms: 30 });
    answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => send('PUT', `/api/storage/files/q/${i}.bin`, token, body)),
    );
  } finally {
    await clearFaults();
  }
  const accepted = answers.filter((a) => a.status === 201).length;
  const refused = answers.filter((a) => a.status === 413).length;
  assert.equal(accepted, 25, JSON.stringify(answers));
  assert.equal(refused, 25);
  await drained();
  const quota = (await call(worker, 'GET', '/api/quota?user=quincy')).body;
  assert.equal(quota.bytes, 2500);
  assert.equal(quota.objects, 25);
  const { n } = await worker.db.prepare("SELECT COUNT(*) AS n FROM quota_reservations WHERE user_id = 'quincy'").first();
  assert.equal(n, 0);
  assert.equal((await send('PUT', '/api/storage/files/q/one-more.bin', token, 'z')).status, 413);
});

test('a rate limit near its end is counted in D1 before the answer, and holds', async () => {
  const w = await startWorker({ vars: { RATE_LIMIT_PER_MINUTE: '10' } });
  try {
    const token = await tokenFor(w, 'rafa');
    // One minute window for the whole run.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 50_000) await sleep(60_500 - intoMinute);
    const statuses = [];
    for (let i = 0; i < 14; i++) {
      const res = await w.fetch('/api/storage/files', { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [...Array(10).fill(200), ...Array(4).fill(429)]);
  } finally {
    await w.dispose();
  }
});

test('D1 faults are refused when malformed and shown by GET', async () => {
  const bad = await faults({ target: 'd1', latency_ms: 40_000 });
  assert.equal(bad.status, 422);
  assert.equal(bad.body.error.field, 'latency_ms');
  assert.equal((await faults({ target: 'd1', latency_ms: 5, fail: 'sometimes' })).body.error.field, 'fail');
  const set = await faults({ target: 'd1', latency_ms: 5, error_rate: 0 });
  assert.deepEqual(set.body.changed, ['d1']);
  const got = await call(worker, 'GET', '/api/admin/faults');
  assert.deepEqual(got.body.faults.d1, { error_rate: 0, latency_ms: 5, fail: 'before' });
  await clearFaults();
  assert.equal((await call(worker, 'GET', '/api/admin/faults')).body.faults.d1, undefined);
});
