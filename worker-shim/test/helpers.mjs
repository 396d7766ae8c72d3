// Starts the bundled Worker (build/worker, from `wrangler deploy --dry-run`) inside workerd
// through Miniflare, with real local D1 and R2, and applies migrations/ to the database.
import { Miniflare } from 'miniflare';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
const BUNDLE = join(ROOT, 'build/worker/index.js');
// The dashboard, served as static assets as wrangler.toml's [assets] says: the page at /, while
// /api/* and /metrics always reach the Worker.
export const ASSETS_DIR = join(ROOT, 'dashboard/dist');

/** SQL statements of every migration, in order (comments dropped, split on `;` at line end). */
export function migrationStatements() {
  const dir = join(ROOT, 'migrations');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .flatMap((f) =>
      readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter((line) => !line.trim().startsWith('--'))
        .join('\n')
        .split(/;\s*$/m)
        .map((s) => s.trim())
        .filter(Boolean),
    );
}

export function tempDir(name) {
  return mkdtempSync(join(tmpdir(), `r2watch-${name}-`));
}

/**
 * @param {{persistDir?: string, vars?: Record<string,string>, migrate?: boolean, port?: number}} [options]
 * @returns {Promise<{mf: Miniflare, url: string, fetch: (path: string, init?: RequestInit) => Promise<Response>,
 *   db: D1Database, bucket: R2Bucket, dispose: () => Promise<void>}>}
 */
export async function startWorker({ persistDir, vars = {}, migrate = true, port } = {}) {
  for (const needed of [BUNDLE, join(ASSETS_DIR, 'index.html')]) {
    if (!existsSync(needed)) {
      throw new Error(`${needed} is missing: run \`make test\` (it builds the Worker bundle and the dashboard first)`);
    }
  }
  const ownDir = !persistDir;
  const dir = persistDir ?? tempDir('state');
  const mf = new Miniflare({
    scriptPath: BUNDLE,
    modules: true,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2026-04-01',
    cf: false,
    // A port to serve on 127.0.0.1 (0: any free one), for a browser or the CLI; `url` has it.
    ...(port === undefined ? {} : { host: '127.0.0.1', port }),
    r2Buckets: ['BUCKET'],
    d1Databases: ['DB'],
    analyticsEngineDatasets: { ANALYTICS: { dataset: 'r2watch_events' } },
    bindings: { FAULT_INJECTION: 'on', ...vars },
    assets: {
      directory: ASSETS_DIR,
      routerConfig: { has_user_worker: true, static_routing: { user_worker: ['/api/*', '/metrics'] } },
    },
    r2Persist: join(dir, 'r2'),
    d1Persist: join(dir, 'd1'),
  });
  const url = await mf.ready;
  const db = await mf.getD1Database('DB');
  if (migrate) await db.batch(migrationStatements().map((s) => db.prepare(s)));
  const bucket = await mf.getR2Bucket('BUCKET');
  return {
    mf,
    url: url.origin,
    db,
    bucket,
    fetch: (path, init) => mf.dispatchFetch(`http://r2watch.test${path}`, init),
    async dispose() {
      await mf.dispose();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sends JSON and returns {status, headers, body} with the body parsed when it is JSON. */
export async function call(worker, method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['content-type'] = 'application/json';
  }
  const res = await worker.fetch(path, init);
  const text = await res.text();
  let parsed = text;
  if ((res.headers.get('content-type') ?? '').includes('application/json')) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the Worker's scheduled handler for `cron` as Cloudflare would, with `scheduledTime`
 * (ms; default now). Resolves to Miniflare's result ({outcome: 'ok' | 'exception', ...}).
 */
export async function runCron(worker, cron, scheduledTime = Date.now()) {
  const entry = await worker.mf.getWorker();
  return entry.scheduled({ cron, scheduledTime: new Date(scheduledTime) });
}
