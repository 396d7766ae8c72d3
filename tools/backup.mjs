#!/usr/bin/env node
// `npm run backup`: exports r2watch's D1 (schema and every row) to a timestamped SQL file.
//
//   npm run backup                                  local D1 of `make dev` (.wrangler/state)
//   npm run backup -- --persist-to DIR             another local state directory
//   npm run backup -- --remote [--env production]  the deployed database
//   ... --output-dir DIR                            where the file goes (default backups/)
//
// Prints the file's path. Restore with `npm run restore FILE` (see tools/restore.mjs).
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT, exportTo, whereFrom } from './d1-cli.mjs';

const args = process.argv.slice(2);
const where = whereFrom(args);
const outDir = resolve(ROOT, args.includes('--output-dir') ? args[args.indexOf('--output-dir') + 1] : 'backups');
mkdirSync(outDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
const file = join(outDir, `r2watch-${where.remote ? 'remote' : 'local'}-${stamp}.sql`);
exportTo(where, file);
console.log(`backup written: ${file} (${statSync(file).size} bytes)`);
