// Cost routes that need no metrics: the pricing calculator, the versioned price list and the
// monthly budgets. Every figure and every check comes from the engine (core/cost/); this file
// reads the request, loads what D1 holds, asks the engine, and stores the answer.
import { json, readJsonBody, ask } from './http.js';
import * as store from './db/costs.js';
import { loadPriceVersions, loadBudgets } from './db/costs.js';

// The stored price lists and budgets, for the other cost modules (account, alerts, reports).
export { loadPriceVersions, loadBudgets };

/** `?month=YYYY-MM` when given (the engine checks it), as a JSON member or nothing. */
function monthMember(request) {
  const month = new URL(request.url).searchParams.get('month');
  return month === null ? '' : `,"month":${JSON.stringify(month)}`;
}

// The pricing calculator and the price list are readable by every role (they hold no one's
// data); changing prices and the account's budgets is for admins.
const READ_COSTS = { role: 'readonly', scope: 'costs' };
const ADMIN = { role: 'admin' };

export function registerCostRoutes(router) {
  // The pricing calculator: the body is priced with the list in effect for ?month= (default:
  // this month). It changes nothing, but like every route that takes a body it is audited: a
  // hostile body is seen in the audit log.
  router.on('POST', '/api/costs/estimate', async (request, _params, rt) => {
    const body = await readJsonBody(request);
    const pricing = await loadPriceVersions(rt.env.DB);
    return json(
      ask(rt, 'cost_estimate', `{"request":${body},"pricing":${pricing}${monthMember(request)}}`),
    );
  }, READ_COSTS);

  router.on('GET', '/api/pricing', async (request, _params, rt) => {
    const pricing = await loadPriceVersions(rt.env.DB);
    return json(ask(rt, 'pricing_status', `{"pricing":${pricing}${monthMember(request)}}`));
  }, READ_COSTS);

  // A new version from its effective_from on (this month or later); a partial body keeps the
  // values of the version it updates. Nothing is written when the engine refuses it.
  router.on('PUT', '/api/pricing', async (request, _params, rt) => {
    const body = await readJsonBody(request);
    const now = Date.now();
    const db = rt.env.DB;
    const { price_list: priceList, unchanged } = ask(
      rt,
      'pricing_validate',
      `{"request":${body},"pricing":${await loadPriceVersions(db)}}`,
      now,
    );
    // A past version sent back unchanged (`unchanged`): accepted, nothing written.
    if (!unchanged) await store.savePriceVersion(db, priceList, now);
    const status = ask(rt, 'pricing_status', `{"pricing":${await loadPriceVersions(db)}}`, now);
    return json({ saved: priceList, ...status });
  }, ADMIN);

  router.on('GET', '/api/costs/budgets', async (_request, _params, rt) =>
    json({ budgets: await loadBudgets(rt.env.DB) }),
  ADMIN);

  // Replaces every budget with the body's list, in one batch; nothing changes when refused.
  router.on('PUT', '/api/costs/budgets', async (request, _params, rt) => {
    const body = await readJsonBody(request);
    const { budgets } = ask(rt, 'cost_budgets_validate', `{"request":${body}}`);
    const db = rt.env.DB;
    await store.replaceBudgets(db, budgets, Date.now());
    return json({ budgets: await loadBudgets(db) });
  }, ADMIN);
}

