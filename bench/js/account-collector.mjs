// One run of the account-analytics collector inside workerd (Miniflare, local D1) against the
// GraphQL stand-in serving 100 buckets x 30 action types x 24 hours (72,000 groups, so the
// 24-hour window is split until no answer is cut off): the GraphQL answers parsed by the
// engine, judged, and their rows stored in D1. Prints workerd's CPU time for the run (user +
// system, from /proc) and the wall time; the target is 50 ms of CPU.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startWorker, call } from '../../worker-shim/test/helpers.mjs';
import { startStandIn } from '../../tools/graphql-standin.mjs';

const BUCKETS = Number(process.env.BENCH_BUCKETS ?? 100);
const ACTIONS = 30;
const HOURS = 24;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const TICKS = 100; // clock ticks per second (/proc/<pid>/stat)

const now = Date.now();
const lastHour = Math.floor(now / HOUR_MS) * HOUR_MS;
const actionNames = ['GetObject', 'PutObject', 'HeadObject', 'ListObjects', 'DeleteObject', 'CopyObject', 'CreateMultipartUpload', 'UploadPart',
  'CompleteMultipartUpload', 'AbortMultipartUpload', 'ListMultipartUploads', 'ListParts', 'UploadPartCopy', 'HeadBucket', 'ListBuckets',
  'PutBucket', 'DeleteBucket', 'GetBucketCors', 'PutBucketCors', 'GetBucketLocation', 'GetBucketEncryption', 'PutBucketEncryption',
  'GetBucketLifecycleConfiguration', 'PutBucketLifecycleConfiguration', 'LifecycleStorageTierTransition', 'UsageSummary', 'PutBucketWebsite',
  'GetBucketWebsite', 'DeleteObjects', 'ListObjectsV2'];
const operations = [];
for (let h = lastHour - (HOURS - 1) * HOUR_MS; h <= lastHour; h += HOUR_MS) {
  for (let b = 0; b < BUCKETS; b++) {
    for (let a = 0; a < ACTIONS; a++) {
      operations.push({ hour: h, bucket: `bucket-${String(b).padStart(3, '0')}`, action: actionNames[a], status: 'success', code: 200, requests: 1000 + a, bytes: 4096 * a });
    }
  }
}
const storage = Array.from({ length: BUCKETS }, (_, b) => ({
  day: Math.floor(now / DAY_MS) * DAY_MS, bucket: `bucket-${String(b).padStart(3, '0')}`, payloadSize: 1e9, metadataSize: 1e6, objectCount: 1000, uploadCount: 0,
}));

const standIn = await startStandIn({ account: { operations, storage } });
const worker = await startWorker({
  vars: { CLOUDFLARE_ACCOUNT_ID: standIn.accountId, CLOUDFLARE_API_TOKEN: standIn.token, CLOUDFLARE_GRAPHQL_URL: standIn.url, ACCOUNT_QUERIES_PER_RUN: '100' },
});
// The watermarks of a collector that is up to date but for the last day: the run asks for the
// 24 hours (with its 2-hour re-pull) and today's storage.
const state = {
  version: 1,
  operations_until_ms: lastHour - (HOURS - 3) * HOUR_MS,
  storage_until_ms: Math.floor(now / DAY_MS) * DAY_MS + DAY_MS,
  consecutive_failures: 0,
  last_error: '',
};
function workerdCpuMs() {
  const pids = execFileSync('pgrep', ['-P', String(process.pid), '-f', 'workerd'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  let ticks = 0;
  for (const pid of pids) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
  }
  return (ticks * 1000) / TICKS;
}

/** One run from `state`: workerd CPU and wall time, queries, splits, rows. */
async function measure(label, runState) {
  await worker.db.batch([
    worker.db.prepare('DELETE FROM account_operations_hourly'),
    worker.db.prepare('DELETE FROM account_storage_daily'),
    worker.db
      .prepare(
        `INSERT INTO account_collector_state (id, state_json, updated_at_ms) VALUES (1, ?, ?)
         ON CONFLICT (id) DO UPDATE SET state_json = excluded.state_json`,
      )
      .bind(JSON.stringify(runState), now),
  ]);
  await call(worker, 'GET', '/api/health'); // a warm isolate, as a cron run mostly finds
  const cpu0 = workerdCpuMs();
  const t0 = performance.now();
  const run = await call(worker, 'POST', '/api/admin/jobs/account-analytics');
  const wall = performance.now() - t0;
  const cpu = workerdCpuMs() - cpu0;
  if (run.status !== 200) throw new Error(JSON.stringify(run.body));
  const stored = (await worker.db.prepare('SELECT COUNT(*) AS n FROM account_operations_hourly').first()).n;
  const splits = run.body.verdicts.filter((v) => v.verdict === 'split').length;
  console.log(`  ${label}: ${run.body.queries} queries (${splits} cut-off answers split), ${stored} rows in D1`);
  console.log(`    workerd CPU ${cpu.toFixed(0)} ms (target 50 ms), wall ${wall.toFixed(0)} ms`);
  return run.body.state;
}

console.log(`account collector: ${BUCKETS} buckets x ${HOURS} h x ${ACTIONS} action types = ${operations.length} groups, Node ${process.version}`);
const learned = await measure('first run (no estimate of groups per hour: windows split on cut-off answers)', state);
await measure('a later run (windows sized from the groups per hour seen)', {
  ...state,
  operations_groups_per_hour: learned.operations_groups_per_hour,
});
await worker.dispose();
await standIn.close();
