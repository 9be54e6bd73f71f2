// panora-api.mjs -- a stand-in for Panora's API and its webhook sender,
// faithful to panoratech/Panora (see ../../../shared/PANORA_PROTOCOL.md):
//
//   GET /connections  (connections.controller.ts, `list`): ApiKeyAuthGuard
//     reads `x-api-key`, no prefix; a missing or unknown key is 401
//     {"message":"Unauthorized","statusCode":401}. The answer is
//     prisma.connections.findMany({ where: { id_project } }) as JSON: every
//     row of the project, all 13 columns, no pagination, no filter, no
//     order; access_token/refresh_token are Panora's AES-256-CBC ciphertext
//     ("ivhex:cipherhex"); connection_token may be null.
//   The sender (webhook.processor.ts): one POST of
//     JSON.stringify({id_event, data, type}) with Panora-Signature, and no
//     second attempt, whatever the answer.
//
//   const api = await startPanoraApi({ apiKey, rows });
//   api.url; api.rows.push(row); api.mode = 'ok' | '500' | 'hang' |
//     'truncate' | 'trickle' | 'malformed'; api.requests (each {path, key});
//   api.streamRows = n (answer n generated rows, streamed, for big lists);
//   await api.close();
import crypto from 'node:crypto';
import http from 'node:http';

const sha = (s, n = 64) => crypto.createHash('sha256').update(s).digest('hex').slice(0, n);
const uuid = (label) => {
  const h = sha(label);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

// A row of Panora's `connections` table, as the API serialises it.
export function panoraRow(label, over = {}) {
  return {
    id_connection: uuid(`conn:${label}`),
    status: 'valid',
    provider_slug: 'hubspot',
    vertical: 'crm',
    account_url: null,
    token_type: 'oauth2',
    access_token: `${sha(`iv:${label}`, 32)}:${sha(`at:${label}`)}`,
    refresh_token: `${sha(`iv2:${label}`, 32)}:${sha(`rt:${label}`)}`,
    expiration_timestamp: '2026-12-31T00:00:00.000Z',
    created_at: new Date().toISOString(),
    connection_token: `ctok_${sha(`token:${label}`, 32)}`,
    id_project: uuid('project'),
    id_linked_user: uuid(`user:${label}`),
    ...over,
  };
}

// The credentials a test must never find in an output, a store or a log.
export const credentialsOf = (row) => [row.access_token, row.refresh_token].filter(Boolean);

export async function startPanoraApi({ apiKey, rows = [] } = {}) {
  const state = { mode: 'ok', rows, requests: [], streamRows: 0 };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const key = req.headers['x-api-key'];
    state.requests.push({ method: req.method, path: url.pathname, key });
    const json = (status, v) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(v));
    };
    if (req.method !== 'GET' || url.pathname !== '/connections') {
      return json(404, { message: `Cannot ${req.method} ${url.pathname}`, error: 'Not Found', statusCode: 404 });
    }
    if (key !== apiKey) return json(401, { message: 'Unauthorized', statusCode: 401 });
    if (state.mode === '500') return json(500, { statusCode: 500, message: 'Internal server error' });
    if (state.mode === 'hang') return;          // never answers; closed by close()
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    if (state.mode === 'malformed') return res.end('{"connections":[]}');
    if (state.streamRows > 0) return streamMany(res, state.streamRows);
    const body = Buffer.from(JSON.stringify(state.rows));
    if (state.mode === 'truncate') {
      // the headers and half the body reach the client, then the connection drops
      return res.write(body.subarray(0, Math.max(1, body.length >> 1)), () => res.socket.destroy());
    }
    if (state.mode === 'trickle') {           // the whole answer, 7 bytes at a time
      let off = 0;
      const t = setInterval(() => {
        if (res.destroyed) return clearInterval(t);
        res.write(body.subarray(off, off + 7));
        off += 7;
        if (off >= body.length) { clearInterval(t); res.end(); }
      }, 2);
      return undefined;
    }
    return res.end(body);
  });
  const sockets = new Set();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  });
}

// n generated rows, written as they are made: a large project's answer
// without holding it in memory here either.
function streamMany(res, n) {
  let i = 0;
  res.write('[');
  const more = () => {
    while (i < n) {
      let chunk = '';
      for (let k = 0; k < 256 && i < n; k++, i++) {
        chunk += (i ? ',' : '') + JSON.stringify(panoraRow(`bulk:${i}`, { created_at: '2026-11-30T00:00:00.000Z' }));
      }
      if (!res.write(chunk)) return res.once('drain', more);
    }
    return res.end(']');
  };
  more();
}

// Panora's queue sender: exactly one POST, no retry, whatever happens.
export async function deliverOnce(url, secret, row, { type = 'connection.created' } = {}) {
  const data = JSON.stringify(row);
  const body = JSON.stringify({ id_event: crypto.randomUUID(), data, type });
  const signature = crypto.createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex');
  try {
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'panora-signature': signature },
      body,
      signal: AbortSignal.timeout(5000),
    });
    return { status: r.status, text: await r.text() };
  } catch (e) {
    return { status: 0, error: e.code ?? e.cause?.code ?? e.name };
  }
}
