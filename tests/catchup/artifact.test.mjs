// artifact.test.mjs -- what build/panora-webhook-catchup.wasm is: a command
// component exporting wasi:cli/run@0.2.0, importing only @0.2.0 interfaces
// of the set the README names, with no heap (its core module cannot grow
// its memory and links no allocator).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const JCO = 'node_modules/@bytecodealliance/jco/dist/jco.js';
const CORE = 'build/obj/catchup.core.wasm';
const COMMAND = 'build/panora-webhook-catchup.wasm';
const INTERFACES = [
  'wasi:cli/environment', 'wasi:cli/exit', 'wasi:cli/stderr', 'wasi:cli/stdout',
  'wasi:clocks/monotonic-clock', 'wasi:clocks/wall-clock',
  'wasi:filesystem/preopens', 'wasi:filesystem/types',
  'wasi:http/outgoing-handler', 'wasi:http/types',
  'wasi:io/error', 'wasi:io/poll', 'wasi:io/streams',
].map((i) => `${i}@0.2.0`);

test('the core module imports only @0.2.0 names from those interfaces, and no incoming handler', () => {
  const mod = new WebAssembly.Module(fs.readFileSync(CORE));
  const modules = [...new Set(WebAssembly.Module.imports(mod).map((i) => i.module))].sort();
  assert.deepEqual(modules, INTERFACES);
  const exports = WebAssembly.Module.exports(mod).map((e) => e.name);
  assert.ok(exports.includes('wasi:cli/run@0.2.0#run'), exports.join(' '));
  assert.ok(exports.includes('cabi_realloc'));
});

test('no heap: no memory.grow, no allocator', () => {
  const wat = execFileSync('wasm2wat', [CORE], { maxBuffer: 64 << 20 }).toString();
  assert.ok(!wat.includes('memory.grow'));
  assert.ok(!/\b(malloc|sbrk|calloc)\b/.test(wat));
});

test('jco wit: the component exports wasi:cli/run@0.2.0 and imports those interfaces', () => {
  const lines = execFileSync(process.execPath, [JCO, 'wit', COMMAND]).toString()
    .split('\n').map((l) => l.trim()).filter((l) => /^(import|export) /.test(l)).sort();
  assert.deepEqual(lines, ['export wasi:cli/run@0.2.0;',
    ...INTERFACES.map((i) => `import ${i};`)].sort());
});

// The Spin flavour: the same, with Spin's wasi:config and wasi:keyvalue in
// place of the environment and the filesystem.
const SPIN_CORE = 'build/obj/catchup_spin.core.wasm';
const SPIN_COMMAND = 'build/panora-webhook-catchup-spin.wasm';
const SPIN_INTERFACES = [
  ...INTERFACES.filter((i) => !/^wasi:(cli\/environment|filesystem)/.test(i)),
  'wasi:config/store@0.2.0-draft-2024-09-27', 'wasi:keyvalue/store@0.2.0-draft2',
];

test('Spin flavour: Spin\'s config and key-value imports instead of the environment and files, no heap', () => {
  const mod = new WebAssembly.Module(fs.readFileSync(SPIN_CORE));
  const modules = [...new Set(WebAssembly.Module.imports(mod).map((i) => i.module))].sort();
  assert.deepEqual(modules, [...SPIN_INTERFACES].sort());
  assert.ok(WebAssembly.Module.exports(mod).some((e) => e.name === 'wasi:cli/run@0.2.0#run'));
  const wat = execFileSync('wasm2wat', [SPIN_CORE], { maxBuffer: 64 << 20 }).toString();
  assert.ok(!wat.includes('memory.grow'));
  assert.ok(!/\b(malloc|sbrk|calloc)\b/.test(wat));
  const lines = execFileSync(process.execPath, [JCO, 'wit', SPIN_COMMAND]).toString()
    .split('\n').map((l) => l.trim()).filter((l) => /^(import|export) /.test(l)).sort();
  assert.deepEqual(lines, ['export wasi:cli/run@0.2.0;', ...SPIN_INTERFACES.map((i) => `import ${i};`)].sort());
});
