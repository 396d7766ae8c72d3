// The cost routes inside workerd with real local D1: the pricing calculator answers the bill
// worked out by hand from R2's published prices, a price update changes its month and later
// ones only, and bad budget or price bodies get 422 naming the field and change nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, call } from './helpers.mjs';

/** 'YYYY-MM' of the month `offset` months from the current one (UTC). */
function monthFromNow(offset) {
  const now = new Date();
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
  return d.toISOString().slice(0, 7);
}

async function rows(worker, sql) {
  return (await worker.db.prepare(sql).all()).results;
}

test('the estimate through the API is the bill worked out by hand', async () => {
  const worker = await startWorker();
  try {
    // R2's two published examples in one request. Standard: 1,000 GB-months - 10 free = 990 *
    // $0.015 = $14.85; 1,000 writes and 1M reads are free. Infrequent Access: 1,000 GB kept 5
    // days is billed the 30-day minimum, 1,000 GB-months * $0.01 = $10; 1,000 writes round up
    // to 1M = $9; 1M reads = $0.90; 1,000 GB retrieved = $10: $29.90. Total $44.75.
    const res = await call(worker, 'POST', '/api/costs/estimate', {
      standard: { storage_gb_months: 1000, class_a: 1000, class_b: 1000000 },
      infrequent_access: {
        stored_gb: 1000,
        days_stored: 5,
        class_a: 1000,
        class_b: 1000000,
        retrieval_gb: 1000,
      },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.total_usd, '44.75');
    assert.equal(res.body.total_micro_usd, 44_750_000);
    assert.equal(res.body.standard.total_usd, '14.85');
    assert.equal(res.body.infrequent_access.total_usd, '29.90');
    const line = (cls, name) => res.body[cls].lines.find((l) => l.line === name);
    assert.deepEqual(
      ['storage', 'class_a', 'class_b', 'retrieval'].map((n) => line('infrequent_access', n).cost_usd),
      ['10.00', '9.00', '0.90', '10.00'],
    );
    assert.equal(line('standard', 'storage').billable, 990);
    assert.equal(line('standard', 'storage').free_tier, '10');
    assert.equal(line('infrequent_access', 'class_a').billable, 1);
    assert.match(line('standard', 'class_b').rounding, /rounded up to a whole million/);
    assert.equal(res.body.pricing.effective_from, '1970-01-01');

    // Rounding edge: one request past the free tier is a whole million ($4.50).
    const edge = await call(worker, 'POST', '/api/costs/estimate', { standard: { class_a: 1000001 } });
    assert.equal(edge.body.total_usd, '4.50');
    // An empty body is a zero bill.
    const empty = await call(worker, 'POST', '/api/costs/estimate', {});
    assert.equal(empty.status, 200);
    assert.equal(empty.body.total_micro_usd, 0);
  } finally {
    await worker.dispose();
  }
});

test('a bad estimate body gets 422 naming the field, malformed JSON 400', async () => {
  const worker = await startWorker();
  try {
    for (const [body, field] of [
      [{ standard: { class_a: -1 } }, 'standard.class_a'],
      [{ infrequent_access: { stored_gb: 1, days_stored: 31 } }, 'infrequent_access.days_stored'],
      [{ standard: { storage_gb_months: 1, stored_gb: 2 } }, 'standard.stored_gb'],
      [{ glacier: {} }, 'glacier'],
    ]) {
      const res = await call(worker, 'POST', '/api/costs/estimate', body);
      assert.equal(res.status, 422, JSON.stringify(body));
      assert.equal(res.body.error.code, 'invalid_field');
      assert.equal(res.body.error.field, field);
    }
    const badMonth = await call(worker, 'POST', '/api/costs/estimate?month=June', {});
    assert.equal(badMonth.status, 422);
    assert.equal(badMonth.body.error.field, 'month');
    const malformed = await call(worker, 'POST', '/api/costs/estimate', '{"standard":');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.code, 'invalid_json');
    const wrongMethod = await call(worker, 'GET', '/api/costs/estimate');
    assert.equal(wrongMethod.status, 405);
  } finally {
    await worker.dispose();
  }
});

test('a price update changes its month and later months only', async () => {
  const worker = await startWorker();
  try {
    const previous = monthFromNow(-1);
    const current = monthFromNow(0);
    const next = monthFromNow(1);
    const twentyMillionGets = { standard: { class_b: 20_000_000 } };
    // Published price: (20M - 10M free) = 10 * $0.36 = $3.60.
    const before = await call(worker, 'POST', '/api/costs/estimate', twentyMillionGets);
    assert.equal(before.body.total_usd, '3.60');

    const put = await call(worker, 'PUT', '/api/pricing', {
      effective_from: `${next}-01`,
      source: 'test: Class B up',
      standard: { class_b_usd_per_million: '0.50' },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.saved.effective_from, `${next}-01`);
    assert.equal(put.body.saved.standard.class_b_usd_per_million, '0.5');
    // The other prices of the version it updates are kept.
    assert.equal(put.body.saved.standard.class_a_usd_per_million, '4.5');
    assert.equal(put.body.in_effect.effective_from, '1970-01-01');

    const estimate = async (month) =>
      (await call(worker, 'POST', `/api/costs/estimate?month=${month}`, twentyMillionGets)).body;
    assert.equal((await estimate(previous)).total_usd, '3.60');
    assert.equal((await estimate(current)).total_usd, '3.60');
    const after = await estimate(next);
    assert.equal(after.total_usd, '5.00'); // 10 * $0.50
    assert.equal(after.pricing.effective_from, `${next}-01`);
    assert.equal((await estimate(monthFromNow(5))).total_usd, '5.00');
    // Without ?month= the current month is priced: still the published price.
    assert.equal(
      (await call(worker, 'POST', '/api/costs/estimate', twentyMillionGets)).body.total_usd,
      '3.60',
    );

    const status = await call(worker, 'GET', '/api/pricing');
    assert.equal(status.status, 200);
    assert.equal(status.body.month, current);
    assert.equal(status.body.in_effect.standard.class_b_usd_per_million, '0.36');
    assert.deepEqual(
      status.body.versions.map((v) => v.effective_from),
      ['1970-01-01', `${next}-01`],
    );
    const nextStatus = await call(worker, 'GET', `/api/pricing?month=${next}`);
    assert.equal(nextStatus.body.in_effect.standard.class_b_usd_per_million, '0.5');

    // A past month cannot be re-priced: 422 on effective_from, nothing stored.
    const past = await call(worker, 'PUT', '/api/pricing', {
      effective_from: `${previous}-01`,
      standard: { class_b_usd_per_million: '9' },
    });
    assert.equal(past.status, 422);
    assert.equal(past.body.error.field, 'effective_from');
    assert.match(past.body.error.message, /past months keep/);
    assert.equal((await estimate(previous)).total_usd, '3.60');

    // The current month may still be updated (its bill is not final); a second update of the
    // same month replaces the first.
    for (const price of ['0.40', '0.45']) {
      const res = await call(worker, 'PUT', '/api/pricing', {
        effective_from: `${current}-01`,
        standard: { class_b_usd_per_million: price },
      });
      assert.equal(res.status, 200);
    }
    assert.equal((await estimate(current)).total_usd, '4.50'); // 10 * $0.45
    assert.equal((await estimate(previous)).total_usd, '3.60');
    assert.equal((await estimate(next)).total_usd, '5.00');
    const stored = await rows(worker, 'SELECT effective_from FROM pricing_tiers ORDER BY 1');
    assert.deepEqual(stored.map((r) => r.effective_from), [`${current}-01`, `${next}-01`]);
  } finally {
    await worker.dispose();
  }
});

test('a bad price body gets 422 naming the field and changes nothing', async () => {
  const worker = await startWorker();
  try {
    const next = monthFromNow(1);
    for (const [body, field] of [
      [{ standard: { class_b_usd_per_million: '0.40' } }, 'effective_from'],
      [{ effective_from: `${next}-15` }, 'effective_from'],
      [{ effective_from: `${next}-01`, standard: { class_a_usd_per_million: -4.5 } }, 'standard.class_a_usd_per_million'],
      [{ effective_from: `${next}-01`, infrequent_access: { min_storage_days: 400 } }, 'infrequent_access.min_storage_days'],
      [{ effective_from: `${next}-01`, standard: { egress_usd_per_gb: '0.09' } }, 'standard.egress_usd_per_gb'],
      [{ effective_from: `${next}-01`, free_tier: { applies_to: ['glacier'] } }, 'free_tier.applies_to'],
    ]) {
      const res = await call(worker, 'PUT', '/api/pricing', body);
      assert.equal(res.status, 422, JSON.stringify(body));
      assert.equal(res.body.error.field, field, JSON.stringify(res.body));
    }
    assert.deepEqual(await rows(worker, 'SELECT * FROM pricing_tiers'), []);
  } finally {
    await worker.dispose();
  }
});

test('budgets are replaced as a set; a bad body gets 422 naming the field and changes nothing', async () => {
  const worker = await startWorker();
  try {
    assert.deepEqual((await call(worker, 'GET', '/api/costs/budgets')).body, { budgets: [] });
    const good = {
      budgets: [
        { monthly_usd: '25.00' },
        { bucket: 'photos', monthly_usd: 5, warn_at_pct: 90 },
      ],
    };
    const put = await call(worker, 'PUT', '/api/costs/budgets', good);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const expected = [
      { bucket: null, monthly_usd: '25.00', monthly_micro_usd: 25_000_000, warn_at_pct: 80 },
      { bucket: 'photos', monthly_usd: '5.00', monthly_micro_usd: 5_000_000, warn_at_pct: 90 },
    ];
    assert.deepEqual(put.body.budgets, expected);
    assert.deepEqual((await call(worker, 'GET', '/api/costs/budgets')).body.budgets, expected);

    for (const [body, field] of [
      [{ budgets: [{ monthly_usd: '10' }, { bucket: 'photos', monthly_usd: -5 }] }, 'budgets[1].monthly_usd'],
      [{ budgets: [{ monthly_usd: 0 }] }, 'budgets[0].monthly_usd'],
      [{ budgets: [{ monthly_usd: '1', warn_at_pct: 101 }] }, 'budgets[0].warn_at_pct'],
      [{ budgets: [{ monthly_usd: '1' }, { bucket: null, monthly_usd: '2' }] }, 'budgets[1].bucket'],
      [{ budgets: [{ bucket: 42, monthly_usd: '1' }] }, 'budgets[0].bucket'],
      [{ budgets: [{ bucket: '', monthly_usd: '1' }] }, 'budgets[0].bucket'],
      [{ budget: [] }, 'budget'],
      [{}, 'budgets'],
    ]) {
      const res = await call(worker, 'PUT', '/api/costs/budgets', body);
      assert.equal(res.status, 422, JSON.stringify(body));
      assert.equal(res.body.error.field, field, JSON.stringify(res.body));
    }
    assert.deepEqual((await call(worker, 'GET', '/api/costs/budgets')).body.budgets, expected);
    const stored = await rows(worker, 'SELECT scope, monthly_micro_usd FROM cost_budgets ORDER BY scope');
    assert.deepEqual(stored, [
      { scope: '', monthly_micro_usd: 25_000_000 },
      { scope: 'photos', monthly_micro_usd: 5_000_000 },
    ]);

    // An empty list clears them.
    const cleared = await call(worker, 'PUT', '/api/costs/budgets', { budgets: [] });
    assert.deepEqual(cleared.body.budgets, []);
  } finally {
    await worker.dispose();
  }
});
