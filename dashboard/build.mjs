// Builds the dashboard into dashboard/dist (the Worker's static assets): the page's modules
// bundled with uPlot by esbuild (no CDN), its HTML and CSS, and the browser build of the cost
// engine (build/browser/cost-model.{js,wasm}, from `make cost-model`).
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'dashboard/src');
const DIST = join(ROOT, 'dashboard/dist');
const COST_MODEL = join(ROOT, 'build/browser');

for (const f of ['cost-model.js', 'cost-model.wasm']) {
  if (!existsSync(join(COST_MODEL, f))) {
    console.error(`${join(COST_MODEL, f)} is missing: run \`make dashboard\` (it builds the cost model with Emscripten first)`);
    process.exit(1);
  }
}

rmSync(DIST, { recursive: true, force: true });
mkdirSync(DIST, { recursive: true });
await build({
  entryPoints: [join(SRC, 'app.js')],
  outfile: join(DIST, 'app.js'),
  bundle: true,
  format: 'esm',
  minify: true,
  target: 'es2022',
  external: ['./cost-model.js'],
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(join(SRC, 'index.html'), join(DIST, 'index.html'));
copyFileSync(join(SRC, 'style.css'), join(DIST, 'style.css'));
copyFileSync(join(ROOT, 'node_modules/uplot/dist/uPlot.min.css'), join(DIST, 'uPlot.min.css'));
for (const f of ['cost-model.js', 'cost-model.wasm']) copyFileSync(join(COST_MODEL, f), join(DIST, f));

for (const f of readdirSync(DIST).sort()) console.log(`dashboard/dist/${f}: ${statSync(join(DIST, f)).size} bytes`);
