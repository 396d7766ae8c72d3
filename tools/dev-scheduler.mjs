#!/usr/bin/env node
// Runs wrangler.toml's crons on their schedule against a local r2watch (`make dev`, `make demo`),
// through the Worker's own scheduled handler. wrangler 4.86 does not fire crons locally, and its
// manual trigger (/cdn-cgi/handler/scheduled) fails when the Worker also serves static assets
// (workers-sdk #9882, fixed in releases that need Node 22.12+), so this asks the Worker itself:
// every few seconds it reads GET /api/admin/jobs (each job's cron and its last due time, as the
// engine computes them) and, for each job whose due time has come since it last looked, calls
// POST /api/admin/jobs/scheduled?cron=...&scheduled_time_ms=... (a development-only route that
// hands the cron to the scheduled handler). It decides nothing about schedules itself.
//
//   node tools/dev-scheduler.mjs --url http://127.0.0.1:8787 --token-file .wrangler/state/admin-token
//   [--poll-ms 5000] [--once]   (--once: fire every job once now, then exit)
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8787' },
    'token-file': { type: 'string' },
    token: { type: 'string' },
    'poll-ms': { type: 'string', default: '5000' },
    once: { type: 'boolean', default: false },
  },
});

const pollMs = Number(args['poll-ms']);
if (!Number.isInteger(pollMs) || pollMs < 100 || pollMs > 60_000) {
  console.error('dev-scheduler: --poll-ms must be 100..60000');
  process.exit(2);
}
const token = () => args.token ?? readFileSync(args['token-file'], 'utf8').trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function api(method, path) {
  const res = await fetch(`${args.url}${path}`, { method, headers: { authorization: `Bearer ${token()}` } });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(body?.error ?? body)}`);
  return body;
}

async function fire(job, scheduledMs) {
  const started = Date.now();
  try {
    const out = await api('POST', `/api/admin/jobs/scheduled?cron=${encodeURIComponent(job.cron)}&scheduled_time_ms=${scheduledMs}`);
    console.log(`dev-scheduler: ${job.name} (${job.cron}) ${out.run?.outcome ?? 'done'} in ${Date.now() - started} ms`);
  } catch (e) {
    console.error(`dev-scheduler: ${job.name} (${job.cron}) failed: ${e.message}`);
  }
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { stopping = true; process.exit(0); });

const lastFired = new Map(); // cron -> the due time last handed to the Worker
let announced = false;
while (!stopping) {
  let jobs;
  try {
    ({ jobs } = await api('GET', '/api/admin/jobs?limit=1'));
  } catch (e) {
    // Not up yet (or restarting): try again shortly.
    await sleep(Math.min(pollMs, 1000));
    continue;
  }
  if (!announced) {
    console.log(`dev-scheduler: driving ${jobs.length} jobs (${jobs.map((j) => `${j.name} "${j.cron}"`).join(', ')})`);
    announced = true;
  }
  if (args.once) {
    for (const job of jobs) await fire(job, Date.now());
    break;
  }
  for (const job of jobs) {
    const due = job.previous_due_ms;
    if (due === null) continue;
    if (!lastFired.has(job.cron)) {
      lastFired.set(job.cron, due); // no catch-up for what was due before this started
    } else if (due > lastFired.get(job.cron)) {
      lastFired.set(job.cron, due);
      await fire(job, due);
    }
  }
  await sleep(pollMs);
}
