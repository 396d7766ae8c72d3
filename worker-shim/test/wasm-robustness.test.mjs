// A property test of the built r2watch.wasm itself (not the native build, whose stack is 8 MB):
// every engine command is driven with generated deep and wide inputs, and after each one an
// ordinary command must still give its golden answer. Then the same attack through the Worker
// in workerd: a deep body is a 400 naming the depth, and the service goes on answering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, EngineTrap } from '../src/engine.js';
import { ROOT, startWorker, call, tokenFor } from './helpers.mjs';

// The two modules (wasm-bindings/modules.h): the request path, and the console instantiated on
// the first command only it registers. Both are driven.
const module = new WebAssembly.Module(readFileSync(join(ROOT, 'build/wasm/r2watch.wasm')));
const consoleModule = new WebAssembly.Module(readFileSync(join(ROOT, 'build/wasm/r2watch-console.wasm')));

/** Commands only native test builds register (R2W_TEST_COMMANDS): not in the wasm. */
const TEST_ONLY = readFileSync(join(ROOT, 'testdata/golden/test-only-commands.txt'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

/** Every command name the wasm engine registers (`{"name", &handler}` in wasm-bindings/). */
const COMMANDS = [
  ...new Set(
    readdirSync(join(ROOT, 'wasm-bindings'))
      .filter((f) => f.endsWith('.cc'))
      .flatMap((f) => {
        // The entries of each file's command table: `kCommands[] = { {"name", &handler}, ... };`
        const text = readFileSync(join(ROOT, 'wasm-bindings', f), 'utf8');
        return [...text.matchAll(/kCommands\[\] = \{([^;]*)\};/g)].flatMap((table) =>
          [...table[1].matchAll(/\{"([a-z0-9_]+)", &[a-z0-9_]+\}/g)].map((m) => m[1]),
        );
      }),
  ),
]
  .filter((c) => !TEST_ONLY.includes(c))
  .sort();

// The ordinary requests checked after every hostile one, one per module: a golden case and its
// native answer.
function golden(command) {
  const dir = join(ROOT, 'testdata/golden', command);
  const name = readdirSync(dir).find((f) => f.endsWith('.in.json'));
  return {
    command,
    input: readFileSync(join(dir, name), 'utf8'),
    expected: JSON.parse(readFileSync(join(dir, name.replace('.in.json', '.out.json')), 'utf8')),
  };
}
const ORDINARY = golden('breaker_simulate');
const ORDINARY_CONSOLE = golden('cost_estimate');

/** A small deterministic PRNG (mulberry32), so a failure replays. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function deepObject(levels) {
  return '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
}
function deepArray(levels) {
  return '['.repeat(levels) + ']'.repeat(levels);
}

/** Hostile inputs for a command: deep at the top and under fields it reads, wide, long, broken. */
function hostileInputs(random) {
  const inputs = [];
  for (const levels of [65, 200, 1000, 10_000]) {
    inputs.push(`{"a":${deepObject(levels)}}`);
    inputs.push(`{"a":${deepArray(levels)}}`);
    for (const field of ['request', 'rules', 'rows', 'pricing', 'budgets', 'config', 'options', 'snapshot', 'figures']) {
      inputs.push(`{"${field}":${random() < 0.5 ? deepObject(levels) : deepArray(levels)}}`);
    }
  }
  // Unclosed: the parser must not recurse into it either.
  inputs.push('{"a":'.repeat(20_000));
  inputs.push('['.repeat(20_000));
  // Wide: many members, long arrays, long strings.
  const many = Array.from({ length: 5000 }, (_, i) => `"k${i}":${i}`).join(',');
  inputs.push(`{${many}}`);
  inputs.push(`{"rows":[${Array.from({ length: 20_000 }, (_, i) => i).join(',')}]}`);
  inputs.push(`{"request":"${'x'.repeat(60_000)}"}`);
  inputs.push(`{"rules":[${Array.from({ length: 2000 }, () => '{"type":"error_rate"}').join(',')}]}`);
  // Random bytes that look like JSON.
  const alphabet = '{}[]":,0123456789abc-.eE \\\u0000';
  for (let n = 0; n < 5; n++) {
    let s = '';
    const length = Math.floor(random() * 3000);
    for (let i = 0; i < length; i++) s += alphabet[Math.floor(random() * alphabet.length)];
    inputs.push(s);
  }
  return inputs;
}

test('the engine registers the commands the property test drives', () => {
  assert.ok(COMMANDS.length >= 60, `only ${COMMANDS.length} commands found`);
  assert.ok(COMMANDS.includes('cost_estimate') && COMMANDS.includes('pricing_validate'), COMMANDS.join(' '));
});

test('every command survives deep and wide inputs, and the next ordinary call is right', () => {
  const random = prng(20261130);
  const engine = new Engine(module, 0, { console: consoleModule });
  const before = JSON.parse(engine.callRaw('breaker_simulate', ORDINARY.input, 0).text);
  assert.deepEqual(before, ORDINARY.expected);
  assert.equal(engine.console, null, 'the console module waits for a command of its own');
  // Every command of the sources is registered by one of the two modules.
  for (const command of COMMANDS) {
    assert.ok(engine.commands.has(command) || engine.consoleEngine(0).commands.has(command), command);
  }
  for (const command of COMMANDS) {
    for (const input of hostileInputs(random)) {
      let answer;
      try {
        answer = engine.callRaw(command, input, 1_700_000_000_000);
      } catch (e) {
        assert.fail(`${command} threw on ${input.slice(0, 40)}... (${input.length} bytes): ${e.message}`);
      }
      if (input.startsWith('{"a":{"a":') || input.startsWith('{"request":{"a"')) {
        // Refused before any recursive code ran, naming the depth.
        if (input.length > 400) {
          assert.equal(answer.ok, false, `${command} accepted ${input.length} bytes of nesting`);
          const { error } = JSON.parse(answer.text);
          assert.equal(error.code, 'json_too_deep', `${command}: ${answer.text.slice(0, 200)}`);
          assert.match(error.message, /64 levels/);
        }
      }
      assert.doesNotMatch(answer.text, /\u0000/, `${command}: NUL in the answer`);
      JSON.parse(answer.text); // always one JSON value
    }
    for (const ordinary of [ORDINARY, ORDINARY_CONSOLE]) {
      const after = engine.callRaw(ordinary.command, ordinary.input, 0);
      assert.deepEqual(JSON.parse(after.text), ordinary.expected, `${ordinary.command} after ${command}`);
    }
    assert.equal(engine.broken, false, `after ${command}`);
  }
  assert.equal(engine.console.module, 'r2watch-console');
  assert.equal(engine.console.broken, false);
});

test('a trap in the console module breaks the engine as a whole', () => {
  const engine = new Engine(module, 0, { console: consoleModule });
  assert.deepEqual(JSON.parse(engine.callRaw('cost_estimate', ORDINARY_CONSOLE.input, 0).text), ORDINARY_CONSOLE.expected);
  assert.throws(() => engine.console.trap(), EngineTrap);
  assert.equal(engine.broken, true, 'the runtime rebuilds both modules from saved state');
  assert.throws(() => engine.callRaw('cost_estimate', ORDINARY_CONSOLE.input, 0), EngineTrap);
});

// The hot path's ring (worker-shim/src/engine.js): the Worker keeps its count and writes it into
// the engine's memory before each call, so the engine folds what was buffered first; once the
// engine broke (here through the console), nothing more is buffered without asking it, and the
// salvage still folds what was.
test('buffered calls reach the engine before its next call, and after a break only the salvage', () => {
  const engine = new Engine(module, 0, { console: consoleModule });
  const now = 1_700_000_040_000;
  const { id } = engine.series('b', 'objects/x', '');
  const minuteCalls = (answer) =>
    answer.rows.filter((r) => r.level === 'minute').reduce((n, r) => n + r.calls, 0);
  for (let i = 0; i < 5; i++) assert.equal(engine.record(id, 'get', true, 3, 0, 10, now), 0);
  assert.equal(engine.ringCount, 5);
  assert.equal(minuteCalls(engine.call('metrics_flush_take', {}, now)), 5);
  assert.equal(engine.ringCount, 0, 'folded by the call');
  for (let i = 0; i < 3; i++) engine.record(id, 'get', true, 4, 0, 10, now);
  assert.equal(engine.r2Class('get'), 'B'); // a call that does not fold keeps the count
  assert.equal(engine.ringCount, 3);
  engine.callRaw('cost_estimate', ORDINARY_CONSOLE.input, 0);
  // Two more since the engine's last call, then the console traps (the request module is not
  // called again: its memory still says 3).
  for (let i = 0; i < 2; i++) engine.record(id, 'get', true, 4, 0, 10, now);
  assert.throws(() => engine.console.trap(), EngineTrap);
  assert.equal(engine.broken, true);
  assert.throws(() => engine.record(id, 'get', true, 4, 0, 10, now), EngineTrap);
  assert.throws(() => engine.acquire(now), EngineTrap);
  assert.equal(engine.ringCount, 5, 'nothing buffered after the break');
  // The salvage folds the five buffered before the break (the take was not confirmed: 10 in all).
  assert.equal(minuteCalls(engine.salvage('metrics_flush_take', {}, now)), 10);
});

test('an error of any kind out of a wasm call breaks the engine for good', () => {
  const engine = new Engine(module, 0);
  assert.throws(() => engine.trap(), (e) => e instanceof EngineTrap && e instanceof WebAssembly.RuntimeError);
  assert.equal(engine.broken, true);
  // Nothing more is asked of it, not even an innocent call.
  assert.throws(() => engine.acquire(0), EngineTrap);
  assert.throws(() => engine.callRaw('breaker_simulate', ORDINARY.input, 0), EngineTrap);
});

test('a RangeError (stack exhausted) out of a wasm call counts as a trap', () => {
  const engine = new Engine(module, 0);
  // Exhaust the JavaScript stack so the call into wasm throws a RangeError on entry.
  let thrown = null;
  const recurse = (n) => {
    try {
      return n === 0 ? engine.acquire(0) : recurse(n - 1);
    } catch (e) {
      thrown ??= e;
      throw e;
    }
  };
  const deepen = (depth) => {
    try {
      return deepen(depth + 1);
    } catch {
      return recurse(0);
    }
  };
  try {
    deepen(0);
  } catch {
    // expected
  }
  if (thrown) {
    assert.ok(thrown instanceof EngineTrap, `${thrown?.name}: ${thrown?.message}`);
    assert.equal(engine.broken, true);
  } else {
    // The engine answered even at the stack's end: then it must still be sound.
    assert.equal(engine.broken, false);
  }
});

test('a 10,000-level body is a 400 naming the depth, and the service goes on', async () => {
  const worker = await startWorker();
  try {
    const readonly = await tokenFor(worker, 'reader', { role: 'readonly' });
    const deep = `{"a":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`;
    assert.ok(deep.length < 64 * 1024);
    for (const [method, path, as] of [
      ['POST', '/api/costs/estimate', readonly],
      ['PUT', '/api/pricing', undefined],
      ['PUT', '/api/costs/budgets', undefined],
      ['PUT', '/api/health/config', undefined],
      ['POST', '/api/alerts/rules', undefined],
    ]) {
      const res = await call(worker, method, path, deep, { as });
      assert.equal(res.status, 400, `${method} ${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'json_too_deep');
      assert.match(res.body.error.message, /deeper than 64 levels/);
      // Everything else goes on: health, the admin token, the engine's answers.
      const health = await call(worker, 'GET', '/api/health');
      assert.notEqual(health.status, 500, JSON.stringify(health.body));
      const whoami = await call(worker, 'GET', '/api/auth/whoami');
      assert.equal(whoami.status, 200, JSON.stringify(whoami.body));
      assert.equal(whoami.body.role, 'admin');
      const estimate = await call(worker, 'POST', '/api/costs/estimate', { standard: { class_a: 2_000_000 } }, { as: readonly });
      assert.equal(estimate.status, 200);
      assert.equal(estimate.body.total_micro_usd, 4_500_000);
      assert.doesNotMatch(JSON.stringify(estimate.body), /\u0000/);
    }
    // The calculator's body is audited like every route that takes one.
    const audit = await call(worker, 'GET', '/api/admin/audit?limit=100');
    const rows = audit.body.entries ?? audit.body.audit ?? audit.body.rows ?? audit.body;
    const estimates = rows.filter((r) => r.action === 'POST /api/costs/estimate');
    assert.ok(estimates.some((r) => r.actor === 'reader' && r.status === 400), JSON.stringify(estimates));
    assert.ok(estimates.some((r) => r.actor === 'reader' && r.status === 200), JSON.stringify(estimates));
  } finally {
    await worker.dispose();
  }
});

test('after a trap, the minute rollups the engine had not flushed reach D1', async () => {
  const worker = await startWorker({ vars: { FLUSH_INTERVAL: '3600000', BATCH_SIZE: '1000' } });
  try {
    for (let i = 0; i < 3; i++) {
      assert.equal((await call(worker, 'PUT', `/api/storage/files/t${i}.txt`, 'data')).status, 201);
    }
    assert.equal((await call(worker, 'GET', '/api/storage/files/t0.txt')).status, 200);
    const trapped = await call(worker, 'POST', '/api/admin/faults/trap');
    assert.equal(trapped.body.error.code, 'engine_trap');
    // The salvage runs off the request path; give it a moment.
    let rows = [];
    for (let tries = 0; tries < 50; tries++) {
      ({ results: rows } = await worker.db
        .prepare(`SELECT operation, SUM(calls) AS calls FROM storage_metrics WHERE level = 'minute' GROUP BY operation`)
        .all());
      if (rows.length >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const calls = Object.fromEntries(rows.map((r) => [r.operation, r.calls]));
    assert.equal(calls.put, 3, JSON.stringify(rows));
    assert.equal(calls.get, 1, JSON.stringify(rows));
  } finally {
    await worker.dispose();
  }
});

// The ring's event key (series id + operation index * 2^32, wasm-bindings/engine.h) as the
// Worker writes it: buffered calls of several series and every operation fold into the rows
// recording each at once makes, and a call of an operation
// the engine does not know is dropped, not counted under another.
test('buffered calls of many series and operations fold into the rows recording them makes', () => {
  const now = 1_700_000_040_000;
  const make = () => {
    const engine = new Engine(module, 0, { console: consoleModule });
    const ids = ['a/x', 'b/x', 'c/x'].map((key) => engine.series('bucket', key, 'u').id);
    return { engine, ids };
  };
  const buffered = make(), direct = make();
  const ops = ['get', 'put', 'delete', 'list', 'head'];
  const callsBefore = buffered.engine.calls;
  for (let i = 0; i < 9000; i++) {
    const series = i % 3, op = ops[Math.floor(i / 7) % 5];
    const latency = (i * 37) % 300, up = op === 'put' ? i : 0, down = op === 'get' ? 2 * i : 0;
    const at = now + i * 11;
    buffered.engine.record(buffered.ids[series], op, true, latency, up, down, at);
    direct.engine.exports.r2w_record(direct.ids[series], ops.indexOf(op), 1, latency, up, down, at);
  }
  buffered.engine.record(buffered.ids[0], 'rename', true, 5, 0, 0, now + 99_000); // dropped
  // Quick successes all: into the ring, folded when it filled (twice).
  assert.equal(buffered.engine.calls - callsBefore, 2);
  assert.equal(buffered.engine.ringCount, 9001 - 2 * 4096);
  const rows = (engine) => {
    const answer = engine.call('metrics_flush_take', {}, now + 100_000);
    return JSON.stringify([answer.rows, answer.account_rows]);
  };
  assert.equal(rows(buffered.engine), rows(direct.engine));
});
