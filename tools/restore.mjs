#!/usr/bin/env node
// `npm run restore FILE`: replaces r2watch's D1 with a backup from `npm run backup`. Every table
// is dropped and the backup's schema and rows are loaded, so the database ends exactly as it was
// when the backup was taken (its migration history included).
//
//   npm run restore FILE                                   local D1 of `make dev`
//   npm run restore FILE -- --persist-to DIR              another local state directory
//   npm run restore FILE -- --remote --yes [--env NAME]   the deployed database (destructive:
//                                                          --yes is required)
// Stop the Worker (or accept that requests in between see an empty database) while it runs.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { executeFile, query, whereFrom } from './d1-cli.mjs';

const args = process.argv.slice(2);
const file = args.find((a, i) => !a.startsWith('--') && !['--persist-to', '--env', '--output-dir'].includes(args[i - 1]));
if (!file || !existsSync(file)) {
  console.error('usage: npm run restore FILE [-- --persist-to DIR | --remote --yes]');
  process.exit(2);
}
const where = whereFrom(args);
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
}
console.log(`restored ${file} (${tables.length} tables replaced)`);
