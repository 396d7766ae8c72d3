// The r2watch dashboard: panels that show what r2watch's API answers. Presentation only: every
// figure comes from the API (or, for the what-if, from the C++ cost model built for the page).
import { api, optionalApi, ApiError, getToken, setToken } from './api.js';
import { h, table } from './dom.js';
import { timeChart, barList, redrawCharts } from './chart.js';
import * as fmt from './format.js';
import { whatIfView } from './whatif.js';
import { alertIdOf, loadAlertView } from './alert-view.js';
import { isManagePath, startManageView } from './alert-manage.js';
import { reportPathOf, loadReportView } from './report-view.js';

const RANGES = {
  '1h': { label: 'hour', hours: 1, growth: '1d' },
  '24h': { label: '24 hours', hours: 24, growth: '1d' },
  '7d': { label: '7 days', hours: 168, growth: '7d' },
  '30d': { label: '30 days', hours: 720, growth: '30d' },
};
const REFRESH_MS = 60_000;
const RANGE_KEY = 'r2watch.range';

const state = {
  range: initialRange(),
  refreshes: 0,
  bucket: null, // the account panel's chosen bucket
};

function initialRange() {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('range');
  if (fromHash in RANGES) return fromHash;
  try {
    const saved = localStorage.getItem(RANGE_KEY);
    if (saved in RANGES) return saved;
  } catch {}
  return '24h';
}

// ---- shared views ------------------------------------------------------------------------------

function emptyHowTo(what) {
  const origin = location.origin;
  return [
    h('p', { class: 'empty-title', text: `No data yet: ${what}` }),
    h('p', { text: 'Send some through r2watch and this panel fills within a minute:' }),
    h('pre', {}, h('code', { text: `curl -X PUT --data-binary @README.md ${origin}/api/storage/files/docs/readme.md\ncurl ${origin}/api/storage/files/docs/readme.md` })),
    h('p', {}, 'Or run ', h('code', { text: 'npm run demo' }), ' for a few minutes of realistic traffic.'),
  ];
}

function errorView(err, retry) {
  const advice = err instanceof ApiError && err.unauthorized
    ? 'r2watch refused the token: set it with the Token button.'
    : err instanceof ApiError && err.status === 0
      ? 'Check that the Worker is running, then retry.'
      : 'Retry, or look at the Worker logs.';
  return [
    h('p', { class: 'error-title', text: 'Could not load this panel.' }),
    h('p', { class: 'error-message', text: err.message }),
    h('p', { text: advice }),
    h('button', { type: 'button', class: 'secondary', onclick: retry, text: 'Retry' }),
  ];
}

function notYet(what, route) {
  return h(
    'div',
    { class: 'not-yet', dataset: { missing: route } },
    h('p', { text: `${what} is not available on this r2watch yet.` }),
    h('p', { class: 'note' }, 'It appears here once the Worker serves ', h('code', { text: route }), '.'),
  );
}

function tile(figure, label, valueText, { raw, trend, warn, hint, threshold } = {}) {
  const dataset = { figure, value: raw ?? '' };
  if (threshold !== undefined) dataset.threshold = threshold ?? '';
  return h(
    'div',
    { class: `tile${warn ? ' warn' : ''}`, dataset },
    h('span', { class: 'tile-label', text: label }),
    h('span', { class: 'tile-value', text: valueText }),
    trend ? h('span', { class: 'tile-trend', text: trend }) : null,
    warn ? h('span', { class: 'tile-warn', text: hint ?? 'above the alert threshold' }) : null,
  );
}

function statusBadge(status) {
  return h('span', { class: `badge status-${String(status).replace(/[^a-z_]/g, '')}`, text: String(status).replace(/_/g, ' ') });
}

/** "above the 5% threshold of alert rule high_error_rate": the line comes from the alert rules. */
function thresholdHint(threshold, rule) {
  return `above the ${threshold} threshold${rule ? ` of alert rule ${rule}` : ''}`;
}

const timeFormatFor = (range) => (t) =>
  range === '1h' || range === '24h'
    ? new Date(t).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })
    : new Date(t).toLocaleString('en-GB', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

// ---- panels ------------------------------------------------------------------------------------

async function loadPerformance() {
  const r = state.range;
  const { label } = RANGES[r];
  const [overview, history, storage] = await Promise.all([
    api(`/api/metrics/overview?range=${r}`),
    api(`/api/metrics/history?range=${r}`),
    optionalApi('/api/storage/usage'),
  ]);
  const f = overview.figures;
  // An admin sees the bucket's inventory; a user their own objects.
  const inventory = storage?.inventory ?? (storage?.storage ? { objects: storage.storage.objects, bytes: storage.storage.bytes } : null);
  if (f.calls.value === 0 && !f.calls.previous && !inventory) {
    return { state: 'empty', nodes: emptyHowTo('no storage operations and no inventory.') };
  }
  const growth = storage?.growth?.changes?.[RANGES[r].growth] ?? null;
  const signed = (n, unit) => (n === null || n === undefined ? null : `${n >= 0 ? '+' : ''}${unit(n)}`);
  const trend = (fig) => fmt.change(fig.change_pct, label);
  const tiles = h(
    'div',
    { class: 'tiles' },
    tile('total_files', 'Total files', fmt.count(inventory?.objects), {
      raw: inventory?.objects,
      trend: growth ? `${signed(growth.objects_delta, fmt.count)} files over ${RANGES[r].growth}` : 'no earlier inventory to compare',
    }),
    tile('storage_used', 'Storage used', fmt.bytes(inventory?.bytes), {
      raw: inventory?.bytes,
      trend: growth ? `${signed(growth.bytes_delta, fmt.bytes)} over ${RANGES[r].growth}` : 'no earlier inventory to compare',
    }),
    tile('uploads', `Uploads (${r})`, fmt.count(f.uploads.value), { raw: f.uploads.value, trend: trend(f.uploads) }),
    tile('downloads', `Downloads (${r})`, fmt.count(f.downloads.value), { raw: f.downloads.value, trend: trend(f.downloads) }),
    tile('error_rate', 'Error rate', fmt.pct(f.error_rate_pct.value, 2), {
      raw: f.error_rate_pct.value,
      trend: trend(f.error_rate_pct),
      warn: f.error_rate_pct.over_threshold,
      threshold: f.error_rate_pct.threshold,
      hint: thresholdHint(fmt.pct(f.error_rate_pct.threshold, Number.isInteger(f.error_rate_pct.threshold) ? 0 : 2), overview.threshold_rules?.error_rate_pct),
    }),
    tile('avg_ms', 'Average response', fmt.ms(f.avg_ms.value), {
      raw: f.avg_ms.value,
      trend: trend(f.avg_ms),
      warn: f.avg_ms.over_threshold,
      threshold: f.avg_ms.threshold,
      hint: thresholdHint(fmt.ms(f.avg_ms.threshold), overview.threshold_rules?.response_ms),
    }),
    tile('p95_ms', 'p95 response', fmt.ms(f.p95_ms.value), {
      raw: f.p95_ms.value,
      trend: trend(f.p95_ms),
      warn: f.p95_ms.over_threshold,
      threshold: f.p95_ms.threshold,
      hint: thresholdHint(fmt.ms(f.p95_ms.threshold), overview.threshold_rules?.response_ms),
    }),
  );
  const times = history.points.map((p) => p.t_ms);
  const tf = timeFormatFor(r);
  const totalCalls = f.calls.value;
  const charts = h(
    'div',
    { class: 'charts' },
    timeChart({
      title: `Requests and errors, last ${label}`,
      xRange: [history.from_ms, history.to_ms],
      summary: `${fmt.count(totalCalls)} requests, error rate ${fmt.pct(f.error_rate_pct.value, 2)}`,
      times,
      timeFormat: tf,
      series: [
        { label: 'requests', values: history.points.map((p) => p.calls), format: fmt.count },
        { label: 'errors', values: history.points.map((p) => p.errors), format: fmt.count },
      ],
    }),
    timeChart({
      title: `Response time, last ${label}`,
      xRange: [history.from_ms, history.to_ms],
      summary: `average ${fmt.ms(f.avg_ms.value)}, p95 ${fmt.ms(f.p95_ms.value)}`,
      times,
      timeFormat: tf,
      series: [
        { label: 'average', values: history.points.map((p) => p.avg_ms), format: fmt.ms },
        { label: 'p95', values: history.points.map((p) => p.p95_ms), format: fmt.ms },
      ],
    }),
  );
  return { state: 'ready', nodes: [tiles, charts] };
}

async function loadCost() {
  const costs = await optionalApi('/api/costs');
  const nodes = [];
  let panelState = 'ready';
  if (!costs) {
    nodes.push(notYet('The month-to-date bill', 'GET /api/costs'));
  } else {
    const fc = costs.forecast ?? {};
    nodes.push(
      h(
        'div',
        { class: 'tiles' },
        tile('month_to_date', `${costs.user ? 'Your part, month to date' : 'Month to date'} (${costs.month})`, fmt.usd(costs.monthlyTotal), { raw: costs.monthlyTotal, trend: `as of ${costs.as_of}` }),
        tile('daily_average', 'Daily average', fmt.usd(costs.dailyAverage), { raw: costs.dailyAverage }),
        tile('forecast', 'Month-end forecast', fmt.usd(fc.expected?.total_usd), {
          raw: fc.expected?.total_usd,
          trend: fc.low ? `range ${fmt.usd(fc.low.total_usd)} – ${fmt.usd(fc.high.total_usd)}` : null,
        }),
      ),
      table('Charges this month', ['charge', 'amount'], [
        ['Storage', fmt.usd(costs.storageCharges)],
        ['Requests (Class A and B)', fmt.usd(costs.requestCharges)],
        ['Data retrieval', fmt.usd(costs.retrievalCharges)],
      ], { className: 'charges' }),
    );
    const budgets = costs.budgets ?? [];
    nodes.push(
      costs.user
        ? h('p', { class: 'note share-method', text: `Your part of the account's bill: ${costs.share?.method ?? ''}. Budgets are the account's.` })
        : budgets.length
        ? h(
            'div',
            { class: 'budgets' },
            h('h3', { text: 'Budget burn' }),
            budgets.map((b) =>
              h(
                'div',
                { class: `budget budget-${b.status}`, dataset: { budget: b.bucket ?? 'account' } },
                h('span', { class: 'budget-name', text: b.bucket ? `bucket ${b.bucket}` : 'whole account' }),
                h('progress', { max: 100, value: Math.min(100, b.used_pct ?? 0), 'aria-label': `budget used ${fmt.pct(b.used_pct)}` }),
                h('span', { text: `${fmt.usd(b.spent_usd)} of ${fmt.usd(b.monthly_usd)} (${fmt.pct(b.used_pct)}), forecast ${fmt.usd(b.forecast_usd)}` }),
                statusBadge(b.status),
              ),
            ),
          )
        : h('p', { class: 'note' }, 'No budget set: ', h('code', { text: 'PUT /api/costs/budgets' }), ' sets one.'),
    );
    const trend = costs.trend ?? [];
    if (trend.length) {
      nodes.push(
        timeChart({
          title: `Daily cost, ${costs.month}`,
          xRange: [Date.parse(`${costs.month}-01T00:00:00Z`) - 43_200_000, Date.parse(trend[trend.length - 1].date) + 43_200_000],
          summary: `${trend.length} days, ${fmt.usd(costs.monthlyTotal)} so far`,
          times: trend.map((d) => Date.parse(`${d.date}T00:00:00Z`)),
          timeFormat: (t) => new Date(t).toISOString().slice(0, 10),
          bars: true,
          series: [{ label: 'cost at list price', values: trend.map((d) => d.cost_micro_usd), format: fmt.usdFromMicro }],
        }),
      );
    } else {
      panelState = 'empty';
      nodes.push(...emptyHowTo('no usage this month to bill.'));
    }
  }
  nodes.push(h('div', { class: 'whatif-slot' }, await whatIfView()));
  return { state: panelState, nodes };
}

/** The quota tile: one user's use of their quota. */
function quotaTile(q) {
  if (!q || q.max_bytes === null) return tile('quota', 'Quota', 'no quota set', { trend: 'an admin sets one with PUT /api/admin/users/{id}/quota' });
  return tile('quota', 'Quota', fmt.pct(q.bytes_pct), {
    raw: q.bytes_pct,
    trend: `${fmt.bytes(q.bytes)} of ${fmt.bytes(q.max_bytes)}`,
    warn: q.warning,
    hint: `above ${fmt.pct(q.warning_pct, 0)} of the quota`,
  });
}

/** An admin's quota tile: how many users have a quota and how many are near it. */
async function quotasTile() {
  let users;
  try {
    ({ users } = await api('/api/admin/quotas'));
  } catch (e) {
    if (e instanceof ApiError && e.unauthorized) return null;
    throw e;
  }
  const limited = users.filter((u) => u.max_bytes !== null);
  if (!limited.length) return tile('quota', 'Quotas', 'no quota set', { trend: 'PUT /api/admin/users/{id}/quota sets one' });
  // Near: at the engine's warning level (warning_pct) or more.
  const near = limited.filter((u) => u.warning);
  return tile('quota', 'Quotas', `${fmt.count(near.length)} of ${fmt.count(limited.length)} near`, {
    raw: near.length,
    trend: `users at ${fmt.pct(limited[0].warning_pct, 0)} or more of their quota${near.length ? `: ${near.map((u) => u.user_id).join(', ')}` : ''}`,
    warn: near.length > 0,
  });
}

/** A user's own storage: what they store, by prefix, against their quota, day by day. */
function ownStorageView(storage) {
  const own = storage.storage;
  const peaks = storage.daily_peaks ?? [];
  if (!own.objects && !peaks.length) {
    return { state: 'empty', nodes: [h('div', { class: 'tiles' }, quotaTile(storage.quota)), ...emptyHowTo('you store nothing yet.')] };
  }
  return {
    state: 'ready',
    nodes: [
      h(
        'div',
        { class: 'tiles' },
        tile('bucket_bytes', 'Your storage', fmt.bytes(own.bytes), { raw: own.bytes, trend: `${fmt.count(own.objects)} files` }),
        quotaTile(storage.quota),
      ),
      barList('By prefix', storage.by_prefix ?? [], { value: (i) => i.bytes, label: (i) => i.prefix, detail: (i) => `${fmt.bytes(i.bytes)} · ${fmt.count(i.objects)} files` }),
      timeChart({
        title: 'Your daily peak, last 31 days',
        xRange: [Date.now() - 31 * 86_400_000, Date.now() + 86_400_000],
        summary: `${peaks.length} days, now ${fmt.bytes(own.bytes)}`,
        times: peaks.map((d) => Date.parse(`${d.day}T12:00:00Z`)),
        timeFormat: (t) => new Date(t).toISOString().slice(0, 10),
        bars: true,
        series: [{ label: 'peak bytes', values: peaks.map((d) => d.bytes), format: fmt.bytes }],
      }),
    ],
  };
}

async function loadStorage() {
  const storage = await api('/api/storage/usage');
  if (storage.user) return ownStorageView(storage);
  const inv = storage.inventory;
  if (!inv) {
    const walking = storage.walk_in_progress;
    return {
      state: 'empty',
      nodes: walking
        ? [h('p', { text: `The first inventory of ${storage.bucket} is under way: ${fmt.count(walking.objects_so_far)} objects so far.` })]
        : [
            ...emptyHowTo(`no inventory of ${storage.bucket} yet.`),
            h('p', { class: 'note', text: 'The collect-metrics job (every 5 minutes) walks the bucket and stores an inventory.' }),
          ],
    };
  }
  const byType = Object.entries(inv.by_content_type ?? {}).map(([k, v]) => ({ key: k, ...v })).sort((a, b) => b.bytes - a.bytes);
  // By prefix as users see it (inside each user's namespace users/<id>/), and by user.
  const byPrefix = Object.entries(inv.by_prefix ?? {}).map(([k, v]) => ({ key: k, ...v })).sort((a, b) => b.bytes - a.bytes);
  const byUser = Object.entries(inv.by_user ?? {}).map(([k, v]) => ({ key: k, ...v, prefixes: inv.by_user_prefix?.[k] ?? {} })).sort((a, b) => b.bytes - a.bytes);
  const topPrefixes = (u) => Object.entries(u.prefixes).sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 3).map(([p, t]) => `${p} ${fmt.bytes(t.bytes)}`).join(', ');
  const history = storage.history ?? [];
  return {
    state: 'ready',
    nodes: [
      h(
        'div',
        { class: 'tiles' },
        tile('bucket_bytes', `Used in ${storage.bucket}`, fmt.bytes(inv.bytes), { raw: inv.bytes, trend: `${fmt.count(inv.objects)} objects, inventory of ${fmt.time(Date.parse(inv.taken_at))}` }),
        await quotasTile(),
      ),
      h(
        'div',
        { class: 'two' },
        barList('By content type', byType, { value: (i) => i.bytes, label: (i) => i.key || '(none)', detail: (i) => `${fmt.bytes(i.bytes)} · ${fmt.count(i.objects)} files` }),
        barList('By prefix', byPrefix, { value: (i) => i.bytes, label: (i) => i.key || '(root)', detail: (i) => `${fmt.bytes(i.bytes)} · ${fmt.count(i.objects)} files` }),
      ),
      byUser.length
        ? barList('By user', byUser, { value: (i) => i.bytes, label: (i) => i.key, detail: (i) => `${fmt.bytes(i.bytes)} · ${fmt.count(i.objects)} files · ${topPrefixes(i)}` })
        : null,
      table('Largest files', ['key', 'size'], (inv.largest ?? []).map((f) => [f.key, fmt.bytes(f.size)]), { className: 'largest' }),
      timeChart({
        title: 'Storage growth, last 31 days',
        xRange: [Date.now() - 31 * 86_400_000, Date.now()],
        summary: `${history.length} inventories, now ${fmt.bytes(inv.bytes)}`,
        times: history.map((s) => s.taken_at_ms),
        timeFormat: (t) => fmt.time(t),
        series: [
          { label: 'bytes', values: history.map((s) => s.bytes), format: fmt.bytes },
          { label: 'objects', values: history.map((s) => s.objects), format: fmt.count, axis: 'right' },
        ],
      }),
    ],
  };
}

async function loadHealth() {
  const { hours } = RANGES[state.range];
  const [health, breaker, probes] = await Promise.all([
    api('/api/health', { dataStatuses: [503] }),
    api('/api/health/circuit-breaker'),
    api(`/api/health/metrics?hours=${hours}`),
  ]);
  const components = Object.entries(health.components ?? {});
  const transitions = (breaker.recent_transitions ?? []).slice(0, 5);
  const ops = Object.entries(probes.operations ?? {});
  return {
    state: 'ready',
    nodes: [
      h('p', { class: 'overall' }, 'r2watch is ', statusBadge(health.status), health.reasons?.length ? ` — ${health.reasons.join('; ')}` : ''),
      h(
        'ul',
        { class: 'components' },
        components.map(([name, c]) => h('li', { dataset: { component: name } }, h('span', { class: 'component-name', text: name }), statusBadge(c.status), c.reason ? h('span', { class: 'note', text: c.reason }) : null)),
      ),
      h(
        'div',
        { class: 'breaker', dataset: { breaker: breaker.state } },
        h('h3', {}, 'Circuit breaker ', statusBadge(breaker.state)),
        h('p', { class: 'note', text: `${fmt.count(breaker.window?.calls)} calls in the window, failure rate ${fmt.pct(breaker.window?.failure_rate_pct)}, since ${fmt.time(breaker.since_ms)}` }),
        transitions.length
          ? table('Last transitions', ['when', 'from → to', 'reason'], transitions.map((t) => [fmt.time(t.at_ms), `${t.from} → ${t.to}`, t.reason ?? '']))
          : h('p', { class: 'note', text: 'No transitions yet: the breaker has stayed closed.' }),
      ),
      ops.length
        ? table(`Probes per operation, last ${RANGES[state.range].label}`, ['operation', 'checks', 'success', 'average', 'p95'], ops.map(([op, o]) => [op, fmt.count(o.checks), fmt.pct(o.success_rate_pct), fmt.ms(o.avg_response_ms), fmt.ms(o.p95_response_ms)]), { className: 'probes' })
        : h('p', { class: 'note' }, 'No probe rounds yet: they run every 5 minutes, or now with ', h('code', { text: 'POST /api/health/check' }), '.'),
    ],
  };
}

/** Active alerts: the alert engine's (GET /api/alerts) when present, else the health monitor's. */
async function loadAlerts() {
  const engineAlerts = await optionalApi('/api/alerts?state=firing');
  const service = await api('/api/health/alerts?status=active');
  const rows = [
    ...(engineAlerts?.alerts ?? []).map((a) => ({
      id: a.id,
      source: 'alert rule',
      severity: a.severity,
      title: a.rule_name ?? a.name ?? a.rule ?? `alert ${a.id}`,
      message: a.detail ?? a.message ?? '',
      since: new Date(a.fired_at_ms ?? a.started_at_ms ?? a.updated_at_ms).toISOString(),
      acknowledged: Boolean(a.acknowledged_at_ms),
      // The alert's own page (alert-view.js), the link its notifications carry.
      page: `/alerts/${encodeURIComponent(a.id)}`,
      ack: `/api/alerts/${encodeURIComponent(a.id)}/ack`,
      resolve: `/api/alerts/${encodeURIComponent(a.id)}/resolve`,
    })),
    ...(service.alerts ?? []).map((a) => ({
      id: a.id,
      source: 'health monitor',
      severity: a.severity,
      title: a.type.replace(/_/g, ' '),
      message: a.message,
      since: a.created_at,
      acknowledged: false,
      page: null, // the health monitor's alerts have no page of their own
      ack: null,
      resolve: `/api/health/alerts/${encodeURIComponent(a.id)}/resolve`,
    })),
  ];
  const nodes = [];
  if (!engineAlerts) nodes.push(h('p', { class: 'note' }, 'Alert rules are not on this r2watch yet (', h('code', { text: 'GET /api/alerts' }), '): showing the health monitor\'s alerts.'));
  if (!rows.length) {
    nodes.push(h('p', { class: 'all-clear', text: 'No active alerts.' }));
    return { state: 'empty', nodes };
  }
  const act = async (button, path, body) => {
    button.disabled = true;
    try {
      await api(path, { method: 'POST', body });
      await refreshPanel(PANELS.find((p) => p.id === 'alerts'));
    } catch (e) {
      button.disabled = false;
      button.after(h('span', { class: 'error-message', role: 'alert', text: e.message }));
    }
  };
  nodes.push(
    h(
      'ul',
      { class: 'alert-list' },
      rows.map((a) =>
        h(
          'li',
          { class: `alert severity-${a.severity}`, dataset: { alertId: a.id, source: a.source } },
          h('div', {}, statusBadge(a.severity), ' ', h('strong', {}, a.page ? h('a', { href: a.page, class: 'alert-link', text: a.title }) : a.title), a.acknowledged ? h('span', { class: 'note', text: ' (acknowledged)' }) : null),
          h('p', { text: a.message }),
          h('p', { class: 'note', text: `${a.source}, since ${fmt.time(Date.parse(a.since))}` }),
          h(
            'div',
            { class: 'actions' },
            a.ack && !a.acknowledged
              ? h('button', { type: 'button', class: 'secondary', onclick: (e) => act(e.currentTarget, a.ack, {}), text: 'Acknowledge' })
              : null,
            h('button', { type: 'button', onclick: (e) => act(e.currentTarget, a.resolve, { note: 'resolved from the dashboard' }), text: 'Resolve' }),
          ),
        ),
      ),
    ),
  );
  return { state: 'ready', nodes };
}

async function loadActivity() {
  const [history, breaker, alerts] = await Promise.all([
    api('/api/health/history?limit=10'),
    api('/api/health/circuit-breaker'),
    api('/api/health/alerts?limit=10'),
  ]);
  const events = [
    ...(history.checks ?? []).map((c) => ({ at: c.checked_at_ms, what: `probe ${c.operation}: ${c.status}`, detail: c.error ?? `${fmt.ms(c.response_time_ms)}` })),
    ...(breaker.recent_transitions ?? []).map((t) => ({ at: t.at_ms, what: `breaker ${t.from} → ${t.to}`, detail: t.reason ?? '' })),
    ...(alerts.alerts ?? []).map((a) => ({ at: Date.parse(a.created_at), what: `alert ${a.type.replace(/_/g, ' ')} (${a.status})`, detail: a.message })),
  ]
    .sort((a, b) => b.at - a.at)
    .slice(0, 12);
  if (!events.length) return { state: 'empty', nodes: emptyHowTo('no probes, transitions or alerts.') };
  return { state: 'ready', nodes: [table('Latest events', ['when', 'event', 'detail'], events.map((e) => [fmt.time(e.at), e.what, e.detail]), { className: 'activity' })] };
}

// ---- the whole account (Cloudflare's GraphQL Analytics, every bucket) -------------------------

/** The account overview, a bucket picker, and the chosen bucket's figures and reconciliation. */
async function loadAccount() {
  const [list, reconcile] = await Promise.all([optionalApi('/api/account/buckets'), optionalApi('/api/account/reconcile')]);
  if (!list) return { state: 'ready', nodes: [notYet('The whole account', '/api/account/buckets')] };
  if (!list.enabled) {
    return {
      state: 'empty',
      nodes: [
        h('p', { class: 'empty-title', text: 'Account analytics are off.' }),
        h('p', {}, 'Set ', h('code', { text: 'CLOUDFLARE_ACCOUNT_ID' }), ' and the secret ', h('code', { text: 'CLOUDFLARE_API_TOKEN' }), ' to see every bucket of the account here.'),
      ],
    };
  }
  const buckets = list.buckets ?? [];
  if (!buckets.length) return { state: 'empty', nodes: [h('p', { class: 'empty-title', text: 'No bucket figures yet: the account-analytics job runs every 5 minutes.' })] };
  const sum = (f) => buckets.reduce((n, b) => n + (f(b) ?? 0), 0);
  const total = reconcile?.total;
  const tiles = h(
    'div',
    { class: 'tiles' },
    tile('account_buckets', 'Buckets', fmt.count(buckets.length), { raw: buckets.length }),
    tile('account_stored', 'Stored (account)', fmt.bytes(sum((b) => b.stored_bytes)), { raw: sum((b) => b.stored_bytes), trend: `${fmt.count(sum((b) => b.objects))} objects` }),
    tile('account_requests', 'Requests (24 hours)', fmt.count(sum((b) => b.requests_24h)), { raw: sum((b) => b.requests_24h) }),
    tile('account_cost', 'Month to date (account)', fmt.usdFromMicro(sum((b) => b.month_to_date_micro_usd)), { raw: sum((b) => b.month_to_date_micro_usd) }),
    total
      ? tile('around_r2watch', 'Around r2watch', fmt.pct(total.around_r2watch_pct, 1), {
          raw: total.around_r2watch_pct,
          trend: `${fmt.count(total.around_r2watch)} of ${fmt.count(total.cloudflare_total)} requests this month did not pass through r2watch`,
        })
      : null,
  );
  if (!buckets.some((b) => b.bucket === state.bucket)) state.bucket = buckets[0].bucket;
  const picker = h(
    'label',
    { class: 'bucket-picker' },
    'Bucket ',
    h(
      'select',
      {
        id: 'bucket-picker',
        onchange: (e) => {
          state.bucket = e.target.value;
          refreshPanel(PANELS.find((p) => p.id === 'account'));
        },
      },
      buckets.map((b) => h('option', { value: b.bucket, selected: b.bucket === state.bucket, text: b.bucket })),
    ),
  );
  const b = buckets.find((x) => x.bucket === state.bucket);
  const ops = b.operations_24h;
  const detail = h(
    'div',
    { class: 'tiles', dataset: { bucket: b.bucket } },
    tile('bucket_objects', 'Objects', fmt.count(b.objects), { raw: b.objects, trend: b.storage_date ? `on ${b.storage_date}` : 'no storage figures yet' }),
    tile('bucket_stored', 'Stored', fmt.bytes(b.stored_bytes), { raw: b.stored_bytes, trend: `${fmt.bytes(b.metadata_bytes)} of it metadata` }),
    tile('bucket_pending', 'Pending multipart uploads', fmt.count(b.pending_multipart_uploads), { raw: b.pending_multipart_uploads, warn: b.pending_multipart_uploads > 10, hint: 'uploads begun and never completed or aborted' }),
    tile('bucket_errors', 'Errors (24 hours)', `${fmt.pct(b.user_error_rate_pct, 2)} user, ${fmt.pct(b.internal_error_rate_pct, 2)} internal`, { raw: b.internal_error_rate_pct }),
    tile('bucket_cost', 'Month to date', fmt.usd(b.month_to_date_usd), { raw: b.month_to_date_micro_usd }),
  );
  const opsTable = table('Requests of the last 24 hours by class', ['class', 'requests'], [
    ['Class A', fmt.count(ops.class_a)],
    ['Class B', fmt.count(ops.class_b)],
    ['free', fmt.count(ops.free)],
    ['unclassified (billed as Class A)', fmt.count(ops.unclassified)],
  ]);
  const days = (reconcile?.rows ?? []).filter((r) => r.bucket === b.bucket);
  const reconcileTable = days.length
    ? table(
        `Reconciliation, ${reconcile.month}: requests as Cloudflare and r2watch counted them`,
        ['day', 'Cloudflare', 'r2watch', 'around r2watch'],
        days.map((r) => [r.date, fmt.count(r.cloudflare_total), fmt.count(r.r2watch_total), `${fmt.count(r.around_r2watch)} (${fmt.pct(r.around_r2watch_pct, 1)})`]),
        { className: 'reconcile' },
      )
    : h('p', { class: 'note', text: 'No operations of this bucket this month yet.' });
  const overview = barList('Stored bytes by bucket', buckets, { value: (x) => x.stored_bytes, label: (x) => x.bucket, detail: (x) => `${fmt.bytes(x.stored_bytes)} · ${fmt.usd(x.month_to_date_usd)} this month` });
  return { state: 'ready', nodes: [tiles, overview, picker, detail, opsTable, reconcileTable] };
}

const PANELS = [
  { id: 'performance', title: 'Performance', load: loadPerformance },
  { id: 'cost', title: 'Cost', load: loadCost },
  { id: 'storage', title: 'Storage', load: loadStorage },
  { id: 'health', title: 'Health', load: loadHealth },
  { id: 'alerts', title: 'Active alerts', load: loadAlerts },
  { id: 'activity', title: 'Recent activity', load: loadActivity },
  { id: 'account', title: 'Whole account', load: loadAccount },
];

// ---- refresh loop ------------------------------------------------------------------------------

function setContent(section, panelState, nodes) {
  section.dataset.state = panelState;
  section.removeAttribute('aria-busy');
  section.querySelector('.panel-body').replaceChildren(...nodes);
}

async function refreshPanel(panel) {
  const section = document.getElementById(panel.id);
  if (!section.dataset.state || section.dataset.state === 'error') {
    setContent(section, 'loading', [h('p', { class: 'loading', text: 'Loading…' })]);
  }
  section.setAttribute('aria-busy', 'true');
  try {
    const { state: panelState, nodes } = await panel.load();
    setContent(section, panelState, nodes);
    return null;
  } catch (err) {
    setContent(section, 'error', errorView(err, () => refreshPanel(panel)));
    return err;
  }
}

let refreshing = null;
async function refreshAll() {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    const errors = (await Promise.all(PANELS.map(refreshPanel))).filter(Boolean);
    const banner = document.getElementById('banner');
    if (errors.some((e) => e instanceof ApiError && e.unauthorized)) {
      banner.textContent = getToken() ? 'r2watch refused the token: set the right one with the Token button.' : 'r2watch asks for a token: set it with the Token button.';
      banner.hidden = false;
    } else {
      banner.hidden = true;
    }
    state.refreshes++;
    document.body.dataset.refreshes = String(state.refreshes);
    document.getElementById('updated').textContent = `Updated ${fmt.clock(Date.now())}`;
  })();
  try {
    await refreshing;
  } finally {
    refreshing = null;
  }
}

function setRange(range) {
  state.range = range;
  try {
    localStorage.setItem(RANGE_KEY, range);
  } catch {}
  history.replaceState(null, '', `#range=${range}`);
  for (const b of document.querySelectorAll('[data-range]')) b.setAttribute('aria-pressed', String(b.dataset.range === range));
  refreshAll();
}

function setUpTokenDialog(refresh = refreshAll) {
  const dialog = document.getElementById('token-dialog');
  const input = document.getElementById('token-input');
  document.getElementById('token-button').addEventListener('click', () => {
    input.value = getToken();
    dialog.showModal();
  });
  dialog.addEventListener('close', () => {
    if (dialog.returnValue === 'save') setToken(input.value.trim());
    if (dialog.returnValue === 'clear') setToken('');
    if (dialog.returnValue !== 'cancel') refresh();
  });
}

/** The page of one alert (/alerts/<id>, the link in notifications) instead of the panels. */
function startAlertPage(id) {
  startPage('alert', `Alert ${id}`, (refresh) => loadAlertView(id, refresh));
}

/** The reports view (report-view.js): /reports and /reports/<type>/<period>. */
function startReportPage(path) {
  startPage('report', path.type ? `${path.type[0].toUpperCase()}${path.type.slice(1)} report ${path.period}` : 'Reports', () => loadReportView(path));
}

/** A page of one panel (`id`), titled `title`, whose content `load(refresh)` answers. */
function startPage(id, title, load) {
  document.title = `r2watch: ${title}`;
  document.querySelector('.ranges').hidden = true;
  const section = h(
    'section',
    { id, class: 'panel wide', 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title`, text: title }),
    h('p', {}, h('a', { href: '/', text: 'All panels' })),
    h('div', { class: 'panel-body' }),
  );
  document.getElementById('main').replaceChildren(section);
  const panel = { id, load: () => load(() => refresh()) };
  const refresh = async () => {
    const err = await refreshPanel(panel);
    const banner = document.getElementById('banner');
    banner.hidden = !(err instanceof ApiError && err.unauthorized);
    if (!banner.hidden) banner.textContent = 'r2watch refused the token: set the right one with the Token button.';
    state.refreshes++;
    document.body.dataset.refreshes = String(state.refreshes);
    document.getElementById('updated').textContent = `Updated ${fmt.clock(Date.now())}`;
  };
  document.getElementById('refresh').addEventListener('click', refresh);
  setUpTokenDialog(refresh);
  refresh();
}

/** Alert management (/alerts): rules, silences, channels, recent alerts (alert-manage.js). */
function startManagePage() {
  document.title = 'r2watch: alerts';
  document.querySelector('.ranges').hidden = true;
  let reloadAll = null;
  const refresh = async () => {
    if (reloadAll) await reloadAll();
    else reloadAll = await startManageView(document.getElementById('main'));
    state.refreshes++;
    document.body.dataset.refreshes = String(state.refreshes);
    document.getElementById('updated').textContent = `Updated ${fmt.clock(Date.now())}`;
  };
  document.getElementById('refresh').addEventListener('click', () => refresh());
  setUpTokenDialog(refresh);
  refresh();
}

/** Any other path than / (the Worker serves the page for every path that is not a file). */
function startNotFound() {
  document.querySelector('.ranges').hidden = true;
  document.getElementById('main').replaceChildren(
    h('section', { id: 'not-found', class: 'panel wide', dataset: { state: 'missing' } },
      h('h2', { text: 'No such page' }),
      h('p', {}, `r2watch has no page at ${location.pathname}. `, h('a', { href: '/', text: 'Open the dashboard' }), '.')),
  );
  document.getElementById('updated').textContent = '';
  document.body.dataset.refreshes = '1';
}

function start() {
  if (isManagePath(location.pathname)) return startManagePage();
  const alertId = alertIdOf(location.pathname);
  if (alertId !== null) return startAlertPage(alertId);
  const reportPath = reportPathOf(location.pathname);
  if (reportPath !== null) return startReportPage(reportPath);
  if (!['/', '/index.html'].includes(location.pathname)) return startNotFound();
  for (const panel of PANELS) {
    const section = document.getElementById(panel.id);
    if (!section.querySelector('.panel-body')) section.append(h('div', { class: 'panel-body' }));
  }
  for (const b of document.querySelectorAll('[data-range]')) {
    b.addEventListener('click', () => setRange(b.dataset.range));
    b.setAttribute('aria-pressed', String(b.dataset.range === state.range));
  }
  document.getElementById('refresh').addEventListener('click', () => refreshAll());
  setUpTokenDialog();
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', redrawCharts);
  refreshAll();
  setInterval(() => refreshAll(), REFRESH_MS);
}

start();
