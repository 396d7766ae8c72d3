// Key rotation of the secrets sealed in D1 (src/sealed.js): POST /api/admin/secrets/rotate opens
// every sealed value (under SECRETS_KEY or SECRETS_KEY_PREVIOUS) and seals it again under
// SECRETS_KEY; plain values written before sealing are sealed too. The answer names key ids
// and counts, never a value.
import { json } from './http.js';
import { currentKeyId, keyIdOf, open, seal } from './sealed.js';
import { SEALED_PLACES, replaceSealedValue, sealedValues } from './db/secrets.js';

export function registerSecretRoutes(router) {
  router.on('POST', '/api/admin/secrets/rotate', async (_request, _params, rt) => {
    const db = rt.env.DB;
    const keyId = await currentKeyId(rt);
    const places = [];
    const writes = [];
    for (const where of SEALED_PLACES) {
      const fromKeys = {};
      let resealed = 0;
      for (const row of await sealedValues(db, where)) {
        const from = keyIdOf(row.text) ?? 'plain';
        fromKeys[from] = (fromKeys[from] ?? 0) + 1;
        if (from === keyId) continue;
        writes.push(replaceSealedValue(db, where, row, await seal(rt, await open(rt, row.text, where.place), where.place)));
        resealed += 1;
      }
      places.push({ place: where.place, resealed, from_keys: fromKeys });
    }
    if (writes.length) await db.batch(writes);
    return json({ key_id: keyId, places });
  }, { role: 'admin' });
}
