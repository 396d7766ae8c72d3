#!/usr/bin/env node
// `npm run restore FILE`: replaces r2watch's D1 with a backup from `npm run backup`. Every table
// is dropped and the backup's schema and rows are loaded, so the database ends exactly as it was
// when the backup was taken (its migration history included).
//
//   npm run restore FILE                                   local D1 of `make dev`
//   npm run restore FILE -- --persist-to DIR              another local state directory
//   npm run restore FILE -- --remote --yes [--env NAME]   the deployed database (destructive:
//                                                          --yes is required)
//   npm run restore -- --from-r2 KEY [--persist-to DIR]   a backup the Worker wrote to R2
//       (KEY: its manifest, `.r2watch/backups/<id>/manifest.json`, as the daily job's summary and
//       POST /api/admin/jobs/backup name it), read from the local R2 of the same state
//       directory, checked against its manifest (rows and SHA-256), then loaded as a FILE is.
// Stop the Worker (or accept that requests in between see an empty database) while it runs.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { executeFile, query, whereFrom } from './d1-cli.mjs';
import { backupSql, openLocalState, readBackup } from './r2-backup.mjs';

const args = process.argv.slice(2);
const where = whereFrom(args);
const fromR2 = args.includes('--from-r2') ? args[args.indexOf('--from-r2') + 1] : null;
let file = args.find((a, i) => !a.startsWith('--') && !['--persist-to', '--env', '--output-dir', '--from-r2', '--r2-from'].includes(args[i - 1]));
let fromR2File = null;
if (fromR2) {
  if (where.remote) {
    console.error('--from-r2 restores the local database from local R2 (use a FILE for --remote)');
    process.exit(2);
  }
  // --r2-from DIR: read the backup from another state's R2 (verify-backup restores into a fresh one).
  const r2From = args.includes('--r2-from') ? resolve(args[args.indexOf('--r2-from') + 1]) : where.persistTo;
  const state = await openLocalState(r2From);
  try {
    fromR2File = join(tmpdir(), `r2watch-from-r2-${process.pid}.sql`);
    writeFileSync(fromR2File, backupSql(await readBackup(state.bucket, fromR2)));
  } catch (e) {
    console.error(`restore: ${e.message}`);
    process.exit(1);
  } finally {
    await state.dispose();
  }
  file = fromR2File;
}
if (!file || !existsSync(file)) {
  console.error('usage: npm run restore FILE [-- --persist-to DIR | --remote --yes] | npm run restore -- --from-r2 KEY [--persist-to DIR]');
  process.exit(2);
}
if (where.remote && !args.includes('--yes')) {
  console.error('restoring the remote database replaces all of it: add --yes to go ahead');
  process.exit(2);
}

const tables = query(
  where,
  "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
).map((r) => r.name);
const drops = tables.map((t) => `DROP TABLE IF EXISTS "${t.replace(/"/g, '""')}";`).join('\n');
const script = join(tmpdir(), `r2watch-restore-${process.pid}.sql`);
writeFileSync(script, `PRAGMA defer_foreign_keys = TRUE;\n${drops}\n${readFileSync(resolve(file), 'utf8')}\n`);
try {
  executeFile(where, script);
} finally {
  rmSync(script, { force: true });
  if (fromR2File) rmSync(fromR2File, { force: true });
}
console.log(`restored ${fromR2 ?? file} (${tables.length} tables replaced)`);
