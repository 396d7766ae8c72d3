// The cost what-if: the last 30 days' usage (editable) priced as it is, in Infrequent Access,
// and with traffic doubled. Every dollar comes from the C++ cost model running in this page
// (cost-engine.js), the one behind POST /api/costs/estimate: this file only builds the
// calculator's input from the API's usage figures and shows the answers.
import { api, optionalApi } from './api.js';
import { h } from './dom.js';
import * as fmt from './format.js';
import { estimate } from './cost-engine.js';

const GB = 1e9;
const FIELDS = [
  { name: 'storage_gb_months', label: 'Stored data (GB-months)', step: 'any' },
  { name: 'class_a', label: 'Class A operations (writes, lists)', step: '1' },
  { name: 'class_b', label: 'Class B operations (reads)', step: '1' },
  { name: 'retrieval_gb', label: 'Data read (GB)', step: 'any' },
];
const LINES = [
  ['storage', 'Storage'],
  ['class_a', 'Class A'],
  ['class_b', 'Class B'],
  ['retrieval', 'Retrieval'],
];

// Values the user typed survive the minute's refresh until "Use measured usage" is pressed.
let edited = null;

/** The estimate bodies of the three scenarios for one usage (the calculator's own fields). */
export function scenarioBodies(usage) {
  const doubled = {
    ...usage,
    class_a: usage.class_a * 2,
    class_b: usage.class_b * 2,
    retrieval_gb: usage.retrieval_gb * 2,
  };
  return [
    { id: 'now', title: 'As now (Standard)', body: { standard: usage } },
    { id: 'infrequent_access', title: 'Same usage in Infrequent Access', body: { infrequent_access: usage } },
    { id: 'doubled', title: 'Traffic doubled', body: { standard: doubled } },
  ];
}

function measuredUsage(summary) {
  return {
    storage_gb_months: (summary?.storage?.bytes ?? 0) / GB,
    class_a: summary?.api_calls?.class_a ?? 0,
    class_b: summary?.api_calls?.class_b ?? 0,
    retrieval_gb: (summary?.bandwidth?.download_bytes ?? 0) / GB,
  };
}

function lineCost(bill, line) {
  const cls = bill.standard ?? bill.infrequent_access;
  return cls?.lines?.find((l) => l.line === line) ?? null;
}

async function results(usage, pricing) {
  const out = [];
  for (const s of scenarioBodies(usage)) {
    out.push({ ...s, bill: await estimate(s.body, pricing.versions, pricing.month) });
  }
  return out;
}

function resultsTable(rows) {
  const base = rows[0].bill.total_micro_usd;
  return h(
    'table',
    { class: 'whatif-table' },
    h('caption', { text: 'Monthly bill of each scenario (30-day month)' }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'line' }), rows.map((r) => h('th', { scope: 'col', text: r.title })))),
    h(
      'tbody',
      {},
      LINES.map(([line, label]) =>
        h('tr', {}, h('th', { scope: 'row', text: label }), rows.map((r) => h('td', { text: fmt.usd(lineCost(r.bill, line)?.cost_usd ?? '0.00') }))),
      ),
      h(
        'tr',
        { class: 'total' },
        h('th', { scope: 'row', text: 'Total' }),
        rows.map((r) =>
          h('td', { dataset: { scenario: r.id, totalMicroUsd: r.bill.total_micro_usd, body: JSON.stringify(r.body) }, text: fmt.usd(r.bill.total_usd) }),
        ),
      ),
      h(
        'tr',
        {},
        h('th', { scope: 'row', text: 'Against now' }),
        rows.map((r) => {
          const d = r.bill.total_micro_usd - base;
          return h('td', { text: r.id === 'now' ? '–' : d === 0 ? 'same' : `${d > 0 ? '+' : '-'}${fmt.usdFromMicro(Math.abs(d))}` });
        }),
      ),
    ),
  );
}

/** The what-if block of the cost panel (its own error state: the rest of the panel stands). */
export async function whatIfView() {
  const root = h('div', { class: 'whatif', dataset: { state: 'loading' } });
  let pricing;
  let measured;
  try {
    const [p, summary] = await Promise.all([api('/api/pricing'), optionalApi('/api/usage/summary?period=month')]);
    pricing = p;
    measured = measuredUsage(summary);
  } catch (e) {
    root.dataset.state = 'error';
    root.append(h('h3', { text: 'What if' }), h('p', { class: 'error-message', text: `The what-if needs the price list: ${e.message}` }));
    return root;
  }
  const usage = { ...(edited ?? measured) };
  const out = h('div', { class: 'whatif-results', 'aria-live': 'polite' });
  const inputs = {};
  const recompute = async () => {
    try {
      const rows = await results(usage, pricing);
      out.replaceChildren(resultsTable(rows));
      root.dataset.state = 'ready';
    } catch (e) {
      root.dataset.state = 'error';
      out.replaceChildren(h('p', { class: 'error-message', role: 'alert', text: e.engineError ? `The cost model refused this input: ${e.message}` : `The cost model could not run: ${e.message}` }));
    }
  };
  const form = h(
    'form',
    { class: 'whatif-form', onsubmit: (e) => e.preventDefault() },
    FIELDS.map((f) => {
      const input = h('input', { type: 'number', min: '0', step: f.step, name: f.name, id: `whatif-${f.name}`, value: String(usage[f.name]) });
      input.addEventListener('change', () => {
        const v = input.value === '' ? 0 : Number(input.value);
        usage[f.name] = v;
        edited = { ...usage };
        recompute();
      });
      inputs[f.name] = input;
      return h('label', { for: `whatif-${f.name}` }, h('span', { text: f.label }), input);
    }),
    h('button', {
      type: 'button',
      class: 'secondary',
      text: 'Use measured usage',
      onclick: () => {
        edited = null;
        Object.assign(usage, measured);
        for (const f of FIELDS) inputs[f.name].value = String(usage[f.name]);
        recompute();
      },
    }),
  );
  root.append(
    h('h3', { text: 'What if' }),
    h('p', { class: 'note', text: `Usage of the last 30 days${edited ? ' (edited)' : ''}, priced with the ${pricing.month} price list by r2watch's cost model running in this page.` }),
    form,
    out,
  );
  await recompute();
  return root;
}
