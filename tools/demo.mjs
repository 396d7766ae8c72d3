#!/usr/bin/env node
// A local demo that fills every dashboard panel: sends realistic traffic to a running r2watch
// (uploads and downloads of varied sizes and types, lists, deletes, misses, and some failures
// through fault injection) and runs the jobs the crons run (metrics collection, probe rounds,
// costs). The first burst lands in a few seconds; then traffic goes on for --minutes (default 3).
//
//   node tools/demo.mjs [--url http://127.0.0.1:8787] [--minutes 3] [--wait]
//
// --wait polls /api/health until r2watch answers (up to 90 s), for `make demo`. Only talks to the
// given URL; every loop is bounded.
import { parseArgs } from 'node:util';

const { values: o } = parseArgs({
  options: {
    url: { type: 'string' },
    token: { type: 'string' },
    minutes: { type: 'string', default: '3' },
    wait: { type: 'boolean' },
    quiet: { type: 'boolean' },
  },
});
const BASE = (o.url ?? process.env.R2WATCH_URL ?? 'http://127.0.0.1:8787').replace(/\/+$/, '');
const TOKEN = o.token ?? process.env.R2WATCH_TOKEN ?? '';
const MINUTES = Math.min(60, Math.max(0, Number(o.minutes) || 0));
const log = (msg) => o.quiet || console.log(`demo: ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A small deterministic generator, so two demos send the same traffic.
let seed = 20260601;
function random() {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
const pick = (list) => list[Math.floor(random() * list.length)];

const KINDS = [
  { prefix: 'photos', type: 'image/jpeg', ext: 'jpg', min: 40_000, max: 600_000 },
  { prefix: 'photos', type: 'image/png', ext: 'png', min: 5_000, max: 200_000 },
  { prefix: 'docs', type: 'application/pdf', ext: 'pdf', min: 20_000, max: 900_000 },
  { prefix: 'docs', type: 'text/plain', ext: 'txt', min: 200, max: 8_000 },
  { prefix: 'logs', type: 'application/json', ext: 'json', min: 1_000, max: 50_000 },
  { prefix: 'backups', type: 'application/gzip', ext: 'tar.gz', min: 300_000, max: 2_000_000 },
];
const stored = [];
let counter = 0;

async function send(method, path, { body, type, json } = {}) {
  const headers = {};
  if (TOKEN) headers.authorization = `Bearer ${TOKEN}`;
  if (type) headers['content-type'] = type;
  if (json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${BASE}${path}`, { method, headers, body: json !== undefined ? JSON.stringify(json) : body });
  await res.arrayBuffer();
  return res.status;
}

async function upload() {
  const kind = pick(KINDS);
  // Sizes skewed towards the small end, as real buckets are.
  const size = Math.round(kind.min + (kind.max - kind.min) * random() ** 3);
  const key = `${kind.prefix}/2026/${String(++counter).padStart(4, '0')}.${kind.ext}`;
  const status = await send('PUT', `/api/storage/files/${key}`, { body: new Uint8Array(size).fill(97), type: kind.type });
  if (status === 201) stored.push(key);
  return status;
}

async function tick(n) {
  for (let i = 0; i < 2 + Math.floor(random() * 3); i++) await upload();
  for (let i = 0; i < 3 + Math.floor(random() * 5) && stored.length; i++) await send('GET', `/api/storage/files/${pick(stored)}`);
  if (random() < 0.3) await send('HEAD', `/api/storage/files/${pick(stored)}`);
  if (random() < 0.2) await send('GET', `/api/storage/files/photos/missing-${n}.jpg`);
  if (random() < 0.25) await send('GET', `/api/storage/files?prefix=${pick(KINDS).prefix}/&limit=20`);
  if (random() < 0.1 && stored.length > 10) await send('DELETE', `/api/storage/files/${stored.splice(Math.floor(random() * stored.length), 1)[0]}`);
}

/**
 * Two failing reads through fault injection (local only; fewer than the breaker's three
 * consecutive failures), then slow reads, then the fault is cleared.
 */
async function someFailures() {
  const status = await send('PUT', '/api/admin/faults', { json: { operation: 'get', error_rate: 1, latency_ms: 150 } });
  if (status !== 200) return log('fault injection is off here: no failures sent');
  for (let i = 0; i < 2 && stored.length; i++) await send('GET', `/api/storage/files/${pick(stored)}`);
  await send('PUT', '/api/admin/faults', { json: { operation: 'get', error_rate: 0, latency_ms: 250 } });
  for (let i = 0; i < 3 && stored.length; i++) await send('GET', `/api/storage/files/${pick(stored)}`);
  await send('DELETE', '/api/admin/faults');
}

/** What the crons run: collect metrics (flush, rollups, inventory), a probe round, costs. */
async function jobs() {
  const results = [];
  for (const path of ['/api/admin/jobs/collect-metrics', '/api/admin/jobs/account-analytics', '/api/health/check', '/api/admin/jobs/cost']) {
    results.push(`${path.split('/').pop()} ${await send('POST', path)}`);
  }
  return results.join(', ');
}

async function waitForR2watch() {
  for (let i = 0; i < 180; i++) {
    try {
      const res = await fetch(`${BASE}/api/health`);
      await res.arrayBuffer();
      return;
    } catch {
      await sleep(500);
    }
  }
  throw new Error(`r2watch did not answer at ${BASE} within 90 s`);
}

async function main() {
  if (o.wait) await waitForR2watch();
  log(`sending traffic to ${BASE} for ${MINUTES} minute(s); open ${BASE}/ to watch`);
  // First burst: enough for every panel within seconds.
  for (let n = 0; n < 6; n++) await tick(n);
  await someFailures();
  log(`first burst sent (${stored.length} files); jobs: ${await jobs()}`);
  const end = Date.now() + MINUTES * 60_000;
  let n = 6;
  let lastJobs = Date.now();
  while (Date.now() < end && n < 10_000) {
    await tick(n++);
    if (n % 15 === 0) await someFailures();
    if (Date.now() - lastJobs >= 30_000) {
      lastJobs = Date.now();
      log(`${stored.length} files stored; jobs: ${await jobs()}`);
    }
    await sleep(1500);
  }
  if (MINUTES > 0) log(`done; jobs: ${await jobs()}`);
}

main().catch((e) => {
  console.error(`demo: ${e.message}${e.cause ? ` (${e.cause.code ?? e.cause.message})` : ''}: is r2watch running? (make dev)`);
  process.exitCode = 1;
});
