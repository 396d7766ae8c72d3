// The page of one alert, at /alerts/<id>: where a notification's link leads (the Worker serves
// the dashboard for every path that is not an asset or the API). Shows the alert as
// GET /api/alerts/<id> answers it: its state, figures, labels, the earlier episodes of the same
// rule and scope, and the notifications sent about it.
import { api, ApiError } from './api.js';
import { h, table } from './dom.js';
import * as fmt from './format.js';

/** The alert id of a path "/alerts/<id>", or null for any other path. */
export function alertIdOf(pathname) {
  const m = /^\/alerts\/([^/]+)\/?$/.exec(pathname);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return null;
  }
}

function badge(text) {
  return h('span', { class: `badge status-${String(text).replace(/[^a-z_]/g, '')}`, text: String(text).replace(/_/g, ' ') });
}

function when(ms) {
  return ms ? fmt.time(ms) : '–';
}

function episodes(alerts) {
  return table(
    'History: earlier alerts of this rule and scope',
    ['alert', 'state', 'value', 'fired', 'resolved'],
    alerts.map((a) => [h('a', { href: `/alerts/${encodeURIComponent(a.id)}`, text: a.id }), a.state, String(a.value), when(a.fired_at_ms), when(a.resolved_at_ms)]),
    { className: 'alert-history' },
  );
}

function notices(list) {
  return table(
    'Notifications',
    ['channel', 'kind', 'status', 'attempts', 'queued', 'last error'],
    list.map((n) => [n.channel, n.kind, n.status, String(n.attempts), when(n.created_at_ms), n.last_error ?? '']),
    { className: 'alert-notifications' },
  );
}

/** Acknowledge and resolve, as on the dashboard's alert list; `after` reloads the page's view. */
function actions(a, after) {
  if (!['pending', 'firing'].includes(a.state)) return null;
  const act = async (button, verb, body) => {
    button.disabled = true;
    try {
      await api(`/api/alerts/${encodeURIComponent(a.id)}/${verb}`, { method: 'POST', body });
      await after();
    } catch (e) {
      button.disabled = false;
      button.after(h('span', { class: 'error-message', role: 'alert', text: e.message }));
    }
  };
  return h(
    'div',
    { class: 'actions' },
    a.state === 'firing' && !a.acknowledged_at_ms
      ? h('button', { type: 'button', class: 'secondary', onclick: (e) => act(e.currentTarget, 'ack', {}), text: 'Acknowledge' })
      : null,
    h('button', { type: 'button', onclick: (e) => act(e.currentTarget, 'resolve', { note: 'resolved from the alert page' }), text: 'Resolve' }),
  );
}

/**
 * The alert's page as panel content; answers the panel state (ready, missing) or throws the
 * API's error. `after`: what an action reloads.
 */
export async function loadAlertView(id, after = async () => {}) {
  let answer;
  try {
    answer = await api(`/api/alerts/${encodeURIComponent(id)}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      return { state: 'missing', nodes: [h('p', { class: 'empty-title', text: `No alert ${id} here.` }), h('p', { text: 'It may belong to another user, or to another r2watch.' })] };
    }
    throw e;
  }
  const a = answer.alert;
  const facts = [
    ['state', badge(a.state)],
    ['severity', badge(a.severity)],
    ['rule', `${a.name} (${a.rule_id}, ${a.type})`],
    ['value', `${a.value} (threshold ${a.threshold})`],
    ['scope', [a.bucket && `bucket ${a.bucket}`, a.prefix && `prefix ${a.prefix}`, a.user && `user ${a.user}`].filter(Boolean).join(', ') || 'the whole account'],
    ['started', when(a.started_at_ms)],
    ['fired', when(a.fired_at_ms)],
    ['acknowledged', a.acknowledged_at_ms ? `${when(a.acknowledged_at_ms)} by ${a.acknowledged_by ?? '?'}${a.ack_note ? ` (${a.ack_note})` : ''}` : 'no'],
    ['resolved', a.resolved_at_ms ? `${when(a.resolved_at_ms)}${a.resolved_by ? ` by ${a.resolved_by}` : ''}${a.resolve_note ? ` (${a.resolve_note})` : ''}` : 'no'],
    ['labels', Object.entries(a.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')],
  ];
  return {
    state: 'ready',
    nodes: [
      h('p', { class: 'alert-detail', text: a.detail }),
      h('dl', { class: 'alert-facts', dataset: { alertId: a.id, alertState: a.state } }, facts.map(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)])),
      actions(a, after),
      answer.history.length ? episodes(answer.history) : h('p', { class: 'note', text: 'No earlier alerts of this rule and scope.' }),
      answer.notifications.length ? notices(answer.notifications) : h('p', { class: 'note', text: 'No notification was sent about this alert.' }),
    ],
  };
}
