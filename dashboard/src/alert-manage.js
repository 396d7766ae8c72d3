// Alert management at /alerts: rules (create, edit, enable/disable, delete), silences and
// maintenance windows, channels (their secrets answered masked by the API) with a test button,
// and the recent alerts, each linking to its page (/alerts/<id>). Presentation only: every check
// is the API's; a refused field's message is shown beside that field.
import { api, getToken } from './api.js';
import { h, table } from './dom.js';
import * as fmt from './format.js';

/** Whether `pathname` is the management page. */
export function isManagePath(pathname) {
  return /^\/alerts\/?$/.test(pathname);
}

// The rule types and their words (the API checks them; this is the form's menu).
const RULE_TYPES = [
  'error_rate', 'latency', 'cost_threshold', 'cost_anomaly', 'quota_usage', 'file_size', 'security_event',
  'storage_growth', 'circuit_breaker_open', 'health_status', 'database_health', 'request_spike',
  'internal_error_rate', 'pending_uploads', 'bucket_storage_growth', 'job_stale',
];
const SEVERITIES = ['low', 'medium', 'high', 'critical'];
const COMPARISONS = ['>', '>=', '<', '<=', '=='];
const CHANNEL_TYPES = ['webhook', 'slack', 'pagerduty', 'email', 'alertmanager', 'github'];

function when(ms) {
  return ms ? fmt.time(ms) : '–';
}

function options(values, selected) {
  return values.map((v) => h('option', { value: v, selected: v === selected, text: v }));
}

/**
 * A labelled input with the place for its error beside it. `field`: the API's name of the field
 * (errors naming it land here).
 */
function field(form, { id, label, fieldName, control, hint }) {
  const error = h('span', { class: 'field-error', id: `${id}-error`, role: 'alert', hidden: true });
  control.id = id;
  control.setAttribute('aria-describedby', `${id}-error`);
  form.fields.set(fieldName, { control, error });
  return h('div', { class: 'field', dataset: { field: fieldName } }, h('label', { for: id, text: label }), control, error, hint ? h('span', { class: 'note', text: hint }) : null);
}

function newForm(name) {
  const element = h('form', { class: 'manage-form', name, novalidate: true });
  const general = h('p', { class: 'error-message form-error', role: 'alert', hidden: true });
  return { element, general, fields: new Map() };
}

function clearErrors(form) {
  for (const { control, error } of form.fields.values()) {
    error.hidden = true;
    error.textContent = '';
    control.removeAttribute('aria-invalid');
  }
  form.general.hidden = true;
  form.general.textContent = '';
}

/** Shows an API refusal beside the field it names (or its nearest named parent), else above. */
function showError(form, err) {
  const problems = err.errors?.length ? err.errors : [{ field: err.field, message: err.message }];
  let shown = false;
  for (const p of problems) {
    let name = p.field ?? '';
    let target = form.fields.get(name);
    while (!target && name.includes('.')) {
      name = name.slice(0, name.lastIndexOf('.'));
      target = form.fields.get(name);
    }
    if (!target) continue;
    target.error.textContent = p.message;
    target.error.hidden = false;
    target.control.setAttribute('aria-invalid', 'true');
    if (!shown) target.control.focus();
    shown = true;
  }
  if (!shown) {
    form.general.textContent = err.message;
    form.general.hidden = false;
  }
}

/** Like api(), but a refusal keeps the API's `field` and `errors` (for errors beside fields). */
export async function sendForm(path, method, body) {
  const token = getToken();
  const headers = { accept: 'application/json', 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw Object.assign(new Error(`r2watch did not answer (${e.message})`), { field: '' });
  }
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) {
    const e = parsed?.error ?? {};
    throw Object.assign(new Error(e.message ?? `${method} ${path} answered ${res.status}`), { field: e.field ?? '', errors: e.errors ?? [] });
  }
  return parsed;
}

/** A number typed in a text box, sent as a number when it reads as one (else as typed). */
function numberOrText(text) {
  const t = text.trim();
  if (t === '') return undefined;
  return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
}

function compact(obj) {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined && v !== ''));
}

// ---- rules --------------------------------------------------------------------------------------

function ruleForm(reload) {
  const form = newForm('rule');
  let editing = null; // the id of the rule being edited, or null for a new one
  const title = h('h3', { text: 'New rule' });
  const name = h('input', { type: 'text', autocomplete: 'off' });
  const type = h('select', {}, options(RULE_TYPES, 'error_rate'));
  const threshold = h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off' });
  const comparison = h('select', {}, options(COMPARISONS, '>'));
  const windowMs = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off', placeholder: '300000' });
  const severity = h('select', {}, options(SEVERITIES, 'medium'));
  const minCalls = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off', placeholder: '1' });
  const bucket = h('input', { type: 'text', autocomplete: 'off', placeholder: 'any' });
  const user = h('input', { type: 'text', autocomplete: 'off', placeholder: 'any' });
  const save = h('button', { type: 'submit', text: 'Create rule' });
  const cancel = h('button', { type: 'button', class: 'secondary', text: 'Cancel edit', hidden: true });

  const reset = () => {
    editing = null;
    form.element.reset();
    type.disabled = false;
    title.textContent = 'New rule';
    save.textContent = 'Create rule';
    cancel.hidden = true;
    clearErrors(form);
  };
  cancel.addEventListener('click', reset);

  form.element.append(
    title,
    form.general,
    field(form, { id: 'rule-name', label: 'Name', fieldName: 'name', control: name }),
    field(form, { id: 'rule-type', label: 'Type', fieldName: 'type', control: type }),
    field(form, { id: 'rule-threshold', label: 'Threshold', fieldName: 'threshold', control: threshold, hint: 'in the metric\'s unit (percent, ms, dollars, ...)' }),
    field(form, { id: 'rule-comparison', label: 'Comparison', fieldName: 'comparison', control: comparison }),
    field(form, { id: 'rule-window', label: 'Window (ms)', fieldName: 'window_ms', control: windowMs }),
    field(form, { id: 'rule-severity', label: 'Severity', fieldName: 'severity', control: severity }),
    field(form, { id: 'rule-min-calls', label: 'Minimum calls', fieldName: 'min_calls', control: minCalls }),
    field(form, { id: 'rule-bucket', label: 'Bucket', fieldName: 'scope.bucket', control: bucket }),
    field(form, { id: 'rule-user', label: 'User', fieldName: 'scope.user', control: user }),
    h('div', { class: 'actions' }, save, cancel),
  );
  form.fields.set('scope', form.fields.get('scope.bucket'));

  form.element.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = compact({
      name: name.value.trim(),
      type: editing ? undefined : type.value,
      threshold: numberOrText(threshold.value),
      comparison: comparison.value,
      window_ms: numberOrText(windowMs.value),
      severity: severity.value,
      min_calls: numberOrText(minCalls.value),
    });
    if (bucket.value.trim() || user.value.trim() || editing) body.scope = { bucket: bucket.value.trim(), user: user.value.trim() };
    save.disabled = true;
    try {
      if (editing) await sendForm(`/api/alerts/rules/${encodeURIComponent(editing)}`, 'PUT', body);
      else await sendForm('/api/alerts/rules', 'POST', body);
      reset();
      await reload();
    } catch (e) {
      showError(form, e);
    } finally {
      save.disabled = false;
    }
  });

  const edit = (rule) => {
    reset();
    editing = rule.id;
    title.textContent = `Edit rule ${rule.id}`;
    save.textContent = 'Save rule';
    cancel.hidden = false;
    name.value = rule.name;
    type.value = rule.type;
    type.disabled = true;
    threshold.value = String(rule.threshold);
    comparison.value = rule.comparison;
    windowMs.value = String(rule.window_ms);
    severity.value = rule.severity;
    minCalls.value = String(rule.min_calls);
    bucket.value = rule.scope?.bucket ?? '';
    user.value = rule.scope?.user ?? '';
    name.focus();
  };
  return { element: form.element, edit };
}

async function rulesView(reload, form) {
  const { rules } = await api('/api/alerts/rules');
  const act = async (button, fn) => {
    button.disabled = true;
    try {
      await fn();
      await reload();
    } catch (e) {
      button.disabled = false;
      button.after(h('span', { class: 'error-message', role: 'alert', text: e.message }));
    }
  };
  return table(
    'Alert rules',
    ['rule', 'type', 'condition', 'severity', 'state', ''],
    rules.map((r) => [
      h('span', { dataset: { ruleId: r.id } }, h('strong', { text: r.name }), h('span', { class: 'note', text: ` ${r.id}` })),
      r.type,
      `${r.metric} ${r.comparison} ${r.threshold}`,
      r.severity,
      r.enabled ? 'enabled' : 'disabled',
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', text: 'Edit', 'aria-label': `Edit ${r.name}`, onclick: () => form.edit(r) }),
        h('button', {
          type: 'button',
          class: 'secondary',
          text: r.enabled ? 'Disable' : 'Enable',
          'aria-label': `${r.enabled ? 'Disable' : 'Enable'} ${r.name}`,
          onclick: (e) => act(e.currentTarget, () => api(`/api/alerts/rules/${encodeURIComponent(r.id)}`, { method: 'PUT', body: { enabled: !r.enabled } })),
        }),
        h('button', {
          type: 'button',
          class: 'secondary',
          text: 'Delete',
          'aria-label': `Delete ${r.name}`,
          onclick: (e) => act(e.currentTarget, () => api(`/api/alerts/rules/${encodeURIComponent(r.id)}`, { method: 'DELETE' })),
        }),
      ),
    ]),
    { className: 'rules-table' },
  );
}

// ---- silences and maintenance windows ------------------------------------------------------------

/** "name=value, name!=value" -> matchers, or null when a part does not read. */
function parseMatchers(text) {
  const parts = text.split(',').map((p) => p.trim()).filter(Boolean);
  const out = [];
  for (const p of parts) {
    const m = /^([^=!\s]+)\s*(!=|=)\s*(.*)$/.exec(p);
    if (!m) return null;
    out.push({ name: m[1], op: m[2], value: m[3] });
  }
  return out;
}

function localInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

function silenceForm(reload, author) {
  const form = newForm('silence');
  const kind = h('select', {}, h('option', { value: 'silence', text: 'silence' }), h('option', { value: 'maintenance', text: 'maintenance window' }));
  const matchers = h('input', { type: 'text', autocomplete: 'off', placeholder: 'alertname=HighErrorRate, bucket=photos' });
  const starts = h('input', { type: 'datetime-local' });
  const ends = h('input', { type: 'datetime-local' });
  const comment = h('input', { type: 'text', autocomplete: 'off' });
  const createdBy = h('input', { type: 'text', autocomplete: 'off', value: author ?? '' });
  ends.value = localInput(Date.now() + 3_600_000);
  const save = h('button', { type: 'submit', text: 'Add silence' });
  form.element.append(
    h('h3', { text: 'New silence or maintenance window' }),
    form.general,
    field(form, { id: 'silence-kind', label: 'Kind', fieldName: 'kind', control: kind }),
    field(form, { id: 'silence-matchers', label: 'Matchers', fieldName: 'matchers', control: matchers, hint: 'labels the alerts must have: name=value or name!=value, separated by commas' }),
    field(form, { id: 'silence-starts', label: 'Starts (empty: now)', fieldName: 'starts_at_ms', control: starts }),
    field(form, { id: 'silence-ends', label: 'Ends', fieldName: 'ends_at_ms', control: ends }),
    field(form, { id: 'silence-comment', label: 'Comment', fieldName: 'comment', control: comment }),
    field(form, { id: 'silence-author', label: 'Author', fieldName: 'created_by', control: createdBy }),
    h('div', { class: 'actions' }, save),
  );
  form.element.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const parsed = parseMatchers(matchers.value);
    if (parsed === null) {
      showError(form, { field: 'matchers', message: 'each matcher is name=value or name!=value' });
      return;
    }
    const body = {
      kind: kind.value,
      matchers: parsed,
      comment: comment.value,
      created_by: createdBy.value.trim(),
    };
    if (starts.value) body.starts_at_ms = new Date(starts.value).getTime();
    if (ends.value) body.ends_at_ms = new Date(ends.value).getTime();
    save.disabled = true;
    try {
      await sendForm('/api/alerts/silences', 'POST', body);
      matchers.value = '';
      comment.value = '';
      await reload();
    } catch (e) {
      showError(form, e);
    } finally {
      save.disabled = false;
    }
  });
  return form.element;
}

async function silencesView(reload) {
  const { silences } = await api('/api/alerts/silences');
  if (!silences.length) return h('p', { class: 'note empty-silences', text: 'No silences or maintenance windows now or ahead.' });
  return table(
    'Silences and maintenance windows',
    ['kind', 'matchers', 'from', 'until', 'comment', 'state', ''],
    silences.map((s) => [
      h('span', { dataset: { silenceId: s.id }, text: s.kind }),
      s.matchers.map((m) => `${m.name}${m.op}${m.value}`).join(', '),
      when(s.starts_at_ms),
      when(s.ends_at_ms),
      `${s.comment} (${s.created_by})`,
      s.active ? 'active' : 'scheduled',
      h('button', {
        type: 'button',
        class: 'secondary',
        text: 'End',
        onclick: async (e) => {
          e.currentTarget.disabled = true;
          await api(`/api/alerts/silences/${encodeURIComponent(s.id)}`, { method: 'DELETE' });
          await reload();
        },
      }),
    ]),
    { className: 'silences-table' },
  );
}

// ---- channels -------------------------------------------------------------------------------------

function targetOf(c) {
  if (c.type === 'github') return `${c.repository} (token in ${c.token_secret})`;
  if (c.type === 'email') return (c.to ?? []).join(', ');
  if (c.url_secret) return `secret ${c.url_secret}`;
  return c.url ?? '';
}

function channelForm(reload) {
  const form = newForm('channel');
  const name = h('input', { type: 'text', autocomplete: 'off' });
  const type = h('select', {}, options(CHANNEL_TYPES, 'webhook'));
  const url = h('input', { type: 'password', autocomplete: 'off', spellcheck: 'false' });
  const minSeverity = h('select', {}, options(SEVERITIES, 'low'));
  const save = h('button', { type: 'submit', text: 'Add channel' });
  form.element.append(
    h('h3', { text: 'New channel' }),
    form.general,
    field(form, { id: 'channel-name', label: 'Name', fieldName: 'name', control: name }),
    field(form, { id: 'channel-type', label: 'Type', fieldName: 'type', control: type }),
    field(form, { id: 'channel-url', label: 'URL', fieldName: 'url', control: url, hint: 'kept by r2watch and shown masked; or name a Worker secret with the API (url_secret)' }),
    field(form, { id: 'channel-min-severity', label: 'Minimum severity', fieldName: 'min_severity', control: minSeverity }),
    h('div', { class: 'actions' }, save),
  );
  form.element.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    save.disabled = true;
    try {
      // The settings as the API answers them (masked URLs are kept as stored), plus the channel.
      const current = await api('/api/alerts/channels');
      const index = current.channels.length;
      const body = { ...current, channels: [...current.channels, compact({ name: name.value.trim(), type: type.value, url: url.value.trim(), min_severity: minSeverity.value })] };
      try {
        await sendForm('/api/alerts/channels', 'PUT', body);
      } catch (e) {
        // channels[<new>].url -> url: the field of this form.
        const own = `channels[${index}].`;
        const strip = (f) => (f?.startsWith(own) ? f.slice(own.length) : f);
        e.field = strip(e.field);
        e.errors = (e.errors ?? []).map((p) => ({ ...p, field: strip(p.field) }));
        throw e;
      }
      form.element.reset();
      await reload();
    } catch (e) {
      showError(form, e);
    } finally {
      save.disabled = false;
    }
  });
  return form.element;
}

async function channelsView(reload) {
  const settings = await api('/api/alerts/channels');
  if (!settings.channels.length) return h('p', { class: 'note', text: 'No channels yet: alerts are recorded but nobody is told.' });
  const test = async (button, channel, out) => {
    button.disabled = true;
    out.textContent = 'Sending…';
    try {
      const answer = await api('/api/alerts/test', { method: 'POST', body: { channel } });
      const d = answer.deliveries?.find?.((x) => x.channel === channel) ?? answer.deliveries?.[0];
      out.textContent = d ? `${d.status}${d.response_code ? ` (${d.response_code})` : ''}${d.error ? `: ${d.error}` : ''}` : 'queued';
      out.dataset.result = d?.status ?? 'queued';
    } catch (e) {
      out.textContent = e.message;
      out.dataset.result = 'error';
    } finally {
      button.disabled = false;
    }
  };
  const remove = async (button, name) => {
    button.disabled = true;
    const current = await api('/api/alerts/channels');
    await api('/api/alerts/channels', { method: 'PUT', body: { ...current, channels: current.channels.filter((c) => c.name !== name) } });
    await reload();
  };
  return table(
    'Channels',
    ['channel', 'type', 'target', 'min severity', 'state', ''],
    settings.channels.map((c) => {
      const out = h('span', { class: 'test-result', role: 'status' });
      return [
        h('span', { dataset: { channel: c.name }, text: c.name }),
        c.type,
        h('code', { class: 'channel-target', text: targetOf(c) }),
        c.min_severity,
        c.enabled ? 'enabled' : 'disabled',
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', class: 'secondary', text: 'Send test', 'aria-label': `Send a test notification to ${c.name}`, onclick: (e) => test(e.currentTarget, c.name, out) }),
          h('button', { type: 'button', class: 'secondary', text: 'Remove', 'aria-label': `Remove ${c.name}`, onclick: (e) => remove(e.currentTarget, c.name) }),
          out,
        ),
      ];
    }),
    { className: 'channels-table' },
  );
}

// ---- recent alerts -------------------------------------------------------------------------------

async function recentAlertsView() {
  const { alerts } = await api('/api/alerts?limit=20');
  if (!alerts.length) return h('p', { class: 'note', text: 'No alerts yet.' });
  return table(
    'Recent alerts',
    ['alert', 'rule', 'severity', 'state', 'updated'],
    alerts.map((a) => [h('a', { href: `/alerts/${encodeURIComponent(a.id)}`, text: a.id }), a.name, a.severity, a.state, when(a.updated_at_ms)]),
    { className: 'recent-alerts' },
  );
}

// ---- the page --------------------------------------------------------------------------------------

/** One part of the page: a heading, what `load` shows (reloaded after each change), and a form. */
function part(id, heading, load, formElement) {
  const body = h('div', { class: 'part-body' }, h('p', { class: 'loading', text: 'Loading…' }));
  const section = h('section', { id, class: 'panel wide', 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title`, text: heading }), body, formElement ?? null);
  const reload = async () => {
    section.setAttribute('aria-busy', 'true');
    try {
      // Wide tables scroll inside their panel rather than widen the page (phones).
      body.replaceChildren(h('div', { class: 'table-scroll' }, await load()));
      section.dataset.state = 'ready';
    } catch (e) {
      body.replaceChildren(h('p', { class: 'error-message', role: 'alert', text: e.message }), h('button', { type: 'button', class: 'secondary', text: 'Retry', onclick: () => reload() }));
      section.dataset.state = 'error';
    } finally {
      section.removeAttribute('aria-busy');
    }
  };
  return { section, reload };
}

/**
 * Builds the management page into `main`; answers a function that reloads every part (the
 * page's Refresh button) and resolves once each part has loaded.
 */
export async function startManageView(main) {
  let author = '';
  try {
    author = (await api('/api/auth/whoami')).user ?? '';
  } catch {
    author = '';
  }
  const parts = [];
  let rules;
  const ruleEditor = ruleForm(() => rules.reload());
  rules = part('manage-rules', 'Rules', () => rulesView(() => rules.reload(), ruleEditor), ruleEditor.element);
  let silences;
  silences = part('manage-silences', 'Silences and maintenance windows', () => silencesView(() => silences.reload()), silenceForm(() => silences.reload(), author));
  let channels;
  channels = part('manage-channels', 'Channels', () => channelsView(() => channels.reload()), channelForm(() => channels.reload()));
  const recent = part('manage-recent', 'Recent alerts', recentAlertsView);
  parts.push(rules, silences, channels, recent);
  main.replaceChildren(...parts.map((p) => p.section));
  const reloadAll = () => Promise.all(parts.map((p) => p.reload()));
  await reloadAll();
  return reloadAll;
}
