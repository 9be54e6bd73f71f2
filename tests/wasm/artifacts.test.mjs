// artifacts.test.mjs -- what every shipped artifact carries besides code.
//
// Spin refuses a preview1 module whose producers section names a clang
// older than 15.0.7 (spinframework/spin, crates/componentize/src/bugs.rs,
// EARLIEST_PROBABLY_SAFE_CLANG_VERSION, v3.0.0 to v4.0.2): wasi-libc's
// allocator under the preview1 adapter corrupted memory before then, and
// Debian's clang is 14. Our modules link no allocator, but the check reads
// only the producers section, so the build strips it (wasm-opt
// --strip-producers). This holds the build to that: no core module names
// clang, and the components name only the tool that wrapped them.
//
// The components also ship without the component-name section jco new
// writes (scripts/strip-names.mjs): names only label backtraces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const JCO = 'node_modules/@bytecodealliance/jco/dist/jco.js';
const MODULES = ['build/panora-webhook.wasm', 'build/obj/catcher.core.wasm', 'build/obj/http.core.wasm',
  'build/obj/http_spin.core.wasm', 'build/obj/catchup.core.wasm'];
const COMPONENTS = ['build/panora-webhook.component.wasm', 'build/panora-webhook-http.wasm', 'build/panora-webhook-spin.wasm',
  'build/panora-webhook-catchup.wasm', 'build/panora-webhook-catchup-spin.wasm'];

for (const file of MODULES) {
  test(`${file}: no producers section`, () => {
    const mod = new WebAssembly.Module(fs.readFileSync(file));
    assert.equal(WebAssembly.Module.customSections(mod, 'producers').length, 0);
  });
}

for (const file of COMPONENTS) {
  test(`${file}: its producers name no compiler`, () => {
    const meta = execFileSync(process.execPath, [JCO, 'metadata-show', file]).toString();
    assert.ok(meta.includes('processed-by'), meta);
    assert.ok(!/clang|LLVM|rustc/i.test(meta), meta);
  });
}

for (const file of COMPONENTS) {
  test(`${file}: no name section`, () => {
    const bytes = fs.readFileSync(file);
    assert.ok(!bytes.includes('component-name'), 'the component-name section is stripped');
    // and what is left is still a component jco can read
    const wit = execFileSync(process.execPath, [JCO, 'wit', file]).toString();
    assert.match(wit, /^(package|world) /m);
  });
}
