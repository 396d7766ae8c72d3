// wrangler.toml's environments: staging lists every binding production has (bindings and vars are
// not inherited by environments, so one left out would be missing only in that Worker), runs the
// same crons, and wrangler itself accepts it (`wrangler deploy --dry-run --env staging`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { experimental_readRawConfig } from 'wrangler';
import { ROOT, tempDir } from './helpers.mjs';

// Every kind of binding an environment of wrangler.toml can list, and what names one.
const BINDING_KINDS = {
  r2_buckets: (b) => b.binding,
  d1_databases: (b) => b.binding,
  analytics_engine_datasets: (b) => b.binding,
  kv_namespaces: (b) => b.binding,
  services: (b) => b.binding,
  queues_producers: (b) => b.binding,
  ratelimits: (b) => b.name,
  durable_objects: (b) => b.name,
  workflows: (b) => b.binding,
  hyperdrive: (b) => b.binding,
  vectorize: (b) => b.binding,
  ai: (b) => b.binding,
};

function bindingNames(env, kind) {
  let list = env[kind];
  if (kind === 'durable_objects') list = list?.bindings;
  if (kind === 'queues_producers') list = env.queues?.producers;
  if (kind === 'ai') list = env.ai ? [env.ai] : [];
  return (list ?? []).map(BINDING_KINDS[kind]).sort();
}

function readConfig() {
  return experimental_readRawConfig({ config: join(ROOT, 'wrangler.toml') }).rawConfig;
}

test('staging lists every binding, var and cron production has, with its own resources', () => {
  const config = readConfig();
  const production = config.env.production;
  const staging = config.env.staging;
  assert.ok(staging, 'wrangler.toml has [env.staging]');
  assert.notEqual(staging.name, production.name, 'staging is its own Worker');
  for (const kind of Object.keys(BINDING_KINDS)) {
    assert.deepEqual(bindingNames(staging, kind), bindingNames(production, kind), `staging's ${kind}`);
  }
  assert.ok(bindingNames(production, 'r2_buckets').includes('BUCKET'));
  assert.ok(bindingNames(production, 'd1_databases').includes('DB'));
  assert.ok(bindingNames(production, 'analytics_engine_datasets').includes('ANALYTICS'));
  assert.deepEqual(Object.keys(staging.vars).sort(), Object.keys(production.vars).sort(), 'staging has every var');
  assert.equal(staging.vars.ENVIRONMENT, 'staging');
  assert.equal(staging.vars.FAULT_INJECTION, 'off');
  assert.equal(production.vars.FAULT_INJECTION, 'off');
  // The jobs are keyed by cron expression: every environment runs the same ones.
  assert.deepEqual(staging.triggers.crons, config.triggers.crons);
  assert.deepEqual(production.triggers.crons, config.triggers.crons);
  // Its own database and bucket: a test release never writes production's data.
  assert.notEqual(staging.d1_databases[0].database_name, production.d1_databases[0].database_name);
  assert.notEqual(staging.d1_databases[0].database_id, production.d1_databases[0].database_id);
  assert.notEqual(staging.r2_buckets[0].bucket_name, production.r2_buckets[0].bucket_name);
  assert.equal(staging.vars.BUCKET_NAME, staging.r2_buckets[0].bucket_name);
  assert.equal(staging.d1_databases[0].migrations_dir, 'migrations');
});

test('wrangler bundles the staging environment (deploy --dry-run --env staging)', { timeout: 180_000 }, () => {
  const out = tempDir('staging-bundle');
  try {
    const printed = execFileSync('npx', ['--no-install', 'wrangler', 'deploy', '--dry-run', '--env', 'staging', '--outdir', out], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    assert.ok(existsSync(join(out, 'index.js')), 'the bundle is written');
    // wrangler names the bindings the staging Worker would get.
    for (const name of ['BUCKET', 'DB', 'ANALYTICS', 'RATE_LIMIT_IP', 'RATE_LIMIT_CREDENTIAL']) {
      assert.match(printed, new RegExp(`\\b${name}\\b`), `${name} in wrangler's binding list`);
    }
    assert.match(printed, /r2watch-staging-data/);
    assert.match(printed, /"staging"/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
