// The engine's report of one month (report_build) over a month of hour rollups (720 hours x 3
// buckets x 5 operations = 10,800 rows with latency sketches), through the built r2watch.wasm,
// beside its peer on the same rows: metrics_summarize, which only merges them. The difference is
// what the report's sections (per bucket and operation, errors, recommendations) cost.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../worker-shim/src/engine.js';
import { ROOT } from '../../worker-shim/test/helpers.mjs';

const module = new WebAssembly.Module(readFileSync(join(ROOT, 'build/wasm/r2watch.wasm')));
// The console module (wasm-bindings/modules.h) answers the commands r2watch.wasm does not register.
const consoleModule = new WebAssembly.Module(readFileSync(join(ROOT, 'build/wasm/r2watch-console.wasm')));
const engine = new Engine(module, 0, { console: consoleModule });
const start = Date.UTC(2026, 10, 1);
const rows = [];
for (let h = 0; h < 720; h++) {
  for (const bucket of ['a', 'b', 'c']) {
    for (const operation of ['get', 'put', 'list', 'head', 'delete']) {
      rows.push({
        bucket, prefix: `p${h % 7}`, user: '', operation, level: 'hour', period_start_ms: start + h * 3_600_000,
        calls: 100, errors: h % 3, bytes_up: 10, bytes_down: 1000,
        latency: { zero: 0, bins: [[250, 60], [300, 30], [500, 10]], sum: 5000, min: 30, max: 1000 },
      });
    }
  }
}
const text = JSON.stringify(rows);
const RUNS = 10;
function time(f) {
  f();
  const t = performance.now();
  for (let i = 0; i < RUNS; i++) f();
  return (performance.now() - t) / RUNS;
}
const report = time(() => engine.call('report_build', `{"type":"monthly","period":"2026-11","operations":${text}}`, Date.now()));
const summarize = time(() => engine.call('metrics_summarize', `{"rows":${text}}`, Date.now()));
console.log(
  `report_build, a month of ${rows.length} hour rows (${(text.length / 1e6).toFixed(1)} MB): ${report.toFixed(1)} ms` +
    ` | peer metrics_summarize on the same rows: ${summarize.toFixed(1)} ms`,
);
