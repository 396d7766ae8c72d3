// The page of one alert, at /alerts/<id>: where a notification's link leads (the Worker serves
// the dashboard for every path that is not an asset or the API). Shows the alert as
// GET /api/alerts/<id> answers it: its state, figures, labels, the earlier episodes of the same
// rule and scope, and the notifications sent about it.
import { api, ApiError } from './api.js';
import { sendForm } from './alert-manage.js';
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

const INCIDENT_STATUSES = ['investigating', 'identified', 'monitoring', 'resolved'];

/** A small form: labelled controls, each with its error place; `submit(values)` may throw. */
function incidentForm(name, controls, submitText, submit) {
  const general = h('p', { class: 'error-message', role: 'alert', hidden: true });
  const errors = new Map();
  const rows = controls.map(([field, label, control]) => {
    const id = `${name}-${field}`;
    control.id = id;
    const error = h('span', { class: 'field-error', id: `${id}-error`, role: 'alert', hidden: true });
    control.setAttribute('aria-describedby', `${id}-error`);
    errors.set(field, { control, error });
    return h('div', { class: 'field' }, h('label', { for: id, text: label }), control, error);
  });
  const button = h('button', { type: 'submit', text: submitText });
  const form = h('form', { class: 'manage-form', name, novalidate: true }, general, rows, h('div', { class: 'actions' }, button));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const { control, error } of errors.values()) {
      error.hidden = true;
      control.removeAttribute('aria-invalid');
    }
    general.hidden = true;
    button.disabled = true;
    try {
      await submit();
    } catch (e) {
      const target = errors.get(e.field);
      if (target) {
        target.error.textContent = e.message;
        target.error.hidden = false;
        target.control.setAttribute('aria-invalid', 'true');
        target.control.focus();
      } else {
        general.textContent = e.message;
        general.hidden = false;
      }
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/** The alert on the public status page (admins): make it public, post updates, take it off. */
async function incidentSection(id, after) {
  let who;
  try {
    who = await api('/api/auth/whoami');
  } catch {
    return null;
  }
  if (who?.role !== 'admin') return null;
  const { incident } = await api(`/api/alerts/${encodeURIComponent(id)}/incident`);
  const base = `/api/alerts/${encodeURIComponent(id)}/incident`;
  const nodes = [h('h3', { text: 'Public status page' })];
  if (!incident || !incident.published) {
    const title = h('input', { type: 'text', autocomplete: 'off', value: incident?.title ?? '' });
    const impact = h('select', {}, ['none', 'minor', 'major', 'critical'].map((v) => h('option', { value: v, selected: v === (incident?.impact ?? 'minor'), text: v })));
    const message = h('textarea', { rows: '2' });
    nodes.push(
      h('p', { class: 'note', text: 'Not on the status page. The public reads only what you write here: never the alert\'s own details.' }),
      incidentForm('incident', [['title', 'Title for the public', title], ['impact', 'Impact', impact], ['message', 'First update (optional)', message]], 'Make public', async () => {
        const body = { title: title.value, impact: impact.value };
        if (message.value.trim()) body.message = message.value;
        await sendForm(base, 'PUT', body);
        await after();
      }),
    );
  } else {
    const status = h('select', {}, INCIDENT_STATUSES.map((v) => h('option', { value: v, selected: v === incident.status, text: v })));
    const message = h('textarea', { rows: '2' });
    nodes.push(
      h('p', { class: 'incident-summary', dataset: { incidentStatus: incident.status } }, h('strong', { text: incident.title }), ` — ${incident.status}, impact ${incident.impact}. `, h('a', { href: '/status', text: 'See the status page' })),
      incident.updates.length
        ? h('ol', { class: 'incident-updates' }, incident.updates.map((u) => h('li', {}, h('strong', { text: u.status }), ` ${when(u.posted_at_ms)} by ${u.posted_by}: `, u.message)))
        : h('p', { class: 'note', text: 'No update posted yet.' }),
      incidentForm('incident-update', [['status', 'Status', status], ['message', 'Update for the public', message]], 'Post update', async () => {
        await sendForm(`${base}/updates`, 'POST', { status: status.value, message: message.value });
        await after();
      }),
      h('button', { type: 'button', class: 'secondary', text: 'Take off the status page', onclick: async () => {
        await sendForm(base, 'DELETE');
        await after();
      } }),
    );
  }
  return h('section', { class: 'alert-incident' }, nodes);
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
      await incidentSection(a.id, after),
    ],
  };
}
