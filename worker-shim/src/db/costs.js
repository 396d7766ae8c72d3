// The costs' SQL: the stored price-list versions, the budgets and the month's bill snapshots.
// Nothing here decides anything: the engine (core/cost) checks what is stored and computes
// every figure.

/**
 * The stored price-list versions as a JSON array text (for the engine's `pricing` field):
 * every cost command picks the version in effect for its month from these.
 */
export async function loadPriceVersions(db) {
  const { results } = await db
    .prepare('SELECT price_list_json FROM pricing_tiers ORDER BY effective_from')
    .all();
  return `[${results.map((r) => r.price_list_json).join(',')}]`;
}

/** Stores one price-list version (as pricing_validate normalized it), replacing its month's. */
export async function savePriceVersion(db, priceList, nowMs) {
  await db
    .prepare(
      `INSERT INTO pricing_tiers (effective_from, price_list_json, updated_at_ms) VALUES (?, ?, ?)
       ON CONFLICT (effective_from) DO UPDATE SET price_list_json = excluded.price_list_json,
         updated_at_ms = excluded.updated_at_ms`,
    )
    .bind(priceList.effective_from, JSON.stringify(priceList), nowMs)
    .run();
}

/** The stored budgets as the engine wrote them: [{bucket, monthly_usd, ...}]. */
export async function loadBudgets(db) {
  const { results } = await db
    .prepare('SELECT budget_json FROM cost_budgets ORDER BY scope')
    .all();
  return results.map((r) => JSON.parse(r.budget_json));
}

/** Replaces every budget with `budgets` (as cost_budgets_validate normalized them), in one batch. */
export async function replaceBudgets(db, budgets, nowMs) {
  const insert = db.prepare(
    `INSERT INTO cost_budgets (scope, monthly_micro_usd, warn_at_pct, budget_json, updated_at_ms)
     VALUES (?, ?, ?, ?, ?)`,
  );
  await db.batch([
    db.prepare('DELETE FROM cost_budgets'),
    ...budgets.map((b) =>
      insert.bind(b.bucket ?? '', b.monthly_micro_usd, b.warn_at_pct, JSON.stringify(b), nowMs),
    ),
  ]);
}

/**
 * Stores the snapshot of a month's bill taken at `nowMs` (`costs`: GET /api/costs's answer,
 * with the engine's `bill`); a snapshot of the same month and day is replaced.
 */
export async function saveCostSnapshot(db, costs, nowMs) {
  const b = costs.bill;
  await db
    .prepare(
      `INSERT INTO cost_snapshots (month, as_of, computed_at_ms, pricing_effective_from, total_micro_usd,
         forecast_low_micro_usd, forecast_expected_micro_usd, forecast_high_micro_usd, report_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (month, as_of) DO UPDATE SET computed_at_ms = excluded.computed_at_ms,
         pricing_effective_from = excluded.pricing_effective_from, total_micro_usd = excluded.total_micro_usd,
         forecast_low_micro_usd = excluded.forecast_low_micro_usd,
         forecast_expected_micro_usd = excluded.forecast_expected_micro_usd,
         forecast_high_micro_usd = excluded.forecast_high_micro_usd, report_json = excluded.report_json`,
    )
    .bind(
      costs.month,
      costs.as_of,
      nowMs,
      b.pricing.effective_from,
      b.month_to_date.total_micro_usd,
      b.forecast.low.total_micro_usd,
      b.forecast.expected.total_micro_usd,
      b.forecast.high.total_micro_usd,
      JSON.stringify(costs),
    )
    .run();
}
