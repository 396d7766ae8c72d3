#!/usr/bin/env node
// r2watch: the command line of a running r2watch (local or deployed). It only calls the HTTP
// API and prints the answers: tables for people, --json for scripts. No business rules here.
import { parseArgs } from 'node:util';
import { createWriteStream } from 'node:fs';
import { extname } from 'node:path';
import { readFileSync } from 'node:fs';

const VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
const DEFAULT_URL = 'http://127.0.0.1:8787';

const HELP = `r2watch ${VERSION}: storage, cost and alerts of a running r2watch

Usage: r2watch <command> [options]

Commands:
  usage   [--period hour|day|week|month] [--bucket NAME]   usage summary (default period day)
  details [--hours 24] [--resource bandwidth_upload|bandwidth_download|storage|api_calls]
  status                                                   per bucket: breaker, bandwidth, storage
  buckets                                                  every bucket of the account (Cloudflare analytics)
  costs   [--by bucket|prefix|class|user] [--month YYYY-MM] [--source account|r2watch]
                                                           the month's bill, or its breakdown
  alerts  [--state firing|resolved]                        alerts (default: firing)
  export  --output FILE.json|FILE.csv [--hours 168]        hourly usage to a file
  health  [check]                                          health, or run a probe round now

Options:
  --url URL       r2watch's address (or R2WATCH_URL; default ${DEFAULT_URL})
  --token TOKEN   API token, sent as a bearer token (or R2WATCH_TOKEN)
  --json          print the API's JSON answer instead of a table
  -h, --help      this help;  --version  the version

Exit codes: 0 done; 1 r2watch unreachable or refused the request; 2 bad usage;
3 health check found failing probes.`;

class CliError extends Error {
  constructor(message, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

// ---- HTTP -------------------------------------------------------------------------------------

function client(opts) {
  const base = (opts.url ?? process.env.R2WATCH_URL ?? DEFAULT_URL).replace(/\/+$/, '');
  const token = opts.token ?? process.env.R2WATCH_TOKEN ?? '';
  async function request(method, path, body) {
    const headers = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new CliError(
        `cannot reach r2watch at ${base} (${e.cause?.code ?? e.message}).\n` +
          'Is it running? Start it locally with `make dev`, or point to it with --url or R2WATCH_URL.',
      );
    }
    return res;
  }
  async function fail(res, path) {
    let err = {};
    try {
      err = (await res.json()).error ?? {};
    } catch {}
    if (res.status === 401 || res.status === 403) {
      throw new CliError(`r2watch refused the request (${res.status}${err.message ? `: ${err.message}` : ''}).\nPass a valid token with --token or R2WATCH_TOKEN.`);
    }
    if (res.status === 404 && err.code === 'not_found') {
      throw new CliError(`this r2watch has no ${path.split('?')[0]} (${err.message}). Is --url right, and is r2watch up to date?`);
    }
    const field = err.field ? ` (field: ${err.field})` : '';
    throw new CliError(`r2watch answered ${res.status}: ${err.message ?? res.statusText}${field}`);
  }
  return {
    base,
    request,
    async json(method, path, body, { optional = false } = {}) {
      const res = await request(method, path, body);
      if (optional && res.status === 404) return null;
      if (!res.ok) await fail(res, path);
      return res.json();
    },
    fail,
  };
}

// ---- output -----------------------------------------------------------------------------------

const nf = new Intl.NumberFormat('en-US');
const num = (n) => (n === null || n === undefined ? '-' : nf.format(n));
const pct = (n) => (n === null || n === undefined ? '-' : `${Number(n).toFixed(2)}%`);
const ms = (n) => (n === null || n === undefined ? '-' : `${Number(n).toFixed(1)} ms`);
const usd = (s) => (s === null || s === undefined ? '-' : `$${s}`);
function bytes(n) {
  if (n === null || n === undefined) return '-';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(2)} ${units[i]}`;
}

/** Columns aligned with two spaces; numbers (and money) right-aligned. */
function printTable(columns, rows, { header = true, out = process.stdout } = {}) {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const right = columns.map((_, i) => cells.length > 0 && cells.every((r) => /^[-+$]?[\d,.]+( ?[a-zA-Z%]+)?$|^-$/.test(r[i])));
  const line = (r) => r.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  if (header) out.write(`${line(columns)}\n${line(widths.map((w) => '-'.repeat(w)))}\n`);
  for (const r of cells) out.write(`${line(r)}\n`);
}

function printPairs(pairs) {
  printTable(['', ''], pairs.filter(Boolean), { header: false });
}

// ---- commands ---------------------------------------------------------------------------------

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

const commands = {
  async usage(api, o) {
    const s = await api.json('GET', `/api/usage/summary${query({ period: o.period ?? 'day', bucket: o.bucket })}`);
    if (o.json) return s;
    console.log(`Usage over the last ${s.period} (${s.from} to ${s.to})${s.bucket ? `, bucket ${s.bucket}` : ''}\n`);
    printPairs([
      ['API calls', num(s.api_calls?.total)],
      ['  Class A', num(s.api_calls?.class_a)],
      ['  Class B', num(s.api_calls?.class_b)],
      ['  free', num(s.api_calls?.free)],
      ['errors', `${num(s.errors)} (${pct(s.error_rate_pct)})`],
      ['uploaded', bytes(s.bandwidth?.upload_bytes)],
      ['downloaded', bytes(s.bandwidth?.download_bytes)],
      s.storage ? ['stored', `${bytes(s.storage.bytes)} in ${num(s.storage.objects)} objects (${s.storage.taken_at})`] : ['stored', 'no inventory yet'],
      ['last operation', s.last_operation_at ?? 'none'],
    ]);
    console.log('');
    printTable(
      ['operation', 'class', 'calls', 'errors', 'bytes up', 'bytes down'],
      Object.entries(s.by_operation ?? {}).map(([op, v]) => [op, v.r2_class, num(v.calls), num(v.errors), bytes(v.bytes_up), bytes(v.bytes_down)]),
    );
    return undefined;
  },

  async details(api, o) {
    const d = await api.json('GET', `/api/usage/details${query({ hours: o.hours ?? '24', resource: o.resource ?? 'api_calls', bucket: o.bucket })}`);
    if (o.json) return d;
    console.log(`${d.resource} per hour, last ${d.hours} hours\n`);
    if (!d.records.length) {
      console.log('No records in this window yet.');
      return undefined;
    }
    if (d.resource === 'storage') {
      printTable(['at', 'objects', 'bytes'], d.records.map((r) => [r.at, num(r.objects), bytes(r.bytes)]));
    } else if (d.resource === 'api_calls') {
      printTable(['hour', 'calls', 'class A', 'class B', 'free'], d.records.map((r) => [r.at, num(r.value), num(r.by_class?.A ?? 0), num(r.by_class?.B ?? 0), num(r.by_class?.free ?? 0)]));
    } else {
      printTable(['hour', 'bytes'], d.records.map((r) => [r.at, bytes(r.value)]));
    }
    return undefined;
  },

  async status(api, o) {
    const s = await api.json('GET', '/api/usage/status');
    if (o.json) return s;
    printTable(
      ['bucket', 'breaker', 'upload', 'download', 'objects', 'stored', 'last operation'],
      s.buckets.map((b) => [
        b.bucket,
        b.health?.circuit_breaker,
        `${(b.bandwidth_mbps?.upload ?? 0).toFixed(4)} Mbps`,
        `${(b.bandwidth_mbps?.download ?? 0).toFixed(4)} Mbps`,
        num(b.storage?.objects),
        bytes(b.storage?.bytes),
        b.last_operation_at ?? 'none',
      ]),
    );
    return undefined;
  },

  async buckets(api, o) {
    const b = await api.json('GET', '/api/account/buckets');
    if (o.json) return b;
    if (!b.enabled) {
      console.log('Account analytics are off: set CLOUDFLARE_ACCOUNT_ID and the secret CLOUDFLARE_API_TOKEN on r2watch.');
      return undefined;
    }
    if (!b.buckets.length) {
      console.log('No bucket figures yet: the account-analytics job has not stored any.');
      return undefined;
    }
    printTable(
      ['bucket', 'objects', 'stored', 'pending uploads', 'class A 24h', 'class B 24h', 'user errors', 'internal errors', 'month to date'],
      b.buckets.map((x) => [
        x.bucket,
        num(x.objects),
        bytes(x.stored_bytes),
        num(x.pending_multipart_uploads),
        num(x.operations_24h.class_a + x.operations_24h.unclassified),
        num(x.operations_24h.class_b),
        pct(x.user_error_rate_pct),
        pct(x.internal_error_rate_pct),
        usd(x.month_to_date_usd),
      ]),
    );
    return undefined;
  },

  async costs(api, o) {
    if (o.by) {
      const b = await api.json('GET', `/api/costs/breakdown${query({ by: o.by, month: o.month, source: o.source })}`);
      if (o.json) return b;
      console.log(`Costs of ${b.month} to ${b.as_of} by ${b.by}: ${usd(b.total_usd)}\n`);
      printTable(
        [b.by, 'storage', 'class A', 'class B', 'retrieval', 'total', 'share'],
        b.rows.map((r) => [r.key, usd(micro(r.storage_micro_usd)), usd(micro(r.class_a_micro_usd)), usd(micro(r.class_b_micro_usd)), usd(micro(r.retrieval_micro_usd)), usd(r.total_usd), pct(r.share_pct)]),
      );
      return undefined;
    }
    const c = await api.json('GET', `/api/costs${query({ month: o.month, source: o.source })}`);
    if (o.json) return c;
    console.log(`Costs of ${c.month}, as of ${c.as_of}\n`);
    const f = c.forecast ?? {};
    printPairs([
      ['month to date', usd(c.monthlyTotal)],
      ['daily average', usd(c.dailyAverage)],
      ['storage', usd(c.storageCharges)],
      ['requests', usd(c.requestCharges)],
      ['retrieval', usd(c.retrievalCharges)],
      f.expected ? ['month-end forecast', `${usd(f.expected.total_usd)} (range ${usd(f.low?.total_usd)} to ${usd(f.high?.total_usd)})`] : null,
    ]);
    if (c.budgets?.length) {
      console.log('');
      printTable(
        ['budget', 'monthly', 'spent', 'used', 'forecast', 'status'],
        c.budgets.map((b) => [b.bucket ?? 'account', usd(b.monthly_usd), usd(b.spent_usd), pct(b.used_pct), usd(b.forecast_usd), b.status]),
      );
    }
    return undefined;
  },

  async alerts(api, o) {
    const state = o.state ?? 'firing';
    const rules = await api.json('GET', `/api/alerts${query({ state })}`, undefined, { optional: true });
    if (rules) {
      if (o.json) return rules;
      const list = rules.alerts ?? [];
      if (!list.length) console.log(`No ${state} alerts.`);
      else printTable(['id', 'severity', 'state', 'alert', 'since', 'message'], list.map((a) => [a.id, a.severity, a.state ?? a.status, a.rule_name ?? a.name ?? a.rule ?? '', a.started_at ?? a.fired_at ?? a.created_at ?? '', a.message ?? '']));
      return undefined;
    }
    // Before alert rules exist: the health monitor's service alerts.
    const status = state === 'firing' ? 'active' : state;
    if (!['active', 'resolved'].includes(status)) throw new CliError(`--state must be firing or resolved (got ${state})`, 2);
    const service = await api.json('GET', `/api/health/alerts${query({ status })}`);
    if (o.json) return service;
    process.stderr.write('(alert rules are not on this r2watch: showing the health monitor\'s alerts)\n');
    if (!service.alerts.length) console.log(`No ${state} alerts.`);
    else printTable(['id', 'severity', 'status', 'type', 'since', 'message'], service.alerts.map((a) => [a.id, a.severity, a.status, a.type, a.created_at, a.message]));
    return undefined;
  },

  async export(api, o) {
    if (!o.output) throw new CliError('export needs --output FILE.json or FILE.csv', 2);
    const format = extname(o.output).slice(1).toLowerCase();
    if (!['json', 'csv'].includes(format)) throw new CliError(`--output must end in .json or .csv (got ${o.output})`, 2);
    const path = `/api/usage/export${query({ hours: o.hours ?? '168', format, bucket: o.bucket })}`;
    const progress = progressLine(`exporting ${o.hours ?? '168'} hours of usage to ${o.output}`);
    const res = await api.request('GET', path);
    if (!res.ok) {
      progress.done('failed');
      await api.fail(res, path);
    }
    const file = createWriteStream(o.output);
    let received = 0;
    for await (const chunk of res.body) {
      received += chunk.length;
      file.write(chunk);
      progress.update(bytes(received));
    }
    await new Promise((resolve, reject) => file.end((e) => (e ? reject(e) : resolve())));
    progress.done(`${bytes(received)} written`);
    return o.json ? { output: o.output, format, bytes: received } : undefined;
  },

  async health(api, o, rest) {
    if (rest[0] === 'check') {
      const round = await api.json('POST', '/api/health/check');
      const failed = (round.checks ?? []).filter((c) => !c.ok);
      if (o.json) {
        console.log(JSON.stringify(round, null, 2));
      } else {
        printTable(['operation', 'status', 'response', 'error'], round.checks.map((c) => [c.operation, c.status, ms(c.response_time_ms), c.error ?? '']));
        console.log(`\n${round.checks.length - failed.length} of ${round.checks.length} probes ok${round.events?.length ? `; events: ${round.events.map((e) => e.type ?? e).join(', ')}` : ''}`);
      }
      if (failed.length) throw new CliError(`${failed.length} probe(s) failed: ${failed.map((c) => c.operation).join(', ')}`, 3);
      return undefined;
    }
    if (rest.length) throw new CliError(`unknown health subcommand ${rest[0]} (try: r2watch health check)`, 2);
    const res = await api.request('GET', '/api/health');
    if (!res.ok && res.status !== 503) await api.fail(res, '/api/health');
    const h = await res.json();
    if (o.json) return h;
    console.log(`r2watch is ${h.status}${h.reasons?.length ? `: ${h.reasons.join('; ')}` : ''}\n`);
    printTable(['component', 'status', 'reason'], Object.entries(h.components ?? {}).map(([k, v]) => [k, v.status, v.reason ?? '']));
    console.log(`\ncircuit breaker: ${h.circuit_breaker?.state}`);
    return undefined;
  },
};

function micro(m) {
  return m === null || m === undefined ? null : (m / 1e6).toFixed(2);
}

/** A progress line on stderr: rewritten in place on a terminal, one line per step otherwise. */
function progressLine(label) {
  const tty = process.stderr.isTTY;
  let last = '';
  process.stderr.write(tty ? `${label} …` : `${label} …\n`);
  return {
    update(text) {
      if (tty) process.stderr.write(`\r${label} … ${text}   `);
      last = text;
    },
    done(text) {
      process.stderr.write(tty ? `\r${label}: ${text}   \n` : `${label}: ${text || last}\n`);
    },
  };
}

// ---- main -------------------------------------------------------------------------------------

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  period: { type: 'string' },
  bucket: { type: 'string' },
  hours: { type: 'string' },
  resource: { type: 'string' },
  by: { type: 'string' },
  month: { type: 'string' },
  source: { type: 'string' },
  state: { type: 'string' },
  output: { type: 'string', short: 'o' },
};

async function main(argv) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  } catch (e) {
    throw new CliError(`${e.message}\nRun \`r2watch --help\` for the commands and options.`, 2);
  }
  const { values: o, positionals } = parsed;
  if (o.version) {
    console.log(VERSION);
    return;
  }
  const [name, ...rest] = positionals;
  if (o.help || !name) {
    console.log(HELP);
    if (!name && !o.help) process.exitCode = 2;
    return;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : null;
  if (!command) throw new CliError(`unknown command ${name}. Commands: ${Object.keys(commands).join(', ')} (r2watch --help)`, 2);
  if (name !== 'health' && rest.length) throw new CliError(`unexpected argument ${rest[0]} (r2watch --help)`, 2);
  const answer = await command(client(o), o, rest);
  if (answer !== undefined) console.log(JSON.stringify(answer, null, 2));
}

main(process.argv.slice(2)).catch((e) => {
  if (e instanceof CliError) {
    process.stderr.write(`r2watch: ${e.message}\n`);
    process.exitCode = e.exitCode;
    return;
  }
  process.stderr.write(`r2watch: unexpected error: ${e?.stack ?? e}\n`);
  process.exitCode = 1;
});
