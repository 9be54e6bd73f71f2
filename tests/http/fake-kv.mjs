// fake-kv.mjs -- wasi:keyvalue/store for tests under `jco serve`: the
// "default" store, kept in memory and written through to the JSON file
// PANORA_TEST_KV_FILE so the test can read what was stored. While the file
// PANORA_TEST_KV_FILE.fail exists, every write fails, as a full disk would.
import fs from 'node:fs';

const file = process.env.PANORA_TEST_KV_FILE;
const data = new Map();

function save() {
  const out = {};
  for (const [k, v] of data) out[k] = Buffer.from(v).toString('utf8');
  fs.writeFileSync(file, JSON.stringify(out));
}

function fail(tag, val) {
  const e = new Error(tag);
  e.payload = val === undefined ? { tag } : { tag, val };
  throw e;
}

export class Bucket {
  get(key) { return data.get(key); }
  set(key, value) {
    if (fs.existsSync(`${file}.fail`)) fail('other', 'the store refuses writes');
    data.set(key, new Uint8Array(value));
    save();
  }
  exists(key) { return data.has(key); }
}

export function open(identifier) {
  if (identifier !== 'default') fail('no-such-store');
  return new Bucket();
}
