// Runs wrangler's D1 commands against the local D1 of any state directory (`--persist-to`, as
// `make dev` uses) or the remote one. `wrangler d1 export` has no --persist-to: it reads
// <config dir>/.wrangler/state, so a local export runs with a throwaway config whose
// .wrangler/state is a link to the state directory.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');

/** {remote, env, persistTo} from argv (--remote, --env NAME, --persist-to DIR). */
export function whereFrom(args) {
  const at = (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const remote = args.includes('--remote');
  return {
    remote,
    env: at('--env') ?? (remote ? 'production' : ''),
    persistTo: resolve(ROOT, at('--persist-to') ?? '.wrangler/state'),
  };
}

function wrangler(args) {
  return execFileSync('npx', ['--no-install', 'wrangler', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
    maxBuffer: 256 * 1024 * 1024,
  });
}

function target(where) {
  return where.remote ? ['--remote', `--env=${where.env}`] : ['--local', '--persist-to', where.persistTo, `--env=${where.env}`];
}

/** Runs SQL (a file) against the database. */
export function executeFile(where, file) {
  wrangler(['d1', 'execute', 'DB', ...target(where), '--file', file, '--yes']);
}

/** Runs one query and returns its rows. */
export function query(where, sql) {
  const out = wrangler(['d1', 'execute', 'DB', ...target(where), '--command', sql, '--json']);
  return JSON.parse(out.slice(out.indexOf('[')))[0].results;
}

/** Exports the whole database (schema and data) as SQL to `file`. */
export function exportTo(where, file) {
  if (where.remote) {
    wrangler(['d1', 'export', 'DB', '--remote', `--env=${where.env}`, '--output', file]);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'r2watch-export-'));
  try {
    const config = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8')
      .replace(/^main = .*$/m, '')
      .replace(/^migrations_dir = "migrations"$/gm, `migrations_dir = "${join(ROOT, 'migrations')}"`);
    writeFileSync(join(dir, 'wrangler.toml'), config);
    mkdirSync(join(dir, '.wrangler'));
    symlinkSync(where.persistTo, join(dir, '.wrangler', 'state'));
    wrangler(['d1', 'export', 'DB', '--local', '-c', join(dir, 'wrangler.toml'), `--env=${where.env}`, '--output', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
