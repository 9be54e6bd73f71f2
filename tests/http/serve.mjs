// serve.mjs -- what the wasi:http tests share: `jco serve` as a real HTTP
// server on loopback, a bounded HTTP client, and a Standard Webhooks
// backend for the forward sink, verifying every message with the npm
// `standardwebhooks` package (an implementation independent of ours).
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { Webhook } from 'standardwebhooks';
import { spawnTracked, stop, within } from '../lib/proc.mjs';

const JCO = 'node_modules/@bytecodealliance/jco/dist/jco.js';

export const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

// Start `jco serve` in its own process group; stop it with the whole group
// (tests/lib/proc.mjs also kills it if the test process exits first).
// `prefix` runs it under another command (a namespace, say); `pgid` is the
// group's id, for counting what its processes hold.
export async function serve(component, env, name, extra = [], { prefix = [] } = {}) {
  const port = await freePort();
  const args = [JCO, 'serve', component, '--port', String(port), '--host', '127.0.0.1',
    '--jco-dir', `build/serve/${name}`, ...extra];
  const child = spawnTracked(prefix.length ? prefix[0] : process.execPath,
    prefix.length ? [...prefix.slice(1), process.execPath, ...args] : args, {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const onData = (d) => { log += d; };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  try {
    await within(60000, 'jco serve start', new Promise((resolve, reject) => {
      const poll = setInterval(() => {              // jco prints it on stderr
        if (log.includes('Server listening')) { clearInterval(poll); resolve(); }
      }, 20);
      child.once('exit', (code) => { clearInterval(poll); reject(new Error(`jco serve exited ${code}: ${log}`)); });
    }));
  } catch (e) {
    await stop(child);
    throw e;
  }
  child.removeAllListeners('exit');
  return {
    base: `http://127.0.0.1:${port}`,
    pgid: child.pid,
    log: () => log,
    stop: () => stop(child),
  };
}

// A fresh connection per request, as Panora's client makes them: after a
// response to a request whose body the component chose not to read (a 405,
// a 413), jco serve leaves the unread bytes on the connection, where the
// next request would trip on them (hyper-based hosts close it instead).
export function send(base, { method = 'POST', headers = {}, body, path: where = '/panora_webhooks' }) {
  return within(30000, `${method} ${where}`, new Promise((resolve, reject) => {
    // with Content-Length, as curl sends it: jco serve's HTTP layer refuses
    // a chunked body on a GET before the component sees it
    const h = body === undefined ? headers : { ...headers, 'content-length': body.length };
    const req = http.request(`${base}${where}`, { method, headers: h, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  }));
}

// The webhook-id a forward must carry: independent of the C code.
export const forwardId = (idConnection) =>
  `msg_${crypto.createHash('sha256').update(idConnection).digest('hex').slice(0, 32)}`;

// A backend that keeps connections alive and answers 200 with a body, as
// Express's res.sendStatus(200) does, counting its connections: `opened()`,
// `open()` (still open now), `port`, `close()`.
export async function keepAliveBackend() {
  const live = new Set();
  let opened = 0;
  const server = http.createServer({ keepAlive: true, keepAliveTimeout: 60000 }, (req, res) => {
    req.resume();
    req.on('end', () => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('OK'); });
  });
  server.on('connection', (s) => { opened++; live.add(s); s.on('close', () => live.delete(s)); });
  server.keepAliveTimeout = 60000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    opened: () => opened,
    open: () => live.size,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

// A backend that receives the forward. `mode(n)` says how to answer the
// n-th request (from 0): a status, or 'hang' (never answer). Every request
// is verified; `messages` holds what it accepted, `attempts` everything.
// `port` (default: any) lets a test bring a backend back where it was.
export async function backend({ secret = `whsec_${crypto.randomBytes(24).toString('base64')}`, mode = () => 204, port = 0 } = {}) {
  const wh = new Webhook(secret);
  const attempts = [];
  const messages = [];
  const hung = new Set();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const n = attempts.length;
      let verified = null;
      let error = null;
      try { verified = wh.verify(raw, req.headers); } catch (e) { error = e.message; }
      attempts.push({ headers: req.headers, raw, verified, error });
      const how = error ? 400 : mode(n);
      if (how === 'hang') { hung.add(res); return; }
      if (how >= 200 && how < 300) messages.push({ id: req.headers['webhook-id'], event: verified, raw });
      res.writeHead(how, { 'content-type': 'text/plain' });
      res.end('ok\n');
    });
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    secret,
    url: `http://127.0.0.1:${server.address().port}/hooks/panora?source=test`,
    attempts,
    messages,
    clear: () => { attempts.length = 0; messages.length = 0; },
    close: () => new Promise((resolve) => {
      for (const r of hung) r.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
