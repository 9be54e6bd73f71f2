// bench.mjs -- `make bench`: what this function costs, measured in one run
// beside what a user would otherwise run, on the same deliveries.
//
// Prints a table and writes build/bench.json:
//   { machine, figures: [{name, unit, median, min, max}],
//     ratios: [{name, value, target, better, met}], sizes: {artifact: bytes},
//     memory_pages }
// Each figure is the median of several timed loops after a warm-up, with
// min and max. Ratios are computed pair by pair within this run.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { loadCore } from '../harness/core.mjs';
import { loadHandler, toHttp } from '../../deploy/host/handler.mjs';
import { runWagi, wagiEnv } from '../../deploy/node/wagi.mjs';

const BUILD = 'build';
const RUNS = 9;
const SECRET = `whsec_${crypto.randomBytes(16).toString('hex')}`;

// ---------------------------------------------------------------- deliveries
function delivery(row) {
  const data = JSON.stringify(row);
  const body = Buffer.from(JSON.stringify({ id_event: crypto.randomUUID(), data, type: 'connection.created' }));
  return { body, signature: crypto.createHmac('sha256', SECRET).update(JSON.stringify(data)).digest('hex') };
}
const row = {
  id_connection: crypto.randomUUID(), status: 'valid', provider_slug: 'hubspot', vertical: 'crm',
  account_url: 'https://app.hubspot.com/contacts/4242', token_type: 'oauth2',
  access_token: crypto.randomBytes(96).toString('base64'), refresh_token: crypto.randomBytes(96).toString('base64'),
  expiration_timestamp: '2026-12-01T10:00:00.000Z', created_at: '2026-11-27T10:00:00.000Z',
  connection_token: crypto.randomBytes(32).toString('hex'), id_project: crypto.randomUUID(),
  id_linked_user: crypto.randomUUID(),
};
const typical = delivery(row);
let url = 'https://exämple.com/conta€ts/';
while (url.length < 15000) url += `é😀/"${crypto.randomBytes(6).toString('hex')}"/中文/`;
const large = delivery({ ...row, account_url: url });
const rejected = { body: typical.body, signature: `${typical.signature[0] === '0' ? '1' : '0'}${typical.signature.slice(1)}` };
const deliveries = { typical, '16KiB': large, rejected };

// ---------------------------------------------------------------- timing
const figures = [];
function time(name, fn, iters) {
  for (let i = 0; i < iters; i++) fn();
  const per = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn();
    per.push(Number(process.hrtime.bigint() - t0) / iters);
  }
  per.sort((a, b) => a - b);
  const f = { name, unit: 'ns', median: per[RUNS >> 1], min: per[0], max: per[RUNS - 1] };
  figures.push(f);
  return f;
}
async function timeAsync(name, fn, iters) {
  for (let i = 0; i < Math.min(iters, 50); i++) await fn();
  const per = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) await fn();
    per.push(Number(process.hrtime.bigint() - t0) / iters);
  }
  per.sort((a, b) => a - b);
  const f = { name, unit: 'ns', median: per[RUNS >> 1], min: per[0], max: per[RUNS - 1] };
  figures.push(f);
  return f;
}
const iters = (d) => (d.body.length > 4096 ? 1000 : 10000);

// ---------------------------------------------------------------- 1. Node reference
// The receiver Panora's docs show (Express's JSON body, HMAC of
// JSON.stringify(event.data)), plus what they leave out: a constant-time
// compare, JSON.parse(event.data) and the record.
function nodeReference(raw, signature) {
  const event = JSON.parse(raw.toString('utf8'));
  const want = crypto.createHmac('sha256', SECRET).update(JSON.stringify(event.data)).digest();
  const got = Buffer.from(signature, 'hex');
  if (got.length !== want.length || !crypto.timingSafeEqual(got, want)) return { status: 401 };
  if (event.type !== 'connection.created') return { status: 200, ignored: event.type };
  const c = JSON.parse(event.data);
  if (!c.id_connection || !c.connection_token || !c.id_linked_user) return { status: 422 };
  return {
    status: 200,
    record: {
      id_event: event.id_event, id_connection: c.id_connection, connection_token: c.connection_token,
      id_linked_user: c.id_linked_user, id_project: c.id_project ?? null, provider_slug: c.provider_slug ?? null,
      vertical: c.vertical ?? null, status: c.status ?? null, account_url: c.account_url ?? null,
      created_at: c.created_at ?? null, expiration_timestamp: c.expiration_timestamp ?? null,
    },
  };
}

const median = (name) => figures.find((f) => f.name === name).median;

async function main() {
  const core = await loadCore();
  const handle = await loadHandler();
  core.setSecrets(SECRET);

  for (const [name, d] of Object.entries(deliveries)) {
    const want = name === 'rejected' ? 401 : 200;
    if (nodeReference(d.body, d.signature).status !== want) throw new Error(`node reference: ${name}`);
    time(`node reference ${name}`, () => nodeReference(d.body, d.signature), iters(d));
  }

  // ---------------------------------------------------------------- 2. native core
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-bench-'));
  const args = [SECRET];
  for (const [name, d] of Object.entries(deliveries)) {
    fs.writeFileSync(path.join(dir, name), d.body);
    args.push(name, path.join(dir, name), d.signature);
  }
  const native = JSON.parse(execFileSync(path.join(BUILD, 'bench/bench_native'), args, { stdio: ['ignore', 'pipe', 'ignore'] }));
  figures.push(...native);
  fs.rmSync(dir, { recursive: true, force: true });

  // ---------------------------------------------------------------- 3. wasm warm
  for (const [name, d] of Object.entries(deliveries)) {
    const want = name === 'rejected' ? 'bad_signature' : 'captured';
    if (core.handle(d.body, d.signature) !== want) throw new Error(`wasm core: ${name}`);
    // what a host does per request: copy the body in, handle, copy the answer out
    time(`wasm core warm ${name}`, () => {
      core.handle(d.body, d.signature);
      core.exports.pwx_response();
    }, iters(d));
    const req = { method: 'POST', headers: [['Panora-Signature', d.signature], ['Content-Type', 'application/json']], body: d.body };
    time(`wasm component warm ${name}`, () => toHttp(handle(req, [SECRET])), iters(d));
    // HMAC alone over the signed span, same instance
    const lit = Buffer.from(JSON.stringify(JSON.parse(d.body).data));
    core.putBody(lit);
    time(`wasm hmac ${name}`, () => core.exports.pwx_hmac(lit.length), iters(d));
  }

  // ---------------------------------------------------------------- 4. per-request instance
  const wagi = await WebAssembly.compile(fs.readFileSync(path.join(BUILD, 'panora-webhook.wasm')));
  const empty = await WebAssembly.compile(fs.readFileSync(path.join(BUILD, 'bench/empty.wasm')));
  const cgiFloor = await WebAssembly.compile(fs.readFileSync(path.join(BUILD, 'bench/cgi_floor.wasm')));
  // as a command (`wasmtime run`): the one way the module hands out a record
  const env = { ...wagiEnv({ method: null, signature: typical.signature, body: typical.body }), PANORA_WEBHOOK_SECRET: SECRET };
  const check = await runWagi(wagi, { env, body: typical.body });
  if (check.status !== 200) throw new Error('wagi module did not capture');
  await timeAsync('per-request empty WASI command', () => runWagi(empty, { env, body: typical.body }), 300);
  await timeAsync('per-request CGI floor (same imports)', () => runWagi(cgiFloor, { env, body: typical.body }), 300);
  await timeAsync('per-request WAGI module typical', () => runWagi(wagi, { env, body: typical.body }), 300);
  const { instantiate } = await import(pathToFileURL(path.resolve(BUILD, 'host/catcher.js')).href);
  const componentCore = await WebAssembly.compile(fs.readFileSync(path.join(BUILD, 'host/catcher.core.wasm')));
  const req = { method: 'POST', headers: [['Panora-Signature', typical.signature], ['Content-Type', 'application/json']], body: typical.body };
  await timeAsync('per-request component typical', async () => {
    const ex = await instantiate(() => componentCore, {});
    ex.handler.handle(req, [SECRET]);
  }, 300);

  // ---------------------------------------------------------------- 5./6. sizes and memory
  const sizes = {};
  for (const f of ['panora-webhook.wasm', 'panora-webhook.component.wasm', 'panora-webhook-http.wasm',
    'panora-webhook-spin.wasm', 'obj/catcher.core.wasm', 'obj/pw-core.wasm', 'bench/empty.wasm',
    'bench/cgi_floor.wasm']) {
    const p = path.join(BUILD, f);
    if (fs.existsSync(p)) sizes[f] = fs.statSync(p).size;
  }
  const pages = (mod, imports) => new WebAssembly.Instance(mod, imports).exports.memory.buffer.byteLength / 65536;
  const wasiStub = new Proxy({}, { get: () => () => 0 });
  const memory_pages = {
    'panora-webhook.wasm': pages(wagi, { wasi_snapshot_preview1: wasiStub }),
    'panora-webhook.component.wasm': pages(componentCore, {}),
    'bench/empty.wasm': pages(empty, { wasi_snapshot_preview1: wasiStub }),
  };

  // ---------------------------------------------------------------- ratios
  const ratio = (name, value, target, higherIsBetter) => ({
    name, value: Number(value.toFixed(3)), target, better: higherIsBetter ? 'higher' : 'lower',
    met: higherIsBetter ? value >= target : value <= target,
  });
  const ratios = [
    ratio('node reference / wasm core warm (typical)', median('node reference typical') / median('wasm core warm typical'), 1.4, true),
    ratio('node reference / wasm component warm (typical)', median('node reference typical') / median('wasm component warm typical'), 1.4, true),
    ratio('node reference / native handle (typical)', median('node reference typical') / median('native handle typical'), 2, true),
    ratio('native handle / native hmac (typical)', median('native handle typical') / median('native hmac typical'), 1.3, false),
    ratio('wasm core warm / wasm hmac (typical)', median('wasm core warm typical') / median('wasm hmac typical'), 1.3, false),
    ratio('native handle rejected / native hmac (typical)', median('native handle rejected') / median('native hmac typical'), 1.3, false),
    ratio('native handle rejected / native handle typical', median('native handle rejected') / median('native handle typical'), 1.0, false),
    ratio('per-request WAGI module / empty WASI command', median('per-request WAGI module typical') / median('per-request empty WASI command'), 2.5, false),
    ratio('per-request WAGI module / CGI floor (same imports)', median('per-request WAGI module typical') / median('per-request CGI floor (same imports)'), 2.5, false),
    ratio('WAGI module size (KiB)', sizes['panora-webhook.wasm'] / 1024, 24, false),
    ratio('handler component size (KiB)', sizes['panora-webhook.component.wasm'] / 1024, 32, false),
  ];
  for (const f of ['panora-webhook-http.wasm', 'panora-webhook-spin.wasm']) {
    // with the forward sink (outgoing HTTP, clocks, Standard Webhooks signing)
    if (sizes[f]) ratios.push(ratio(`${f} size (KiB)`, sizes[f] / 1024, 48, false));
  }

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const machine = `${cpu}, ${os.cpus().length} cores, ${os.platform()} ${os.release()}, Node ${process.version}`;
  fs.writeFileSync(path.join(BUILD, 'bench.json'), `${JSON.stringify({ machine, figures, ratios, sizes, memory_pages }, null, 2)}\n`);

  const pad = (s, n) => String(s).padEnd(n);
  const num = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));
  console.log(`\nmachine: ${machine}\n`);
  console.log(`${pad('figure', 44)}${pad('median ns', 12)}${pad('min', 12)}max`);
  for (const f of figures) console.log(`${pad(f.name, 44)}${pad(num(f.median), 12)}${pad(num(f.min), 12)}${num(f.max)}`);
  console.log(`\n${pad('ratio', 52)}${pad('value', 10)}${pad('target', 10)}met`);
  for (const r of ratios) {
    const t = `${r.better === 'higher' ? '>=' : '<='} ${r.target}`;
    console.log(`${pad(r.name, 52)}${pad(r.value, 10)}${pad(t, 10)}${r.met ? 'yes' : 'MISS'}`);
  }
  console.log('\nsizes (bytes):', sizes);
  console.log('memory (64 KiB pages):', memory_pages);
  console.log(`\nwritten: ${path.join(BUILD, 'bench.json')}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
