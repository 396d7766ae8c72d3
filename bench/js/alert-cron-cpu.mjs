// CPU time of the check-alerts cron (every minute) for the account of issue #16's CPU goal
// (bench/js/small-account.mjs: 10 buckets, 50 alert rules, 20 users, a month of rollups) with the
// account collector on against the GraphQL stand-in (as bench/js/cron-cpu.mjs), beside the
// dashboard's `/api/alerts?state=firing`, against Workers' free-plan CPU limit of 10 ms:
//  - a minute like most: the account's stored rows unchanged since the last round, so the
//    round takes its cost figures and account series again (alerts.js gatherFigures);
//  - the minute after the collector stored rows (every 5 minutes): the round makes them again
//    (forced with x-r2watch-alert-held: drop before each run, outside the CPU window: D1 replay
//    cannot show stored rows changing).
// Measured as cron-cpu.mjs does (measureCpu): workerd's CPU per run, the wall time of its D1
// calls, and the Worker's own CPU with D1 replayed from memory, median of BENCH_RUNS (5); and
// the Worker's own mean over BENCH_MEAN_RUNS (30) runs (CPU comes in 10 ms ticks: the mean
// resolves below one). Run after `make worker`: node bench/js/alert-cron-cpu.mjs.
import { startWorker, call, runCron } from '../../worker-shim/test/helpers.mjs';
import { startStandIn } from '../../tools/graphql-standin.mjs';
import { BUCKETS, RULES, USERS, DAYS, LIMIT_MS, standInAccount, collectorUpToDate, seedSmallAccount, measureCpu, cpuLine, printCallCpu, workerdCpuMs } from './small-account.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const MEAN_RUNS = Number(process.env.BENCH_MEAN_RUNS ?? 30);
const HOUR_MS = 3_600_000;

const now = Date.now();
const lastHour = Math.floor(now / HOUR_MS) * HOUR_MS;
const standIn = await startStandIn({ account: standInAccount(now) });
const vars = { CLOUDFLARE_ACCOUNT_ID: standIn.accountId, CLOUDFLARE_API_TOKEN: standIn.token, CLOUDFLARE_GRAPHQL_URL: standIn.url };

const worker = await startWorker({ vars, handleRuntimeStdio: (stdout, stderr) => { stdout.resume(); stderr.resume(); } });

async function header(name, value) {
  const res = await worker.fetch('/api/pricing', { headers: { [name]: value } });
  await res.arrayBuffer();
}

// The Worker's own CPU, mean of `runs` runs with D1 replayed (after two recording runs).
async function meanOwn(once, prepare, runs) {
  await header('x-r2watch-d1-replay', 'on');
  for (let i = 0; i < 2; i++) {
    if (prepare) await prepare();
    await once();
  }
  let total = 0;
  for (let i = 0; i < runs; i++) {
    if (prepare) await prepare();
    const cpu0 = workerdCpuMs();
    await once();
    total += workerdCpuMs() - cpu0;
  }
  await header('x-r2watch-d1-replay', 'off');
  return total / runs;
}

try {
  await seedSmallAccount(worker, now);
  await collectorUpToDate(worker, lastHour);
  await call(worker, 'POST', '/api/admin/jobs/check-alerts');
  const check = async () => {
    const result = await runCron(worker, '* * * * *', Date.now());
    if (result.outcome !== 'ok') throw new Error(JSON.stringify(result));
  };
  const drop = () => header('x-r2watch-alert-held', 'drop');
  console.log(
    `check-alerts at ${BUCKETS} buckets, ${RULES} alert rules, ${USERS} users, ${DAYS} days (collector on): workerd CPU per run ` +
      `(Worker + local D1, median of ${RUNS} runs), the wall time of its D1 calls and the Worker's own CPU (D1 replayed from memory), ` +
      `and the Worker's own mean of ${MEAN_RUNS} runs; the ${LIMIT_MS} ms limit judged on the Worker's own`,
  );
  for (const [name, prepare] of [
    ['check-alerts, account rows unchanged', null],
    ['check-alerts, the minute after the collector', drop],
  ]) {
    const figures = await measureCpu(worker, { runs: RUNS, once: check, prepare });
    const mean = await meanOwn(check, prepare, MEAN_RUNS);
    console.log(`${name.padEnd(46)} median run ${cpuLine(figures)}; mean own ${mean.toFixed(1)} ms`);
  }
  await printCallCpu(worker, '/api/alerts?state=firing', Number(process.env.BENCH_CALLS ?? 10), 46);
} finally {
  await worker.dispose();
  await standIn.close?.();
}
