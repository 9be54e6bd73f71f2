// fake-kv.mjs -- wasi:keyvalue/store for tests under `jco serve` and
// `jco run`: the "default" store, kept in memory and written through to
// the JSON file PANORA_TEST_KV_FILE, from which a new process starts (so
// runs of a command share it, as Spin's Redis-backed store would) and in
// which the test reads what was stored. While the file
// PANORA_TEST_KV_FILE.fail exists, writes fail, as a full disk would: all
// of them when it is empty, those after the first N when it holds N.
import fs from 'node:fs';

const file = process.env.PANORA_TEST_KV_FILE;
const data = new Map();
let writes = 0;

if (fs.existsSync(file)) {
  for (const [k, v] of Object.entries(JSON.parse(fs.readFileSync(file, 'utf8')))) data.set(k, Buffer.from(v, 'utf8'));
}

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

function refuses() {
  if (!fs.existsSync(`${file}.fail`)) return false;
  const allowed = fs.readFileSync(`${file}.fail`, 'utf8').trim();
  return allowed === '' || writes >= Number(allowed);
}

export class Bucket {
  get(key) { return data.get(key); }
  set(key, value) {
    if (refuses()) fail('other', 'the store refuses writes');
    writes += 1;
    data.set(key, new Uint8Array(value));
    save();
  }
  exists(key) { return data.has(key); }
}

export function open(identifier) {
  if (identifier !== 'default') fail('no-such-store');
  return new Bucket();
}
