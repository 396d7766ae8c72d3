// Security end to end inside workerd with real local D1 and R2: who may call which route, that a
// user never reaches another user's objects or figures, JWT and API-token checks, the missing
// secret, quotas, rate limits, failed-authentication events, the audit log and bad input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, call, mintJwt, claimsFor, tokenFor, insertToken, sleep } from './helpers.mjs';

let worker;
const tokens = {};
before(async () => {
  worker = await startWorker();
  tokens.alice = await tokenFor(worker, 'alice', { role: 'user' });
  tokens.bob = await tokenFor(worker, 'bob', { role: 'user' });
  tokens.carol = await tokenFor(worker, 'carol', { role: 'readonly' });
  tokens.scraper = await tokenFor(worker, 'prometheus', { role: 'readonly', scopes: ['metrics'] });
});
after(async () => {
  await worker?.dispose();
});

const put = (path, body, as) => call(worker, 'PUT', path, body, { as });
const get = (path, as) => call(worker, 'GET', path, undefined, { as });

// ---- who may call what -----------------------------------------------------------------------

/** A concrete path for a route pattern (`:id` and `*key` filled in). */
function pathOf(pattern) {
  return pattern.replace(/:\w+/g, '1').replace(/\*\w+/g, 'matrix/probe.txt');
}

const RANK = { readonly: 0, user: 1, admin: 2 };

/** Every route for every kind of caller: refused exactly when its declaration says so. */
async function checkMatrix(w, callers) {
  const { routes } = (await call(w, 'GET', '/api/admin/routes')).body;
  assert.ok(routes.length >= 50, `${routes.length} routes`);
  // The only public API routes: health and the public status page (the dashboard's static pages
  // outside /api, and /status, may be public too).
  for (const r of routes) {
    if (r.access.public && (r.pattern.startsWith('/api') || r.pattern === '/metrics')) {
      assert.ok(['GET /api/health', 'GET /api/status'].includes(`${r.method} ${r.pattern}`), `the only public API routes, not ${r.method} ${r.pattern}`);
    }
  }
  for (const [name, caller] of Object.entries(callers)) {
    for (const r of routes) {
      const body = ['PUT', 'POST'].includes(r.method) ? '{}' : undefined;
      const res = await call(w, r.method, pathOf(r.pattern), body, { as: caller.token });
      const where = `${name} ${r.method} ${r.pattern} -> ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
      if (r.access.public) {
        assert.ok(![401, 403].includes(res.status), where);
      } else if (caller.token === null) {
        assert.equal(res.status, 401, where);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="r2watch"', where);
      } else {
        const scopeOk = r.access.scope === null || caller.scopes.includes(r.access.scope) ||
          (caller.scopes.includes('*') && (r.access.scope !== 'metrics' || caller.role === 'admin'));
        const allowed = RANK[caller.role] >= RANK[r.access.role] && scopeOk;
        if (allowed) assert.ok(![401, 403].includes(res.status), where);
        else assert.equal(res.status, 403, where);
      }
    }
  }
}

test('every route refuses exactly the callers its declaration excludes', async () => {
  const w = await startWorker();
  try {
    const callers = {
      anonymous: { token: null },
      readonly: { token: await tokenFor(w, 'm-reader', { role: 'readonly' }), role: 'readonly', scopes: ['*'] },
      user: { token: await tokenFor(w, 'm-user', { role: 'user' }), role: 'user', scopes: ['*'] },
      scraper: { token: await tokenFor(w, 'm-scraper', { role: 'readonly', scopes: ['metrics'] }), role: 'readonly', scopes: ['metrics'] },
      storage_only: { token: await tokenFor(w, 'm-storage', { role: 'user', scopes: ['storage'] }), role: 'user', scopes: ['storage'] },
      jwt_user: { token: mintJwt(claimsFor('m-jwt', 'user')), role: 'user', scopes: ['*'] },
    };
    await checkMatrix(w, callers);
    // The admin last: its calls change state (faults, breaker), which no longer matters.
    await checkMatrix(w, { admin: { token: w.adminToken, role: 'admin', scopes: ['*'] } });
  } finally {
    await w.dispose();
  }
});

test('a route that declares nothing is for admins only', async () => {
  const { routes } = (await get('/api/admin/routes')).body;
  const admin = routes.filter((r) => r.access.role === 'admin');
  assert.ok(admin.some((r) => r.pattern === '/api/admin/faults'));
  for (const r of routes.filter((x) => x.pattern.startsWith('/api/admin/'))) {
    assert.equal(r.access.role, 'admin', `${r.method} ${r.pattern}`);
  }
});

// ---- one user's data is theirs ----------------------------------------------------------------

test("a user never reaches another user's objects", async () => {
  assert.equal((await put('/api/storage/files/notes/secret.txt', 'alice only', tokens.alice)).status, 201);
  assert.ok(await worker.bucket.head('users/alice/notes/secret.txt'), 'stored in alice\'s namespace');

  // Bob's same key is his own namespace: not found, and his delete leaves alice's object.
  assert.equal((await get('/api/storage/files/notes/secret.txt', tokens.bob)).status, 404);
  const bobHead = await worker.fetch('/api/storage/files/notes/secret.txt', { method: 'HEAD', headers: { authorization: `Bearer ${tokens.bob}` } });
  assert.equal(bobHead.status, 404);
  assert.equal((await call(worker, 'DELETE', '/api/storage/files/notes/secret.txt', undefined, { as: tokens.bob })).status, 204);
  assert.ok(await worker.bucket.head('users/alice/notes/secret.txt'));

  // Naming alice is refused to bob on every storage route.
  for (const [method, path] of [
    ['GET', '/api/storage/files/notes/secret.txt?user=alice'],
    ['HEAD', '/api/storage/files/notes/secret.txt?user=alice'],
    ['PUT', '/api/storage/files/notes/secret.txt?user=alice'],
    ['DELETE', '/api/storage/files/notes/secret.txt?user=alice'],
    ['GET', '/api/storage/files?user=alice'],
  ]) {
    const res = await call(worker, method, path, method === 'PUT' ? 'overwrite' : undefined, { as: tokens.bob });
    assert.equal(res.status, 403, `${method} ${path}`);
  }
  assert.equal(await (await worker.bucket.get('users/alice/notes/secret.txt')).text(), 'alice only');

  // Path tricks cannot climb out of the namespace: refused by the key rules (422), or resolved
  // by URL parsing into no route at all (404).
  for (const path of ['/api/storage/files/..%2Falice%2Fnotes%2Fsecret.txt', '/api/storage/files/%2E%2E/alice/notes/secret.txt',
    '/api/storage/files/..%2F..%2Fusers%2Falice%2Fnotes%2Fsecret.txt']) {
    const res = await get(path, tokens.bob);
    assert.ok([404, 422].includes(res.status), `${path} -> ${res.status}`);
    assert.notEqual(res.body, 'alice only');
  }
  // Listing shows only one's own keys, as written.
  const bobList = await get('/api/storage/files', tokens.bob);
  assert.deepEqual(bobList.body.objects, []);
  const aliceList = await get('/api/storage/files?prefix=notes/', tokens.alice);
  assert.deepEqual(aliceList.body.objects.map((o) => o.key), ['notes/secret.txt']);
  // An admin reaches alice's objects by naming her.
  const admin = await get('/api/storage/files/notes/secret.txt?user=alice');
  assert.equal(admin.body, 'alice only');
  // A readonly user reads but does not write.
  assert.equal((await put('/api/storage/files/mine.txt', 'x', tokens.carol)).status, 403);
  assert.equal((await get('/api/storage/files', tokens.carol)).status, 200);
});

test("usage figures of one user never include another's", async () => {
  for (let i = 0; i < 3; i++) await put(`/api/storage/files/u/a${i}.txt`, 'aaaa', tokens.alice);
  await put('/api/storage/files/u/b.txt', 'bb', tokens.bob);
  await call(worker, 'POST', '/api/admin/jobs/metrics-flush');
  const bob = await get('/api/usage/summary?period=day', tokens.bob);
  assert.equal(bob.status, 200);
  assert.equal(bob.body.user, 'bob');
  const alice = await get('/api/usage/summary?period=day', tokens.alice);
  assert.ok(alice.body.storage.bytes >= 12);
  assert.equal(bob.body.storage.bytes, 2);
  assert.equal(bob.body.storage.objects, 1);
  for (const path of ['/api/usage/summary', '/api/usage/details', '/api/usage/status', '/api/usage/export',
    '/api/metrics/history', '/api/storage/usage', '/api/quota', '/api/costs', '/api/costs/breakdown',
    '/api/costs/whatif', '/api/costs/anomaly', '/api/alerts']) {
    assert.equal((await get(`${path}?user=alice`, tokens.bob)).status, 403, path);
    assert.equal((await get(`${path}?user=bob`, tokens.bob)).status, 200, path);
  }
  // Export rows of bob are bob's calls only: one put of 2 bytes since the start.
  const exported = await get('/api/usage/export?hours=1', tokens.bob);
  const up = exported.body.records.reduce((n, r) => n + r.bytes_up, 0);
  assert.equal(up, 2);
  const all = await get('/api/usage/export?hours=1');
  assert.ok(all.body.records.reduce((n, r) => n + r.bytes_up, 0) >= 14, 'the admin sees everyone');
  const aliceOnly = await get('/api/usage/export?hours=1&user=alice');
  assert.ok(aliceOnly.body.records.every((r) => r.bytes_up === 0 || r.bytes_up % 4 === 0 || r.bytes_up >= 10));
  // The bucket's inventory (every user's keys) is not a user's to see.
  const inv = await get('/api/storage/usage', tokens.bob);
  assert.equal(inv.body.inventory, undefined);
  assert.equal(inv.body.user, 'bob');
});

// ---- credentials -------------------------------------------------------------------------------

test('JWTs: a good one works; expired, tampered, wrong-issuer, alg none and early ones do not', async () => {
  const good = mintJwt(claimsFor('alice', 'user'));
  const res = await get('/api/storage/files/notes/secret.txt', good);
  assert.equal(res.body, 'alice only', 'a JWT for alice reaches her namespace');
  const who = await get('/api/auth/whoami', good);
  assert.deepEqual(who.body, { user: 'alice', role: 'user', scopes: ['*'], via: 'jwt', token_id: null });

  const now = Math.floor(Date.now() / 1000);
  const admin = claimsFor('alice', 'admin');
  const [h, , s] = good.split('.');
  const tampered = `${h}.${Buffer.from(JSON.stringify(admin)).toString('base64url')}.${s}`;
  const cases = {
    expired: mintJwt(claimsFor('alice', 'user', { exp: now - 120, iat: now - 3600 })),
    tampered,
    wrong_secret: mintJwt(claimsFor('alice', 'user'), 'another-secret-another-secret-another'),
    wrong_issuer: mintJwt(claimsFor('alice', 'user', { iss: 'evil' })),
    alg_none: mintJwt(claimsFor('alice', 'admin'), undefined, { alg: 'none' }).replace(/[^.]+$/, ''),
    not_before: mintJwt(claimsFor('alice', 'user', { nbf: now + 600 })),
    too_long: mintJwt(claimsFor('alice', 'user', { exp: now + 90 * 86400 })),
    no_exp: mintJwt({ iss: 'r2watch', sub: 'alice', role: 'user' }),
    garbage: 'not.a.token',
  };
  for (const [name, token] of Object.entries(cases)) {
    const r = await get('/api/storage/files', token);
    assert.equal(r.status, 401, name);
    assert.equal(r.body.error.code, 'unauthenticated', name);
  }
  assert.equal((await call(worker, 'GET', '/api/storage/files', undefined, { as: null })).status, 401);
  assert.equal((await call(worker, 'GET', '/api/storage/files', undefined, { headers: { authorization: `Basic ${tokens.alice}` } })).status, 401);
  // A JWT's role limits it like a token's.
  const reader = mintJwt(claimsFor('alice', 'readonly'));
  assert.equal((await put('/api/storage/files/x.txt', 'x', reader)).status, 403);
});

test('API tokens: stored hashed, listed without secrets, revocable, refused for a disabled user', async () => {
  const stored = await worker.db.prepare('SELECT token_hash FROM api_tokens').all();
  for (const row of stored.results) {
    assert.match(row.token_hash, /^[0-9a-f]{64}$/);
    assert.ok(!Object.values(tokens).some((t) => t.includes(row.token_hash)));
  }
  const t = await tokenFor(worker, 'dave', { role: 'user' });
  assert.equal((await get('/api/auth/whoami', t)).body.user, 'dave');
  const listed = await get('/api/admin/tokens?user_id=dave');
  assert.equal(listed.body.tokens.length, 1);
  assert.equal(listed.body.tokens[0].token, undefined);
  assert.equal(listed.body.tokens[0].token_hash, undefined);
  assert.ok(listed.body.tokens[0].last_used_at, 'last use is recorded');
  const id = listed.body.tokens[0].id;

  assert.equal((await call(worker, 'POST', '/api/admin/users/dave/disable')).status, 200);
  assert.equal((await get('/api/auth/whoami', t)).status, 401);
  await call(worker, 'POST', '/api/admin/users/dave/enable');
  assert.equal((await get('/api/auth/whoami', t)).status, 200);

  const revoked = await call(worker, 'DELETE', `/api/admin/tokens/${id}`);
  assert.equal(revoked.status, 200);
  assert.equal(revoked.body.active, false);
  const after = await get('/api/auth/whoami', t);
  assert.equal(after.status, 401);
  assert.match(after.body.error.message, /revoked/);
  assert.equal((await call(worker, 'DELETE', `/api/admin/tokens/${id}`)).status, 409);

  // A token never outranks its user; unknown users and scopes are named.
  const above = await call(worker, 'POST', '/api/admin/tokens', { user_id: 'carol', name: 'x', role: 'admin' });
  assert.equal(above.status, 422);
  assert.equal(above.body.error.field, 'role');
  const bad = await call(worker, 'POST', '/api/admin/tokens', { user_id: 'nobody', name: '', scopes: ['root'] });
  assert.deepEqual(bad.body.error.errors.map((e) => e.field), ['user_id', 'name', 'scopes[0]']);
  const count = await worker.db.prepare("SELECT COUNT(*) AS n FROM api_tokens WHERE user_id = 'nobody'").first();
  assert.equal(count.n, 0);
});

test('without JWT_SECRET no data is handed out: 503 naming the secret; health still answers', async () => {
  const w = await startWorker({ vars: { JWT_SECRET: null } });
  try {
    for (const path of ['/api/storage/files', '/api/usage/summary', '/api/admin/users', '/metrics']) {
      const res = await call(w, 'GET', path);
      assert.equal(res.status, 503, path);
      assert.equal(res.body.error.code, 'secret_missing');
      assert.match(res.body.error.message, /JWT_SECRET/);
    }
    const health = await call(w, 'GET', '/api/health');
    assert.equal(health.status, 200);
    assert.ok(health.body.configuration_errors.some((e) => /JWT_SECRET/.test(e)));
  } finally {
    await w.dispose();
  }
  const short = await startWorker({ vars: { JWT_SECRET: 'too-short' } });
  try {
    const res = await call(short, 'GET', '/api/storage/files');
    assert.equal(res.status, 503);
    assert.match(res.body.error.message, /32 bytes/);
  } finally {
    await short.dispose();
  }
});

test('the metrics endpoint needs the metrics scope by name, or an admin', async () => {
  assert.equal((await call(worker, 'GET', '/metrics', undefined, { as: tokens.scraper })).status, 200);
  assert.equal((await call(worker, 'GET', '/metrics')).status, 200);
  assert.equal((await call(worker, 'GET', '/metrics', undefined, { as: tokens.carol })).status, 403);
  assert.equal((await get('/api/storage/files', tokens.scraper)).status, 403);
});

// ---- quotas ------------------------------------------------------------------------------------

test('an upload over the quota is refused with 413 before R2 is touched; usage feeds the percent', async () => {
  const erin = await tokenFor(worker, 'erin', { role: 'user' });
  assert.equal((await call(worker, 'PUT', '/api/admin/users/erin/quota', { max_bytes: 10, max_objects: 2 })).status, 200);
  assert.equal((await put('/api/storage/files/a.bin', '12345678', erin)).status, 201);
  const listBefore = await worker.bucket.list({ prefix: 'users/erin/' });

  const over = await put('/api/storage/files/b.bin', '12345', erin);
  assert.equal(over.status, 413);
  assert.equal(over.body.error.code, 'quota_exceeded');
  assert.match(over.body.error.message, /13 bytes, over the quota of 10 bytes/);
  const listAfter = await worker.bucket.list({ prefix: 'users/erin/' });
  assert.deepEqual(listAfter.objects.map((o) => o.key), listBefore.objects.map((o) => o.key));
  assert.equal(await worker.bucket.head('users/erin/b.bin'), null);

  // Replacing a.bin frees its 8 bytes first.
  assert.equal((await put('/api/storage/files/a.bin', '1234567890', erin)).status, 201);
  const mine = await get('/api/quota', erin);
  assert.deepEqual(
    { bytes: mine.body.bytes, objects: mine.body.objects, bytes_pct: mine.body.bytes_pct, objects_pct: mine.body.objects_pct },
    { bytes: 10, objects: 1, bytes_pct: 100, objects_pct: 50 },
  );
  // The warning level is the engine's; full is past it.
  assert.deepEqual({ warning_pct: mine.body.warning_pct, warning: mine.body.warning }, { warning_pct: 80, warning: true });
  const all = await get('/api/admin/quotas');
  assert.equal(all.body.users.find((u) => u.user_id === 'erin').bytes_pct, 100);
  assert.equal(all.body.users.find((u) => u.user_id === 'erin').warning, true);
  // Deleting gives the bytes back.
  await call(worker, 'DELETE', '/api/storage/files/a.bin', undefined, { as: erin });
  const emptied = (await get('/api/quota', erin)).body;
  assert.equal(emptied.bytes, 0);
  assert.equal(emptied.warning, false);
  // Someone with neither a quota nor objects: no warning, the same level.
  const nobody = (await get('/api/quota?user=nobody-yet')).body;
  assert.deepEqual({ max_bytes: nobody.max_bytes, warning_pct: nobody.warning_pct, warning: nobody.warning }, { max_bytes: null, warning_pct: 80, warning: false });
  assert.equal((await put('/api/storage/files/c.bin', '12345', erin)).status, 201);
  // A bad quota names its fields and changes nothing.
  const bad = await call(worker, 'PUT', '/api/admin/users/erin/quota', { max_bytes: -1, max_objects: 'many' });
  assert.equal(bad.status, 422);
  assert.deepEqual(bad.body.error.errors.map((e) => e.field), ['max_bytes', 'max_objects']);
  assert.equal((await get('/api/quota', erin)).body.max_bytes, 10);
});

test('an upload larger than MAX_UPLOAD_BYTES is refused with 413 and writes nothing', async () => {
  const w = await startWorker({ vars: { MAX_UPLOAD_BYTES: '1000' } });
  try {
    const res = await call(w, 'PUT', '/api/storage/files/big.bin', 'x'.repeat(1001));
    assert.equal(res.status, 413);
    assert.equal(res.body.error.code, 'payload_too_large');
    assert.equal(await w.bucket.head('users/admin/big.bin'), null);
    assert.equal((await call(w, 'PUT', '/api/storage/files/ok.bin', 'x'.repeat(1000))).status, 201);
  } finally {
    await w.dispose();
  }
});

// ---- abuse -------------------------------------------------------------------------------------

/** Waits out the end of a fixed window so a burst is counted in one window. */
async function startOfWindow(windowMs, needMs) {
  const into = Date.now() % windowMs;
  if (windowMs - into < needMs) await sleep(windowMs - into + 50);
}

test('rate limits per credential and per client IP answer 429 with Retry-After', async () => {
  const w = await startWorker({ vars: { RATE_LIMIT_PER_MINUTE: '3', RATE_LIMIT_IP_PER_MINUTE: '5' } });
  try {
    const a = await insertToken(w, 'ra');
    const b = await insertToken(w, 'rb');
    await startOfWindow(60_000, 10_000);
    const from = (ip) => ({ 'cf-connecting-ip': ip });
    for (let i = 0; i < 3; i++) {
      assert.equal((await call(w, 'GET', '/api/auth/whoami', undefined, { as: a, headers: from('10.0.0.1') })).status, 200);
    }
    const limited = await call(w, 'GET', '/api/auth/whoami', undefined, { as: a, headers: from('10.0.0.2') });
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, 'rate_limited');
    const wait = Number(limited.headers.get('retry-after'));
    assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
    // Another credential from the same address still passes, until the address's limit.
    assert.equal((await call(w, 'GET', '/api/auth/whoami', undefined, { as: b, headers: from('10.0.0.1') })).status, 200);
    assert.equal((await call(w, 'GET', '/api/auth/whoami', undefined, { as: b, headers: from('10.0.0.1') })).status, 200);
    const ipLimited = await call(w, 'GET', '/api/auth/whoami', undefined, { as: b, headers: from('10.0.0.1') });
    assert.equal(ipLimited.status, 429);
    assert.match(ipLimited.body.error.message, /client address/);
    // Anonymous floods count against the address too.
    const anon = await call(w, 'GET', '/api/storage/files', undefined, { as: null, headers: from('10.0.0.1') });
    assert.equal(anon.status, 429);
  } finally {
    await w.dispose();
  }
});

test('failed authentications past the threshold become a security event per client and token', async () => {
  const w = await startWorker({ vars: { AUTH_FAILURE_THRESHOLD: '3', AUTH_FAILURE_WINDOW_SECONDS: '300' } });
  try {
    await startOfWindow(300_000, 20_000);
    const forged = `r2w_00000000000000aa_${'0'.repeat(64)}`;
    for (let i = 0; i < 4; i++) {
      const res = await call(w, 'GET', '/api/usage/summary', undefined, { as: forged, headers: { 'cf-connecting-ip': '192.0.2.7', 'user-agent': 'brute/1.0' } });
      assert.equal(res.status, 401);
    }
    const events = await call(w, 'GET', '/api/admin/security-events?kind=auth_failures');
    const bySubject = Object.fromEntries(events.body.events.map((e) => [e.subject, e]));
    assert.equal(bySubject['ip:192.0.2.7'].count, 4);
    assert.equal(bySubject['ip:192.0.2.7'].threshold, 3);
    assert.equal(bySubject['token:00000000000000aa'].count, 4);
    assert.equal(bySubject['ip:192.0.2.7'].details.user_agent, 'brute/1.0');
    // Three failures from elsewhere stay under the threshold.
    for (let i = 0; i < 3; i++) {
      await call(w, 'GET', '/api/usage/summary', undefined, { as: 'nope', headers: { 'cf-connecting-ip': '198.51.100.1' } });
    }
    const again = await call(w, 'GET', '/api/admin/security-events');
    assert.ok(!again.body.events.some((e) => e.subject === 'ip:198.51.100.1'));
  } finally {
    await w.dispose();
  }
});

// ---- audit -------------------------------------------------------------------------------------

test('every admin action and data change is in the audit log, refusals too', async () => {
  const ua = { 'user-agent': 'audit-test/1', 'cf-connecting-ip': '203.0.113.9' };
  await call(worker, 'POST', '/api/admin/users', { id: 'frank', role: 'user' }, { headers: ua });
  await call(worker, 'PUT', '/api/storage/files/audited.txt', 'x', { as: tokens.alice, headers: ua });
  await call(worker, 'DELETE', '/api/storage/files/audited.txt', undefined, { as: tokens.alice, headers: ua });
  await call(worker, 'PUT', '/api/costs/budgets', { budgets: [] }, { headers: ua });
  await call(worker, 'GET', '/api/admin/users', undefined, { as: tokens.bob, headers: ua });

  const created = await get('/api/admin/audit?action=POST%20/api/admin/users&actor=admin');
  const row = created.body.entries.find((e) => e.target === 'user=frank');
  assert.ok(row, JSON.stringify(created.body.entries));
  assert.equal(row.result, 'ok');
  assert.equal(row.ip, '203.0.113.9');
  assert.equal(row.user_agent, 'audit-test/1');
  assert.equal(row.status, 201);

  const alice = await get('/api/admin/audit?actor=alice');
  const actions = alice.body.entries.map((e) => `${e.action} ${e.target}`);
  assert.ok(actions.includes('PUT /api/storage/files/*key key=audited.txt'), actions.join('\n'));
  assert.ok(actions.includes('DELETE /api/storage/files/*key key=audited.txt'));

  const refused = await get('/api/admin/audit?actor=bob&result=refused');
  assert.ok(refused.body.entries.some((e) => e.action === 'GET /api/admin/users' && e.status === 403));
  assert.ok((await get('/api/admin/audit?action=PUT%20/api/costs/budgets')).body.entries.length >= 1);

  // Audit rows of reads by users are not written; queries are checked.
  assert.equal((await get('/api/admin/audit?since=yesterday')).status, 400);
  assert.equal((await get('/api/admin/audit?limit=5000')).status, 400);
  assert.equal((await get('/api/admin/audit?colour=red')).status, 400);
  const future = await get(`/api/admin/audit?since=${Date.now() + 86_400_000}`);
  assert.deepEqual(future.body.entries, []);
  const page = await get('/api/admin/audit?limit=2');
  assert.equal(page.body.entries.length, 2);
  const next = await get(`/api/admin/audit?limit=2&before_id=${page.body.next_before_id}`);
  assert.ok(next.body.entries[0].id < page.body.entries[1].id + 1);
});

test('a refused request is audited with the user it named, never user=undefined', async () => {
  // Refused by role, naming no one: no target at all.
  assert.equal((await get('/api/admin/users', tokens.bob)).status, 403);
  // Refused for naming another user's data: the target is that user.
  assert.equal((await get('/api/costs?user=alice', tokens.bob)).status, 403);
  const refused = (await get('/api/admin/audit?actor=bob&result=refused')).body.entries;
  const byRole = refused.find((e) => e.action === 'GET /api/admin/users');
  assert.ok(byRole, JSON.stringify(refused));
  assert.equal(byRole.target, null);
  const named = refused.find((e) => e.action === 'GET /api/costs');
  assert.ok(named, JSON.stringify(refused));
  assert.equal(named.target, 'user=alice');
  for (const e of refused) assert.doesNotMatch(String(e.target), /undefined/, JSON.stringify(e));
});

// ---- bad input ---------------------------------------------------------------------------------

const BODY_ROUTES = [
  ['PUT', '/api/health/circuit-breaker/config'],
  ['PUT', '/api/health/config'],
  ['POST', '/api/health/alerts/1/resolve'],
  ['PUT', '/api/admin/faults'],
  ['POST', '/api/costs/estimate'],
  ['PUT', '/api/pricing'],
  ['PUT', '/api/costs/budgets'],
  ['POST', '/api/admin/users'],
  ['PUT', '/api/admin/users/alice/quota'],
  ['POST', '/api/admin/tokens'],
];

async function tableCounts(w) {
  const tables = ['users', 'api_tokens', 'user_storage_quotas', 'pricing_tiers', 'cost_budgets', 'health_check_config'];
  const out = {};
  for (const t of tables) out[t] = (await w.db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).first()).n;
  return out;
}

test('every route that takes a body refuses oversize (413) and malformed (400 with position) bodies, changing nothing', async () => {
  const before = await tableCounts(worker);
  for (const [method, path] of BODY_ROUTES) {
    const big = await call(worker, method, path, JSON.stringify({ pad: 'x'.repeat(70 * 1024) }));
    assert.equal(big.status, 413, `${method} ${path}`);
    const bad = await call(worker, method, path, '{"a": 1,');
    assert.equal(bad.status, 400, `${method} ${path}`);
    assert.equal(bad.body.error.code, 'invalid_json');
    assert.match(bad.body.error.message, /position \d+|JSON/, `${method} ${path}`);
    const notObject = await call(worker, method, path, '[1, 2]');
    assert.equal(notObject.status, 400, `${method} ${path}`);
  }
  assert.deepEqual(await tableCounts(worker), before);
});

// Every route that reads a JSON body (worker-shim/src/http.js readJsonBody).
const JSON_ROUTES = [
  ...BODY_ROUTES,
  ['POST', '/api/alerts/rules'],
  ['PUT', '/api/alerts/rules/high_error_rate'],
  ['POST', '/api/alerts/silences'],
  ['PUT', '/api/alerts/channels'],
  ['POST', '/api/alerts/test'],
  ['POST', '/api/alerts/1/ack'],
  ['POST', '/api/alerts/1/resolve'],
  ['POST', '/api/admin/jobs/check-alerts'],
];

test('a JSON route refuses a body that is not application/json (415 naming content-type), changing nothing', async () => {
  const before = await tableCounts(worker);
  const send = (method, path, headers) =>
    worker.fetch(path, { method, headers, body: new TextEncoder().encode('{"id": "x", "budgets": []}') }).then(async (r) => ({ status: r.status, body: await r.json() }));
  for (const [method, path] of JSON_ROUTES) {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', null]) {
      const res = await send(method, path, type === null ? {} : { 'content-type': type });
      assert.equal(res.status, 415, `${method} ${path} ${type}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'unsupported_media_type');
      assert.equal(res.body.error.field, 'content-type');
    }
  }
  assert.deepEqual(await tableCounts(worker), before);
  // Parameters and case are allowed: the request gets past the media type check.
  for (const [method, path] of JSON_ROUTES) {
    const ok = await send(method, path, { 'content-type': 'Application/JSON; charset=utf-8' });
    assert.notEqual(ok.status, 415, `${method} ${path}`);
  }
  // check-alerts without a body needs no content type; uploads keep any type.
  assert.equal((await worker.fetch('/api/admin/jobs/check-alerts', { method: 'POST' })).status, 200);
  const upload = await worker.fetch('/api/storage/files/notes/plain.txt', { method: 'PUT', body: 'hi', headers: { 'content-type': 'text/plain' } });
  assert.equal(upload.status, 201);
});

test('query parameters are range-checked on the security routes', async () => {
  for (const path of ['/api/admin/security-events?limit=0', '/api/admin/tokens?user_id=a%2Fb',
    '/api/admin/tokens?colour=1', '/api/quota?colour=1', '/api/storage/files?user=..']) {
    assert.equal((await get(path)).status, 400, path);
  }
  assert.equal((await call(worker, 'DELETE', '/api/admin/tokens/not-hex')).status, 422);
  assert.equal((await get('/api/admin/users/nobody')).status, 404);
});
