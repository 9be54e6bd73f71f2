// e2e.mjs -- the end-to-end half of `make bench` (alone: `make bench-e2e`):
// whole servers on loopback, side by side, each sent the same signed
// deliveries by wrk, as a user would compare endpoints.
//
// Contenders (each started once, all listening on 127.0.0.1):
//   wasmtime serve   `wasmtime serve -S cli` on build/panora-webhook-http.wasm
//   wasmtime, reuse  the same with --max-instance-reuse-count 128
//   reference host   deploy/host/server.mjs (the component under Node, SQLite)
//   node:http        tests/bench/peers/node-http.mjs, the fastest JS peer
//   Express          tests/bench/peers/express.cjs, as Panora's docs show it
//   Flask/gunicorn   tests/bench/peers/flask_app.py, sync workers, one per core
// Workloads: a verified crm.contact.created (typical, ~1 KB; every
// contender answers 200, ours `ignored`), the same with a 16 KiB
// Unicode-dense account URL, and a forged delivery (bad signature, 401).
//
// One run is `wrk -t1 -cC -dSs` on one contender, one workload, one
// concurrency. A round makes every run once, contender after contender
// (their order rotated from round to round), so a noisy stretch of the
// machine falls on all of them; every ratio of ours to a peer is computed
// within a round and reported as its median over the rounds with its
// spread (min and max). A target counts as met only when the median meets it.
// Beside wrk's req/s, p50 and p99, each run records the server's CPU time
// per request (user + system of its process group over the run): the cost
// of a request, less sensitive than req/s to other work on the machine.
//
// Environment (the Makefile passes its variables):
//   E2E_ROUNDS (5)  E2E_SECONDS (5)  E2E_CONNECTIONS ("1 32")  E2E_WARMUP (2 s)
//   E2E_ONLY        comma-separated keys: wasmtime,wasmtime-reuse,host,node-http,express,flask
//   WASMTIME        the wasmtime CLI (default build/bin/wasmtime, from scripts/deps.sh)
//   WRK             wrk (default: on PATH)
//
// Adds an "e2e" entry to build/bench.json (the other entries are kept)
// and prints a table. Every server and every wrk runs in its own process
// group and is killed on every path (tests/lib/proc.mjs); every run is
// bounded in time.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { spawnTracked, stop, waitExit, within } from '../lib/proc.mjs';
import { connectionRow, denseUrl, forged, signedDelivery } from './deliveries.mjs';

const BUILD = 'build';
const OUT = path.join(BUILD, 'bench/e2e');
const count = (v, dflt) => (v !== undefined && /^\d+$/.test(v) && Number(v) > 0 ? Number(v) : dflt);
const ROUNDS = count(process.env.E2E_ROUNDS, 5);
const SECONDS = count(process.env.E2E_SECONDS, 5);
const WARMUP = count(process.env.E2E_WARMUP, 2);
const CONNECTIONS = (process.env.E2E_CONNECTIONS ?? '1 32').split(/[\s,]+/).filter(Boolean).map(Number);
const ONLY = process.env.E2E_ONLY ? new Set(process.env.E2E_ONLY.split(',')) : null;
const WASMTIME = process.env.WASMTIME || path.join(BUILD, 'bin/wasmtime');
const WRK = process.env.WRK || 'wrk';
const HTTP_COMPONENT = path.join(BUILD, 'panora-webhook-http.wasm');
const PEER_NODE_MODULES = path.join(BUILD, 'bench/node/node_modules');
const VENV = path.join(BUILD, 'bench/venv');
const SECRET = `whsec_${crypto.randomBytes(16).toString('hex')}`;
const WORKERS = os.cpus().length;
const START_MS = 60000;
const REUSE = 128;
const ROUTE = '/panora_webhooks';

if (CONNECTIONS.length === 0 || CONNECTIONS.some((c) => !Number.isInteger(c) || c < 1 || c > 1024)) {
  throw new Error(`E2E_CONNECTIONS: whole numbers from 1 to 1024, got "${process.env.E2E_CONNECTIONS}"`);
}

// ---------------------------------------------------------------- deliveries
// Another event type than connection.created: every contender verifies it
// and answers 200, and ours need no sink.
const delivery = (row) => ({ ...signedDelivery(SECRET, row, 'crm.contact.created'), status: 200 });
const row = connectionRow();
const typical = delivery(row);
const WORKLOADS = {
  typical,
  '16KiB': delivery({ ...row, account_url: denseUrl(16384) }),
  forged: { ...forged(typical), status: 401 },
};

// ---------------------------------------------------------------- contenders
const node = process.execPath;
const CONTENDERS = [
  {
    key: 'wasmtime', name: 'wasmtime serve', ours: true, cmd: WASMTIME,
    args: (port) => ['serve', '-S', 'cli', '--env', 'PANORA_WEBHOOK_SECRET', '--addr', `127.0.0.1:${port}`, HTTP_COMPONENT],
    artifact: () => [HTTP_COMPONENT],
  },
  {
    // the same, with a flag a user can set: one instance serves up to
    // REUSE requests in turn (the handler resets and wipes its memory on
    // every call), so instantiation is paid once per REUSE requests
    key: 'wasmtime-reuse', name: 'wasmtime, reuse', ours: true, cmd: WASMTIME,
    args: (port) => ['serve', '-S', 'cli', '--max-instance-reuse-count', String(REUSE), '--env', 'PANORA_WEBHOOK_SECRET',
      '--addr', `127.0.0.1:${port}`, HTTP_COMPONENT],
    artifact: () => [HTTP_COMPONENT],
  },
  {
    key: 'host', name: 'reference host', ours: true, cmd: node,
    args: () => ['deploy/host/server.mjs'],
    env: (port) => ({ HOST: '127.0.0.1', PORT: String(port), PANORA_WEBHOOK_DB: path.join(OUT, 'host.sqlite') }),
    artifact: () => ['deploy/host', path.join(BUILD, 'host'), ...lockClosure('package-lock.json', 'node_modules', ['better-sqlite3'])],
  },
  {
    key: 'node-http', name: 'node:http', cmd: node, args: () => ['tests/bench/peers/node-http.mjs'],
    artifact: () => ['tests/bench/peers/node-http.mjs'],
  },
  {
    key: 'express', name: 'Express', cmd: node, args: () => ['tests/bench/peers/express.cjs'],
    env: () => ({ NODE_PATH: PEER_NODE_MODULES, NODE_ENV: 'production' }),
    artifact: () => ['tests/bench/peers/express.cjs',
      ...lockClosure('tests/bench/peers/package-lock.json', PEER_NODE_MODULES, ['express'])],
  },
  {
    key: 'flask', name: 'Flask/gunicorn', cmd: path.join(VENV, 'bin/gunicorn'),
    args: (port) => ['--workers', String(WORKERS), '--worker-class', 'sync', '--bind', `127.0.0.1:${port}`,
      '--chdir', 'tests/bench/peers', 'flask_app:app'],
    artifact: () => ['tests/bench/peers/flask_app.py', ...distFiles('tests/bench/peers/requirements.txt')],
  },
].filter((c) => !ONLY || ONLY.has(c.key));

// ---------------------------------------------------------------- sizes
// What a user deploys besides the runtime: our artifact, or the app's files
// and the packages it installs (from the lock file, or the wheels' RECORDs).
function bytesOf(p) {
  const st = fs.lstatSync(p, { throwIfNoEntry: false });
  if (!st || st.isSymbolicLink()) return 0;
  if (!st.isDirectory()) return st.size;
  return fs.readdirSync(p).reduce((n, e) => n + bytesOf(path.join(p, e)), 0);
}
function lockClosure(lockFile, modules, roots) {
  const { packages } = JSON.parse(fs.readFileSync(lockFile, 'utf8'));
  const seen = new Set();
  const visit = (name, from) => {
    let key = `${from}/node_modules/${name}`.replace(/^\//, '');
    if (!packages[key]) key = `node_modules/${name}`;
    if (seen.has(key) || !packages[key]) return;
    seen.add(key);
    for (const dep of Object.keys({ ...packages[key].dependencies, ...packages[key].optionalDependencies })) visit(dep, key);
  };
  for (const r of roots) visit(r, '');
  return [...seen].map((k) => path.join(modules, k.replace(/^node_modules\//, '')));
}
function distFiles(requirements) {
  const names = fs.readFileSync(requirements, 'utf8').split('\n')
    .map((l) => /^([A-Za-z0-9._-]+)==/.exec(l)?.[1]?.toLowerCase().replace(/[-.]/g, '_')).filter(Boolean);
  const lib = path.join(VENV, 'lib');
  const files = [];
  for (const py of fs.existsSync(lib) ? fs.readdirSync(lib) : []) {
    const sp = path.join(lib, py, 'site-packages');
    for (const d of fs.existsSync(sp) ? fs.readdirSync(sp) : []) {
      const m = /^(.+?)-[^-]+\.dist-info$/.exec(d);
      if (!m || !names.includes(m[1].toLowerCase().replace(/[-.]/g, '_'))) continue;
      for (const line of fs.readFileSync(path.join(sp, d, 'RECORD'), 'utf8').split('\n')) {
        const f = line.split(',')[0];
        if (f && !f.startsWith('..')) files.push(path.join(sp, f));
      }
    }
  }
  return files;
}

// ---------------------------------------------------------------- processes
const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer();
  s.once('error', reject);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

// One POST on a fresh connection: { status, body }.
const post = (port, d, ms = 5000) => within(ms, `POST to 127.0.0.1:${port}`, new Promise((resolve, reject) => {
  const req = http.request({
    host: '127.0.0.1', port, path: ROUTE, method: 'POST', agent: false,
    headers: { 'content-type': 'application/json', 'panora-signature': d.signature, 'content-length': d.body.length },
  }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
  });
  req.on('error', reject);
  req.end(d.body);
}));

// What a server is started with: this environment, less what a deployment
// would not have set (RUST_BACKTRACE makes wasmtime capture a backtrace for
// every error it creates).
const deployEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RUST_')));

// Start a contender; resolves once it answers, after checking its answer
// to every workload.
async function start(c) {
  const port = await freePort();
  const logFile = path.join(OUT, `${c.key}.log`);
  const log = fs.openSync(logFile, 'w');
  const child = spawnTracked(c.cmd, c.args(port), {
    env: { ...deployEnv, PORT: String(port), ...(c.env ? c.env(port) : {}), PANORA_WEBHOOK_SECRET: SECRET },
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  let exited = null;
  child.once('exit', (code, sig) => { exited = code ?? sig; });
  child.once('error', (e) => { exited = e.message; });
  const t0 = Date.now();
  for (;;) {
    if (exited !== null) throw new Error(`${c.name} exited (${exited}): ${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
    if (Date.now() - t0 > START_MS) {
      await stop(child);
      throw new Error(`${c.name} did not answer within ${START_MS} ms: ${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
    }
    try { await post(port, WORKLOADS.forged, 1000); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  const srv = { ...c, port, child, url: `http://127.0.0.1:${port}${ROUTE}`, startMs: Date.now() - t0 };
  for (const [name, d] of Object.entries(WORKLOADS)) {
    const r = await post(port, d);
    if (r.status !== d.status) {
      await stop(child);
      throw new Error(`${c.name} answered ${name} with ${r.status} (${r.body.slice(0, 200)}), not ${d.status}`);
    }
  }
  return srv;
}

// Peak resident memory of the contender: VmHWM summed over its process
// group (gunicorn's master and workers; one process for the others).
function groupOf(pgid) {
  const pids = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) pids.push({ pid, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch { /* gone meanwhile */ }
  }
  return pids;
}
function peakRss(pgid) {
  let total = 0;
  let processes = 0;
  for (const { pid } of groupOf(pgid)) {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (hwm) { total += Number(hwm[1]) * 1024; processes += 1; }
    } catch { /* gone meanwhile */ }
  }
  return { bytes: total, processes };
}
// CPU time (user + system) the contender's processes have used, in µs:
// per request, it shows the cost of a request even when other work on the
// machine takes cores away from the server.
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim() || 100);
const cpuUs = (pgid) => groupOf(pgid).reduce((n, p) => n + p.ticks, 0) * TICK_US;

// The runtime a contender needs beside its artifact: the executable and the
// shared libraries it has mapped (python3 is a small launcher over
// libpython; node and wasmtime are mostly one file). Files of this
// checkout are the artifact's, not the runtime's.
function runtimeOf(pid) {
  let exe;
  try { exe = fs.realpathSync(`/proc/${pid}/exe`); } catch { return { name: 'unknown', bytes: 0 }; }
  const files = new Set([exe]);
  try {
    for (const line of fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
      const f = line.split(/\s+/).slice(5).join(' ');
      if (f.startsWith('/') && !f.endsWith('(deleted)') && !f.startsWith(process.cwd())) files.add(f);
    }
  } catch { /* the executable alone */ }
  return { name: path.basename(exe), bytes: [...files].reduce((n, f) => n + bytesOf(f), 0) };
}

// ---------------------------------------------------------------- wrk
const bodyFile = (name) => path.join(OUT, `${name}.json`);

async function wrk(srv, name, connections, seconds) {
  const child = spawnTracked(WRK, ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s',
    '-s', 'tests/bench/post.lua', srv.url, '--', bodyFile(name), WORKLOADS[name].signature],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const cpu0 = cpuUs(srv.child.pid);
  const code = await waitExit(child, seconds * 1000 + 30000);
  const cpu = cpuUs(srv.child.pid) - cpu0;
  const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
  if (code !== 0 || !line) throw new Error(`wrk on ${srv.name} ${name} c${connections} exited ${code}: ${out.slice(-1000)}`);
  const r = JSON.parse(line);
  const wantStatus = WORKLOADS[name].status;
  // every answer must be the expected one: 2xx for verified, 4xx for forged
  const wrong = wantStatus < 300 ? r.status : r.requests - r.status;
  return {
    rps: Number((r.requests / (r.duration_us / 1e6)).toFixed(1)), p50_us: r.p50_us, p99_us: r.p99_us, max_us: r.max_us,
    cpu_us: r.requests ? Number((cpu / r.requests).toFixed(1)) : 0, requests: r.requests, wrong, socket_errors: r.connect + r.read + r.write + r.timeout,
  };
}

// ---------------------------------------------------------------- report
const middle = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const spread = (xs) => ({ median: middle(xs), min: Math.min(...xs), max: Math.max(...xs) });
const r3 = (x) => Number(x.toFixed(3));
const kilo = (x) => (x >= 10000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0));
const ms = (us) => (us >= 10000 ? `${(us / 1000).toFixed(0)}ms` : `${(us / 1000).toFixed(2)}ms`);
const pad = (s, n) => String(s).padEnd(n);
const mib = (b) => `${(b / 1048576).toFixed(1)} MiB`;

function versionOf(cmd, args) {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10000 }).toString().split('\n')[0].trim();
  } catch (e) {
    return e.stdout?.toString().split('\n')[0].trim() || 'unknown';
  }
}

async function main() {
  if (CONTENDERS.some((c) => c.key === 'wasmtime') && !fs.existsSync(WASMTIME)) {
    throw new Error(`no wasmtime CLI at ${WASMTIME}: set WASMTIME=/path/to/wasmtime (or E2E_ONLY to leave it out)`);
  }
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  for (const [name, d] of Object.entries(WORKLOADS)) fs.writeFileSync(bodyFile(name), d.body);
  const wrkVersion = versionOf(WRK, ['--version']);
  const wasmtimeVersion = CONTENDERS.some((c) => c.key === 'wasmtime') ? versionOf(WASMTIME, ['--version']) : null;

  const servers = [];
  const stopAll = () => Promise.all(servers.map((s) => stop(s.child)));
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => { process.exitCode = 130; stopAll().finally(() => process.exit(130)); });
  try {
    for (const c of CONTENDERS) {
      servers.push(await start(c));
      process.stderr.write(`${c.name}: answering on 127.0.0.1:${servers.at(-1).port}\n`);
    }
    // JIT warm-up, not recorded
    for (const s of servers) await wrk(s, 'typical', Math.max(...CONNECTIONS), WARMUP);

    const runs = [];
    const total = ROUNDS * CONNECTIONS.length * Object.keys(WORKLOADS).length * servers.length;
    for (let round = 0; round < ROUNDS; round++) {
      const order = servers.map((_, i) => servers[(i + round) % servers.length]);
      for (const connections of CONNECTIONS) {
        for (const workload of Object.keys(WORKLOADS)) {
          for (const s of order) {
            runs.push({ round, contender: s.key, workload, connections, ...(await wrk(s, workload, connections, SECONDS)) });
            process.stderr.write(`run ${runs.length}/${total}\r`);
          }
        }
      }
    }
    process.stderr.write('\n');
    for (const s of servers) {
      s.rss = peakRss(s.child.pid);
      s.runtime = runtimeOf(s.child.pid);
    }
    await stopAll();
    report(servers, runs, { wrkVersion, wasmtimeVersion });
  } finally {
    await stopAll();
  }
}

function report(servers, runs, versions) {
  const pick = (key, workload, connections) => runs.filter((r) => r.contender === key && r.workload === workload && r.connections === connections)
    .sort((a, b) => a.round - b.round);
  const figures = [];
  for (const connections of CONNECTIONS) {
    for (const workload of Object.keys(WORKLOADS)) {
      for (const s of servers) {
        const xs = pick(s.key, workload, connections);
        figures.push({
          contender: s.key, workload, connections,
          rps: spread(xs.map((x) => x.rps)), p50_us: spread(xs.map((x) => x.p50_us)), p99_us: spread(xs.map((x) => x.p99_us)),
          cpu_us: spread(xs.map((x) => x.cpu_us)),
          wrong_answers: xs.reduce((n, x) => n + x.wrong, 0), socket_errors: xs.reduce((n, x) => n + x.socket_errors, 0),
        });
      }
    }
  }
  // ours / peer within each round
  const perRound = (a, b, workload, connections, metric, bWorkload = workload) => {
    const xa = pick(a, workload, connections);
    const xb = pick(b, bWorkload, connections);
    return xa.map((x, i) => x[metric] / xb[i][metric]);
  };
  const has = (k) => servers.some((s) => s.key === k);
  const ratios = [];
  // ours against each peer, and the first of ours against the second
  const pairs = servers.filter((s) => s.ours).flatMap((o, i, ours) => servers
    .filter((p) => !p.ours || ours.indexOf(p) > i).map((p) => [o, p]));
  for (const [o, p] of pairs) {
    for (const connections of CONNECTIONS) {
      for (const workload of Object.keys(WORKLOADS)) {
        for (const metric of ['rps', 'p99_us']) {
          const xs = perRound(o.key, p.key, workload, connections, metric);
          ratios.push({ ours: o.key, peer: p.key, workload, connections, metric, ...mapSpread(spread(xs)) });
        }
      }
    }
  }
  const targets = [];
  const top = Math.max(...CONNECTIONS);
  const target = (name, xs, value, higher) => {
    const s = spread(xs);
    targets.push({ name, ...mapSpread(s), target: value, better: higher ? 'higher' : 'lower', met: higher ? s.median >= value : s.median <= value });
  };
  const tw = (a, b, metric) => perRound(a, b, 'typical', top, metric);
  for (const w of servers.filter((s) => s.key.startsWith('wasmtime'))) {
    const vs = (peer, metric, value, higher, label) => {
      if (has(peer)) target(`${w.name} ${label}`, tw(w.key, peer, metric), value, higher);
    };
    vs('node-http', 'rps', 1.25, true, 'req/s / node:http req/s');
    vs('node-http', 'p99_us', 1.0, false, 'p99 / node:http p99');
    vs('express', 'rps', 3, true, 'req/s / Express req/s');
    vs('flask', 'rps', 5, true, 'req/s / Flask/gunicorn req/s');
  }
  if (has('host') && has('node-http')) target('reference host req/s / node:http req/s', tw('host', 'node-http', 'rps'), 0.8, true);
  for (const o of servers.filter((s) => s.ours)) {
    // cost: the server's CPU time per request, forged over verified
    target(`${o.name}: forged / verified CPU`, perRound(o.key, o.key, 'forged', top, 'cpu_us', 'typical'), 1.0, false);
  }
  const contenders = servers.map((s) => ({
    key: s.key, name: s.name, ours: Boolean(s.ours), start_ms: s.startMs,
    peak_rss_bytes: s.rss.bytes, processes: s.rss.processes,
    artifact_bytes: s.artifact().reduce((n, p) => n + bytesOf(p), 0),
    runtime: s.runtime.name, runtime_bytes: s.runtime.bytes,
  }));

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const machine = `${cpu}, ${os.cpus().length} cores, ${os.platform()} ${os.release()}, Node ${process.version}`;
  const e2e = {
    machine, rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, wrk: versions.wrkVersion,
    wasmtime: versions.wasmtimeVersion, bodies: Object.fromEntries(Object.entries(WORKLOADS).map(([k, d]) => [k, d.body.length])),
    contenders, figures, ratios, targets, runs,
  };
  const file = path.join(BUILD, 'bench.json');
  let all = {};
  try { all = JSON.parse(fs.readFileSync(file, 'utf8')); } catch { /* none yet, or not ours */ }
  all.e2e = e2e;
  fs.writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);

  const nameOf = Object.fromEntries(servers.map((s) => [s.key, s.name]));
  console.log(`\nend to end: ${machine}`);
  console.log(`${ROUNDS} interleaved rounds of ${SECONDS} s runs, wrk 1 thread; bodies (bytes): ${JSON.stringify(e2e.bodies)}`);
  for (const connections of CONNECTIONS) {
    console.log(`\nconcurrency ${connections}: medians over rounds (req/s spread min-max; cpu: the server's CPU time per request)`);
    console.log(`${pad('contender', 17)}${Object.keys(WORKLOADS).map((w) => pad(`${w} req/s`, 24) + pad('p50', 8) + pad('p99', 8) + pad('cpu', 8)).join('')}`);
    for (const s of servers) {
      const cells = Object.keys(WORKLOADS).map((w) => {
        const f = figures.find((x) => x.contender === s.key && x.workload === w && x.connections === connections);
        const flag = f.wrong_answers || f.socket_errors ? '!' : '';
        return pad(`${kilo(f.rps.median)}${flag} (${kilo(f.rps.min)}-${kilo(f.rps.max)})`, 24) + pad(ms(f.p50_us.median), 8)
          + pad(ms(f.p99_us.median), 8) + pad(`${f.cpu_us.median.toFixed(0)}µs`, 8);
      });
      console.log(`${pad(s.name, 17)}${cells.join('')}`);
    }
  }
  const bad = figures.filter((f) => f.wrong_answers || f.socket_errors);
  for (const f of bad) console.log(`! ${nameOf[f.contender]} ${f.workload} c${f.connections}: ${f.wrong_answers} unexpected answers, ${f.socket_errors} socket errors`);

  console.log('\nours / peer, req/s, per round: median (min-max)');
  const cols = CONNECTIONS.flatMap((c) => Object.keys(WORKLOADS).map((w) => [c, w]));
  console.log(`${pad('', 34)}${cols.map(([c, w]) => pad(`c${c} ${w}`, 20)).join('')}`);
  for (const [o, p] of pairs) {
    const cells = cols.map(([c, w]) => {
      const x = ratios.find((r) => r.ours === o.key && r.peer === p.key && r.workload === w && r.connections === c && r.metric === 'rps');
      return pad(`${x.median.toFixed(2)} (${x.min.toFixed(2)}-${x.max.toFixed(2)})`, 20);
    });
    console.log(`${pad(`${o.name} / ${p.name}`, 34)}${cells.join('')}`);
  }
  console.log(`\ntargets (concurrency ${top}, typical)`);
  console.log(`${pad('ratio (per round)', 46)}${pad('median', 9)}${pad('spread', 16)}${pad('target', 10)}met`);
  for (const t of targets) {
    console.log(`${pad(t.name, 46)}${pad(t.median, 9)}${pad(`${t.min}-${t.max}`, 16)}${pad(`${t.better === 'higher' ? '>=' : '<='} ${t.target}`, 10)}${t.met ? 'yes' : 'MISS'}`);
  }
  console.log('\nwhat a user deploys, and what it holds');
  console.log(`${pad('contender', 17)}${pad('peak RSS', 14)}${pad('processes', 11)}${pad('artifact', 14)}runtime`);
  for (const c of contenders) {
    console.log(`${pad(c.name, 17)}${pad(mib(c.peak_rss_bytes), 14)}${pad(c.processes, 11)}${pad(c.artifact_bytes < 1048576 ? `${c.artifact_bytes} B` : mib(c.artifact_bytes), 14)}${c.runtime} ${mib(c.runtime_bytes)}`);
  }
  console.log(`\nwritten: ${file} (entry "e2e")`);
}
const mapSpread = (s) => ({ median: r3(s.median), min: r3(s.min), max: r3(s.max) });

main().catch((e) => { console.error(e); process.exit(1); });
