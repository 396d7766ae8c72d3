// `npm run backup` and `npm run restore FILE` round-trip a populated database: every table, every
// row, is back as it was, whether restored into an empty state or over a database that changed
// since the backup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startWorker, call, tokenFor, tempDir, ROOT } from './helpers.mjs';

/** Every table's rows, in a stable order, read through a Worker on that state. */
async function snapshot(state) {
  const w = await startWorker({ wranglerState: state, migrate: false, addAdmin: false });
  try {
    const { results: tables } = await w.db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name")
      .all();
    const out = {};
    for (const { name } of tables) {
      const { results } = await w.db.prepare(`SELECT * FROM "${name}"`).all();
      out[name] = results.map((r) => JSON.stringify(r)).sort();
    }
    return out;
  } finally {
    await w.dispose();
  }
}

function npm(script, args) {
  return execFileSync('npm', ['run', '--silent', script, '--', ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

test('backup then restore gives back every table exactly', { timeout: 600_000 }, async () => {
  const state = tempDir('backup-state');
  const out = tempDir('backup-out');
  const fresh = tempDir('restore-state');
  try {
    const w = await startWorker({ wranglerState: state });
    try {
      const alice = await tokenFor(w, 'alice', { role: 'user' });
      await call(w, 'PUT', '/api/admin/users/alice/quota', { max_bytes: 1000 });
      await call(w, 'PUT', '/api/storage/files/a.txt', "it's \"quoted\"\nand multi-line", { as: alice });
      await call(w, 'PUT', '/api/costs/budgets', { budgets: [{ monthly_usd: '25.00' }] });
      await call(w, 'POST', '/api/health/check');
      await call(w, 'GET', '/api/storage/files', undefined, { as: 'bad-token' });
      await call(w, 'POST', '/api/admin/jobs/metrics-flush');
    } finally {
      await w.dispose();
    }
    const before = await snapshot(state);
    for (const t of ['users', 'api_tokens', 'audit_log', 'storage_metrics', 'r2_health_checks', 'user_objects', 'cost_budgets']) {
      assert.ok(before[t]?.length > 0, `${t} is populated`);
    }

    const printed = npm('backup', ['--persist-to', state, '--output-dir', out]);
    const files = readdirSync(out);
    assert.equal(files.length, 1);
    assert.match(files[0], /^r2watch-local-\d{8}T\d{6}Z\.sql$/);
    assert.match(printed, /backup written/);
    const file = join(out, files[0]);

    // Into an empty state.
    npm('restore', [file, '--persist-to', fresh]);
    assert.deepEqual(await snapshot(fresh), before);

    // Over a database that changed since: the changes are gone, everything else is back.
    const w2 = await startWorker({ wranglerState: state, migrate: false });
    try {
      await call(w2, 'POST', '/api/admin/users', { id: 'mallory', role: 'admin' });
      await w2.db.exec('DELETE FROM storage_metrics');
    } finally {
      await w2.dispose();
    }
    npm('restore', [file, '--persist-to', state]);
    assert.deepEqual(await snapshot(state), before);
  } finally {
    for (const d of [state, out, fresh]) rmSync(d, { recursive: true, force: true });
  }
});
