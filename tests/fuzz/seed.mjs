// seed.mjs -- the fuzzers' seed corpora, from the end-to-end test vectors.
//
//   node tests/fuzz/seed.mjs build/vectors/cases.json tests/fuzz/corpus
//
// (`make fuzz-seeds` runs it.) One file per seed, named by its SHA-1, so
// regenerating is idempotent.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const [casesFile, outDir] = process.argv.slice(2);
if (!casesFile || !outDir) {
  console.error('usage: node tests/fuzz/seed.mjs CASES_JSON OUT_DIR');
  process.exit(2);
}
const cases = JSON.parse(fs.readFileSync(casesFile, 'utf8'))
  .map((c) => ({ ...c, body: Buffer.from(c.body, 'base64') }))
  .filter((c) => c.body.length <= 16384);

const seeds = { request: [], record: [], unescape: [], hex: [], catchup: [] };
for (const c of cases) {
  const head = `${c.secret ?? ''}\n${c.signature ?? ''}\n${c.content_type ?? ''}\n`;
  seeds.request.push(Buffer.concat([Buffer.from(head), c.body]));
  let env;
  try { env = JSON.parse(c.body.toString('utf8')); } catch { continue; }
  if (typeof env?.data === 'string') {
    seeds.record.push(Buffer.concat([Buffer.from([0]), Buffer.from(env.data)]));
    seeds.record.push(Buffer.concat([Buffer.from([1]), Buffer.from(env.data)]));
    seeds.unescape.push(Buffer.from(JSON.stringify(env.data).slice(1, -1)));
  }
  if (c.signature) seeds.hex.push(Buffer.concat([Buffer.from([32]), Buffer.from(c.signature)]));
}
for (const s of ['\\ud83d\\ude00', '\\u0000\\u001f', '\\"\\\\\\/\\b\\f\\n\\r\\t', '\\uD800', '\u2028é😀']) {
  seeds.unescape.push(Buffer.from(s));
}
// catch-up: GET /connections answers (gen.mjs writes catchup.json beside
// cases.json); the first byte picks the chunking, small rows only
const cu = JSON.parse(fs.readFileSync(path.join(path.dirname(casesFile), 'catchup.json'), 'utf8'));
const rows = JSON.parse(Buffer.from(cu.list, 'base64').toString('utf8'));
const small = rows.filter((r) => JSON.stringify(r).length < 2048);
for (const [i, b] of [JSON.stringify(small), JSON.stringify(small.slice(0, 2)), '[]',
  ...cu.bad.map((x) => Buffer.from(x.text, 'base64'))].entries()) {
  seeds.catchup.push(Buffer.concat([Buffer.from([(i * 37) & 0xff]), Buffer.from(b)]));
}
for (const [target, list] of Object.entries(seeds)) {
  const dir = path.join(outDir, target);
  fs.mkdirSync(dir, { recursive: true });
  for (const b of list) {
    fs.writeFileSync(path.join(dir, crypto.createHash('sha1').update(b).digest('hex')), b);
  }
  console.log(`seed.mjs: ${list.length} seeds -> ${dir}`);
}
