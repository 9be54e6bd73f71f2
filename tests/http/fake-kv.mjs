// fake-kv.mjs -- wasi:keyvalue/store for tests under `jco serve`: the
// "default" store, kept in memory and written through to the JSON file
// PANORA_TEST_KV_FILE so the test can read what was stored.
import fs from 'node:fs';

const file = process.env.PANORA_TEST_KV_FILE;
const data = new Map();

function save() {
  const out = {};
  for (const [k, v] of data) out[k] = Buffer.from(v).toString('utf8');
  fs.writeFileSync(file, JSON.stringify(out));
}

export class Bucket {
  get(key) { return data.get(key); }
  set(key, value) { data.set(key, new Uint8Array(value)); save(); }
  exists(key) { return data.has(key); }
}

export function open(identifier) {
  if (identifier !== 'default') {
    const e = new Error('no such store');
    e.payload = { tag: 'no-such-store' };
    throw e;
  }
  return new Bucket();
}
