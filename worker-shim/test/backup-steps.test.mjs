// A backup of D1 to R2 made in steps (core/ops/backup.h; worker-shim/src/backup.js backupStep):
// parts of at most 200 rows, 400 rows a step, the manifest (version 2) written last. Made in
// several steps it holds what the one-run backup (version 1) holds, and restores; a step that
// dies after writing a part loses nothing and copies nothing twice; the daily job starts one and
// the 5-minute cron finishes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { startWorker, call, tempDir, sleep, runCron, ROOT } from './helpers.mjs';

const BULK = 500; // rows of a rowid table: 3 parts
const KEYED = 260; // rows of a WITHOUT ROWID table: 2 parts, read by offset

async function populate(w) {
  await call(w, 'PUT', '/api/costs/budgets', { budgets: [{ monthly_usd: '25.00' }] });
  await w.db.exec('CREATE TABLE zz_bulk (id INTEGER PRIMARY KEY, v TEXT)');
  await w.db.exec('CREATE TABLE zz_keyed (k TEXT PRIMARY KEY, n INTEGER) WITHOUT ROWID');
  // One statement each (a prepare per row is a synchronous call through Miniflare's proxy).
  await w.db
    .prepare(`INSERT INTO zz_bulk (id, v) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                SELECT i * 3, 'row "' || i || '"' || char(10) FROM n`)
    .bind(BULK)
    .run();
  await w.db
    .prepare(`INSERT INTO zz_keyed (k, n) WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
                SELECT 'k' || substr('0000' || i, -4), i FROM n`)
    .bind(KEYED)
    .run();
}

/** Each table's JSON lines in a backup, read from its objects (version 1 or 2). */
async function contents(w, manifestKey) {
  const manifest = JSON.parse(await (await w.bucket.get(manifestKey)).text());
  const out = {};
  for (const t of manifest.tables) {
    let text = '';
    for (const part of manifest.version === 1 ? [t] : t.parts) {
      const obj = await w.bucket.get(part.key);
      assert.ok(obj, `${part.key} exists`);
      text += gunzipSync(Buffer.from(await obj.arrayBuffer())).toString('utf8');
    }
    out[t.name] = text;
  }
  return { manifest, out };
}

const step = (w, query) => call(w, 'POST', `/api/admin/jobs/backup-step?${query}`);

/** Steps until the backup is complete: the answers. */
async function stepsToEnd(w, first) {
  const answers = [first];
  while (answers.at(-1).state !== 'complete') {
    const res = await step(w, 'trigger=continue');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    answers.push(res.body);
    assert.ok(answers.length < 50, 'ends');
  }
  return answers;
}

// Tables that change with the admin calls between the two backups.
const CHANGING = new Set(['audit_log', 'job_runs', 'backup_progress', 'security_counters', 'write_behind_batches']);

function npm(script, args) {
  return execFileSync('npm', ['run', '--silent', script, '--', ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

test('a backup made in steps holds what the one-run backup holds, is listed only once complete, and restores (so does version 1)', { timeout: 600_000 }, async () => {
  const state = tempDir('backup-steps-state');
  try {
    const w = await startWorker({ wranglerState: state });
    let v1Key;
    let v2Key;
    let v2;
    try {
      await populate(w);
      const one = await call(w, 'POST', '/api/admin/jobs/backup');
      assert.equal(one.status, 200, JSON.stringify(one.body));
      v1Key = one.body.manifest_key;
      await sleep(1100);

      const first = await step(w, 'trigger=start');
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.state, 'under_way');
      assert.ok(first.body.rows <= 400, `a step copies at most 400 rows (${first.body.rows})`);
      v2Key = `.r2watch/backups/${first.body.id}/manifest.json`;
      assert.equal(await w.bucket.head(v2Key), null, 'no manifest while under way');
      const { results: progress } = await w.db.prepare('SELECT * FROM backup_progress').all();
      assert.equal(progress.length, first.body.parts);
      // Another start continues the backup under way rather than starting a new one.
      await sleep(1100);
      const again = await step(w, 'trigger=start');
      assert.equal(again.body.id, first.body.id);
      const answers = await stepsToEnd(w, again.body);
      assert.ok(answers.length >= 2, `several steps (${answers.length + 1})`);
      for (const a of answers) assert.ok(a.rows <= 400, `at most 400 rows a step (${a.rows})`);
      const last = answers.at(-1);
      assert.equal(last.manifest_key, v2Key);
      assert.equal((await w.db.prepare('SELECT COUNT(*) AS n FROM backup_progress').first()).n, 0, 'progress forgotten');
      // With nothing under way, the 5-minute cron's step does nothing.
      assert.deepEqual((await step(w, 'trigger=continue')).body, { action: 'idle' });

      const a = await contents(w, v1Key);
      v2 = await contents(w, v2Key);
      assert.equal(a.manifest.version, 1);
      assert.equal(v2.manifest.version, 2);
      assert.deepEqual(v2.manifest.tables.map((t) => t.name), a.manifest.tables.map((t) => t.name).filter((n) => n !== 'backup_progress'));
      const bulk = v2.manifest.tables.find((t) => t.name === 'zz_bulk');
      assert.deepEqual(bulk.parts.map((p) => p.rows), [200, 200, 100]);
      assert.equal(bulk.rows, BULK);
      assert.deepEqual(v2.manifest.tables.find((t) => t.name === 'zz_keyed').parts.map((p) => p.rows), [200, 60]);
      for (const t of v2.manifest.tables) assert.ok(t.parts.length >= 1);
      const compared = [];
      for (const name of Object.keys(v2.out)) {
        if (CHANGING.has(name)) continue;
        assert.equal(v2.out[name], a.out[name], `${name}: the same rows in the same order`);
        compared.push(name);
      }
      assert.ok(compared.length > 20 && compared.includes('zz_bulk') && compared.includes('cost_budgets'));
      // Every object under the backup is in its manifest (nothing extra).
      const keys = (await w.bucket.list({ prefix: `.r2watch/backups/${first.body.id}/` })).objects.map((o) => o.key).sort();
      assert.deepEqual(keys, [...v2.manifest.tables.flatMap((t) => t.parts.map((p) => p.key)), v2Key].sort());
      await w.db.exec('DELETE FROM zz_bulk WHERE id > 30');
    } finally {
      await w.dispose();
    }

    const verified = npm('verify-backup', [v2Key, '--persist-to', state]);
    assert.match(verified, /verified \(version 2/);
    assert.doesNotMatch(verified, /DIFF/);
    npm('restore', ['--from-r2', v2Key, '--persist-to', state]);
    let w2 = await startWorker({ wranglerState: state, migrate: false, addAdmin: false });
    try {
      assert.equal((await w2.db.prepare('SELECT COUNT(*) AS n FROM zz_bulk').first()).n, BULK, 'the rows deleted since are back');
      assert.equal((await w2.db.prepare('SELECT COUNT(*) AS n FROM zz_keyed').first()).n, KEYED);
      await w2.db.exec('DELETE FROM zz_keyed');
    } finally {
      await w2.dispose();
    }
    // Version 1 still restores.
    npm('restore', ['--from-r2', v1Key, '--persist-to', state]);
    w2 = await startWorker({ wranglerState: state, migrate: false, addAdmin: false });
    try {
      assert.equal((await w2.db.prepare('SELECT COUNT(*) AS n FROM zz_keyed').first()).n, KEYED);
    } finally {
      await w2.dispose();
    }
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});

test('a step that dies after writing a part loses nothing and copies nothing twice: the next step redoes that part under the same key', { timeout: 300_000 }, async () => {
  const w = await startWorker();
  try {
    await populate(w);
    const clean = await stepsToEnd(w, (await step(w, 'trigger=start')).body);
    const reference = await contents(w, clean.at(-1).manifest_key);
    await sleep(1100);

    // Dies after the 2nd part's object is written, before it is recorded.
    const failed = await step(w, 'trigger=start&fail_after_parts=2');
    assert.equal(failed.status, 500);
    const id = /backup (\d{8}T\d{6}Z) step failed after part (\S+) \(injected\)/.exec(JSON.stringify(failed.body));
    assert.ok(id, JSON.stringify(failed.body));
    const { results: recorded } = await w.db.prepare('SELECT * FROM backup_progress').all();
    assert.equal(recorded.length, 1, 'the first part is recorded, the second is not');
    const prefix = `.r2watch/backups/${id[1]}/`;
    assert.equal((await w.bucket.list({ prefix })).objects.length, 2, 'two objects written');
    assert.equal(await w.bucket.head(`${prefix}manifest.json`), null, 'not listed as restorable');
    assert.equal((await step(w, 'fail_after_parts=x')).status, 400);

    const resumed = await stepsToEnd(w, (await step(w, 'trigger=continue')).body);
    assert.equal(resumed.at(-1).id, id[1], 'the same backup goes on');
    const again = await contents(w, resumed.at(-1).manifest_key);
    const keys = (await w.bucket.list({ prefix })).objects.map((o) => o.key).sort();
    assert.deepEqual(keys, [...again.manifest.tables.flatMap((t) => t.parts.map((p) => p.key)), `${prefix}manifest.json`].sort(), 'no stray part');
    assert.ok(keys.includes(id[2]), 'the part redone under its key');
    assert.deepEqual(again.manifest.tables.map((t) => [t.name, t.parts.length]), reference.manifest.tables.map((t) => [t.name, t.parts.length]));
    for (const name of Object.keys(again.out)) {
      if (!CHANGING.has(name)) assert.equal(again.out[name], reference.out[name], `${name}: the same backup`);
    }
  } finally {
    await w.dispose();
  }
});

test('the daily job starts a backup and the offset 5-minute cron finishes it, one step a run', { timeout: 300_000 }, async () => {
  const w = await startWorker();
  try {
    await populate(w);
    const day = Date.UTC(2026, 10, 30);
    assert.equal((await runCron(w, '0 0 * * *', day)).outcome, 'ok');
    // The offset 5-minute cron, every 5 minutes, until the day's work is finished.
    for (let runs = 1; (await w.db.prepare('SELECT finished_ms FROM daily_work').first()).finished_ms === null; runs++) {
      assert.ok(runs < 40, `${runs} runs`);
      assert.equal((await runCron(w, '2-59/5 * * * *', day + runs * 300_000)).outcome, 'ok');
    }
    const finish = await w.db.prepare("SELECT outcome, summary_json FROM job_runs WHERE job = 'daily' AND cron = '2-59/5 * * * *'").first();
    assert.equal(finish.outcome, 'ok');
    const daily = { finish: { summary: JSON.parse(finish.summary_json) } };
    const { results } = await w.db.prepare("SELECT summary_json FROM job_runs WHERE job = 'account-analytics' ORDER BY id").all();
    const steps = results.map((r) => JSON.parse(r.summary_json).daily).filter((d) => d?.task === 'backup');
    assert.ok(steps.length >= 2, `${steps.length} backup steps`);
    assert.ok(steps.slice(0, -1).every((s) => s.complete === false && s.summary.state === 'under_way'));
    const backup = daily.finish.summary.backup;
    assert.equal(backup.id, '20261130T000000Z');
    assert.equal(backup.state, 'complete');
    assert.equal(backup.manifest_key, '.r2watch/backups/20261130T000000Z/manifest.json');
    const manifest = JSON.parse(await (await w.bucket.get(backup.manifest_key)).text());
    assert.equal(manifest.tables.length, backup.tables);
    assert.equal(manifest.tables.find((t) => t.name === 'zz_bulk').rows, BULK);
    const summary = async (job) => JSON.parse((await w.db.prepare('SELECT summary_json FROM job_runs WHERE job = ? ORDER BY id DESC').bind(job).first()).summary_json);
    assert.equal((await runCron(w, '2-59/5 * * * *', day + 6 * 3_600_000)).outcome, 'ok');
    const after = await summary('account-analytics');
    assert.equal(after.daily, null);
    assert.deepEqual(after.backup, { action: 'idle' });
  } finally {
    await w.dispose();
  }
});
