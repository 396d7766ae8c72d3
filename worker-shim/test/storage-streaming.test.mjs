// Uploads stream: a PUT that declares Content-Length goes to R2 as a stream, so the Worker's
// memory stays flat while a 100 MB body passes (measured on the workerd process that runs it);
// a body without a length is buffered only up to a small limit (411 beyond); a declared length
// above MAX_UPLOAD_BYTES is refused with 413 before the body is read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { startWorker, call } from './helpers.mjs';

const MB = 1000 * 1000;
let worker;
before(async () => {
  worker = await startWorker();
});
after(async () => {
  await worker?.dispose();
});

/** The workerd processes this test process started (Miniflare runs the Worker in one). */
function workerdPids() {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (ppid === process.pid && comm.startsWith('workerd')) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** VmRSS and VmHWM (peak RSS) of a process, in bytes. */
function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)[1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** A body of `size` bytes made on demand in 1 MiB chunks, hashed as it goes. */
function generatedBody(size) {
  const block = randomBytes(1024 * 1024);
  const hash = createHash('sha256');
  let sent = 0;
  let counter = 0;
  const stream = new ReadableStream({
    pull(controller) {
      if (sent >= size) {
        controller.close();
        return;
      }
      const n = Math.min(block.length, size - sent);
      const chunk = Buffer.from(block.subarray(0, n));
      chunk.writeUInt32LE(counter++, 0); // every chunk differs
      hash.update(chunk);
      sent += n;
      controller.enqueue(chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex'), sent: () => sent };
}

/**
 * Starts a fresh Worker, warms it up, and measures how much the peak memory (VmHWM) of its
 * workerd process grows while `upload(worker)` runs.
 */
async function peakGrowth(upload) {
  const running = new Set(workerdPids());
  const w = await startWorker();
  try {
    const pids = workerdPids().filter((p) => !running.has(p));
    assert.equal(pids.length, 1, `one new workerd process expected, found ${pids}`);
    const pid = pids[0];
    // Warm up (wasm instance, D1, R2) so the baseline is the Worker at work.
    for (let i = 0; i < 3; i++) {
      assert.equal((await w.fetch(`/api/storage/files/warm/${i}`, { method: 'PUT', body: randomBytes(MB), headers: { 'content-length': String(MB) } })).status, 201);
    }
    const baseline = memoryOf(pid).hwm;
    const result = await upload(w);
    return { grewBy: memoryOf(pid).hwm - baseline, result };
  } finally {
    await w.dispose();
  }
}

test('a 100 MB upload streams through the Worker: its memory stays flat, the bytes arrive whole', async () => {
  const size = 100 * MB;
  const body = generatedBody(size);
  const through = await peakGrowth(async (w) => {
    const res = await w.fetch('/api/storage/files/big/hundred.bin', {
      method: 'PUT',
      body: body.stream,
      duplex: 'half',
      headers: { 'content-length': String(size), 'content-type': 'application/octet-stream' },
    });
    const answer = await res.json();
    assert.equal(res.status, 201, JSON.stringify(answer));
    assert.equal(answer.size, size);
    // R2 holds every byte, and a streamed read gives them back.
    const stored = await w.bucket.head('users/admin/big/hundred.bin');
    assert.equal(stored.size, size);
    const read = await w.fetch('/api/storage/files/big/hundred.bin');
    assert.equal(read.status, 200);
    const hash = createHash('sha256');
    for await (const chunk of read.body) hash.update(chunk);
    assert.equal(hash.digest('hex'), body.digest());
  });
  console.log(
    `workerd peak memory while ${size / MB} MB passed through the Worker (PUT streamed, then GET): ` +
      `+${(through.grewBy / MB).toFixed(1)} MB, against the body's ${size / MB} MB`,
  );
  // Holding the body (as request.arrayBuffer() did) would add the whole 100 MB at least.
  assert.ok(through.grewBy < size / 2, `workerd's peak memory grew by ${through.grewBy} bytes for a body of ${size}`);
});

test('a body without Content-Length is taken up to 1 MiB, refused with 411 beyond, and nothing is stored', async () => {
  const chunked = (bytes) =>
    new ReadableStream({
      start(c) {
        for (let at = 0; at < bytes.length; at += 64 * 1024) c.enqueue(bytes.subarray(at, at + 64 * 1024));
        c.close();
      },
    });
  const small = randomBytes(200 * 1024);
  const ok = await worker.fetch('/api/storage/files/chunked/small.bin', { method: 'PUT', body: chunked(small), duplex: 'half' });
  assert.equal(ok.status, 201);
  assert.equal((await ok.json()).size, small.length);
  const back = await worker.fetch('/api/storage/files/chunked/small.bin');
  assert.deepEqual(Buffer.from(await back.arrayBuffer()), small);

  const large = randomBytes(1024 * 1024 + 1);
  const refused = await worker.fetch('/api/storage/files/chunked/large.bin', { method: 'PUT', body: chunked(large), duplex: 'half' });
  assert.equal(refused.status, 411);
  const error = (await refused.json()).error;
  assert.equal(error.code, 'length_required');
  assert.equal(error.field, 'content-length');
  assert.equal(await worker.bucket.head('users/admin/chunked/large.bin'), null);
  const { n } = await worker.db.prepare('SELECT COUNT(*) AS n FROM quota_reservations').first();
  assert.equal(n, 0);
});

test('a declared length above MAX_UPLOAD_BYTES is refused with 413 before the body is read', async () => {
  const size = 1000 * MB; // MAX_UPLOAD_BYTES is 100 MiB by default
  const body = generatedBody(size);
  const res = await worker.fetch('/api/storage/files/big/too-big.bin', {
    method: 'PUT',
    body: body.stream,
    duplex: 'half',
    headers: { 'content-length': String(size) },
  });
  const answer = await res.json();
  assert.equal(res.status, 413);
  assert.equal(answer.error.code, 'payload_too_large');
  assert.equal(answer.error.field, 'content-length');
  assert.ok(body.sent() < size / 10, `${body.sent()} bytes of the body were read before the refusal`);
  await body.stream.cancel().catch(() => {});
  assert.equal(await worker.bucket.head('users/admin/big/too-big.bin'), null);
});
