// The golden cases of testdata/golden run through the built r2watch.wasm and must give the
// answers the native build gives (native-tests/golden-test.cc checks the same files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../src/engine.js';
import { ROOT } from './helpers.mjs';

const GOLDEN = join(ROOT, 'testdata/golden');
// The two modules (wasm-bindings/modules.h): each case goes to the module that registers its
// command, as the Worker routes it (src/engine.js).
const module = new WebAssembly.Module(readFileSync(join(ROOT, 'build/wasm/r2watch.wasm')));
const consoleModule = new WebAssembly.Module(readFileSync(join(ROOT, 'build/wasm/r2watch-console.wasm')));
const modules = { console: consoleModule };

// Commands only native test builds register (R2W_TEST_COMMANDS): their cases run natively only.
const TEST_ONLY = readFileSync(join(GOLDEN, 'test-only-commands.txt'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

const cases = readdirSync(GOLDEN, { withFileTypes: true })
  .filter((d) => d.isDirectory() && !TEST_ONLY.includes(d.name))
  .flatMap((d) =>
    readdirSync(join(GOLDEN, d.name))
      .filter((f) => f.endsWith('.in.json'))
      .map((f) => ({ command: d.name, name: f.slice(0, -'.in.json'.length) })),
  );

test('a test-only command is not in the wasm', () => {
  const engine = new Engine(module, 0, modules);
  for (const command of TEST_ONLY) {
    const { ok, text } = engine.callRaw(command, '{}', 0);
    assert.equal(ok, false, command);
    assert.equal(JSON.parse(text).error.code, 'unknown_command', command);
  }
});

test('there are golden cases to run', () => {
  assert.ok(cases.length >= 10, `only ${cases.length} golden cases found`);
});

for (const { command, name } of cases) {
  test(`golden ${command}/${name} gives the native answer through wasm`, () => {
    const input = readFileSync(join(GOLDEN, command, `${name}.in.json`), 'utf8');
    const expected = JSON.parse(readFileSync(join(GOLDEN, command, `${name}.out.json`), 'utf8'));
    const engine = new Engine(module, 0, modules); // a fresh engine at time 0, as the native test
    // The module that registers the command answers it (a setting only the console reads would
    // otherwise wait, deferred, for the console's first command).
    const target = engine.commands.has(command) ? engine : engine.consoleEngine(0);
    const { text } = target.callRaw(command, input, 0);
    // The JSON answer: raw texts a command hands back beside it (account_ingest's rows) follow
    // it behind NUL bytes, where the native test's parser stops too.
    assert.deepEqual(JSON.parse(text.split('\0')[0]), expected);
  });
}

test('the modules import only the WASI calls the shim provides', () => {
  for (const m of [module, consoleModule]) {
    const imports = WebAssembly.Module.imports(m).map((i) => `${i.module}.${i.name}`);
    for (const name of imports) {
      assert.match(name, /^wasi_snapshot_preview1\.(fd_write|fd_close|fd_seek|proc_exit)$/);
    }
  }
});

test('every golden command is registered by one of the two modules, and routed there', () => {
  const engine = new Engine(module, 0, modules);
  assert.equal(engine.module, 'r2watch');
  const console = engine.consoleEngine(0);
  assert.equal(console.module, 'r2watch-console');
  for (const { command } of cases) {
    assert.ok(engine.commands.has(command) || console.commands.has(command), command);
  }
  // The request path's commands are the request module's; the dashboard's are the console's.
  for (const command of ['auth_authenticate', 'storage_read_plan', 'metrics_flush_take', 'log_line']) {
    assert.ok(engine.commands.has(command), command);
  }
  for (const command of ['alert_check', 'cost_bill', 'report_build', 'metrics_overview', 'token_issue']) {
    assert.ok(!engine.commands.has(command) && console.commands.has(command), command);
  }
});

test('a command of the console module instantiates it; settings sent before reach it', () => {
  const engine = new Engine(module, 0, modules);
  engine.call('metrics_configure', { FLUSH_INTERVAL: '120' }, 0);
  const configured = engine.call('metrics_settings', {}, 0);
  assert.notDeepEqual(configured, new Engine(module, 0).call('metrics_settings', {}, 0));
  assert.equal(engine.console, null, 'request-path commands leave the console alone');
  assert.deepEqual(engine.call('alert_configure', { EMAIL_TO: 'ops@example.com', EMAIL_FROM: '' }, 0), { deferred: true });
  assert.equal(engine.console, null, 'a setting only the console reads waits for it');
  engine.call('metrics_retention', {}, 0); // a console command
  assert.notEqual(engine.console, null);
  // The settings the request module took, replayed to the console, in order.
  assert.deepEqual(engine.console.call('metrics_settings', {}, 0), configured);
  // A setting sent now goes to both.
  engine.call('metrics_configure', { FLUSH_INTERVAL: '180' }, 0);
  const reconfigured = engine.call('metrics_settings', {}, 0);
  assert.notDeepEqual(reconfigured, configured);
  assert.deepEqual(engine.console.call('metrics_settings', {}, 0), reconfigured);
});

test('bad input through the C ABI gives an error result, never a trap', () => {
  const engine = new Engine(module, 0, modules);
  for (const input of ['', '{', '[]', 'null', '{"steps": "x"}', '\u0000', '{"a":'.repeat(5000)]) {
    const { ok, text } = engine.callRaw('breaker_simulate', input, 0);
    if (input === '') continue; // empty input means {} and is a valid (empty) command
    assert.equal(ok, false, input.slice(0, 20));
    assert.ok(JSON.parse(text).error.code, text);
  }
  const series = engine.series('b', 'k', '');
  assert.equal(engine.record(series.id, 'get', true, 1, 0, 0, 0) >= 0, true);
  assert.equal(engine.exports.r2w_record(series.id, 99, 1, 1, 0, 0, 0), -1);
  assert.equal(engine.exports.r2w_record(12345, 0, 1, 1, 0, 0, 0), -1);
});
