// The reports view: /reports lists the stored reports (GET /api/reports), /reports/<type>/<period>
// shows one (GET /api/reports/<id>): the link in delivered reports. Admins only, as the API.
import { api } from './api.js';
import { h, table } from './dom.js';
import * as fmt from './format.js';

/** {type, period} of "/reports/<type>/<period>", {} for "/reports", null for any other path. */
export function reportPathOf(pathname) {
  if (/^\/reports\/?$/.test(pathname)) return {};
  const m = /^\/reports\/(daily|weekly|monthly)\/([0-9W-]{7,10})\/?$/.exec(pathname);
  return m ? { type: m[1], period: m[2] } : null;
}

const link = (r) => h('a', { href: `/reports/${r.type}/${r.period}`, text: `${r.type} ${r.period}` });
const ms = (v) => (v === null || v === undefined ? '–' : fmt.ms(v));
const ranked = (list, key) => list.map((x) => `${x[key]} (${fmt.count(x.count)})`).join(', ') || 'none';
const duration = (d) => (d.median_ms === null ? '–' : `median ${fmt.ms(d.median_ms)}, longest ${fmt.ms(d.max_ms)} (${d.count})`);

function sections(r) {
  const p = r.performance;
  return [
    h('h3', { text: 'Cost' }),
    h('p', { text: `Month ${r.month} to ${r.last_day}: ${fmt.usdFromMicro(r.cost.total_micro_usd)}` }),
    table(
      `Performance: ${fmt.count(p.calls)} calls, ${fmt.pct(p.error_rate_pct)} errors, p50 ${ms(p.p50_ms)}, p95 ${ms(p.p95_ms)}, p99 ${ms(p.p99_ms)}`,
      ['bucket / operation', 'calls', 'errors', 'p50', 'p95', 'p99'],
      p.by_bucket_operation.map((l) => [`${l.bucket} ${l.operation}`, fmt.count(l.calls), fmt.pct(l.error_rate_pct), ms(l.p50_ms), ms(l.p95_ms), ms(l.p99_ms)]),
      { className: 'report-performance' },
    ),
    h('h3', { text: 'Errors' }),
    h('ul', {},
      h('li', { text: `${fmt.count(r.errors.total)} failed calls` }),
      h('li', { text: `Status codes: ${ranked(r.errors.status_codes, 'status')}` }),
      h('li', { text: `Buckets: ${ranked(r.errors.buckets, 'bucket')}` }),
      h('li', { text: `Operations: ${ranked(r.errors.operations, 'operation')}` })),
    h('h3', { text: 'Alerts' }),
    h('ul', {},
      h('li', { text: `${r.alerts.fired} fired (${ranked(r.alerts.by_severity, 'severity')}), ${r.alerts.still_open} still open` }),
      h('li', { text: `Time to acknowledge: ${duration(r.alerts.time_to_acknowledge)}` }),
      h('li', { text: `Time to resolve: ${duration(r.alerts.time_to_resolve)}` })),
    table(
      `Storage: ${fmt.bytes(r.storage.end_bytes)}, ${r.storage.growth_bytes >= 0 ? '+' : '-'}${fmt.bytes(Math.abs(r.storage.growth_bytes))}`,
      ['bucket', 'stored', 'growth', 'pending uploads'],
      r.storage.buckets.map((b) => [b.bucket, fmt.bytes(b.end_bytes), b.growth_pct === null ? '–' : fmt.pct(b.growth_pct), fmt.count(b.pending_uploads)]),
      { className: 'report-storage' },
    ),
    h('h3', { text: 'Recommendations' }),
    r.recommendations.length
      ? h('ul', { class: 'report-recommendations' }, r.recommendations.map((x) => h('li', { text: x.text })))
      : h('p', { class: 'note', text: 'None this period.' }),
  ];
}

/** The view of `path` (reportPathOf's answer) as panel content: {state, nodes}. */
export async function loadReportView(path) {
  const { reports } = await api('/api/reports');
  if (!path.type) {
    if (!reports.length) return { state: 'ready', nodes: [h('p', { class: 'note', text: 'No report yet: the daily job makes one each day.' })] };
    return {
      state: 'ready',
      nodes: [table('Reports', ['report', 'made'], reports.map((r) => [link(r), fmt.time(r.created_at_ms)]), { className: 'report-list' })],
    };
  }
  const row = reports.find((r) => r.type === path.type && r.period === path.period);
  if (!row) return { state: 'missing', nodes: [h('p', { class: 'empty-title', text: `No ${path.type} report of ${path.period}.` })] };
  const report = await api(`/api/reports/${row.id}`);
  return {
    state: 'ready',
    nodes: [
      h('p', { text: `${report.first_day}${report.days > 1 ? ` to ${report.last_day}` : ''} (UTC) · `, }, h('a', { href: '/reports', text: 'All reports' })),
      ...sections(report),
    ],
  };
}
