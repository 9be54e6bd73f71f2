// http.test.mjs -- the wasi:http components under `jco serve` (a real HTTP
// server on loopback), driven by a real HTTP client. Every end-to-end case
// goes through the portable component with its forward sink pointed at a
// local backend that verifies each message with the npm standardwebhooks
// package: captures must arrive there, exactly once, as Node decoded them,
// while Panora only gets a receipt. Refusals must match the WAGI module's.
// The Spin flavour's secrets and store are mapped to small test modules;
// the components must import exactly what they use; the Spin manifest must
// hold together.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { everyCase } from './every-case.mjs';
import { within } from '../lib/proc.mjs';
import { backend, forwardId, send, serve } from './serve.mjs';

const JCO = 'node_modules/@bytecodealliance/jco/dist/jco.js';
const HTTP = 'build/panora-webhook-http.wasm';
const SPIN = 'build/panora-webhook-spin.wasm';
const TEXT = 'text/plain; charset=utf-8';

everyCase('wasi:http component under jco serve: every case, forwarded or refused', (env) => serve(HTTP, env, 'http'));

describe('wasi:http component: limits and reuse', () => {
  const secret = 'whsec_http_limits';
  let srv;
  let sink;
  before(async () => {
    sink = await backend();
    srv = await serve(HTTP, { PANORA_WEBHOOK_SECRET: secret, PANORA_WEBHOOK_FORWARD_URL: sink.url, PANORA_WEBHOOK_FORWARD_SECRET: sink.secret }, 'http');
  });
  after(async () => { await srv?.stop(); await sink?.close(); });

  // Stream `total` bytes. Settles on every path: with the status and how
  // much had been written when the answer arrived, or, when the server's
  // close reset the connection before the answer could be read, with
  // status null and how much had been written by then.
  const upload = (total) => within(60000, 'upload', new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(64 << 10, 0x20);
    let sent = 0;
    let done = false;
    const settle = (r) => { if (!done) { done = true; resolve(r); } };
    const req = http.request(`${srv.base}/`, { method: 'POST', agent: false, headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      res.resume();
      settle({ status: res.statusCode, sentBeforeAnswer: sent });
    });
    req.on('error', (e) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    req.on('close', () => settle({ status: null, sentBeforeAnswer: sent }));
    const pump = () => {
      while (sent < total && !done) {
        sent += chunk.length;
        if (!req.write(chunk)) return req.once('drain', pump);
      }
      return done ? undefined : req.end();
    };
    pump();
  }));

  // The answer is what is proved; a reset that beats it to the client says
  // nothing either way, so it is tried again, a bounded number of times.
  const uploadAnswered = async (total) => {
    const tries = [];
    for (let i = 0; i < 5; i++) {
      const r = await upload(total);
      tries.push(r);
      if (r.status !== null) return { ...r, tries };
    }
    return assert.fail(`no answer was readable in 5 uploads: ${JSON.stringify(tries)}`);
  };

  test('a 2 MiB body gets 413', async () => {
    assert.equal((await uploadAnswered(2 << 20)).status, 413);
  });

  test('a 32 MiB body is answered 413 long before the client has sent it', async () => {
    // the component stops reading just past 1 MiB; what the client can
    // still push is only what the loopback socket buffers hold (about
    // 5 MB here), far below half of it
    const r = await uploadAnswered(32 << 20);
    assert.equal(r.status, 413);
    for (const t of r.tries) {
      assert.ok(t.sentBeforeAnswer < (16 << 20), `answered or reset after ${t.sentBeforeAnswer} bytes`);
    }
  });

  test('one instance serves many requests without drifting', async () => {
    const data = JSON.stringify({ id_connection: 'c', connection_token: 'ctok', id_linked_user: 'u' });
    const body = Buffer.from(JSON.stringify({ id_event: 'e', data, type: 'connection.created' }));
    const sig = crypto.createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex');
    for (let i = 0; i < 200; i++) {
      const r = await send(srv.base, { headers: { 'panora-signature': sig, 'content-type': 'application/json' }, body });
      if (r.status !== 200) assert.fail(`request ${i}: ${r.status} ${r.body}`);
    }
    assert.equal(sink.messages.length, 200);
    assert.ok(sink.messages.every((m) => m.id === forwardId('c') && m.event.data.connection_token === 'ctok'));
  });
});

// A delivery exactly as Panora makes it, for `row` under `secret`.
function delivery(secret, row, idEvent = crypto.randomUUID(), type = 'connection.created') {
  const data = JSON.stringify(row);
  return {
    headers: { 'panora-signature': crypto.createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex'), 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ id_event: idEvent, data, type })),
  };
}

describe('the forward sink: what reaches Panora when the backend fails, hangs or is missing', () => {
  const secret = `whsec_${crypto.randomBytes(8).toString('hex')}`;
  const row = (n) => ({ id_connection: `conn-fwd-${n}`, connection_token: `ctok_fwd_${n}`, id_linked_user: 'user-fwd' });
  const started = [];
  const start = async (env) => {
    const srv = await serve(HTTP, { PANORA_WEBHOOK_SECRET: secret, ...env }, `fwd${started.length}`);
    started.push(srv);
    return srv;
  };
  const sinks = [];
  const sinkOf = async (opts) => { const b = await backend(opts); sinks.push(b); return b; };
  after(async () => {
    for (const s of started) await s.stop();
    for (const b of sinks) await b.close();
    for (const s of started) {
      assert.ok(!s.log().includes('ctok_'), 'no token in the log');
      for (const b of sinks) assert.ok(!s.log().includes(b.secret), 'no forward secret in the log');
    }
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
    const again = await send(srv.base, d);                 // Panora's one retry, same body
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
  });

  test('a backend that never answers: 503 within the bound', async () => {
    const sink = await sinkOf({ mode: () => 'hang' });
    const srv = await start({
      PANORA_WEBHOOK_FORWARD_URL: sink.url, PANORA_WEBHOOK_FORWARD_SECRET: sink.secret, PANORA_WEBHOOK_FORWARD_TIMEOUT_MS: '1500',
    });
    const t0 = Date.now();
    const r = await send(srv.base, delivery(secret, row(3)));
    const took = Date.now() - t0;
    assert.equal(r.status, 503);
    assert.equal(JSON.parse(r.body).error, 'sink_failed');
    assert.equal(sink.attempts.length, 1);
    assert.ok(took >= 1400 && took < 10000, `answered after ${took} ms`);
  });

  test('a backend that is not there: 503', async () => {
    const sink = await sinkOf();
    const url = sink.url;
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
    const bad = await send(srv.base, { ...delivery(secret, row(5)), headers: { 'panora-signature': '0'.repeat(64) } });
    assert.equal(bad.status, 401);
  });

  test('no PANORA_WEBHOOK_SECRET: 500 no_secret, and the message names the setting', async () => {
    const srv = await start({ PANORA_WEBHOOK_SECRET: '' });
    const r = await send(srv.base, delivery(secret, row(6)));
    assert.equal(r.status, 500);
    assert.deepEqual(JSON.parse(r.body), {
      outcome: 'rejected', error: 'no_secret', message: 'no endpoint secret is configured (PANORA_WEBHOOK_SECRET)',
    });
  });

  test('a forward that cannot work is no sink: 500 no_sink, each with its reason', async () => {
    const sink = await sinkOf();
    const bad = [
      [{ PANORA_WEBHOOK_FORWARD_URL: 'ftp://127.0.0.1/x', PANORA_WEBHOOK_FORWARD_SECRET: sink.secret }, /URL/],
      [{ PANORA_WEBHOOK_FORWARD_URL: sink.url }, /secret/],
      [{ PANORA_WEBHOOK_FORWARD_URL: sink.url, PANORA_WEBHOOK_FORWARD_SECRET: 'not-whsec' }, /secret/],
      [{ PANORA_WEBHOOK_FORWARD_URL: sink.url, PANORA_WEBHOOK_FORWARD_SECRET: sink.secret, PANORA_WEBHOOK_FORWARD_TIMEOUT_MS: '20000' }, /timeout/],
    ];
    for (const [env, why] of bad) {
      const srv = await start(env);
      const r = await send(srv.base, delivery(secret, row(6)));
      assert.equal(r.status, 500, JSON.stringify(env));
      const body = JSON.parse(r.body);
      assert.equal(body.error, 'no_sink');
      assert.match(body.message, why);
      await srv.stop();
    }
    assert.equal(sink.attempts.length, 0);
  });
});

describe('Spin flavour under jco serve, with wasi:config and wasi:keyvalue mapped', () => {
  const secret = `whsec_${crypto.randomBytes(8).toString('hex')}`;
  const kvFile = path.resolve('build/serve/spin-kv.json');
  const maps = ['--jco-map',
    `wasi:config/store@0.2.0-draft-2024-09-27=${path.resolve('tests/http/fake-config.mjs')}`,
    `wasi:keyvalue/store@0.2.0-draft2=${path.resolve('tests/http/fake-kv.mjs')}`];
  let srv;
  before(async () => {
    fs.rmSync(kvFile, { force: true });
    fs.rmSync(`${kvFile}.fail`, { force: true });
    srv = await serve(SPIN, { PANORA_TEST_SPIN_SECRET: secret, PANORA_TEST_KV_FILE: kvFile }, 'spin', maps);
  });
  after(async () => {
    await srv?.stop();
    fs.rmSync(`${kvFile}.fail`, { force: true });
  });

  const store = () => JSON.parse(fs.readFileSync(kvFile, 'utf8'));
  const row = { id_connection: 'conn-1', connection_token: 'ctok_spin_1', id_linked_user: 'user-1', provider_slug: 'hubspot' };

  test('secrets come from the config store; captured records land once per id_connection', async () => {
    const first = await send(srv.base, delivery(secret, row, 'evt-1'));
    assert.equal(first.status, 200);
    assert.equal(first.headers['content-type'], TEXT);
    assert.equal(first.body.toString(), 'captured conn-1 new\n');
    const retry = await send(srv.base, delivery(secret, row, 'evt-1'));
    assert.equal(retry.body.toString(), 'captured conn-1 known\n');
    const replay = await send(srv.base, delivery(secret, { ...row, connection_token: 'ctok_spin_other' }, 'evt-replayed'));
    assert.equal(replay.body.toString(), 'captured conn-1 known\n');
    const kv = store();
    assert.deepEqual(Object.keys(kv).sort(), ['connection/conn-1', 'linked-user/user-1']);
    assert.equal(JSON.parse(kv['connection/conn-1']).id_event, 'evt-1', 'the first record is never replaced');
    assert.equal(JSON.parse(kv['connection/conn-1']).connection_token, 'ctok_spin_1', 'the first values stay');
    assert.deepEqual(JSON.parse(kv['linked-user/user-1']), ['conn-1']);
  });

  test('the linked-user index collects every connection of a user', async () => {
    const second = await send(srv.base, delivery(secret, { ...row, id_connection: 'conn-2', connection_token: 'ctok_spin_2' }, 'evt-2'));
    assert.equal(second.body.toString(), 'captured conn-2 new\n');
    assert.deepEqual(JSON.parse(store()['linked-user/user-1']), ['conn-1', 'conn-2']);
  });

  test('a forged delivery is refused and stores nothing', async () => {
    const d = delivery(secret, { ...row, id_connection: 'conn-forged' }, 'evt-f');
    d.headers['panora-signature'] = '0'.repeat(64);
    const r = await send(srv.base, d);
    assert.equal(r.status, 401);
    assert.ok(!('connection/conn-forged' in store()));
  });

  test('a store that fails: 503 storage_failed; after it recovers the resend lands', async () => {
    fs.writeFileSync(`${kvFile}.fail`, '');
    const d = delivery(secret, { ...row, id_connection: 'conn-3' }, 'evt-3');
    const r = await send(srv.base, d);
    assert.equal(r.status, 503);
    assert.equal(JSON.parse(r.body).error, 'storage_failed');
    fs.rmSync(`${kvFile}.fail`);
    const again = await send(srv.base, d);
    assert.equal(again.body.toString(), 'captured conn-3 new\n');
    assert.equal(JSON.parse(store()['connection/conn-3']).connection_token, 'ctok_spin_1');
  });

  test('no Spin variable: 500 no_secret, and the message names the variable', async () => {
    const bare = await serve(SPIN, { PANORA_TEST_SPIN_SECRET: '', PANORA_TEST_KV_FILE: `${kvFile}.2` }, 'spin2', maps);
    try {
      const r = await send(bare.base, delivery(secret, row, 'evt-x'));
      assert.equal(r.status, 500);
      assert.deepEqual(JSON.parse(r.body), {
        outcome: 'rejected', error: 'no_secret', message: 'no endpoint secret is configured (the Spin variable panora_webhook_secret)',
      });
    } finally {
      await bare.stop();
    }
  });

  test('store and forward: both must hold before Panora gets 2xx', async () => {
    const sink = await backend({ mode: (n) => (n === 0 ? 502 : 204) });
    const kv = `${kvFile}.fwd`;
    fs.rmSync(kv, { force: true });
    const fwd = await serve(SPIN, {
      PANORA_TEST_SPIN_SECRET: secret, PANORA_TEST_KV_FILE: kv,
      PANORA_TEST_SPIN_FORWARD_URL: sink.url, PANORA_TEST_SPIN_FORWARD_SECRET: sink.secret,
    }, 'spin3', maps);
    try {
      const d = delivery(secret, { ...row, id_connection: 'conn-4' }, 'evt-4');
      const first = await send(fwd.base, d);
      assert.equal(first.status, 503, 'stored, but the forward failed');
      assert.equal(JSON.parse(first.body).error, 'sink_failed');
      assert.ok('connection/conn-4' in JSON.parse(fs.readFileSync(kv, 'utf8')));
      const again = await send(fwd.base, d);
      assert.equal(again.status, 200);
      assert.equal(again.body.toString(), 'captured conn-4 known forwarded\n');
      assert.equal(sink.messages.length, 1);
      assert.equal(sink.messages[0].event.data.id_connection, 'conn-4');
      assert.ok(!fwd.log().includes('ctok_') && !fwd.log().includes(sink.secret));
    } finally {
      await fwd.stop();
      await sink.close();
    }
  });
});

describe('what the components import', () => {
  const imports = (file) => WebAssembly.Module.imports(new WebAssembly.Module(fs.readFileSync(file)))
    .map((i) => `${i.module} ${i.name}`).sort();
  const T = 'wasi:http/types@0.2.0';
  const common = [
    `${T} [constructor]outgoing-response`, `${T} [method]fields.entries`, `${T} [method]incoming-body.stream`,
    `${T} [method]incoming-request.consume`, `${T} [method]incoming-request.headers`, `${T} [method]incoming-request.method`,
    `${T} [method]outgoing-body.write`, `${T} [method]outgoing-response.body`, `${T} [method]outgoing-response.set-status-code`,
    `${T} [resource-drop]fields`, `${T} [resource-drop]incoming-body`, `${T} [resource-drop]incoming-request`,
    `${T} [static]fields.from-list`, `${T} [static]outgoing-body.finish`, `${T} [static]response-outparam.set`,
    'wasi:io/streams@0.2.0 [method]input-stream.blocking-read', 'wasi:io/streams@0.2.0 [method]output-stream.blocking-write-and-flush',
    'wasi:io/streams@0.2.0 [resource-drop]input-stream', 'wasi:io/streams@0.2.0 [resource-drop]output-stream',
    'wasi:cli/stderr@0.2.0 get-stderr',
    // the forward sink
    `${T} [constructor]outgoing-request`, `${T} [method]outgoing-request.set-method`, `${T} [method]outgoing-request.set-scheme`,
    `${T} [method]outgoing-request.set-authority`, `${T} [method]outgoing-request.set-path-with-query`,
    `${T} [method]outgoing-request.body`, `${T} [resource-drop]outgoing-request`, `${T} [resource-drop]outgoing-body`,
    `${T} [constructor]request-options`, `${T} [method]request-options.set-connect-timeout`,
    `${T} [method]request-options.set-first-byte-timeout`, `${T} [method]request-options.set-between-bytes-timeout`,
    `${T} [method]future-incoming-response.subscribe`, `${T} [method]future-incoming-response.get`,
    `${T} [resource-drop]future-incoming-response`, `${T} [method]incoming-response.status`, `${T} [resource-drop]incoming-response`,
    `${T} [method]incoming-response.consume`, 'wasi:io/streams@0.2.0 [method]input-stream.subscribe',
    'wasi:io/streams@0.2.0 [method]input-stream.read', 'wasi:io/error@0.2.0 [resource-drop]error',
    'wasi:http/outgoing-handler@0.2.0 handle', 'wasi:io/poll@0.2.0 poll', 'wasi:io/poll@0.2.0 [resource-drop]pollable',
    'wasi:clocks/monotonic-clock@0.2.0 now', 'wasi:clocks/monotonic-clock@0.2.0 subscribe-duration', 'wasi:clocks/wall-clock@0.2.0 now',
  ];

  test('proxy: wasi:http 0.2.0 in and out, streams, clocks, stderr and the environment, nothing else', () => {
    assert.deepEqual(imports('build/obj/http.core.wasm'), [...common, 'wasi:cli/environment@0.2.0 get-environment'].sort());
  });

  test('spin: the same, with wasi:config get and wasi:keyvalue open/get/set/exists instead of the environment', () => {
    const kv = 'wasi:keyvalue/store@0.2.0-draft2';
    assert.deepEqual(imports('build/obj/http_spin.core.wasm'), [...common,
      'wasi:config/store@0.2.0-draft-2024-09-27 get', `${kv} open`, `${kv} [method]bucket.get`,
      `${kv} [method]bucket.set`, `${kv} [method]bucket.exists`, `${kv} [resource-drop]bucket`].sort());
  });

  test('no heap: neither core module can grow its memory', async () => {
    const { execFileSync } = await import('node:child_process');
    for (const f of ['build/obj/http.core.wasm', 'build/obj/http_spin.core.wasm']) {
      const wat = execFileSync('wasm2wat', [f], { maxBuffer: 64 << 20 }).toString();
      assert.ok(!wat.includes('memory.grow'), f);
      const names = WebAssembly.Module.imports(new WebAssembly.Module(fs.readFileSync(f))).map((i) => i.name);
      assert.ok(!names.some((n) => /malloc|sbrk/.test(n)), f);
    }
  });

  test('jco wit: the component worlds name only those interfaces', async () => {
    const { execFileSync } = await import('node:child_process');
    const world = (file) => execFileSync(process.execPath, [JCO, 'wit', file]).toString()
      .split('\n').map((l) => l.trim()).filter((l) => /^(import|export) /.test(l)).sort();
    const io = ['import wasi:io/error@0.2.0;', 'import wasi:io/poll@0.2.0;', 'import wasi:io/streams@0.2.0;',
      'import wasi:http/types@0.2.0;', 'import wasi:http/outgoing-handler@0.2.0;', 'import wasi:cli/stderr@0.2.0;',
      'import wasi:clocks/monotonic-clock@0.2.0;', 'import wasi:clocks/wall-clock@0.2.0;',
      'export wasi:http/incoming-handler@0.2.0;'];
    assert.deepEqual(world(HTTP), [...io, 'import wasi:cli/environment@0.2.0;'].sort());
    assert.deepEqual(world(SPIN), [...io, 'import wasi:config/store@0.2.0-draft-2024-09-27;',
      'import wasi:keyvalue/store@0.2.0-draft2;'].sort());
  });
});

describe('Spin manifest', () => {
  // plain objects (smol-toml makes them without a prototype)
  const load = (f) => JSON.parse(JSON.stringify(parseToml(fs.readFileSync(f, 'utf8'))));

  test('spin.toml: the Spin flavour, secret variables, the default store, the forward host from a variable', () => {
    const m = load('deploy/spin/spin.toml');
    assert.equal(m.spin_manifest_version, 2);
    assert.deepEqual(m.variables.panora_webhook_secret, { required: true, secret: true });
    assert.equal(m.variables.panora_webhook_forward_secret.secret, true);
    assert.equal(m.variables.panora_webhook_forward_url.default, '');
    const trig = m.trigger.http;
    assert.equal(trig.length, 1);
    assert.equal(trig[0].route, '/panora_webhooks');
    assert.equal(trig[0].executor, undefined);
    const comp = m.component[trig[0].component];
    assert.ok(fs.existsSync(path.resolve('deploy/spin', comp.source)), comp.source);
    assert.equal(path.resolve('deploy/spin', comp.source), path.resolve(SPIN));
    assert.deepEqual(comp.key_value_stores, ['default']);
    assert.deepEqual(comp.allowed_outbound_hosts, ['{{ panora_webhook_forward_origin }}']);
    for (const v of ['secret', 'max_body', 'forward_url', 'forward_secret', 'forward_timeout_ms']) {
      assert.equal(comp.variables[`panora_webhook_${v}`], `{{ panora_webhook_${v} }}`);
      assert.ok(m.variables[`panora_webhook_${v}`], `${v} is declared`);
    }
    assert.ok(m.variables.panora_webhook_forward_origin.default.length > 0, 'an origin that always parses');
  });

  test('no WAGI manifest: under a WAGI host nothing would keep a capture', () => {
    assert.ok(!fs.existsSync('deploy/spin/spin-wagi.toml'));
  });
});
