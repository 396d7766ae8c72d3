#!/usr/bin/env node
// The local bootstrap behind `make dev`: makes sure .dev.vars holds a JWT_SECRET, a SECRETS_KEY
// and an ANALYTICS_HASH_KEY (random ones on first run; wrangler dev reads them) and that the
// local D1 has an admin API token, then prints the token. The token is kept in
// <state>/admin-token (beside the local D1 it belongs to), so a restart prints the same one;
// deleting the state makes a new one.
//
//   node tools/dev-bootstrap.mjs [--persist-to .wrangler/state]
//   node tools/dev-bootstrap.mjs --remote   # first admin token of the production D1 (printed once)
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { newApiToken, newJwtSecret, tokenStatements } from './admin-token.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const remote = args.includes('--remote');
const persistAt = args.indexOf('--persist-to');
const state = resolve(ROOT, persistAt >= 0 ? args[persistAt + 1] : '.wrangler/state');

function d1Execute(sql) {
  const file = join(tmpdir(), `r2watch-bootstrap-${process.pid}.sql`);
  writeFileSync(file, `${sql.join(';\n')};\n`, { mode: 0o600 });
  try {
    const where = remote ? ['--remote', '--env', 'production'] : ['--local', '--persist-to', state, '--env='];
    execFileSync('npx', ['--no-install', 'wrangler', 'd1', 'execute', 'DB', ...where, '--file', file], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' },
    });
  } finally {
    rmSync(file, { force: true });
  }
}

if (remote) {
  const t = newApiToken();
  d1Execute(tokenStatements(t, { name: 'first admin' }));
  console.log(`admin token for production (shown once; keep it in a secret store): ${t.token}`);
  process.exit(0);
}

const devVars = join(ROOT, '.dev.vars');
// JWT_SECRET signs tokens; SECRETS_KEY seals the secrets kept in D1 (worker-shim/src/sealed.js);
// ANALYTICS_HASH_KEY keys the users' hashes in analytics events.
let vars = existsSync(devVars) ? readFileSync(devVars, 'utf8') : '';
for (const name of ['JWT_SECRET', 'SECRETS_KEY', 'ANALYTICS_HASH_KEY']) {
  if (new RegExp(`^${name}\\s*=`, 'm').test(vars)) continue;
  const line = `${name} = "${newJwtSecret()}"\n`;
  vars = vars && !vars.endsWith('\n') ? `${vars}\n${line}` : vars + line;
  writeFileSync(devVars, vars, { mode: 0o600 });
  console.log(`made a local ${name} in .dev.vars (gitignored)`);
}

const tokenFile = join(state, 'admin-token');
let token = existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : '';
if (!token) {
  const t = newApiToken();
  d1Execute(tokenStatements(t, { name: 'make dev' }));
  mkdirSync(state, { recursive: true });
  writeFileSync(tokenFile, `${t.token}\n`, { mode: 0o600 });
  chmodSync(tokenFile, 0o600);
  token = t.token;
}
console.log(`admin token for this local r2watch: ${token}`);
console.log(`  (also in ${tokenFile}; send it as: Authorization: Bearer <token>)`);
