// The cost engine in the page: r2watch's C++ cost model built for the browser with Emscripten
// (cost-model.js + cost-model.wasm, from wasm-bindings/browser-exports.cc), the same code that
// answers POST /api/costs/estimate in the Worker. The page computes nothing about money itself.

let enginePromise = null;

function load() {
  enginePromise ??= import('./cost-model.js').then(async ({ default: createCostModel }) => {
    const m = await createCostModel();
    return {
      /** Runs a cost command; returns the answer, or throws with the engine's error. */
      call(command, input, nowMs = Date.now()) {
        const ok = m.ccall('r2w_cost_call', 'number', ['string', 'string', 'number'], [command, JSON.stringify(input), nowMs]);
        const answer = JSON.parse(m.UTF8ToString(m._r2w_cost_output()));
        if (!ok) throw Object.assign(new Error(answer.error?.message ?? 'cost engine error'), { engineError: answer.error });
        return answer;
      },
    };
  });
  return enginePromise;
}

/**
 * The R2 bill of an estimate body (the body of POST /api/costs/estimate), priced with the
 * stored price-list versions as GET /api/pricing lists them, for `month` (YYYY-MM).
 */
export async function estimate(body, versions, month) {
  const engine = await load();
  return engine.call('cost_estimate', { request: body, pricing: versions, month });
}
