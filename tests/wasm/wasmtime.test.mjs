// wasmtime.test.mjs -- the WAGI module under wasmtime's own engine and its
// own WASI (wasmtime-wasi preview1), the closest thing to `wasmtime run`
// these machines can run: the npm package @bytecodealliance/wizer ships a
// native binary built on wasmtime, and `--init-func _start` runs a
// preview1 command's _start with the given environment, stdin and stdout.
// Two releases are pinned in package-lock.json: wizer 10.0.0 (wasmtime
// 36.0.2), and wizer 11.0.3 (wasmtime 42.0.1), whose binary is published
// for linux-x64 only and so is an optional dependency, skipped elsewhere. Every end-to-end case that an
// environment can carry runs under both, as a WAGI host runs it, and every
// capture also as a command; each answer (stdout and the log line) must be
// byte for byte what Node's WASI gives.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadModule } from '../../deploy/node/wagi.mjs';
import { mismatchesWithNode, pool, runs } from '../lib/wagi-runs.mjs';

const MODULE = 'build/panora-webhook.wasm';
const ENGINES = [
  { pkg: 'wizer-wasmtime-36', wasmtime: '36.0.2' },
  { pkg: 'wizer-wasmtime-42', wasmtime: '42.0.1' },
];
// Each package's default export is the path of its native binary.
const binaryOf = async (pkg) => {
  try { return (await import(pkg)).default; } catch { return null; }
};
for (const e of ENGINES) e.bin = await binaryOf(e.pkg);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-wasmtime-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let seq = 0;

// One run of the module's _start under the engine; bounded in time.
function underWasmtime(bin, { env, body }) {
  const snap = path.join(tmp, `${seq++}.wasm`);
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['--allow-wasi', '--inherit-stdio', 'true', '--inherit-env', 'true',
      '--init-func', '_start', MODULE, '-o', snap], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('wasmtime run did not finish in 30 s')); }, 30000);
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.stdin.on('error', () => {});            // a 413 stops reading early
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => {
      clearTimeout(timer);
      fs.rmSync(snap, { force: true });
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
    });
    child.stdin.end(body);
  });
}

describe('the WAGI module under wasmtime (wizer), against Node\'s WASI', () => {
  let mod;
  before(async () => { mod = await loadModule(MODULE); });

  for (const engine of ENGINES) {
    const skip = engine.bin === null && `${engine.pkg} has no binary for ${process.platform}-${process.arch}`;
    describe(`wasmtime ${engine.wasmtime}`, { skip }, () => {
      const { bin } = engine;

      test(`the binary embeds wasmtime ${engine.wasmtime} and its WASI`, () => {
        const text = fs.readFileSync(bin).toString('latin1');
        assert.ok(text.includes(`wasmtime-${engine.wasmtime}/`), 'wasmtime crate version');
        assert.ok(text.includes(`wasmtime-wasi-${engine.wasmtime}`), 'wasmtime-wasi crate version');
      });

      test(`${runs.length} runs: the same bytes as Node's WASI, case by case`, async () => {
        const got = await pool(runs.map((r) => () => underWasmtime(bin, r)), 3);
        assert.ok(runs.length >= 140, `only ${runs.length} runs`);
        assert.deepEqual(await mismatchesWithNode(mod, got), []);
      });
    });
  }
});
