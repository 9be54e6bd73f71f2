// server.mjs -- the reference host: a webhook endpoint that runs the
// panora:webhook handler component and keeps what it captures in SQLite.
//
//   node deploy/host/server.mjs [--demo]
//
// Environment:
//   PANORA_WEBHOOK_SECRET       endpoint secret(s), comma-separated (required)
//   PANORA_WEBHOOK_DB           SQLite file (default build/panora-webhook.sqlite)
//   PANORA_WEBHOOK_MAX_BODY     body limit in bytes (default and maximum 1 MiB)
//   PANORA_WEBHOOK_LISTING      "1" serves GET /connections (off by default)
//   PANORA_WEBHOOK_LISTING_TOKEN the bearer token the listing asks for
//                               (default: a random one, printed at start)
//   PANORA_WEBHOOK_MAX_CONNECTIONS   open connections at once (default 512)
//   PANORA_WEBHOOK_HEADERS_TIMEOUT_MS  time to send the headers (default 10000)
//   PANORA_WEBHOOK_REQUEST_TIMEOUT_MS  time to send the whole request (default 30000)
//   PANORA_WEBHOOK_SHUTDOWN_GRACE_MS   what running requests get on SIGTERM (default 5000)
//   HOST, PORT                  where to listen (default 127.0.0.1:8080)
//   PANORA_API_KEY, PANORA_API_URL, PANORA_WEBHOOK_CATCHUP_INTERVAL_S
//                               the catch-up from Panora's API (catchup.mjs)
//
// Every POST goes to the component's `handle` with the secrets. A captured
// record is upserted on id_connection (signed): Panora's retry, or a replay
// of the same data under a new id_event, never makes a second row and never
// changes the first. The sender gets the component's plain-text receipt
// for a 2xx ("captured <id_connection> new" or "known", "ignored <type>"),
// never the record, and the JSON error body otherwise; a store that fails
// answers 503 storage_failed: the record is not acknowledged (Panora
// retries ecommerce once; the catch-up brings back the rest).
//
// Hostile traffic: no request of any shape ends the process; the store
// waits at most STORE_BUSY_MS for a lock; connections are capped and every
// phase of a request has a deadline; a body over the limit is refused
// before it is read (Expect: 100-continue, or Content-Length) or as soon as
// it passes the limit, and the 413 is sent before the connection closes.
// SIGINT/SIGTERM: stop accepting, give running requests the grace period,
// close every connection, checkpoint the WAL and exit, within 15 s.
import crypto from 'node:crypto';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from './store.mjs';
import { errorBody, loadHandler, toHttp } from './handler.mjs';
import { catchupConfig, startCatchup } from './catchup.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const BODY_MAX = 1024 * 1024;
const STORE_BUSY_MS = 250;          // the longest a write waits for the lock
const DRAIN_MAX = 4 * BODY_MAX;     // what is read and dropped after a 413
const DRAIN_MS = 2000;

const intIn = (v, lo, hi, dflt) => {
  const n = Number(v);
  return v !== undefined && v !== '' && Number.isInteger(n) && n >= lo && n <= hi ? n : dflt;
};

function config(env) {
  return {
    host: env.HOST || '127.0.0.1',
    port: Number(env.PORT ?? 8080),
    db: env.PANORA_WEBHOOK_DB || path.join(root, 'build/panora-webhook.sqlite'),
    secret: env.PANORA_WEBHOOK_SECRET ?? '',
    maxBody: intIn(env.PANORA_WEBHOOK_MAX_BODY, 1, BODY_MAX, BODY_MAX),
    listing: env.PANORA_WEBHOOK_LISTING === '1',
    listingToken: env.PANORA_WEBHOOK_LISTING_TOKEN || crypto.randomBytes(24).toString('base64url'),
    maxConnections: intIn(env.PANORA_WEBHOOK_MAX_CONNECTIONS, 1, 65536, 512),
    headersTimeout: intIn(env.PANORA_WEBHOOK_HEADERS_TIMEOUT_MS, 100, 600000, 10000),
    requestTimeout: intIn(env.PANORA_WEBHOOK_REQUEST_TIMEOUT_MS, 100, 600000, 30000),
    grace: intIn(env.PANORA_WEBHOOK_SHUTDOWN_GRACE_MS, 0, 10000, 5000),
  };
}

const LOOPBACK_NAMES = new Set(['localhost', 'localhost.', 'ip6-localhost', '::1', '[::1]']);
const isLoopback = (addr) => LOOPBACK_NAMES.has(addr ?? '') || /^(::ffff:)?127\./.test(addr ?? '');

// Headers that a proxy or a CDN adds on the way in: a request that carries
// one came through something that makes any client look local.
const PROXY_HEADERS = new Set(['forwarded', 'via', 'x-real-ip', 'true-client-ip', 'cf-connecting-ip',
  'x-client-ip', 'x-cluster-client-ip', 'fastly-client-ip', 'client-ip']);
const isProxied = (headers) => Object.keys(headers).some((h) => PROXY_HEADERS.has(h)
  || h.startsWith('x-forwarded-') || h.startsWith('forwarded-') || h.startsWith('x-original-forwarded'));

// `Authorization: Bearer <token>`, compared in constant time.
function hasBearer(req, token) {
  const m = /^Bearer ([^\s]+)$/.exec(req.headers.authorization ?? '');
  const got = Buffer.from(m ? m[1] : '');
  const want = Buffer.from(token);
  return got.length === want.length && crypto.timingSafeEqual(got, want);
}

// The path of a request target, whatever its shape: Node's parser accepts
// targets (`//`, `//a:b@`, `http://[/`) that the URL class refuses.
function targetOf(raw) {
  try {
    const u = new URL(raw, 'http://localhost');
    return { path: u.pathname, query: u.searchParams };
  } catch {
    return { path: null, query: new URLSearchParams() };
  }
}

// A log line is JSON, and JSON.stringify leaves C1 controls, the line and
// paragraph separators and the bidirectional overrides and isolates raw,
// any of which can make a terminal or log viewer show a line that is not
// there. They stand only inside strings, where \uXXXX means the same.
const SPOOFING = /[\u0080-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
export const safeLine = (line) => line.replace(SPOOFING, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

export async function startServer(env = process.env, { log: write = (l) => process.stderr.write(`${l}\n`), catchup: catchupOpts } = {}) {
  const log = (line) => write(safeLine(line));
  const cfg = config(env);
  const catchupCfg = catchupConfig(env);          // a bad setting refuses to start
  const handler = await loadHandler();
  const store = openStore(cfg.db, { busyTimeout: STORE_BUSY_MS });
  const secrets = cfg.secret === '' ? [] : [cfg.secret];

  const send = (res, status, body, headers = {}) => {
    if (res.headersSent || res.destroyed) return;
    const json = Buffer.from(`${JSON.stringify(body)}\n`);
    res.writeHead(status, {
      'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': json.length, ...headers,
    });
    res.end(json);
  };
  const sendText = (res, text) => {
    if (res.headersSent || res.destroyed) return;
    const b = Buffer.from(text);
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'content-length': b.length });
    res.end(b);
  };
  const notFound = (res) => send(res, 404, { outcome: 'rejected', error: 'not_found', message: 'not found' });

  // A local development aid, off unless asked for: it hands out tokens, so
  // it answers only a loopback client of a loopback listener that shows the
  // listing token, and never a request that came through a proxy (which
  // would make any client look local). Every refusal is the same 404.
  const listConnections = (req, res, query) => {
    if (!cfg.listing || isProxied(req.headers) || !isLoopback(cfg.host) || !isLoopback(req.socket.remoteAddress)
      || !hasBearer(req, cfg.listingToken)) {
      return notFound(res);
    }
    const user = query.get('id_linked_user');
    if (!user) {
      return send(res, 400, { outcome: 'rejected', error: 'malformed_request', message: 'id_linked_user is required' });
    }
    return send(res, 200, { connections: store.byLinkedUser(user) });
  };

  // The sender gets a receipt for a 2xx and the JSON error otherwise; the
  // record itself only ever goes to the store.
  const onWebhook = (req, res, body) => {
    const headers = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
    const result = handler.handle({ method: req.method, headers, body }, secrets);
    const answer = toHttp(result);
    if (answer.outcome === 'rejected') {
      log(JSON.stringify(answer.log));
      return send(res, answer.status, errorBody(answer), answer.status === 405 ? { allow: 'POST' } : {});
    }
    let kept = null;
    if (answer.record) {
      try {
        kept = store.upsert(answer.record) ? 'new' : 'known';
      } catch (e) {
        const failed = { outcome: 'rejected', error: 'storage_failed', message: 'the record could not be stored, so it is not acknowledged' };
        log(JSON.stringify({ ...answer.log, outcome: 'rejected', http: 503, error: 'storage_failed', store: e.code ?? 'error' }));
        return send(res, 503, failed);
      }
    }
    log(JSON.stringify(answer.log));
    return sendText(res, handler.receipt(result.outcome, kept));
  };

  // Answer 413, then read on and drop a bounded amount so that the client,
  // still sending, reads the answer instead of a reset; then close.
  const tooLarge = (req, res) => {
    const answer = toHttp({ failure: { code: 'payload-too-large', httpStatus: 413, message: 'body is larger than the configured limit' } });
    log(JSON.stringify(answer.log));
    let drained = 0;
    const cut = () => req.destroy();
    const timer = setTimeout(cut, DRAIN_MS);
    timer.unref();
    req.removeAllListeners('data');
    req.on('data', (chunk) => {
      drained += chunk.length;
      if (drained > DRAIN_MAX) cut();
    });
    req.on('end', () => clearTimeout(timer));
    req.on('close', () => clearTimeout(timer));
    req.resume();
    send(res, 413, errorBody(answer), { connection: 'close' });
  };

  const onRequest = (req, res) => {
    const target = targetOf(req.url);
    if (req.method === 'GET' && target.path === '/connections') return listConnections(req, res, target.query);
    if (req.method !== 'POST') {
      req.resume();
      return onWebhook(req, res, new Uint8Array(0));
    }
    const declared = Number(req.headers['content-length']);
    if (declared > cfg.maxBody) return tooLarge(req, res);   // before reading a byte
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > cfg.maxBody) return tooLarge(req, res);  // stop buffering at the limit
      return chunks.push(chunk);
    });
    req.on('end', () => {
      if (size <= cfg.maxBody) onWebhook(req, res, Buffer.concat(chunks, size));
    });
    return undefined;
  };

  const server = http.createServer({
    headersTimeout: cfg.headersTimeout,
    requestTimeout: cfg.requestTimeout,
    keepAliveTimeout: 5000,
    connectionsCheckingInterval: Math.min(1000, cfg.headersTimeout),
  }, (req, res) => {
    try {
      onRequest(req, res);
    } catch (e) {
      // no request of any shape may end the process
      log(JSON.stringify({ outcome: 'rejected', http: 500, error: 'internal_error', what: String(e?.code ?? e?.name ?? 'error') }));
      send(res, 500, { outcome: 'rejected', error: 'internal_error', message: 'the request could not be handled' });
    }
  });
  server.maxConnections = cfg.maxConnections;
  server.maxRequestsPerSocket = 100;
  // A body over the limit announced with Expect: 100-continue is refused
  // before the client sends it.
  server.on('checkContinue', (req, res) => {
    if (Number(req.headers['content-length']) > cfg.maxBody) return tooLarge(req, res);
    res.writeContinue();
    return server.emit('request', req, res);
  });
  // Headers past Node's limit (16 KiB in all) are 431; anything else the
  // parser refuses is 400. Node has stopped reading the request either way,
  // so the connection is closed after the answer: a client still sending
  // its headers may see a reset instead of the answer.
  server.on('clientError', (err, socket) => {
    if (socket.writable && !socket.writableEnded) {
      socket.end(err?.code === 'HPE_HEADER_OVERFLOW'
        ? 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'
        : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
    socket.destroy();
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, resolve);
  });

  const catchup = catchupCfg && startCatchup(catchupCfg, { store, log, ...catchupOpts });

  let closing;
  // Stop accepting; running requests get `grace` ms; then every connection
  // is closed, whatever its client does, and the WAL is checkpointed.
  const close = () => {
    closing ??= Promise.resolve(catchup?.stop()).then(() => new Promise((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        try { store.close(); } catch (e) { log(JSON.stringify({ shutdown: 'store close failed', what: String(e?.code ?? e) })); }
        resolve();
      };
      server.close(finish);
      server.closeIdleConnections();
      const cut = setTimeout(() => { server.closeAllConnections(); }, cfg.grace);
      cut.unref();
      const last = setTimeout(finish, cfg.grace + 2000);   // even if close never calls back
      last.unref();
    }));
    return closing;
  };
  return { server, cfg, store, catchup, close, address: server.address() };
}

// ---------------------------------------------------------------- command line
async function main() {
  const demo = process.argv.includes('--demo');
  const env = { ...process.env };
  if (demo) {
    const { prepareDemo, startDemoApi } = await import('./demo.mjs');
    Object.assign(env, prepareDemo(env));
    Object.assign(env, await startDemoApi(env));
  }
  if (!env.PANORA_WEBHOOK_SECRET) {
    console.error('server: set PANORA_WEBHOOK_SECRET (the endpoint secret from Panora\'s dashboard)');
    process.exit(2);
  }
  let srv;
  try {
    srv = await startServer(env);
  } catch (e) {
    if (e.code === 'EADDRINUSE') console.error(`server: ${env.HOST || '127.0.0.1'}:${env.PORT || 8080} is in use; set PORT to another port`);
    else console.error(`server: ${e.message}`);
    process.exit(1);
  }
  const { address, port } = srv.address;
  const base = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  console.log(`panora-webhook reference host listening on ${base} (SQLite: ${srv.cfg.db})`);
  const cu = catchupConfig(env);
  console.log(cu ? `catch-up: ${cu.endpoint} now and every ${cu.intervalMs / 1000} s`
    : 'catch-up: off (set PANORA_API_KEY to fetch back what a missed delivery did not bring)');
  if (srv.cfg.listing && !env.PANORA_WEBHOOK_LISTING_TOKEN) {
    console.log(`GET /connections is on (loopback only); it asks for Authorization: Bearer ${srv.cfg.listingToken}`);
  }
  if (demo) {
    await srv.catchup?.runOnce();          // the instructions show its outcome
    (await import('./demo.mjs')).printDemo(base, srv.cfg.listing ? srv.cfg.listingToken : null);
  }
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, async () => {
      console.log(`\n${sig}: finishing requests (at most ${srv.cfg.grace} ms), closing ${srv.cfg.db}`);
      // whatever happens, the process is gone 12 s after the signal
      setTimeout(() => process.exit(1), 12000).unref();
      await srv.close();
      process.exit(0);
    });
  }
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main();
}
