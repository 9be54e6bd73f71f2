// serve.test.mjs -- the wasi:http component under the real `wasmtime serve
// -S cli --addr 127.0.0.1:PORT`, over real HTTP: every end-to-end case, the
// forward through wasmtime's own outgoing-handler to a backend that
// verifies each message with the npm `standardwebhooks` package, the
// backend's failures, no sink, the early 413, Panora's rule with axios as
// the sender, and 50 concurrent deliveries.
//
// wasmtime serve makes a new instance per request, where jco serve reuses
// one: what a request leaves behind in memory can never reach the next
// one here, so the checks that leaned on reuse under jco (200 requests
// through one instance, without drift) are run again to show that nothing
// depends on a kept instance either (the forward, the receipt, the arena).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import axios from 'axios';
import { FIELDS } from '../../deploy/host/handler.mjs';
import { within } from '../lib/proc.mjs';
import { WASMTIME_SKIP, wasmtimeServe, wasmtimeServeFails } from '../lib/wasmtime.mjs';
import { everyCase } from '../http/every-case.mjs';
import { backend, forwardId, keepAliveBackend, send } from '../http/serve.mjs';

const HTTP = 'build/panora-webhook-http.wasm';
const SPIN = 'build/panora-webhook-spin.wasm';

// A delivery exactly as Panora makes it, for `row` under `secret`.
function delivery(secret, row, idEvent = crypto.randomUUID(), type = 'connection.created') {
  const data = JSON.stringify(row);
  return {
    headers: { 'panora-signature': crypto.createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex'), 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ id_event: idEvent, data, type })),
    idEvent,
  };
}

// The record a forward must carry for `row` (wit/catcher.wit's fields, in
// Panora's names; null where the row has none; never the credentials).
const recordOf = (row, idEvent) => Object.fromEntries(FIELDS.map(({ name }) => [name, name === 'id_event' ? idEvent : row[name] ?? null]));

// Nothing a server printed may hold a token or one of the secrets.
function assertCleanLog(log, secrets) {
  assert.ok(!log.includes('ctok_'), 'no connection token in the log');
  for (const s of secrets) assert.ok(!log.includes(s), 'no secret in the log');
}

// For the enclosing describe: a verifying backend and `wasmtime serve` of
// the component forwarding to it under `secret`, stopped (and their logs
// checked) after its tests: `.srv` and `.sink` of what it returns are set
// before the first test.
function servedWithForward(secret) {
  const it = {};
  before(async () => {
    it.sink = await backend();
    it.srv = await wasmtimeServe(HTTP, { env: { PANORA_WEBHOOK_SECRET: secret, PANORA_WEBHOOK_FORWARD_URL: it.sink.url, PANORA_WEBHOOK_FORWARD_SECRET: it.sink.secret } });
  });
  after(async () => {
    await it.srv?.stop();
    await it.sink?.close();
    assertCleanLog(it.srv?.log() ?? '', [secret, it.sink?.secret ?? secret]);
  });
  return it;
}

// Every case twice: as wasmtime serve runs a WASIp2 component by default
// (a new instance per request), and with instances kept for 128 requests,
// as the README offers (`--max-instance-reuse-count`): the answers and the
// forwards must not differ.
for (const reuse of [null, '128']) {
  everyCase(`wasi:http component under wasmtime serve${reuse ? `, an instance reused for ${reuse} requests` : ''}: every case, forwarded or refused`,
    (env) => wasmtimeServe(HTTP, { env, flags: reuse ? ['--max-instance-reuse-count', reuse] : [] }), { skip: WASMTIME_SKIP });
}

describe('wasmtime serve: limits, a new instance per request, concurrency', { skip: WASMTIME_SKIP }, () => {
  const secret = 'whsec_wasmtime_limits';
  const on = servedWithForward(secret);

  // Start an upload of 32 MiB, send its first 2 MiB (twice the limit),
  // then hold the rest back and wait: only a server that answers before
  // the body is complete can answer at all. With `declared`, the request
  // says Content-Length: 32 MiB; without it, the body is chunked and the
  // component has to count. The answer comes while the client is idle, so
  // no write of ours races the server's close. Bounded by `within`.
  const heldUpload = (declared) => within(30000, 'held upload', new Promise((resolve, reject) => {
    const headers = declared ? { 'content-length': 32 << 20 } : { 'transfer-encoding': 'chunked' };
    const req = http.request(`${on.srv.base}/panora_webhooks`, { method: 'POST', agent: false, headers }, (res) => {
      res.resume();
      res.on('end', () => { req.destroy(); resolve(res.statusCode); });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.write(Buffer.alloc(2 << 20, 0x20));
  }));

  for (const declared of [true, false]) {
    test(`a 32 MiB upload (${declared ? 'Content-Length' : 'chunked'}) is answered 413 after 2 MiB of it, the rest never sent`, async () => {
      assert.equal(await heldUpload(declared), 413);
    });
  }

  test('200 requests in a row, each in its own instance, each forwarded with its own record', async () => {
    on.sink.clear();
    for (let i = 0; i < 200; i++) {
      const row = { id_connection: `conn-seq-${i}`, connection_token: `ctok_seq_${i}`, id_linked_user: 'u' };
      const r = await send(on.srv.base, delivery(secret, row));
      if (r.status !== 200) assert.fail(`request ${i}: ${r.status} ${r.body}`);
      if (r.body.toString() !== `captured conn-seq-${i} forwarded\n`) assert.fail(`request ${i}: ${r.body}`);
    }
    assert.equal(on.sink.messages.length, 200);
    on.sink.messages.forEach((m, i) => {
      assert.equal(m.id, forwardId(`conn-seq-${i}`));
      assert.equal(m.event.data.connection_token, `ctok_seq_${i}`);
    });
  });

  test('50 concurrent deliveries of distinct connections: each forwarded exactly once', async () => {
    on.sink.clear();
    const rows = Array.from({ length: 50 }, (_, i) => ({
      id_connection: crypto.randomUUID(), connection_token: `ctok_par_${i}_${crypto.randomBytes(6).toString('hex')}`, id_linked_user: `user-${i}`,
    }));
    const sent = rows.map((r) => delivery(secret, r));
    const got = await Promise.all(sent.map((d) => send(on.srv.base, d)));
    got.forEach((g, i) => {
      assert.equal(g.status, 200, g.body.toString());
      assert.equal(g.body.toString(), `captured ${rows[i].id_connection} forwarded\n`);
    });
    assert.equal(on.sink.attempts.length, 50, 'one attempt each');
    assert.equal(on.sink.messages.length, 50);
    const byId = new Map(on.sink.messages.map((m) => [m.id, m]));
    assert.equal(byId.size, 50, 'no connection forwarded twice');
    rows.forEach((r, i) => {
      const m = byId.get(forwardId(r.id_connection));
      assert.ok(m, r.id_connection);
      assert.deepEqual(m.event.data, recordOf(r, sent[i].idEvent));
    });
  });
});

// A backend that keeps connections alive and answers with a body (as
// Express's res.sendStatus(200) does): the forward reads and drops that body,
// so wasmtime's client can reuse or close the connection; nothing piles up.
describe('the forward through wasmtime\'s outgoing-handler lets go of every connection it used', { skip: WASMTIME_SKIP }, () => {
  for (const reuse of [null, '128']) test(`60 deliveries to a keep-alive backend answering 200 "OK"${reuse ? `, one instance for ${reuse} requests` : ''}: at most a couple of connections stay open`, async () => {
    const kept = await keepAliveBackend();
    const secret = `whsec_${crypto.randomBytes(8).toString('hex')}`;
    const srv = await wasmtimeServe(HTTP, { env: {
      PANORA_WEBHOOK_SECRET: secret, PANORA_WEBHOOK_FORWARD_URL: `http://127.0.0.1:${kept.port}/hooks`,
      PANORA_WEBHOOK_FORWARD_SECRET: `whsec_${crypto.randomBytes(24).toString('base64')}`,
    }, flags: reuse ? ['--max-instance-reuse-count', reuse] : [] });
    try {
      const N = 60;
      for (let i = 0; i < N; i++) {
        const row = { id_connection: `keepalive-${i}`, connection_token: `ctok_keepalive_${i}`, id_linked_user: `u-${i}` };
        const d = delivery(secret, row);
        const r = await send(srv.base, { method: 'POST', headers: d.headers, body: d.body });
        assert.equal(r.status, 200, `delivery ${i}: ${r.body}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      console.log(`# ${N} deliveries: ${kept.opened()} backend connections opened, ${kept.open()} still open`);
      assert.ok(kept.open() <= 2, `${kept.open()} connections to the backend are still open after ${N} deliveries`);
    } finally {
      await srv.stop();
      await kept.close();
    }
  });
});

describe('the forward through wasmtime\'s outgoing-handler: a backend that fails, hangs or is missing', { skip: WASMTIME_SKIP }, () => {
  const secret = `whsec_${crypto.randomBytes(8).toString('hex')}`;
  const row = (n) => ({ id_connection: `conn-fwd-${n}`, connection_token: `ctok_fwd_${n}`, id_linked_user: 'user-fwd' });
  const started = [];
  const sinks = [];
  const start = async (env) => {
    const srv = await wasmtimeServe(HTTP, { env: { PANORA_WEBHOOK_SECRET: secret, ...env } });
    started.push(srv);
    return srv;
  };
  const sinkOf = async (opts) => { const b = await backend(opts); sinks.push(b); return b; };
  after(async () => {
    for (const s of started) await s.stop();
    for (const b of sinks) await b.close();
    for (const s of started) assertCleanLog(s.log(), [secret, ...sinks.map((b) => b.secret)]);
  });

  test('a backend that fails once: Panora gets 503, its resend lands exactly once', async () => {
    const sink = await sinkOf({ mode: (n) => (n === 0 ? 500 : 204) });
    const srv = await start({ PANORA_WEBHOOK_FORWARD_URL: sink.url, PANORA_WEBHOOK_FORWARD_SECRET: sink.secret });
    const d = delivery(secret, row(1), 'evt-fwd-1');
    const first = await send(srv.base, d);
    assert.equal(first.status, 503);
    assert.equal(first.headers['content-type'], 'application/json');
    assert.equal(JSON.parse(first.body).error, 'sink_failed');
    assert.ok(!first.body.toString().includes('ctok_'));
    const again = await send(srv.base, d);
    assert.equal(again.status, 200);
    assert.equal(again.body.toString(), 'captured conn-fwd-1 forwarded\n');
    assert.equal(sink.attempts.length, 2);
    assert.equal(sink.messages.length, 1, 'accepted exactly once');
    assert.equal(sink.messages[0].event.data.connection_token, 'ctok_fwd_1');
    assert.equal(sink.attempts[0].headers['webhook-id'], sink.attempts[1].headers['webhook-id'], 'one id per connection');
  });

  test('a backend that answers 4xx: 503, so Panora sends it again', async () => {
    const sink = await sinkOf({ mode: () => 409 });
    const srv = await start({ PANORA_WEBHOOK_FORWARD_URL: sink.url, PANORA_WEBHOOK_FORWARD_SECRET: sink.secret });
    const r = await send(srv.base, delivery(secret, row(2)));
    assert.equal(r.status, 503);
    assert.equal(JSON.parse(r.body).error, 'sink_failed');
    assert.equal(sink.attempts.length, 1);
  });

  test('a backend that never answers: 503 sink_failed, after the timeout and not before', async () => {
    const sink = await sinkOf({ mode: () => 'hang' });
    const timeoutMs = 1500;
    const srv = await start({
      PANORA_WEBHOOK_FORWARD_URL: sink.url, PANORA_WEBHOOK_FORWARD_SECRET: sink.secret, PANORA_WEBHOOK_FORWARD_TIMEOUT_MS: String(timeoutMs),
    });
    const t0 = process.hrtime.bigint();
    const r = await send(srv.base, delivery(secret, row(3)));
    const took = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.equal(r.status, 503);
    assert.equal(JSON.parse(r.body).error, 'sink_failed');
    assert.equal(sink.attempts.length, 1);
    // wasmtime's own timer ends the wait: never an answer before the
    // configured bound (the upper side is the send() deadline, 30 s)
    assert.ok(took >= timeoutMs - 100, `answered after ${took.toFixed(0)} ms`);
    console.log(`# hanging backend, timeout ${timeoutMs} ms: 503 after ${took.toFixed(0)} ms`);
  });

  test('a backend that is not there: 503', async () => {
    const sink = await sinkOf();
    const { url } = sink;
    await sink.close();                                    // nothing listens there now
    const srv = await start({ PANORA_WEBHOOK_FORWARD_URL: url, PANORA_WEBHOOK_FORWARD_SECRET: sink.secret });
    const r = await send(srv.base, delivery(secret, row(4)));
    assert.equal(r.status, 503);
    assert.equal(JSON.parse(r.body).error, 'sink_failed');
  });

  test('no sink configured: a capture gets 500 no_sink; an ignored event still gets its receipt', async () => {
    const srv = await start({});
    const r = await send(srv.base, delivery(secret, row(5)));
    assert.equal(r.status, 500);
    assert.equal(JSON.parse(r.body).error, 'no_sink');
    assert.ok(!r.body.toString().includes('ctok_'));
    const ign = await send(srv.base, delivery(secret, row(5), 'evt-i', 'crm.contact.created'));
    assert.equal(ign.status, 200);
    assert.equal(ign.body.toString(), 'ignored crm.contact.created\n');
  });
});

describe("Panora's own rule under wasmtime serve, axios as the sender", { skip: WASMTIME_SKIP }, () => {
  const secret = `whsec_${crypto.randomBytes(12).toString('hex')}`;
  const on = servedWithForward(secret);

  // deliverWebhook: axios.post of {id_event, data, type}; the answer's
  // parsed data goes into a Prisma String column, so only a string counts.
  async function deliverAsPanora(row, type = 'connection.created') {
    const data = JSON.stringify(row);
    const signature = crypto.createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex');
    const idEvent = crypto.randomUUID();
    const res = await axios.post(`${on.srv.base}/panora_webhooks`, { id_event: idEvent, data, type },
      { headers: { 'Panora-Signature': signature }, timeout: 20000, validateStatus: () => true });
    return { status: res.status, data: res.data, idEvent };
  }
  const row = () => ({
    id_connection: crypto.randomUUID(), status: 'valid', provider_slug: 'hubspot', vertical: 'crm',
    account_url: null, token_type: 'oauth2', access_token: 'enc:provider-access', refresh_token: 'enc:provider-refresh',
    expiration_timestamp: null, created_at: new Date().toISOString(),
    connection_token: `ctok_rule_${crypto.randomBytes(8).toString('hex')}`,
    id_project: crypto.randomUUID(), id_linked_user: crypto.randomUUID(),
  });

  test('a capture: 2xx at the first attempt, a string Panora can store, no token in it; the forward has the record', async () => {
    on.sink.clear();
    const r = row();
    const got = await deliverAsPanora(r);
    assert.equal(got.status, 200);
    assert.equal(typeof got.data, 'string');
    assert.equal(got.data, `captured ${r.id_connection} forwarded\n`);
    assert.ok(!got.data.includes('ctok_') && !got.data.includes('enc:provider'));
    assert.equal(on.sink.messages.length, 1);
    assert.deepEqual(on.sink.messages[0].event.data, recordOf(r, got.idEvent));
  });

  test('an ignored event: the same', async () => {
    const got = await deliverAsPanora(row(), 'crm.contact.created');
    assert.equal(got.status, 200);
    assert.equal(got.data, 'ignored crm.contact.created\n');
  });
});

describe('the Spin flavour does not link on wasmtime serve', { skip: WASMTIME_SKIP }, () => {
  // wasmtime's wasi:config is @0.2.0-rc.1 and matches pre-release versions
  // only exactly: the draft the Spin flavour imports is not there, with or
  // without -S config and -S keyvalue.
  const expected = [
    'Error: component imports instance `wasi:config/store@0.2.0-draft-2024-09-27`, but a matching implementation was not found in the linker',
    '',
    'Caused by:',
    '    0: instance export `get` has the wrong type',
    '    1: function implementation is missing',
  ].join('\n');

  for (const flags of [['-S', 'cli', '-S', 'keyvalue', '-S', 'config'], ['-S', 'cli']]) {
    test(`wasmtime serve ${flags.join(' ')}: exit 1 with the linker's error`, async () => {
      const r = await wasmtimeServeFails(SPIN, { flags });
      assert.equal(r.code, 1);
      assert.equal(r.log.trim(), expected);
    });
  }
});
