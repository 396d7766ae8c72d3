// One alert evaluation round inside r2watch.wasm, called from JavaScript as the check-alerts
// cron calls it: 1,000 rules over 10,000 series (2,000 buckets x 5 metrics), with the states of
// the round before handed back in. Prints the time per round (JSON in and out included), which
// must fit far inside a Worker's CPU budget for one cron run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../worker-shim/src/engine.js';

const ROOT = join(import.meta.dirname, '../..');
const BUCKETS = 2_000;
const RULES = 1_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);

let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);

const METRICS = [
  ['error_rate_pct', 300_000, () => rand() * 6],
  ['latency_avg_ms', 300_000, () => 50 + rand() * 2_100],
  ['latency_p95_ms', 300_000, () => 100 + rand() * 4_000],
  ['quota_used_pct', 0, () => rand() * 85],
  ['storage_growth_30d_pct', 0, () => rand() * 55],
];
function makeSeries() {
  const out = [];
  for (let b = 0; b < BUCKETS; b++) {
    for (const [metric, window, value] of METRICS) {
      const s = { metric, bucket: `bucket-${b}`, value: value(), samples: 1_000 };
      if (window) s.window_ms = window;
      if (metric === 'quota_used_pct') s.user = `user-${b}`;
      out.push(s);
    }
  }
  return out;
}
// Figures move a little between rounds: 1% of the series take a new value each minute.
const current = makeSeries();
function series() {
  for (let i = 0; i < current.length / 100; i++) {
    const s = current[Math.floor(rand() * current.length)];
    s.value = METRICS.find(([m]) => m === s.metric)[2]();
  }
  return current;
}

// 900 rules scoped to one bucket each, 100 over every bucket; thresholds put ~2% above.
const TEMPLATES = [
  { type: 'error_rate', threshold: 5.9 },
  { type: 'latency', threshold: 2_100, statistic: 'avg' },
  { type: 'latency', threshold: 4_000, statistic: 'p95' },
  { type: 'quota_usage', threshold: 84 },
  { type: 'storage_growth', threshold: 54 },
];
const rules = [];
for (let i = 0; i < RULES; i++) {
  const t = TEMPLATES[i % TEMPLATES.length];
  const rule = { ...t, id: `rule-${i}`, name: `rule ${i}`, severity: ['low', 'medium', 'high', 'critical'][i % 4] };
  if (i >= 100) rule.scope = { bucket: `bucket-${(i * 7) % BUCKETS}` };
  rules.push(rule);
}

const module = new WebAssembly.Module(readFileSync(join(ROOT, 'build/wasm/r2watch.wasm')));
// The console module (wasm-bindings/modules.h) answers the commands r2watch.wasm does not register.
const consoleModule = new WebAssembly.Module(readFileSync(join(ROOT, 'build/wasm/r2watch-console.wasm')));
const engine = new Engine(module, 0, { console: consoleModule });
const storedRules = rules.map((r) => engine.call('alert_rule_create', { request: r, id: r.id }, 0).rule);
const settings = {
  channels: [
    { name: 'hook', type: 'webhook', url: 'https://hooks.example.com/r2watch' },
    { name: 'slack', type: 'slack', url: 'https://hooks.slack.com/services/T/B/x' },
  ],
  max_notices_per_type_per_hour: 1000,
};

const rulesText = JSON.stringify(storedRules);
const settingsText = JSON.stringify(settings);
let states = [];
let ledger = null;
const times = [];
let last;
let coldMs = 0;
let coldSummary;
const now0 = Date.UTC(2026, 5, 1);
for (let round = 0; round <= ROUNDS; round++) {
  const input =
    `{"rules":${rulesText},"settings":${settingsText},"ledger":${JSON.stringify(ledger)},` +
    `"states":${JSON.stringify(states)},"silences":[],"figures":{"series":${JSON.stringify(series())}}}`;
  const t0 = process.hrtime.bigint();
  last = engine.call('alert_check', input, now0 + round * 60_000);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (round > 0) {
    times.push(ms);
  } else {
    coldMs = ms; // the first round: every firing alert is new and notified
    coldSummary = last.summary;
  }
  const byFp = new Map(states.map((s) => [s.fingerprint, s]));
  for (const c of last.changed) byFp.set(c.state.fingerprint, c.state);
  for (const fp of last.dropped) byFp.delete(fp);
  states = [...byFp.values()];
  ledger = last.ledger;
}
times.sort((a, b) => a - b);
const mean = times.reduce((a, b) => a + b, 0) / times.length;
console.log(`alert evaluation in wasm: ${RULES} rules over ${BUCKETS * METRICS.length} series, ${ROUNDS} rounds`);
console.log(`  first round (${coldSummary.firing} alerts fire at once, grouped into ${coldSummary.notifications} notifications): ${coldMs.toFixed(1)} ms`);
console.log(`  steady rounds, 1% of figures changing (JSON in and out included): mean ${mean.toFixed(1)} ms, median ${times[Math.floor(times.length / 2)].toFixed(1)} ms, max ${times[times.length - 1].toFixed(1)} ms`);
console.log(`  last round: ${last.summary.series_matched} rule/series matches, ${last.summary.firing} firing, ${last.summary.pending} pending, ${states.length} states kept, ${last.notifications.length} notifications`);
