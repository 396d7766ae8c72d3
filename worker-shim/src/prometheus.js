import { rowsText, readPlan } from './metrics.js';
import { plannedCounters, recentMinuteRows, latestSnapshotsByBucket } from './db/metrics.js';
import { latestStorage, operationsSince } from './db/account.js';
import { ask } from './http.js';
// GET /metrics: r2watch's figures in the Prometheus text exposition format (version 0.0.4),
// for a Prometheus server to scrape. The metric names are declared once, here.

/** name -> [type, help]. */
const METRICS = {
  r2watch_operations_total: ['counter', 'R2 operations performed through r2watch.'],
  r2watch_operation_errors_total: ['counter', 'R2 operations that failed.'],
  r2watch_uploaded_bytes_total: ['counter', 'Bytes uploaded to R2.'],
  r2watch_downloaded_bytes_total: ['counter', 'Bytes downloaded from R2.'],
  r2watch_operation_latency_seconds: ['summary', 'R2 operation latency over the last 15 minutes.'],
  r2watch_circuit_breaker_state: ['gauge', 'Circuit breaker state (1 for the current state).'],
  r2watch_storage_bytes: ['gauge', 'Bytes stored, from the latest storage inventory.'],
  r2watch_storage_objects: ['gauge', 'Objects stored, from the latest storage inventory.'],
  // The whole account (Cloudflare's GraphQL Analytics, every bucket; docs/account.md).
  r2watch_account_requests_24h: ['gauge', 'R2 requests of the last 24 hours on the account, by bucket, action type and status (Cloudflare analytics).'],
  r2watch_account_stored_bytes: ['gauge', "Bytes stored in the bucket (payload and metadata), its latest day's peak (Cloudflare analytics)."],
  r2watch_account_objects: ['gauge', "Objects in the bucket, its latest day's peak (Cloudflare analytics)."],
  r2watch_account_pending_multipart_uploads: ['gauge', "Multipart uploads begun and not completed or aborted, its latest day's peak (Cloudflare analytics)."],
};

const escapeLabel = (v) => String(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function labels(obj) {
  const parts = Object.entries(obj).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function number(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return 'NaN';
  return String(v);
}

export function registerPrometheusRoute(router) {
  router.on('GET', '/metrics', async (_request, _params, rt) => {
    try {
      await rt.flushMetrics();
    } catch (e) {
      console.error(`r2watch: flush before /metrics failed: ${e.message}`);
    }
    const db = rt.env.DB;
    const now = Date.now();
    // The windows reported (latency quantiles, the account's requests): the engine's.
    const windows = ask(rt, 'usage_window', { view: 'scrape' }, now);
    // Counters: every call since the first rollup, from the account-wide rows (which levels
    // answer which part is the engine's read plan; the levels never overlap).
    const plan = await readPlan(rt, 0, now + 1, 'account', 'day', now);
    const totals = await plannedCounters(db, plan, 'account');
    const samples = {};
    const add = (name, lbls, value) => (samples[name] ??= []).push(`${name}${labels(lbls)} ${number(value)}`);
    for (const t of totals) {
      const l = { bucket: t.bucket, operation: t.operation, r2_class: t.r2_class };
      add('r2watch_operations_total', l, t.calls);
      add('r2watch_operation_errors_total', l, t.errors);
      add('r2watch_uploaded_bytes_total', l, t.up);
      add('r2watch_downloaded_bytes_total', l, t.down);
    }
    // Latency quantiles of the last 15 minutes, per bucket and operation (engine-merged).
    const recent = await recentMinuteRows(db, windows.from_ms);
    const byOp = new Map();
    for (const r of recent) {
      const key = `${r.bucket}\u0000${r.operation}`;
      byOp.set(key, [...(byOp.get(key) ?? []), r]);
    }
    for (const rows of byOp.values()) {
      const f = ask(rt, 'metrics_summarize', `{"rows":${rowsText(rows)}}`, now);
      const l = { bucket: rows[0].bucket, operation: rows[0].operation };
      for (const [q, key] of [['0.5', 'p50_ms'], ['0.95', 'p95_ms'], ['0.99', 'p99_ms']]) {
        add('r2watch_operation_latency_seconds', { ...l, quantile: q }, f[key] === null ? null : f[key] / 1000);
      }
      add('r2watch_operation_latency_seconds_sum', l, f.latency_sum_ms / 1000);
      add('r2watch_operation_latency_seconds_count', l, f.calls);
    }
    const breaker = ask(rt, 'breaker_status', {}, now);
    for (const state of ['closed', 'open', 'half_open', 'forced_open', 'disabled']) {
      add('r2watch_circuit_breaker_state', { state }, breaker.state === state ? 1 : 0);
    }
    for (const s of await latestSnapshotsByBucket(db)) {
      add('r2watch_storage_bytes', { bucket: s.bucket }, s.bytes);
      add('r2watch_storage_objects', { bucket: s.bucket }, s.objects);
    }
    // The account's figures (empty until the account-analytics job has stored some).
    try {
      for (const [bucket, action, status, requests] of await operationsSince(db, windows.account_from_ms)) {
        add('r2watch_account_requests_24h', { bucket, action, status }, requests);
      }
      const byBucket = new Map();
      for (const [, bucket, , payload, metadata, objects, pending] of await latestStorage(db)) {
        const b = byBucket.get(bucket) ?? { bytes: 0, objects: 0, pending: 0 };
        b.bytes += payload + metadata;
        b.objects += objects;
        b.pending += pending;
        byBucket.set(bucket, b);
      }
      for (const [bucket, b] of byBucket) {
        add('r2watch_account_stored_bytes', { bucket }, b.bytes);
        add('r2watch_account_objects', { bucket }, b.objects);
        add('r2watch_account_pending_multipart_uploads', { bucket }, b.pending);
      }
    } catch (e) {
      console.error(`r2watch: account figures for /metrics unavailable: ${e.message}`);
    }
    const lines = [];
    for (const [name, [type, help]] of Object.entries(METRICS)) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      lines.push(...(samples[name] ?? []));
      if (type === 'summary') {
        lines.push(...(samples[`${name}_sum`] ?? []), ...(samples[`${name}_count`] ?? []));
      }
    }
    return new Response(`${lines.join('\n')}\n`, {
      headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
    });
    // The whole account's figures: an admin, or a token granted the `metrics` scope by name
    // (a Prometheus scraper's), whatever its role.
  }, { role: 'readonly', scope: 'metrics' });
}
