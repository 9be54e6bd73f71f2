// forward.test.mjs -- the forward sink against the backends and networks a
// new user meets, over the real path: a signed delivery to the wasi:http
// component under `jco serve`, its forward to a real socket on loopback.
//
// - A keep-alive backend that answers with a body (as Express's
//   `res.sendStatus(200)` does): after many deliveries the backend holds
//   at most a couple of open connections and jco's processes hold no more
//   descriptors than after the first few.
// - Each way a forward can fail names its cause: the sentence Panora gets,
//   and the host's error-code case in the log line; never the URL's path
//   or query, never a token or a secret.
// - A URL that cannot work is 500 no_sink before anything is sent.
// - The component's list of error-code cases is the WIT's, in its order.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { within } from '../lib/proc.mjs';
import { backend, keepAliveBackend, send, serve } from './serve.mjs';

const HTTP = 'build/panora-webhook-http.wasm';
const SECRET = `whsec_${crypto.randomBytes(8).toString('hex')}`;
const FWD_SECRET = `whsec_${crypto.randomBytes(24).toString('base64')}`;
const QUERY = 'source=leaky-query-text';

// A delivery exactly as Panora makes it.
function delivery(n) {
  const data = JSON.stringify({ id_connection: `conn-f-${n}`, connection_token: `ctok_f_${n}`, id_linked_user: 'user-f' });
  return {
    headers: { 'panora-signature': crypto.createHmac('sha256', SECRET).update(JSON.stringify(data)).digest('hex'), 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ id_event: crypto.randomUUID(), data, type: 'connection.created' })),
  };
}

// The log lines jco serve's stderr holds, as JSON, one per delivery.
const logLines = (srv) => srv.log().split('\n').filter((l) => l.startsWith('{"outcome"')).map((l) => JSON.parse(l));

// The log line of the n-th delivery (from 1), once jco has passed it on.
const logLine = (srv, n) => within(10000, `log line ${n}`, new Promise((resolve) => {
  const poll = setInterval(() => {
    const lines = logLines(srv);
    if (lines.length >= n) { clearInterval(poll); resolve(lines[n - 1]); }
  }, 20);
}));

// Descriptors held by every process of a group (jco serve and its listener).
function groupFds(pgid) {
  let n = 0;
  for (const p of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) n += fs.readdirSync(`/proc/${p}/fd`).length;
    } catch { /* gone meanwhile */ }
  }
  return n;
}

// A raw TCP backend: `onSocket` decides what each connection gets.
async function rawBackend(onSocket) {
  const sockets = new Set();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onSocket(s);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

const started = [];
const closers = [];
after(async () => {
  for (const s of started) await s.stop();
  for (const c of closers) await c();
  for (const s of started) {
    assert.ok(!s.log().includes('ctok_'), 'no token in the log');
    assert.ok(!s.log().includes(FWD_SECRET) && !s.log().includes(SECRET), 'no secret in the log');
    assert.ok(!s.log().includes(QUERY), 'the URL\'s query is never logged');
  }
});
const start = async (env, opts) => {
  const srv = await serve(HTTP, { PANORA_WEBHOOK_SECRET: SECRET, PANORA_WEBHOOK_FORWARD_SECRET: FWD_SECRET, ...env },
    `forward${started.length}`, [], opts);
  started.push(srv);
  return srv;
};

describe('the forward lets go of every connection it used', () => {
  test('a keep-alive backend that answers 200 with a body: no socket or descriptor piles up', async () => {
    const kept = await keepAliveBackend();
    closers.push(kept.close);
    const srv = await start({ PANORA_WEBHOOK_FORWARD_URL: `http://127.0.0.1:${kept.port}/hooks?${QUERY}` });

    const N = 40;
    for (let i = 0; i < 3; i++) {
      const r = await send(srv.base, delivery(i));
      assert.equal(r.status, 200, r.body.toString());
    }
    const fdsAfterWarmup = groupFds(srv.pgid);
    for (let i = 3; i < N; i++) {
      const r = await send(srv.base, delivery(i));
      assert.equal(r.status, 200, `delivery ${i}: ${r.body}`);
    }
    const fdsAfter = groupFds(srv.pgid);
    console.log(`# ${N} deliveries: ${kept.opened()} backend connections opened, ${kept.open()} still open; `
      + `jco descriptors ${fdsAfterWarmup} after 3, ${fdsAfter} after ${N}`);
    assert.ok(kept.open() <= 2, `${kept.open()} connections to the backend are still open after ${N} deliveries`);
    assert.ok(fdsAfter - fdsAfterWarmup <= 4, `jco's processes went from ${fdsAfterWarmup} to ${fdsAfter} descriptors`);
  });
});

describe('a failed forward names its cause: 503 sink_failed, the sentence, the case in the log', () => {
  const check = async (srv, sentence, cause) => {
    const r = await send(srv.base, delivery(crypto.randomUUID()));
    assert.equal(r.status, 503, r.body.toString());
    const body = JSON.parse(r.body);
    assert.equal(body.error, 'sink_failed');
    assert.equal(body.message, sentence);
    const line = await logLine(srv, 1);
    assert.equal(line.error, 'sink_failed');
    assert.ok(cause.includes(line.cause), `log cause ${line.cause}, expected one of ${cause}`);
  };

  test('a closed port: connection refused', async () => {
    const port = await new Promise((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    });
    const srv = await start({ PANORA_WEBHOOK_FORWARD_URL: `http://127.0.0.1:${port}/x?${QUERY}` });
    await check(srv, 'the forward failed: connection refused', ['connection-refused']);
  });

  test('a reset as soon as the request arrives: the backend closed the connection', async () => {
    const b = await rawBackend((s) => s.once('data', () => s.resetAndDestroy()));
    closers.push(b.close);
    const srv = await start({ PANORA_WEBHOOK_FORWARD_URL: `http://127.0.0.1:${b.port}/x?${QUERY}` });
    // jco's client reports a reset as HTTP-protocol-error; wasmtime's as
    // connection-terminated or HTTP-protocol-error
    await check(srv, 'the forward failed: the backend closed the connection or broke HTTP', ['HTTP-protocol-error']);
  });

  test('a close in the middle of the headers: the backend closed the connection', async () => {
    const b = await rawBackend((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Ty')));
    closers.push(b.close);
    const srv = await start({ PANORA_WEBHOOK_FORWARD_URL: `http://127.0.0.1:${b.port}/x?${QUERY}` });
    await check(srv, 'the forward failed: the backend closed the connection or broke HTTP', ['HTTP-protocol-error']);
  });

  test('https against a plain HTTP port: the host\'s client fails (jco reports no TLS case)', async () => {
    const sink = await backend({ secret: FWD_SECRET });
    closers.push(sink.close);
    const srv = await start({ PANORA_WEBHOOK_FORWARD_URL: sink.url.replace('http://', 'https://') });
    // jco's client surfaces OpenSSL's "wrong version number" as
    // internal-error; a host that reports TLS-protocol-error gets "TLS failed"
    await check(srv, 'the forward failed: the host\'s HTTP client failed', ['internal-error']);
  });

  test('a host name that does not resolve (forward.invalid): DNS lookup failed', async (t) => {
    // The lookup stays on this machine: jco runs in a mount namespace whose
    // nsswitch.conf resolves host names from files only, so getaddrinfo
    // answers "no such name" without asking a name server.
    const dir = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'pw-nss-'));
    closers.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'nsswitch.conf'), 'hosts: files\n');
    const probe = spawnSync('unshare', ['-m', 'sh', '-c', `mount --bind ${dir}/nsswitch.conf /etc/nsswitch.conf && getent hosts forward.invalid; echo $?`], { encoding: 'utf8' });
    if (probe.status !== 0 || probe.stdout.trim() !== '2') {
      t.skip(`no private mount namespace here (unshare: ${probe.stderr.trim() || probe.stdout.trim()})`);
      return;
    }
    const srv = await start({ PANORA_WEBHOOK_FORWARD_URL: `http://forward.invalid:8080/x?${QUERY}` }, {
      prefix: ['unshare', '-m', 'sh', '-c', `mount --bind ${dir}/nsswitch.conf /etc/nsswitch.conf && exec "$@"`, 'sh'],
    });
    await check(srv, 'the forward failed: DNS lookup failed', ['DNS-error']);
  });

  test('a backend that never answers: no answer within the timeout', async () => {
    const b = await rawBackend(() => {});
    closers.push(b.close);
    const srv = await start({ PANORA_WEBHOOK_FORWARD_URL: `http://127.0.0.1:${b.port}/x?${QUERY}`, PANORA_WEBHOOK_FORWARD_TIMEOUT_MS: '800' });
    // whichever ends the wait first: our deadline, or the host's own timeout
    await check(srv, 'the forward got no answer within 800 ms', ['deadline', 'connection-timeout', 'HTTP-response-timeout']);
  });

  test('a backend that answers 4xx: the status sentence, and no cause in the log', async () => {
    const sink = await backend({ secret: FWD_SECRET, mode: () => 409 });
    closers.push(sink.close);
    const srv = await start({ PANORA_WEBHOOK_FORWARD_URL: sink.url });
    const r = await send(srv.base, delivery('4xx'));
    assert.equal(r.status, 503);
    assert.equal(JSON.parse(r.body).message, 'the forward was answered with a non-2xx status');
    const line = await logLine(srv, 1);
    assert.equal(line.error, 'sink_failed');
    assert.equal(line.cause, undefined);
  });
});

describe('a forward URL that cannot work: 500 no_sink, before anything is sent', () => {
  test('bad ports, an empty host, characters no URL allows, an IPv6 literal', async () => {
    const sink = await backend({ secret: FWD_SECRET });
    closers.push(sink.close);
    const port = new URL(sink.url).port;
    const bad = [
      [`http://127.0.0.1:0/x`, /port is not a number from 1 to 65535/],
      [`http://127.0.0.1:65536/x`, /port is not a number from 1 to 65535/],
      [`http://127.0.0.1:${port}0000/x`, /port is not a number from 1 to 65535/],
      [`http://127.0.0.1:http/x`, /port is not a number from 1 to 65535/],
      [`http://:${port}/x`, /host is empty or not a host name/],
      [`http:///x`, /host is empty or not a host name/],
      [`http://127.0.0.1:${port}/a<b>`, /a character no URL allows/],
      [`http://127.0.0.1:${port}/a|b`, /a character no URL allows/],
      [`http://[::1]:${port}/x`, /IPv6 literal, which is not supported/],
    ];
    for (const [url, why] of bad) {
      const srv = await start({ PANORA_WEBHOOK_FORWARD_URL: url });
      const r = await send(srv.base, delivery('bad-url'));
      assert.equal(r.status, 500, url);
      const body = JSON.parse(r.body);
      assert.equal(body.error, 'no_sink', url);
      assert.match(body.message, why, url);
      await srv.stop();
    }
    assert.equal(sink.attempts.length, 0, 'nothing was sent');
  });

  test('a query and no path (http://h:port?x=1) is forwarded to "/?x=1"', async () => {
    const seen = [];
    const server = http.createServer((req, res) => { seen.push(req.url); req.resume(); req.on('end', () => res.end('ok')); });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
    const srv = await start({ PANORA_WEBHOOK_FORWARD_URL: `http://127.0.0.1:${server.address().port}?x=1` });
    const r = await send(srv.base, delivery('query'));
    assert.equal(r.status, 200, r.body.toString());
    assert.deepEqual(seen, ['/?x=1']);
  });
});

describe('the error-code cases the forward names', () => {
  test('are the cases of wasi:http/types@0.2.0 error-code in the WIT the build derives, in order', () => {
    const wit = fs.readFileSync('build/wit/proxy/deps/http/package.wit', 'utf8');
    const start = wit.indexOf('variant error-code {');
    assert.ok(start >= 0, 'the derived WIT has the error-code variant');
    const body = wit.slice(start, wit.indexOf('}', start));
    const fromWit = body.split('\n').slice(1).map((l) => l.trim())
      .filter((l) => l && !l.startsWith('//')).map((l) => l.replace(/[(,].*$/, ''));
    const src = fs.readFileSync('function/forward.c', 'utf8');
    const table = src.slice(src.indexOf('#define ERROR_CODES(X)'), src.indexOf('/* What went wrong'));
    const fromC = [...table.matchAll(/X\("([^"]+)"/g)].map((m) => m[1]);
    assert.ok(fromWit.length > 30, `${fromWit.length} cases read from the WIT`);
    assert.deepEqual(fromC, fromWit);
  });
});
