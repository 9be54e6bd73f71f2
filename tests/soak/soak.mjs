// soak.mjs -- `make soak`: the reference host under sustained load, killed
// with SIGKILL half-way and started again, then checked for loss.
//
//   node tests/soak/soak.mjs [--clients N] [--seconds S]
//
// N clients on loopback send signed connection.created deliveries for S
// seconds, each a new connection or (one in four) a resend of one already
// sent. Half-way the host gets SIGKILL and is started again on the same
// port and database; clients keep going (a refused connection is counted,
// not acknowledged). At the end the host is stopped with SIGTERM and the
// database is read: every record acknowledged with a 2xx must be in it,
// with the token that was sent and at least as many deliveries counted as
// were acknowledged (a row per connection is the primary key's job). Prints throughput, latency percentiles and the loss count;
// exits 1 on any loss. Bounded in time and count; talks to 127.0.0.1 only.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { spawnTracked, stop, waitExit, within } from '../lib/proc.mjs';

const SECRET = `whsec_soak_${crypto.randomBytes(6).toString('hex')}`;

const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

function startHost(port, db) {
  const child = spawnTracked(process.execPath, ['deploy/host/server.mjs'], {
    env: { ...process.env, PANORA_WEBHOOK_SECRET: SECRET, PANORA_WEBHOOK_DB: db, PORT: String(port), PANORA_WEBHOOK_SHUTDOWN_GRACE_MS: '1000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', () => {});              // the per-request log
  return within(30000, 'host start', new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (out.includes('listening')) { clearInterval(poll); resolve(child); }
    }, 20);
    child.once('exit', (code) => { clearInterval(poll); reject(new Error(`host exited ${code}`)); });
  }));
}

function delivery(row) {
  const data = JSON.stringify(row);
  return {
    body: JSON.stringify({ id_event: crypto.randomUUID(), data, type: 'connection.created' }),
    signature: crypto.createHmac('sha256', SECRET).update(JSON.stringify(data)).digest('hex'),
  };
}

function post(port, agent, d) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/panora_webhooks', method: 'POST', agent, timeout: 10000,
      headers: { 'content-type': 'application/json', 'panora-signature': d.signature, 'content-length': Buffer.byteLength(d.body) } }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
      res.on('error', () => resolve({ status: 0 }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0 }));
    req.end(d.body);
  });
}

const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN);

export async function runSoak({ clients = 50, seconds = 60, log = console.log } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-soak-'));
  const db = path.join(dir, 'soak.sqlite');
  const port = await freePort();
  let host = await startHost(port, db);
  const acked = new Map();                 // id_connection -> { token, acks }
  const latencies = [];
  let sent = 0;
  let refused = 0;
  let restarts = 0;
  const deadline = Date.now() + seconds * 1000;

  const client = async (n) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const mine = [];
    while (Date.now() < deadline) {
      const again = mine.length > 0 && Math.random() < 0.25;
      const row = again ? mine[Math.floor(Math.random() * mine.length)] : {
        id_connection: crypto.randomUUID(), connection_token: `ctok_${crypto.randomBytes(8).toString('hex')}`,
        id_linked_user: `user-${n}`, provider_slug: 'hubspot', vertical: 'crm',
      };
      if (!again) mine.push(row);
      const t0 = process.hrtime.bigint();
      const r = await post(port, agent, delivery(row));
      sent++;
      if (r.status >= 200 && r.status < 300) {
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (!r.text.startsWith(`captured ${row.id_connection} `)) throw new Error(`unexpected receipt ${r.text}`);
        const a = acked.get(row.id_connection) ?? { token: row.connection_token, acks: 0 };
        a.acks++;
        acked.set(row.id_connection, a);
      } else {
        refused++;
        await new Promise((res) => setTimeout(res, 20));
      }
    }
    agent.destroy();
  };

  const killer = (async () => {
    await new Promise((res) => setTimeout(res, (seconds * 1000) / 2));
    host.kill('SIGKILL');
    await waitExit(host, 5000);
    host = await startHost(port, db);
    restarts++;
  })();

  const started = Date.now();
  try {
    await Promise.all([...Array.from({ length: clients }, (_, i) => client(i)), killer]);
  } finally {
    const last = host;
    last.kill('SIGTERM');
    try { await waitExit(last, 15000); } catch { await stop(last); }
  }
  const elapsed = (Date.now() - started) / 1000;

  const check = new Database(db, { readonly: true });
  const have = new Map(check.prepare('SELECT id_connection, connection_token, deliveries FROM connections').all()
    .map((r) => [r.id_connection, r]));
  check.close();
  let lost = 0;
  let mismatched = 0;
  for (const [id, a] of acked) {
    const r = have.get(id);
    if (!r) lost++;
    else if (r.connection_token !== a.token || r.deliveries < a.acks) mismatched++;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  const result = {
    clients, seconds, sent, acknowledged: latencies.length, connections: acked.size, refused, restarts,
    throughput: Math.round(latencies.length / elapsed), p50_ms: +pct(latencies, 0.5).toFixed(2),
    p99_ms: +pct(latencies, 0.99).toFixed(2), lost, mismatched,
  };
  log(`soak: ${clients} clients, ${seconds} s, SIGKILL and restart half-way`);
  log(`  requests ${sent}, acknowledged ${result.acknowledged} (${acked.size} connections), refused or cut ${refused}`);
  log(`  throughput ${result.throughput}/s, p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms`);
  log(`  acknowledged records missing from the database: ${lost}; stored with other values or fewer deliveries: ${mismatched}`);
  return result;
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const r = await runSoak({ clients: arg('--clients', 50), seconds: arg('--seconds', 60) });
  process.exit(r.lost === 0 && r.mismatched === 0 && r.acknowledged > 0 ? 0 : 1);
}
