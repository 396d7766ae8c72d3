// Starts the bundled Worker (build/worker, from `wrangler deploy --dry-run`) inside workerd
// through Miniflare, with real local D1 and R2, and applies migrations/ to the database.
import { Miniflare } from 'miniflare';
import http from 'node:http';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { newApiToken, tokenStatements } from '../../tools/admin-token.mjs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
const BUNDLE = join(ROOT, 'build/worker/index.js');
// The dashboard, served as static assets as wrangler.toml's [assets] says: the page at / (and at
// any other path that is not a file: single-page application), while /api/* and /metrics always
// reach the Worker.
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

/** The JWT secret the test Worker runs with (unless a test sets JWT_SECRET itself). */
export const TEST_JWT_SECRET = 'r2watch-test-secret-0123456789abcdef0123456789';

/** The key that seals secrets kept in D1 in the test Worker (unless a test sets SECRETS_KEY). */
export const TEST_SECRETS_KEY = 'r2watch-test-sealing-key-fedcba9876543210fedcba98';
/** The key of the users' hashes in analytics events (unless a test sets ANALYTICS_HASH_KEY). */
export const TEST_ANALYTICS_HASH_KEY = 'r2watch-test-analytics-key-0123456789abcdef01234';

/**
 * Signs an HS256 JWT with Node's crypto: an implementation independent of the core's, so a test
 * that passes proves both agree with RFC 7519.
 */
export function mintJwt(claims, secret = TEST_JWT_SECRET, header = { alg: 'HS256', typ: 'JWT' }) {
  const b64 = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** Claims of a JWT for `sub` with `role`, valid for an hour from now. */
export function claimsFor(sub, role, extra = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { iss: 'r2watch', sub, role, iat: now, exp: now + 3600, ...extra };
}

export function tempDir(name) {
  return mkdtempSync(join(tmpdir(), `r2watch-${name}-`));
}

/**
/**
 * Starts the Worker with JWT_SECRET, SECRETS_KEY and ANALYTICS_HASH_KEY set (vars.JWT_SECRET: null leaves it unset), generous rate
 * limits (unless vars set them), the dashboard's static assets, and an admin API token that
 * `fetch` and `call` send unless the request carries its own Authorization header or
 * `anonymous: true`.
 * @param {{persistDir?: string, vars?: Record<string,string|null>, migrate?: boolean, port?: number}} [options]
 * @returns {Promise<{mf: Miniflare, url: string, fetch: (path: string, init?: RequestInit) => Promise<Response>,
 *   db: D1Database, bucket: R2Bucket, adminToken: string, dispose: () => Promise<void>}>}
 */
/** wrangler.toml's database_id: wrangler's local D1 is keyed by it (backup tests share it). */
export const D1_DATABASE_ID = '00000000-0000-4000-8000-000000000000';
/** wrangler.toml's bucket_name: wrangler's local R2 is keyed by it. */
export const R2_BUCKET_NAME = 'r2watch-data';

// `miniflare`: further Miniflare options (e.g. `email` bindings, a `log` that captures output).
// `breakerCoordinator`: true binds BREAKERS (the shared circuit breaker's Durable Object) as
// wrangler.toml does; 'unreachable' binds it to a stand-in object whose every call fails (the
// fault: each isolate on its own breaker). `isolates: 2` runs a second copy of the Worker (its
// own isolate, its own engine) on the same D1, R2 and Durable Objects: `fetchSecond` reaches it.
export async function startWorker({ persistDir, vars = {}, migrate = true, wranglerState, addAdmin = true, port, adminToken, probeScheduler = false, breakerCoordinator = false, isolates = 1, miniflare = {}, handleRuntimeStdio } = {}) {
  for (const needed of [BUNDLE, join(ASSETS_DIR, 'index.html')]) {
    if (!existsSync(needed)) {
      throw new Error(`${needed} is missing: run \`make test\` (it builds the Worker bundle and the dashboard first)`);
    }
  }
  const ownDir = !persistDir && !wranglerState;
  const dir = persistDir ?? tempDir('state');
  // `wranglerState`: the layout of `wrangler dev --persist-to DIR` (what tools/backup.mjs reads).
  const r2Persist = wranglerState ? join(wranglerState, 'v3', 'r2') : join(dir, 'r2');
  const d1Persist = wranglerState ? join(wranglerState, 'v3', 'd1') : join(dir, 'd1');
  const durableObjects = {
    // The probe scheduler (a Durable Object alarm), as wrangler.toml binds it, when a test asks:
    // without it the collect-metrics cron runs the probe rounds, as the fallback does.
    ...(probeScheduler ? { PROBES: { className: 'ProbeScheduler', useSQLite: true } } : {}),
    ...(breakerCoordinator === true ? { BREAKERS: { className: 'BreakerCoordinator', useSQLite: true } } : {}),
    ...(breakerCoordinator === 'unreachable' ? { BREAKERS: { className: 'BreakerCoordinator', scriptName: UNREACHABLE_BREAKERS } } : {}),
  };
  const shared = {
    cf: false,
    // workerd's stdout and stderr (the Worker's console), for a test that reads its log lines.
    ...(handleRuntimeStdio ? { handleRuntimeStdio } : {}),
    // A port to serve on 127.0.0.1 (0: any free one), for a browser or the CLI; `url` has it.
    ...(port === undefined ? {} : { host: '127.0.0.1', port }),
    ...(Object.keys(durableObjects).length ? { durableObjectsPersist: join(dir, 'do') } : {}),
  };
  const worker = {
    scriptPath: BUNDLE,
    modules: true,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2026-04-01',
    // As wrangler names them: local R2 is keyed by bucket_name (what tools/r2-backup.mjs reads).
    r2Buckets: wranglerState ? { BUCKET: R2_BUCKET_NAME } : ['BUCKET'],
    d1Databases: wranglerState ? { DB: D1_DATABASE_ID } : ['DB'],
    analyticsEngineDatasets: { ANALYTICS: { dataset: 'r2watch_events' } },
    ...(Object.keys(durableObjects).length ? { durableObjects } : {}),
    bindings: Object.fromEntries(
      Object.entries({
        FAULT_INJECTION: 'on',
        JWT_SECRET: TEST_JWT_SECRET,
        SECRETS_KEY: TEST_SECRETS_KEY,
        ANALYTICS_HASH_KEY: TEST_ANALYTICS_HASH_KEY,
        RATE_LIMIT_PER_MINUTE: '100000',
        RATE_LIMIT_IP_PER_MINUTE: '100000',
        ...vars,
      }).filter(([, v]) => v !== null),
    ),
    assets: {
      directory: ASSETS_DIR,
      routerConfig: { has_user_worker: true, static_routing: { user_worker: ['/api/*', '/metrics', '/status'] } },
      assetConfig: { not_found_handling: 'single-page-application', has_static_routing: true },
    },
  };
  const extraWorkers = [];
  if (isolates > 1) {
    // The same Worker again: workerd gives each Worker its own isolate, so its own engine. The
    // shared breaker's object lives in the first one and is reached from here by script name.
    const { PROBES, ...ownObjects } = durableObjects;
    if (ownObjects.BREAKERS && !ownObjects.BREAKERS.scriptName) {
      ownObjects.BREAKERS = { className: 'BreakerCoordinator', scriptName: MAIN_WORKER };
    }
    extraWorkers.push({ ...worker, name: SECOND_WORKER, durableObjects: ownObjects });
  }
  if (breakerCoordinator === 'unreachable') extraWorkers.push(unreachableBreakers());
  const mf = new Miniflare({
    ...shared,
    ...(extraWorkers.length ? { workers: [{ ...worker, name: MAIN_WORKER }, ...extraWorkers] } : worker),
    r2Persist,
    d1Persist,
    ...miniflare,
  });
  const url = await mf.ready;
  const db = await mf.getD1Database('DB');
  const admin = adminToken ?? newApiToken(); // a test may share one token between Workers
  if (migrate) await db.batch(migrationStatements().map((s) => db.prepare(s)));
  // A fresh admin token on every start (a restarted Worker on kept state gets one too).
  if (addAdmin && (migrate || persistDir || wranglerState)) await db.batch(tokenStatements(admin).map((s) => db.prepare(s)));
  const bucket = await mf.getR2Bucket('BUCKET');
  const second = isolates > 1 ? await mf.getWorker(SECOND_WORKER) : null;
  const withAdmin = (init) => {
    const { anonymous, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (!anonymous && !headers.has('authorization')) headers.set('authorization', `Bearer ${admin.token}`);
    return { ...rest, headers };
  };
  return {
    mf,
    url: url.origin,
    db,
    bucket,
    adminToken: admin.token,
    fetch: (path, init = {}) => {
      const { anonymous, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (!anonymous && !headers.has('authorization')) headers.set('authorization', `Bearer ${admin.token}`);
      return mf.dispatchFetch(`http://r2watch.test${path}`, { ...rest, headers });
    },
    // The second copy of the Worker (`isolates: 2`): its own isolate and engine.
    fetchSecond: second ? (path, init = {}) => second.fetch(`http://r2watch.test${path}`, withAdmin(init)) : null,
    async dispose() {
      await mf.dispose();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

const MAIN_WORKER = 'r2watch';
const SECOND_WORKER = 'r2watch-second';
const UNREACHABLE_BREAKERS = 'unreachable-breakers';

/** A stand-in for the shared breaker's object whose every call fails, as an object in trouble does. */
function unreachableBreakers() {
  return {
    name: UNREACHABLE_BREAKERS,
    modules: true,
    compatibilityDate: '2026-04-01',
    script: `import { DurableObject } from 'cloudflare:workers';
      const down = () => { throw new Error('Durable Object is overloaded (test stand-in)'); };
      export class BreakerCoordinator extends DurableObject {
        report() { down(); } view() { down(); } command() { down(); } configure() { down(); }
      }
      export default { fetch: () => new Response('') };`,
    durableObjects: { BREAKERS: 'BreakerCoordinator' },
  };
}

/**
 * Sends JSON and returns {status, headers, body} with the body parsed when it is JSON.
 * `as`: a bearer token to send instead of the admin's (null: none at all).
 */
export async function call(worker, method, path, body, { as, headers: extra = {} } = {}) {
  const init = { method, headers: { ...extra } };
  if (as === null) init.anonymous = true;
  else if (as !== undefined) init.headers.authorization = `Bearer ${as}`;
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['content-type'] = 'application/json';
  }
  const res = await worker.fetch(path, init);
  const text = await res.text();
  let parsed = text;
  if (text && (res.headers.get('content-type') ?? '').includes('application/json')) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text; // a stored object that was sent as JSON but is not
    }
  }
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

/**
 * The daily cron at `scheduledTime`, then the steps of the day's work it started, one at a time
 * as the 5-minute cron makes them (through POST /api/admin/jobs/daily-step, the same code without
 * the rest of that cron's run), until it is finished (daily_work, core/ops/daily.h), at most
 * `maxSteps`. Answers {start: the daily cron's result, steps: how many, finish: the job_runs row
 * of job 'daily' that says it finished, with its summary parsed}.
 */
export async function runDailyWork(worker, scheduledTime = Date.now(), { maxSteps = 100 } = {}) {
  const start = await runCron(worker, '0 0 * * *', scheduledTime);
  let steps = 0;
  while (steps < maxSteps) {
    const step = await call(worker, 'POST', '/api/admin/jobs/daily-step');
    if (step.status !== 200) throw new Error(`daily step: ${step.status} ${JSON.stringify(step.body)}`);
    if (step.body.action === 'idle') break;
    steps += 1;
    if (step.body.finished || step.body.action === 'finish') break;
  }
  const finish = await worker.db
    .prepare("SELECT outcome, error, summary_json FROM job_runs WHERE job = 'daily' AND scheduled_ms = ? AND summary_json LIKE '%\"finished\":true%' ORDER BY id DESC LIMIT 1")
    .bind(scheduledTime)
    .first();
  return { start, steps, finish: finish && { ...finish, summary: JSON.parse(finish.summary_json) } };
}

/** Stores a user and an API token for it straight in D1 (no request counted); returns it. */
export async function insertToken(worker, userId, role = 'user') {
  const t = newApiToken();
  await worker.db.batch(tokenStatements(t, { userId, role }).map((s) => worker.db.prepare(s)));
  return t.token;
}

/**
 * Creates a user (if missing) and an API token for it through the admin API; returns the token.
 * @param {{role?: string, tokenRole?: string, scopes?: string[]}} [options]
 */
export async function tokenFor(worker, userId, { role = 'user', tokenRole, scopes } = {}) {
  const created = await call(worker, 'POST', '/api/admin/users', { id: userId, role });
  if (![201, 409].includes(created.status)) throw new Error(`user ${userId}: ${JSON.stringify(created.body)}`);
  const body = { user_id: userId, name: `${userId}-token` };
  if (tokenRole) body.role = tokenRole;
  if (scopes) body.scopes = scopes;
  const t = await call(worker, 'POST', '/api/admin/tokens', body);
  if (t.status !== 201) throw new Error(`token for ${userId}: ${JSON.stringify(t.body)}`);
  return t.body.token;
}

/**
 * A notification receiver: an HTTP server on a free loopback port that answers 200 to every
 * request and keeps each one's path and body text (`received`). `url(path)` is its address.
 */
export async function startReceiver() {
  const received = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      received.push({ path: req.url, body: text });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return { url: (p) => `http://127.0.0.1:${port}${p}`, received, close: () => new Promise((r) => server.close(r)) };
}
