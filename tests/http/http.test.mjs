// http.test.mjs -- the wasi:http components under `jco serve` (a real HTTP
// server on loopback), driven by a real HTTP client: every end-to-end case
// must get the WAGI module's very status and body; the Spin flavour's
// secrets and store are mapped to small test modules; the components must
// import exactly what they use; the Spin manifests must hold together.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { loadModule, runWagi, wagiEnv } from '../../deploy/node/wagi.mjs';
import { spawnTracked, stop, within } from '../lib/proc.mjs';

const JCO = 'node_modules/@bytecodealliance/jco/dist/jco.js';
const HTTP = 'build/panora-webhook-http.wasm';
const SPIN = 'build/panora-webhook-spin.wasm';
const cases = JSON.parse(fs.readFileSync('build/vectors/cases.json', 'utf8'))
  .map((c) => ({ ...c, body: Buffer.from(c.body, 'base64') }));

const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

// Start `jco serve` in its own process group; stop it with the whole group
// (tests/lib/proc.mjs also kills it if the test process exits first).
async function serve(component, env, name, extra = []) {
  const port = await freePort();
  const child = spawnTracked(process.execPath, [JCO, 'serve', component, '--port', String(port), '--host', '127.0.0.1',
    '--jco-dir', `build/serve/${name}`, ...extra], {
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
    log: () => log,
    stop: () => stop(child),
  };
}

// A fresh connection per request, as Panora's client makes them: after a
// response to a request whose body the component chose not to read (a 405,
// a 413), jco serve leaves the unread bytes on the connection, where the
// next request would trip on them (hyper-based hosts close it instead).
function send(base, { method = 'POST', headers = {}, body, path: where = '/panora_webhooks' }) {
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

// What an HTTP client can carry: a method token, header values without
// control characters or bytes outside Latin-1; and what a test can hand a
// child process: Linux caps one environment string at 128 KiB, so the
// 1 MiB secret lists stay with the native and WAGI suites.
// Node's HTTP parser, under jco serve, also refuses methods it does not know.
const KNOWN_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'];
const carriable = (c) => (c.method === null || KNOWN_METHODS.includes(c.method))
  && [c.signature, c.content_type].every((v) => v === null || /^[\x20-\x7e\t]*$/.test(v))
  && (c.secret === null || c.secret.length < 100000);

function requestOf(c) {
  const headers = {};
  if (c.signature !== null) headers['Panora-Signature'] = c.signature;
  if (c.content_type !== null) headers['Content-Type'] = c.content_type;
  return { method: c.method ?? 'POST', headers, body: c.body };
}

describe('wasi:http component under jco serve: every case, as the WAGI module answers', () => {
  let wagi;
  before(async () => { wagi = await loadModule('build/panora-webhook.wasm'); });

  // one server per configuration (secret list, body limit)
  const groups = new Map();
  for (const c of cases.filter(carriable)) {
    const key = JSON.stringify([c.secret, c.max_body]);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(c);
  }
  let n = 0;
  for (const [key, group] of groups) {
    const [secret, maxBody] = JSON.parse(key);
    describe(`secret list #${n++}${maxBody ? `, limit ${maxBody}` : ''}`, () => {
      let srv;
      before(async () => {
        const env = {};
        if (secret !== null) env.PANORA_WEBHOOK_SECRET = secret;
        if (maxBody) env.PANORA_WEBHOOK_MAX_BODY = String(maxBody);
        srv = await serve(HTTP, env, 'http');
      });
      after(() => srv?.stop());
      for (const c of group) {
        test(c.name, async () => {
          const got = await send(srv.base, requestOf(c));
          const env = wagiEnv({ method: c.method ?? 'POST', signature: c.signature, contentType: c.content_type, body: c.body });
          if (secret !== null) env.PANORA_WEBHOOK_SECRET = secret;
          if (maxBody) env.PANORA_WEBHOOK_MAX_BODY = String(maxBody);
          const w = await runWagi(wagi, { env, body: c.body });
          assert.equal(got.status, c.http);
          assert.equal(got.status, w.status);
          assert.equal(got.headers['content-type'], 'application/json');
          // a response to HEAD carries no body, by HTTP's rules
          if (c.method !== 'HEAD') assert.equal(got.body.toString('utf8'), w.body.toString('utf8'));
          if (c.http === 405) assert.equal(got.headers.allow, 'POST');
        });
      }
    });
  }
});

describe('wasi:http component: limits and reuse', () => {
  const secret = 'whsec_http_limits';
  let srv;
  before(async () => { srv = await serve(HTTP, { PANORA_WEBHOOK_SECRET: secret }, 'http'); });
  after(() => srv?.stop());

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
    srv = await serve(SPIN, { PANORA_TEST_SPIN_SECRET: secret, PANORA_TEST_KV_FILE: kvFile }, 'spin', maps);
  });
  after(() => srv?.stop());

  const delivery = (row, idEvent) => {
    const data = JSON.stringify(row);
    return {
      headers: { 'panora-signature': crypto.createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex'), 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ id_event: idEvent, data, type: 'connection.created' })),
    };
  };
  const store = () => JSON.parse(fs.readFileSync(kvFile, 'utf8'));
  const row = { id_connection: 'conn-1', connection_token: 'ctok_spin_1', id_linked_user: 'user-1', provider_slug: 'hubspot' };

  test('secrets come from the config store; captured records land once per id_connection', async () => {
    const first = await send(srv.base, delivery(row, 'evt-1'));
    assert.equal(first.status, 200);
    assert.equal(JSON.parse(first.body).persisted, 'new');
    const retry = await send(srv.base, delivery(row, 'evt-1'));
    assert.equal(JSON.parse(retry.body).persisted, 'known');
    const replay = await send(srv.base, delivery(row, 'evt-replayed'));
    assert.equal(JSON.parse(replay.body).persisted, 'known');
    const kv = store();
    assert.deepEqual(Object.keys(kv).sort(), ['connection/conn-1', 'linked-user/user-1']);
    assert.equal(JSON.parse(kv['connection/conn-1']).id_event, 'evt-1', 'the first record is never replaced');
    assert.equal(JSON.parse(kv['connection/conn-1']).connection_token, 'ctok_spin_1');
    assert.deepEqual(JSON.parse(kv['linked-user/user-1']), ['conn-1']);
  });

  test('the linked-user index collects every connection of a user', async () => {
    const second = await send(srv.base, delivery({ ...row, id_connection: 'conn-2', connection_token: 'ctok_spin_2' }, 'evt-2'));
    assert.equal(JSON.parse(second.body).persisted, 'new');
    assert.deepEqual(JSON.parse(store()['linked-user/user-1']), ['conn-1', 'conn-2']);
  });

  test('a forged delivery is refused and stores nothing', async () => {
    const d = delivery({ ...row, id_connection: 'conn-forged' }, 'evt-f');
    d.headers['panora-signature'] = '0'.repeat(64);
    const r = await send(srv.base, d);
    assert.equal(r.status, 401);
    assert.ok(!('connection/conn-forged' in store()));
  });

  test('no Spin variable: 500 no_secret', async () => {
    const bare = await serve(SPIN, { PANORA_TEST_SPIN_SECRET: '', PANORA_TEST_KV_FILE: `${kvFile}.2` }, 'spin2', maps);
    try {
      const r = await send(bare.base, delivery(row, 'evt-x'));
      assert.equal(r.status, 500);
      assert.equal(JSON.parse(r.body).error, 'no_secret');
    } finally {
      await bare.stop();
    }
  });
});

describe('what the components import', () => {
  const imports = (file) => WebAssembly.Module.imports(new WebAssembly.Module(fs.readFileSync(file)))
    .map((i) => `${i.module} ${i.name}`).sort();
  const http = [
    'wasi:http/types@0.2.0 [constructor]outgoing-response', 'wasi:http/types@0.2.0 [method]fields.entries',
    'wasi:http/types@0.2.0 [method]incoming-body.stream', 'wasi:http/types@0.2.0 [method]incoming-request.consume',
    'wasi:http/types@0.2.0 [method]incoming-request.headers', 'wasi:http/types@0.2.0 [method]incoming-request.method',
    'wasi:http/types@0.2.0 [method]outgoing-body.write', 'wasi:http/types@0.2.0 [method]outgoing-response.body',
    'wasi:http/types@0.2.0 [method]outgoing-response.set-status-code', 'wasi:http/types@0.2.0 [resource-drop]fields',
    'wasi:http/types@0.2.0 [resource-drop]incoming-body', 'wasi:http/types@0.2.0 [resource-drop]incoming-request',
    'wasi:http/types@0.2.0 [static]fields.from-list', 'wasi:http/types@0.2.0 [static]outgoing-body.finish',
    'wasi:http/types@0.2.0 [static]response-outparam.set', 'wasi:io/streams@0.2.0 [method]input-stream.blocking-read',
    'wasi:io/streams@0.2.0 [method]output-stream.blocking-write-and-flush', 'wasi:io/streams@0.2.0 [resource-drop]input-stream',
    'wasi:io/streams@0.2.0 [resource-drop]output-stream',
  ];

  test('proxy: wasi:http 0.2.0, wasi:io streams 0.2.0 and the environment, nothing else', () => {
    assert.deepEqual(imports('build/obj/http.core.wasm'), [...http, 'wasi:cli/environment@0.2.0 get-environment'].sort());
  });

  test('spin: the same, with wasi:config get and wasi:keyvalue open/get/set/exists instead of the environment', () => {
    const kv = 'wasi:keyvalue/store@0.2.0-draft2';
    assert.deepEqual(imports('build/obj/http_spin.core.wasm'), [...http,
      'wasi:config/store@0.2.0-draft-2024-09-27 get', `${kv} open`, `${kv} [method]bucket.get`,
      `${kv} [method]bucket.set`, `${kv} [method]bucket.exists`, `${kv} [resource-drop]bucket`].sort());
  });

  test('jco wit: the component worlds name only those interfaces', async () => {
    const { execFileSync } = await import('node:child_process');
    const world = (file) => execFileSync(process.execPath, [JCO, 'wit', file]).toString()
      .split('\n').map((l) => l.trim()).filter((l) => /^(import|export) /.test(l)).sort();
    const io = ['import wasi:io/error@0.2.0;', 'import wasi:io/streams@0.2.0;', 'import wasi:http/types@0.2.0;',
      'export wasi:http/incoming-handler@0.2.0;'];
    assert.deepEqual(world(HTTP), [...io, 'import wasi:cli/environment@0.2.0;'].sort());
    assert.deepEqual(world(SPIN), [...io, 'import wasi:config/store@0.2.0-draft-2024-09-27;',
      'import wasi:keyvalue/store@0.2.0-draft2;'].sort());
  });
});

describe('Spin manifests', () => {
  // plain objects (smol-toml makes them without a prototype)
  const load = (f) => JSON.parse(JSON.stringify(parseToml(fs.readFileSync(f, 'utf8'))));

  test('spin.toml: the Spin flavour, a secret variable, the default store, no outbound hosts', () => {
    const m = load('deploy/spin/spin.toml');
    assert.equal(m.spin_manifest_version, 2);
    assert.deepEqual(m.variables.panora_webhook_secret, { required: true, secret: true });
    const trig = m.trigger.http;
    assert.equal(trig.length, 1);
    assert.equal(trig[0].route, '/panora_webhooks');
    assert.equal(trig[0].executor, undefined);
    const comp = m.component[trig[0].component];
    assert.ok(fs.existsSync(path.resolve('deploy/spin', comp.source)), comp.source);
    assert.equal(path.resolve('deploy/spin', comp.source), path.resolve(SPIN));
    assert.deepEqual(comp.key_value_stores, ['default']);
    assert.deepEqual(comp.allowed_outbound_hosts, []);
    assert.equal(comp.variables.panora_webhook_secret, '{{ panora_webhook_secret }}');
  });

  test('spin-wagi.toml: the WAGI module under the wagi executor', () => {
    const m = load('deploy/spin/spin-wagi.toml');
    assert.equal(m.spin_manifest_version, 2);
    const trig = m.trigger.http[0];
    assert.equal(trig.route, '/panora_webhooks');
    assert.deepEqual(trig.executor, { type: 'wagi' });
    const comp = m.component[trig.component];
    assert.equal(path.resolve('deploy/spin', comp.source), path.resolve('build/panora-webhook.wasm'));
    assert.ok(fs.existsSync(path.resolve('deploy/spin', comp.source)));
    assert.deepEqual(comp.allowed_outbound_hosts, []);
    assert.equal(comp.environment, undefined, 'no secret in the manifest');
  });
});
