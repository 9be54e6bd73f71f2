// strip-names.mjs -- drop the top-level name sections of a WebAssembly
// component (or module) in place, as wasm-opt --strip-debug does for the
// core modules inside it.
//
//   node scripts/strip-names.mjs FILE
//
// jco new writes a component-name custom section naming every instance,
// import and shim function, used only to label backtraces: for the
// wasi:http components, whose imports are many, a large part of the file. Custom sections carry no semantics (the binary format lets a
// consumer ignore them), so dropping them changes nothing a host runs. The
// walk checks every section's length against the file and refuses
// anything that is not a whole WebAssembly binary.
import fs from 'node:fs';

const file = process.argv[2];
const fail = (why) => { console.error(`strip-names: ${file}: ${why}`); process.exit(1); };
if (!file) fail('usage: node scripts/strip-names.mjs FILE');
const b = fs.readFileSync(file);
if (b.length < 8 || b.readUInt32BE(0) !== 0x0061736d) fail('not a WebAssembly binary');

let p = 8;
const uleb = () => {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (p >= b.length) fail('a section runs past the end');
    const byte = b[p++];
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return value;
  }
  return fail('a length is over 32 bits');
};
const NAMES = new Set(['name', 'component-name']);
const kept = [b.subarray(0, 8)];
while (p < b.length) {
  const start = p;
  const id = b[p++];
  const size = uleb();
  const end = p + size;
  if (end > b.length) fail('a section runs past the end');
  let drop = false;
  if (id === 0) {
    const n = uleb();
    if (p + n > end) fail('a custom section name runs past its section');
    drop = NAMES.has(b.toString('utf8', p, p + n));
  }
  if (!drop) kept.push(b.subarray(start, end));
  p = end;
}
fs.writeFileSync(file, Buffer.concat(kept));
