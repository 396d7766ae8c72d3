// What r2watch adds to a storage request, per route, with D1 answering at once and with D1 30 ms
// away (as from a Worker far from the database's region): the D1 round trips the client waited
// for (the Worker's x-r2watch-d1-round-trips) and the added latency, answer time minus the R2
// call's own time, p50 and p99, and what D1 at 30 ms adds over D1 at 0 ms (p50). The answer time
// is the Worker's (server-timing total: arrival to response, which leaves out the local
// dispatch from Node to workerd; the client's own figure is printed beside it). Runs the bundled
// Worker in workerd with local D1 and R2 (worker-shim/test/helpers.mjs) with D1 delayed by the
// fault plan ({"target": "d1"}). Goal (issue #15): a warm GET adds at most 3 ms at p50 with D1
// at 30 ms. Run: make bench (or node bench/js/request-path.mjs after `make worker`).
import { startWorker, call, tokenFor } from '../../worker-shim/test/helpers.mjs';

const N = Number(process.env.BENCH_REQUESTS ?? 40);
const N_BIG = Number(process.env.BENCH_BIG_REQUESTS ?? 6);
const KB = 'k'.repeat(1024);
const MB10 = new Uint8Array(10 * 1024 * 1024).fill(109);

const worker = await startWorker();
const token = await tokenFor(worker, 'bench');

async function timed(method, path, body) {
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-length'] = String(body.length);
  const t0 = performance.now();
  const res = await worker.fetch(path, { method, body, headers });
  await res.arrayBuffer();
  const ms = performance.now() - t0;
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status}`);
  const timing = res.headers.get('server-timing') ?? '';
  const dur = (name) => Number(new RegExp(`${name};dur=(\\d+)`).exec(timing)?.[1] ?? 0);
  return {
    trips: Number(res.headers.get('x-r2watch-d1-round-trips')),
    added: dur('total') - dur('r2'),
    client: ms - dur('r2'),
  };
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

const ROUTES = [
  ['GET', N, (i) => ['GET', '/api/storage/files/bench/kb.txt']],
  ['HEAD', N, (i) => ['HEAD', '/api/storage/files/bench/kb.txt']],
  ['LIST', N, (i) => ['GET', '/api/storage/files?prefix=bench/&limit=10']],
  ['PUT 1 KB', N, (i) => ['PUT', `/api/storage/files/bench/put-${i}.txt`, KB]],
  ['PUT 10 MB', N_BIG, (i) => ['PUT', `/api/storage/files/bench/big.bin`, MB10]],
  ['DELETE', N, (i) => ['DELETE', `/api/storage/files/bench/put-${i}.txt`]],
];

const results = {}; // route -> latency -> {trips, p50, p99}
for (const d1 of [0, 30]) {
  await call(worker, 'PUT', '/api/admin/faults', { target: 'd1', latency_ms: d1 });
  await timed('PUT', '/api/storage/files/bench/kb.txt', KB); // the object, and a warm token
  for (const [name, n, req] of ROUTES) {
    const runs = [];
    for (let i = 0; i < n; i++) runs.push(await timed(...req(i)));
    (results[name] ??= {})[d1] = {
      trips: Math.max(...runs.map((r) => r.trips)),
      p50: quantile(runs.map((r) => r.added), 0.5),
      p99: quantile(runs.map((r) => r.added), 0.99),
      client: quantile(runs.map((r) => r.client), 0.5),
    };
  }
}
await call(worker, 'DELETE', '/api/admin/faults');
await worker.dispose();

console.log(`request path: D1 round trips waited for and added latency (Worker's answer time - R2's own time, ms), warm token, ${N} requests a route (${N_BIG} for 10 MB), Node ${process.version}`);
console.log(`${'route'.padEnd(10)} | ${'D1 0 ms: trips   p50   p99 (client p50)'.padEnd(40)} | ${'D1 30 ms: trips   p50   p99 (client p50)'.padEnd(41)} | D1 30 ms adds (p50)`);
for (const [name] of ROUTES) {
  const cell = (r) => `${String(r.trips).padStart(14)} ${r.p50.toFixed(0).padStart(5)} ${r.p99.toFixed(0).padStart(5)} ${`(${r.client.toFixed(1)})`.padStart(14)}`;
  const [at0, at30] = [results[name][0], results[name][30]];
  console.log(`${name.padEnd(10)} | ${cell(at0).padEnd(40)} | ${cell(at30).padEnd(41)} | ${(at30.p50 - at0.p50).toFixed(0).padStart(5)} ms`);
}
