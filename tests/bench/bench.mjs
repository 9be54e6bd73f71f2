// bench.mjs -- `make bench`: what this function costs, measured in one run
// beside what a user would otherwise run, on the same deliveries.
//
// On a shared machine a contender measured alone during a noisy stretch
// drifts on its own, so the contenders are measured in interleaved rounds:
// each round times every one of them (Node's receiver, the native core
// and its HMAC floor, the wasm core and its HMAC floor, the component, the
// per-request instances) one after another, and every ratio is computed
// within a round. A ratio is reported as its median over the rounds with
// its spread (min and max), and a target counts as met only when the
// median meets it.
//
// Prints a table and writes build/bench.json:
//   { machine, rounds, figures: [{name, unit, median, min, max}],
//     ratios: [{name, value, min, max, target, better, met}],
//     sizes: {artifact: bytes}, memory_pages, catchup }
// `catchup` is the GET /connections reader over a 100,000-connection list
// of the stand-in API's rows: connections per second natively and through
// the component under Node, the decoder's memory, and the reference host's
// whole run (time and peak RSS growth).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { loadCore } from '../harness/core.mjs';
import { FIELDS, loadCatchup, loadHandler, toHttp } from '../../deploy/host/handler.mjs';
import { panoraRow } from '../lib/panora-api.mjs';
import { hostCatchup } from '../lib/big-catchup.mjs';
import { runWagi, wagiEnv } from '../../deploy/node/wagi.mjs';
import { connectionRow, denseUrl, forged, signedDelivery } from './deliveries.mjs';

const BUILD = 'build';
const RUNS = 3;                                   // timed loops per contender per round
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const SECRET = `whsec_${crypto.randomBytes(16).toString('hex')}`;

// ---------------------------------------------------------------- deliveries
const delivery = (row) => signedDelivery(SECRET, row, 'connection.created');
const row = connectionRow();
const typical = delivery(row);
const large = delivery({ ...row, account_url: denseUrl(15000) });
const rejected = forged(typical);
const deliveries = { typical, '16KiB': large, rejected };

// ---------------------------------------------------------------- timing
// One contender in one round: RUNS timed loops after a warm-up, the median
// nanoseconds per call.
function timeOnce(fn, iters) {
  for (let i = 0; i < Math.max(1, iters >> 2); i++) fn();
  const per = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn();
    per.push(Number(process.hrtime.bigint() - t0) / iters);
  }
  return per.sort((a, b) => a - b)[RUNS >> 1];
}
async function timeOnceAsync(fn, iters) {
  for (let i = 0; i < 10; i++) await fn();
  const per = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) await fn();
    per.push(Number(process.hrtime.bigint() - t0) / iters);
  }
  return per.sort((a, b) => a - b)[RUNS >> 1];
}
const iters = (d) => (d.body.length > 4096 ? 300 : 3000);
const middle = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

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
  if (FIELDS.some((f) => f.kind === 'required' && !c[f.name])) return { status: 422 };
  return {
    status: 200,
    record: Object.fromEntries(FIELDS.map(({ name }) => [name, name === 'id_event' ? event.id_event : c[name] ?? null])),
  };
}

// ---------------------------------------------------------------- catch-up
const CATCHUP_ROWS = 100000;
const CATCHUP_RUNS = 5;

async function catchupBench() {
  const rows = Array.from({ length: CATCHUP_ROWS }, (_, i) => panoraRow(`bench:${i}`, { created_at: '2026-11-30T00:00:00.000Z' }));
  const list = Buffer.from(JSON.stringify(rows));
  // what each element should give, from JSON.parse
  const usable = (v) => typeof v === 'string' && v.length > 0;
  const want = JSON.parse(list).filter((r) => usable(r.id_connection) && usable(r.connection_token) && usable(r.id_linked_user)).length;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-bench-catchup-'));
  const file = path.join(dir, 'connections.json');
  fs.writeFileSync(file, list);
  const native = JSON.parse(execFileSync(path.join(BUILD, 'bench/bench_catchup'), [file, String(want)],
    { env: { ...process.env, BENCH_NATIVE_RUNS: String(CATCHUP_RUNS) } }));
  fs.rmSync(dir, { recursive: true, force: true });

  // the component under Node, a fresh instance per run, fed 64 KiB chunks
  const perS = [];
  let pages = 0;
  for (let r = 0; r < CATCHUP_RUNS; r++) {
    let core;
    const t0 = process.hrtime.bigint();
    const reader = await loadCatchup({ onCore: (i) => { core = i; } });
    let n = 0;
    for (let off = 0; off < list.length; off += 65536) {
      const got = reader.feed(list.subarray(off, off + 65536));
      if (got.error) throw new Error(`wasm catch-up: ${got.error}`);
      n += got.records.length;
    }
    const end = reader.finish();
    if (n !== want || end.listed !== CATCHUP_ROWS) throw new Error(`wasm catch-up: ${n} records, want ${want}`);
    perS.push(CATCHUP_ROWS / (Number(process.hrtime.bigint() - t0) / 1e9));
    pages = core.exports.memory.buffer.byteLength / 65536;
  }

  const host = await hostCatchup({ rows: CATCHUP_ROWS, apiKey: `pk_${crypto.randomBytes(16).toString('hex')}`, secret: SECRET, deadlineMs: 300000 });
  if (host.run.recovered !== CATCHUP_ROWS || host.stored !== CATCHUP_ROWS) throw new Error('host catch-up: not every row stored');
  return {
    listed: CATCHUP_ROWS,
    list_bytes: list.length,
    native_per_s: { median: native.median, min: native.min, max: native.max },
    native_decoder_bytes: native.decoder_bytes,
    wasm_per_s: { median: Math.round(middle(perS)), min: Math.round(Math.min(...perS)), max: Math.round(Math.max(...perS)) },
    wasm_memory_pages: pages,
    host_run_ms: host.run.ms,
    host_per_s: Math.round(CATCHUP_ROWS / (host.run.ms / 1000)),
    host_peak_rss_growth_mib: Number((host.growth / 1048576).toFixed(1)),
  };
}

async function main() {
  const core = await loadCore();
  const { handle } = await loadHandler();
  core.setSecrets(SECRET);

  // every contender must give the right answer before it is timed
  for (const [name, d] of Object.entries(deliveries)) {
    const want = name === 'rejected' ? 401 : 200;
    if (nodeReference(d.body, d.signature).status !== want) throw new Error(`node reference: ${name}`);
    if (core.handle(d.body, d.signature) !== (name === 'rejected' ? 'bad_signature' : 'captured')) throw new Error(`wasm core: ${name}`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-bench-'));
  const nativeArgs = [SECRET];
  for (const [name, d] of Object.entries(deliveries)) {
    fs.writeFileSync(path.join(dir, name), d.body);
    nativeArgs.push(name, path.join(dir, name), d.signature);
  }
  const wagi = await WebAssembly.compile(fs.readFileSync(path.join(BUILD, 'panora-webhook.wasm')));
  const empty = await WebAssembly.compile(fs.readFileSync(path.join(BUILD, 'bench/empty.wasm')));
  const cgiFloor = await WebAssembly.compile(fs.readFileSync(path.join(BUILD, 'bench/cgi_floor.wasm')));
  // as a command (`wasmtime run`): the one way the module hands out a record
  const env = { ...wagiEnv({ method: null, signature: typical.signature, body: typical.body }), PANORA_WEBHOOK_SECRET: SECRET };
  if ((await runWagi(wagi, { env, body: typical.body })).status !== 200) throw new Error('wagi module did not capture');
  const { instantiate } = await import(pathToFileURL(path.resolve(BUILD, 'host/catcher.js')).href);
  const componentCore = await WebAssembly.compile(fs.readFileSync(path.join(BUILD, 'host/catcher.core.wasm')));
  const compReq = { method: 'POST', headers: [['Panora-Signature', typical.signature], ['Content-Type', 'application/json']], body: typical.body };
  const literals = Object.fromEntries(Object.entries(deliveries)
    .map(([name, d]) => [name, Buffer.from(JSON.stringify(JSON.parse(d.body).data))]));

  // ---------------------------------------------------------------- the rounds
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const m = {};
    for (const [name, d] of Object.entries(deliveries)) {
      m[`node reference ${name}`] = timeOnce(() => nodeReference(d.body, d.signature), iters(d));
    }
    const native = JSON.parse(execFileSync(path.join(BUILD, 'bench/bench_native'), nativeArgs,
      { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, BENCH_NATIVE_RUNS: String(RUNS) } }));
    for (const f of native) m[f.name] = f.median;
    for (const [name, d] of Object.entries(deliveries)) {
      // what a host does per request: copy the body in, handle, copy the answer out
      m[`wasm core warm ${name}`] = timeOnce(() => {
        core.handle(d.body, d.signature);
        core.exports.pwx_response();
      }, iters(d));
      const req = { method: 'POST', headers: [['Panora-Signature', d.signature], ['Content-Type', 'application/json']], body: d.body };
      m[`wasm component warm ${name}`] = timeOnce(() => toHttp(handle(req, [SECRET])), iters(d));
      // HMAC alone over the signed span, same instance
      core.putBody(literals[name]);
      m[`wasm hmac ${name}`] = timeOnce(() => core.exports.pwx_hmac(literals[name].length), iters(d));
    }
    m['per-request empty WASI command'] = await timeOnceAsync(() => runWagi(empty, { env, body: typical.body }), 30);
    m['per-request CGI floor (same imports)'] = await timeOnceAsync(() => runWagi(cgiFloor, { env, body: typical.body }), 30);
    m['per-request WAGI module typical'] = await timeOnceAsync(() => runWagi(wagi, { env, body: typical.body }), 30);
    m['per-request component typical'] = await timeOnceAsync(async () => {
      const ex = await instantiate(() => componentCore, {});
      ex.handler.handle(compReq, [SECRET]);
    }, 30);
    rounds.push(m);
    process.stderr.write(`round ${r + 1}/${ROUNDS}\r`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  process.stderr.write('catch-up: 100,000 connections, native, wasm and the reference host...\n');
  const catchup = await catchupBench();
  const figures = Object.keys(rounds[0]).map((name) => {
    const xs = rounds.map((m) => m[name]);
    return { name, unit: 'ns', median: middle(xs), min: Math.min(...xs), max: Math.max(...xs) };
  });

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
  // Per round, then the median over the rounds, with its spread.
  const ratio = (name, per, target, higherIsBetter) => {
    const xs = rounds.map(per);
    const value = middle(xs);
    return {
      name, value: Number(value.toFixed(3)), min: Number(Math.min(...xs).toFixed(3)), max: Number(Math.max(...xs).toFixed(3)),
      target, better: higherIsBetter ? 'higher' : 'lower', met: higherIsBetter ? value >= target : value <= target,
    };
  };
  const fixed = (name, value, target) => ({ name, value: Number(value.toFixed(3)), min: null, max: null, target, better: 'lower', met: value <= target });
  const ratios = [
    ratio('node reference / wasm core warm (typical)', (m) => m['node reference typical'] / m['wasm core warm typical'], 1.25, true),
    ratio('node reference / wasm core warm (16KiB)', (m) => m['node reference 16KiB'] / m['wasm core warm 16KiB'], 0.8, true),
    ratio('native handle / native hmac (typical)', (m) => m['native handle typical'] / m['native hmac typical'], 1.35, false),
    ratio('wasm core warm / wasm hmac (typical)', (m) => m['wasm core warm typical'] / m['wasm hmac typical'], 1.6, false),
    ratio('native handle / native hmac (16KiB)', (m) => m['native handle 16KiB'] / m['native hmac 16KiB'], 1.4, false),
    ratio('wasm core warm / wasm hmac (16KiB)', (m) => m['wasm core warm 16KiB'] / m['wasm hmac 16KiB'], 1.5, false),
    ratio('native handle rejected / native handle typical', (m) => m['native handle rejected'] / m['native handle typical'], 1.0, false),
    ratio('per-request WAGI module / CGI floor (same imports)', (m) => m['per-request WAGI module typical'] / m['per-request CGI floor (same imports)'], 2.5, false),
    fixed('WAGI module size (KiB)', sizes['panora-webhook.wasm'] / 1024, 28),
    fixed('handler component size (KiB)', sizes['panora-webhook.component.wasm'] / 1024, 28),
  ];
  for (const f of ['panora-webhook-http.wasm', 'panora-webhook-spin.wasm']) {
    // with the forward sink (outgoing HTTP, clocks, Standard Webhooks signing)
    if (sizes[f]) ratios.push(fixed(`${f} size (KiB)`, sizes[f] / 1024, 48));
  }

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const machine = `${cpu}, ${os.cpus().length} cores, ${os.platform()} ${os.release()}, Node ${process.version}`;
  fs.writeFileSync(path.join(BUILD, 'bench.json'), `${JSON.stringify({ machine, rounds: ROUNDS, figures, ratios, sizes, memory_pages, catchup }, null, 2)}\n`);

  const pad = (s, n) => String(s).padEnd(n);
  const num = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));
  console.log(`\nmachine: ${machine}; ${ROUNDS} interleaved rounds\n`);
  console.log(`${pad('figure (median of round medians)', 44)}${pad('ns', 12)}${pad('min', 12)}max`);
  for (const f of figures) console.log(`${pad(f.name, 44)}${pad(num(f.median), 12)}${pad(num(f.min), 12)}${num(f.max)}`);
  console.log(`\n${pad('ratio (per round)', 52)}${pad('median', 9)}${pad('spread', 16)}${pad('target', 10)}met`);
  for (const r of ratios) {
    const t = `${r.better === 'higher' ? '>=' : '<='} ${r.target}`;
    const spread = r.min === null ? '' : `${r.min}-${r.max}`;
    console.log(`${pad(r.name, 52)}${pad(r.value, 9)}${pad(spread, 16)}${pad(t, 10)}${r.met ? 'yes' : 'MISS'}`);
  }
  console.log('\nsizes (bytes):', sizes);
  console.log('memory (64 KiB pages):', memory_pages);
  const k = (x) => `${Math.round(x / 1000)}k`;
  console.log(`\ncatch-up of ${catchup.listed} connections (${(catchup.list_bytes / 1048576).toFixed(1)} MiB of JSON):`);
  console.log(`  native      ${k(catchup.native_per_s.median)} connections/s (${k(catchup.native_per_s.min)}-${k(catchup.native_per_s.max)}), decoder memory ${catchup.native_decoder_bytes} bytes`);
  console.log(`  wasm        ${k(catchup.wasm_per_s.median)} connections/s (${k(catchup.wasm_per_s.min)}-${k(catchup.wasm_per_s.max)}), component memory ${catchup.wasm_memory_pages} pages`);
  console.log(`  host        ${catchup.host_run_ms} ms for the whole run (${k(catchup.host_per_s)} connections/s into SQLite), peak RSS growth ${catchup.host_peak_rss_growth_mib} MiB`);
  console.log(`\nwritten: ${path.join(BUILD, 'bench.json')}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
