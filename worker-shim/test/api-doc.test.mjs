// docs/api.md lists every route the Worker serves and who may call it, generated from the
// router's own table: it cannot drift from the code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers.mjs';
import { renderApiDoc, currentRoutes } from '../../tools/api-doc.mjs';

test('docs/api.md is the router table as it is (npm run api-doc regenerates it)', async () => {
  const routes = await currentRoutes();
  assert.ok(routes.length > 50);
  const expected = renderApiDoc(routes);
  assert.equal(readFileSync(join(ROOT, 'docs/api.md'), 'utf8'), expected, 'docs/api.md is out of date: run npm run api-doc');
});
