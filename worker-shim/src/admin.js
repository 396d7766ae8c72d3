// Admin routes. Fault injection exists only where FAULT_INJECTION is on; elsewhere its routes
// answer 404 as if they did not exist.
import { HttpError, ask, json, readJsonBody } from './http.js';
import { faultsEnabled } from './runtime.js';

function requireFaults(rt, request) {
  if (!faultsEnabled(rt.env)) {
    throw new HttpError('not_found', `no route for ${request.method} ${new URL(request.url).pathname}`);
  }
}

const ADMIN = { role: 'admin' };

export function registerAdminRoutes(router) {
  router.on('GET', '/api/admin/faults', async (request, _params, rt) => {
    requireFaults(rt, request);
    return json(ask(rt, 'faults_get', {}));
  }, ADMIN);

  router.on('PUT', '/api/admin/faults', async (request, _params, rt) => {
    requireFaults(rt, request);
    const body = await readJsonBody(request);
    const result = ask(rt, 'faults_set', body);
    await rt.persistFaults();
    return json(result);
  }, ADMIN);

  router.on('DELETE', '/api/admin/faults', async (request, _params, rt) => {
    requireFaults(rt, request);
    const result = ask(rt, 'faults_clear', {});
    await rt.persistFaults();
    return json(result);
  }, ADMIN);

  // Makes the engine trap, to exercise the recovery path (game days and tests).
  router.on('POST', '/api/admin/faults/trap', async (request, _params, rt) => {
    requireFaults(rt, request);
    rt.engine.trap();
    return json({ trapped: false });
  }, ADMIN);
}
