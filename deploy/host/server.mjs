// server.mjs -- the reference host: a local webhook endpoint that runs the
// panora:webhook handler component and persists what it captures.
//
//   node deploy/host/server.mjs [--demo]
//
// Environment:
//   PANORA_WEBHOOK_SECRET    endpoint secret(s), comma-separated (required)
//   PANORA_WEBHOOK_DB        SQLite file (default build/panora-webhook.sqlite)
//   PANORA_WEBHOOK_MAX_BODY  body limit in bytes (default and maximum 1 MiB)
//   HOST, PORT               where to listen (default 127.0.0.1:8080)
//
// Every POST goes to the component's `handle` with the secrets. A captured
// record is upserted on id_connection (signed): Panora's retry, or a replay
// of the same data under a new id_event, never makes a second row and never
// changes the first. The sender gets a plain-text receipt for a 2xx
// ("captured <id_connection> new" or "known", "ignored <type>"), never the
// record, and the JSON error body otherwise; a store that fails answers 503
// storage_failed, so that Panora sends the delivery again.
// GET /connections?id_linked_user=... lists what was caught, to loopback
// clients of a loopback listener only. SIGINT/SIGTERM stop accepting, let
// running requests finish, checkpoint the WAL and exit.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from './store.mjs';
import { errorBody, loadHandler, receipt, toHttp } from './handler.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const BODY_MAX = 1024 * 1024;

function config(env) {
  const limit = Number(env.PANORA_WEBHOOK_MAX_BODY || BODY_MAX);
  return {
    host: env.HOST || '127.0.0.1',
    port: Number(env.PORT ?? 8080),
    db: env.PANORA_WEBHOOK_DB || path.join(root, 'build/panora-webhook.sqlite'),
    secret: env.PANORA_WEBHOOK_SECRET ?? '',
    maxBody: Number.isInteger(limit) && limit > 0 && limit <= BODY_MAX ? limit : BODY_MAX,
  };
}

const isLoopback = (addr) => addr === '::1' || /^(::ffff:)?127\./.test(addr ?? '');

export async function startServer(env = process.env, { log = (l) => process.stderr.write(`${l}\n`) } = {}) {
  const cfg = config(env);
  const handle = await loadHandler();
  const store = openStore(cfg.db);
  const secrets = cfg.secret === '' ? [] : [cfg.secret];

  const send = (res, status, body, headers = {}) => {
    const json = Buffer.from(`${JSON.stringify(body)}\n`);
    res.writeHead(status, {
      'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': json.length, ...headers,
    });
    res.end(json);
  };

  const listConnections = (req, res, url) => {
    if (!isLoopback(cfg.host) || !isLoopback(req.socket.remoteAddress)) {
      return send(res, 404, { outcome: 'rejected', error: 'not_found', message: 'not found' });
    }
    const user = url.searchParams.get('id_linked_user');
    if (!user) {
      return send(res, 400, { outcome: 'rejected', error: 'malformed_request', message: 'id_linked_user is required' });
    }
    return send(res, 200, { connections: store.byLinkedUser(user) });
  };

  const sendText = (res, text) => {
    const b = Buffer.from(text);
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'content-length': b.length });
    res.end(b);
  };

  // The sender gets a receipt for a 2xx and the JSON error otherwise; the
  // record itself only ever goes to the store.
  const onWebhook = (req, res, body) => {
    const headers = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
    const answer = toHttp(handle({ method: req.method, headers, body }, secrets));
    if (answer.outcome === 'rejected') {
      log(JSON.stringify(answer.log));
      return send(res, answer.status, errorBody(answer), answer.status === 405 ? { allow: 'POST' } : {});
    }
    let kept = null;
    if (answer.record) {
      try {
        kept = store.upsert(answer.record) ? 'new' : 'known';
      } catch {
        const failed = { status: 503, outcome: 'rejected', error: 'storage_failed', message: 'the record could not be stored; Panora will send it again' };
        log(JSON.stringify({ ...answer.log, outcome: 'rejected', http: 503, error: 'storage_failed' }));
        return send(res, 503, errorBody(failed));
      }
    }
    log(JSON.stringify(answer.log));
    return sendText(res, receipt(answer, kept));
  };

  // Answer 413 at once, read nothing more, and drop the connection once the
  // answer is out (the client may still be sending).
  const tooLarge = (req, res) => {
    const answer = toHttp({ failure: { code: 'payload-too-large', httpStatus: 413, message: 'body is larger than the configured limit' } });
    log(JSON.stringify(answer.log));
    req.pause();
    res.on('finish', () => req.destroy());
    send(res, 413, errorBody(answer), { connection: 'close' });
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/connections') return listConnections(req, res, url);
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
      if (size > cfg.maxBody) {              // stop buffering at the limit
        if (!res.headersSent) tooLarge(req, res);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!res.headersSent) onWebhook(req, res, Buffer.concat(chunks, size));
    });
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, resolve);
  });

  let closing;
  const close = () => {
    closing ??= new Promise((resolve) => {
      server.close(() => { store.close(); resolve(); });
      server.closeIdleConnections();
    });
    return closing;
  };
  return { server, cfg, store, close, address: server.address() };
}

// ---------------------------------------------------------------- command line
async function main() {
  const demo = process.argv.includes('--demo');
  const env = { ...process.env };
  if (demo) {
    const { prepareDemo } = await import('./demo.mjs');
    Object.assign(env, prepareDemo(env));
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
  if (demo) (await import('./demo.mjs')).printDemo(base);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, async () => {
      console.log(`\n${sig}: finishing requests, closing ${srv.cfg.db}`);
      await srv.close();
      process.exit(0);
    });
  }
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main();
}
