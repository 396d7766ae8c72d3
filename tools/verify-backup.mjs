#!/usr/bin/env node
// `npm run verify-backup -- KEY [--persist-to DIR]`: proves that a backup in R2 restores. Reads
// the backup whose manifest is KEY from the local R2 of DIR (default .wrangler/state), restores
// it into a fresh, empty local D1 (the same path as `npm run restore -- --from-r2`), then
// compares every table's row count and SHA-256 there with the manifest's (version 2: of its
// parts together). Prints one line per
// table and the time each step took; exits 1 on any difference.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROOT } from './d1-cli.mjs';
import { openLocalState, readBackup, tableDigests } from './r2-backup.mjs';

const args = process.argv.slice(2);
const key = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--persist-to');
const persistTo = resolve(ROOT, args.includes('--persist-to') ? args[args.indexOf('--persist-to') + 1] : '.wrangler/state');
if (!key) {
  console.error('usage: npm run verify-backup -- KEY [--persist-to DIR]   (KEY: .r2watch/backups/<id>/manifest.json)');
  process.exit(2);
}

const fresh = mkdtempSync(join(tmpdir(), 'r2watch-verify-'));
let failed = false;
try {
  const source = await openLocalState(persistTo);
  let manifest;
  let tables;
  try {
    ({ manifest, tables } = await readBackup(source.bucket, key));
  } finally {
    await source.dispose();
  }
  const started = Date.now();
  // The fresh state reads the backup from the source's R2: restore with --from-r2 there.
  execFileSync(process.execPath, [join(ROOT, 'tools/restore.mjs'), '--from-r2', key, '--persist-to', fresh, '--r2-from', persistTo], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const restoreMs = Date.now() - started;
  const target = await openLocalState(fresh);
  try {
    const got = await tableDigests(target.db, tables.map((t) => t.name));
    for (const t of tables) {
      const rows = t.rows.length;
      const ok = got[t.name].rows === rows && got[t.name].sha256 === t.sha256;
      if (!ok) failed = true;
      console.log(`${ok ? 'ok  ' : 'DIFF'} ${t.name}: ${got[t.name].rows}/${rows} rows, sha256 ${ok ? 'matches' : `${got[t.name].sha256} != ${t.sha256}`}`);
    }
  } finally {
    await target.dispose();
  }
  console.log(`verify-backup: ${key} ${failed ? 'DIFFERS' : 'verified'} (version ${manifest.version}, ${manifest.tables.length} tables, restored in ${restoreMs} ms)`);
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
