// wagi.test.mjs -- the built WAGI module, run under Node's WASI as a WAGI
// host runs it, over every case of tests/vectors/gen.mjs, plus what only
// the adapter decides (CONTENT_LENGTH, reading stdin, 405's Allow header)
// and what the module may import and contain.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { loadModule, runWagi, wagiEnv } from '../../deploy/node/wagi.mjs';

const MODULE = process.env.PANORA_WEBHOOK_WASM ?? 'build/panora-webhook.wasm';
const DEBUG_MODULE = 'build/obj/panora-webhook.debug.wasm';
const cases = JSON.parse(fs.readFileSync('build/vectors/cases.json', 'utf8'))
  .map((c) => ({ ...c, body: Buffer.from(c.body, 'base64') }));

// Bytes that must never leave the module, whatever happens.
const SECRETS = ['whsec_', '3b241101-e2bb-4255-8caf-4136c566a962',
  'provider-access-credential', 'provider-refresh-credential', 'token_type'];

let mod;
before(async () => { mod = await loadModule(MODULE); });

function envFor(c, extra = {}) {
  const e = wagiEnv({
    method: c.method, signature: c.signature, contentType: c.content_type, body: c.body, extra,
  });
  if (c.secret !== null) e.PANORA_WEBHOOK_SECRET = c.secret;
  if (c.max_body) e.PANORA_WEBHOOK_MAX_BODY = String(c.max_body);
  return e;
}

function assertNoLeak(name, res, captured) {
  const all = res.stdout.toString('utf8') + res.stderr;
  for (const s of SECRETS) assert.ok(!all.includes(s), `${name}: output holds ${s}`);
  if (!captured) assert.ok(!all.includes('ctok_'), `${name}: output holds a connection token`);
  assert.ok(!res.stderr.includes('ctok_'), `${name}: log holds a connection token`);
}

test('the adversarial corpus holds at least 60 hostile requests', () => {
  assert.ok(cases.filter((c) => c.hostile).length >= 60);
});

// The log: exactly one line, strict JSON (stderr was decoded as strict
// UTF-8 by runWagi), with the status of the answer.
// No character that could make the line read as another goes into it as
// it is (C1 controls, U+2028/9, bidirectional overrides and isolates):
// each is a \uXXXX escape, which JSON.parse turns back into the original.
const SPOOFING = /[\u0080-\u009f\u2028-\u202e\u2066-\u2069]/;
function assertLog(res, http) {
  const log = res.stderr.split('\n');
  assert.equal(log.length, 2, 'one log line');
  assert.equal(log[1], '');
  assert.doesNotMatch(log[0], SPOOFING, 'the log line carries no spoofing character as it is');
  const entry = JSON.parse(log[0]);
  assert.equal(entry.http, http);
  return entry;
}

// What a sender is told about a 2xx: the plain-text receipt.
function assertReceipt(res, text) {
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(res.body.toString('utf8'), text);
}

function assertRejected(res, http, code) {
  assert.equal(res.status, http, `status: ${res.body}`);
  assert.equal(res.headers['content-type'], 'application/json');
  const body = JSON.parse(res.body.toString('utf8'));
  assert.equal(body.outcome, 'rejected');
  assert.equal(body.error, code);
  assert.ok(body.message.length > 0);
}

// Under a WAGI host (REQUEST_METHOD set) the answer goes only to the
// sender: nothing would keep a capture, so it is refused with no_sink; an
// ignored event gets the receipt.
describe('WAGI module: every end-to-end case, as a WAGI host runs it', () => {
  for (const c of cases.filter((x) => x.method !== null)) {
    test(c.name, async () => {
      const res = await runWagi(mod, { env: envFor(c), body: c.body });
      assert.equal(res.exitCode, 0, 'a response was written, so exit 0');
      if (c.code === 'captured') {
        assertRejected(res, 500, 'no_sink');
        assertLog(res, 500);
      } else if (c.code === 'ignored') {
        assertReceipt(res, `ignored ${c.receipt_value}\n`);
        assert.doesNotMatch(res.body.toString('utf8'), SPOOFING);
        const entry = assertLog(res, 200);
        if (Buffer.byteLength(c.type) <= 128) assert.equal(entry.type, c.type, 'the log gives the type back');
      } else {
        assertRejected(res, c.http, c.code);
        assertLog(res, c.http);
      }
      assertNoLeak(c.name, res, false);
    });
  }
});

// Invoked as a command (no REQUEST_METHOD), the caller is the sink: a
// capture is answered with the record.
describe('WAGI module: every POST case, run as a command', () => {
  for (const c of cases.filter((x) => x.method === null || x.method === 'POST')) {
    test(c.name, async () => {
      const res = await runWagi(mod, { env: envFor({ ...c, method: null }), body: c.body });
      assert.equal(res.exitCode, 0, 'a response was written, so exit 0');
      assert.equal(res.status, c.http, `status: ${res.body}`);
      assert.equal(res.headers['content-type'], 'application/json');
      const body = JSON.parse(res.body.toString('utf8'));
      if (c.code === 'captured') {
        assert.deepEqual(body, { outcome: 'captured', ...c.record });
        const entry = assertLog(res, c.http);
        assert.equal(entry.provider, c.record.provider_slug, 'the log gives the provider back');
      } else if (c.code === 'ignored') {
        assert.equal(body.outcome, 'ignored');
        assert.equal(body.type, c.type);
      } else {
        assert.equal(body.outcome, 'rejected');
        assert.equal(body.error, c.code);
      }
      assertLog(res, c.http);
      assertNoLeak(c.name, res, c.code === 'captured');
    });
  }
});

describe('WAGI adapter', () => {
  const typical = cases.find((c) => c.name === 'typical connection.created');
  // under a WAGI host a verified, decoded capture is refused for want of a
  // sink: that answer is the proof that the whole body was read and checked
  const assertDecodedUnderHost = (res) => assertRejected(res, 500, 'no_sink');

  test('405 carries Allow: POST and reads no body', async () => {
    const res = await runWagi(mod, { env: envFor({ ...typical, method: 'PUT' }), body: typical.body });
    assert.equal(res.status, 405);
    assert.equal(res.headers.allow, 'POST');
  });

  test('CONTENT_LENGTH larger than the body: 400', async () => {
    const env = envFor(typical);
    env.CONTENT_LENGTH = String(typical.body.length + 10);
    const res = await runWagi(mod, { env, body: typical.body });
    assert.equal(res.status, 400);
    assert.match(JSON.parse(res.body).message, /shorter than CONTENT_LENGTH/);
  });

  test('CONTENT_LENGTH smaller than the body: only that much is read', async () => {
    const env = envFor(typical);
    env.CONTENT_LENGTH = String(typical.body.length - 5);
    const res = await runWagi(mod, { env, body: typical.body });
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(res.body).error, 'malformed_request');
  });

  test('CONTENT_LENGTH covering the body exactly, with more input after it', async () => {
    const res = await runWagi(mod, { env: envFor(typical), body: Buffer.concat([typical.body, Buffer.from('trailing')]) });
    assertDecodedUnderHost(res);
  });

  test('CONTENT_LENGTH not a number: 400', async () => {
    for (const v of ['12x', '-1', ' 12', '', '4294967296x']) {
      const env = envFor(typical);
      env.CONTENT_LENGTH = v;
      const res = await runWagi(mod, { env, body: typical.body });
      if (v === '') {                       // unset, as far as CGI goes: read to the end
        assertDecodedUnderHost(res);
        continue;
      }
      assert.equal(res.status, 400, v);
      assert.equal(JSON.parse(res.body).error, 'malformed_request');
      assert.equal(JSON.parse(res.body).message, 'CONTENT_LENGTH is not a decimal number');
    }
  });

  test('CONTENT_LENGTH over the limit: 413 before reading', async () => {
    const env = envFor(typical);
    env.CONTENT_LENGTH = String(2 * 1024 * 1024);
    const res = await runWagi(mod, { env, body: typical.body });
    assert.equal(res.status, 413);
  });

  test('no CONTENT_LENGTH: reads to end of input, 413 past the limit', async () => {
    const env = envFor({ ...typical, method: null });
    let res = await runWagi(mod, { env, body: typical.body });
    assert.equal(res.status, 200);
    res = await runWagi(mod, { env, body: Buffer.alloc(1024 * 1024 + 1, 0x20) });
    assert.equal(res.status, 413);
    res = await runWagi(mod, { env: { ...env, PANORA_WEBHOOK_MAX_BODY: String(typical.body.length - 1) }, body: typical.body });
    assert.equal(res.status, 413);
  });

  test('a body of exactly 1 MiB is read whole', async () => {
    const pad = Buffer.alloc(1024 * 1024 - typical.body.length, 0x20);
    const env = envFor(typical);
    env.CONTENT_LENGTH = String(1024 * 1024);
    const res = await runWagi(mod, { env, body: Buffer.concat([typical.body, pad]) });
    assertDecodedUnderHost(res);
  });

  test('Spin style: empty CONTENT_TYPE, content type in HTTP_CONTENT_TYPE', async () => {
    const env = envFor({ ...typical, content_type: 'text/plain' });
    assert.equal(env.CONTENT_TYPE, '');
    const res = await runWagi(mod, { env, body: typical.body });
    assert.equal(res.status, 400);
  });

  test('CONTENT_TYPE is read when HTTP_CONTENT_TYPE is absent', async () => {
    const env = envFor({ ...typical, content_type: null });
    env.CONTENT_TYPE = 'text/html';
    const res = await runWagi(mod, { env, body: typical.body });
    assert.equal(res.status, 400);
  });

  test('no PANORA_WEBHOOK_SECRET: 500 no_secret, and the message names the setting', async () => {
    for (const secret of [null, '', ' , ,']) {
      const res = await runWagi(mod, { env: envFor({ ...typical, secret }), body: typical.body });
      assert.equal(res.status, 500, String(secret));
      assert.deepEqual(JSON.parse(res.body), {
        outcome: 'rejected', error: 'no_secret', message: 'no endpoint secret is configured (PANORA_WEBHOOK_SECRET)',
      });
    }
  });

  test('a 1 MiB secret list is refused cleanly', async () => {
    const env = envFor(typical);
    env.PANORA_WEBHOOK_SECRET = 'x,'.repeat(512 * 1024);
    const res = await runWagi(mod, { env, body: typical.body });
    assert.equal(res.status, 500);
    assert.equal(JSON.parse(res.body).error, 'no_secret');
    env.PANORA_WEBHOOK_SECRET = ','.repeat(1024 * 1024);
    assert.equal((await runWagi(mod, { env, body: typical.body })).status, 500);
    env.PANORA_WEBHOOK_SECRET = 'k'.repeat(1024 * 1024);   // one long key: hashed, valid
    assert.equal((await runWagi(mod, { env, body: typical.body })).status, 401);
  });

  test('a 3 MiB environment is read into claimed pages', async () => {
    const env = envFor(typical);
    env.HTTP_X_PADDING = 'p'.repeat(3 * 1024 * 1024);
    for (let i = 0; i < 300; i++) env[`HTTP_X_${i}`] = 'v';   // over the static 256 variables
    const res = await runWagi(mod, { env, body: typical.body });
    assert.equal(res.exitCode, 0);
    assertDecodedUnderHost(res);
  });

  test('small static memory; large requests claim pages and still work', async () => {
    const inst = new WebAssembly.Instance(mod, { wasi_snapshot_preview1: new Proxy({}, { get: () => () => 0 }) });
    assert.ok(inst.exports.memory.buffer.byteLength <= 8 * 65536, 'initial memory over 8 pages');
    const big = cases.find((c) => c.name === 'a 400 KB escaped account_url');
    const res = await runWagi(mod, { env: envFor(big), body: big.body });
    assertDecodedUnderHost(res);
    const unknown = await runWagi(mod, { env: envFor({ ...big, method: null }), body: big.body });
    assert.equal(unknown.status, 200, 'large body of unknown length');
    assert.deepEqual(JSON.parse(unknown.body), { outcome: 'captured', ...big.record });
  });

  test('the response and the log are one write each', async () => {
    const res = await runWagi(mod, { env: envFor({ ...typical, method: null }), body: typical.body });
    assert.ok(res.stdout.toString('utf8').startsWith('Status: 200 OK\nContent-Type: application/json\n'));
    assert.equal(res.headers['cache-control'], 'no-store');
    const ignored = cases.find((c) => c.name === 'other event type is ignored');
    const r = await runWagi(mod, { env: envFor(ignored), body: ignored.body });
    assert.equal(r.stdout.toString('utf8'),
      'Status: 200 OK\nContent-Type: text/plain; charset=utf-8\nCache-Control: no-store\n\nignored crm.contact.created\n');
  });

  test('a receipt parses only as a string, as axios reads it', async () => {
    for (const name of ['other event type is ignored', 'type that only starts with connection.created is ignored']) {
      const c = cases.find((x) => x.name === name);
      const text = (await runWagi(mod, { env: envFor(c), body: c.body })).body.toString('utf8');
      assert.throws(() => JSON.parse(text), SyntaxError, text);
    }
  });

  test('look-alike variables placed first never stand in for the real ones', async () => {
    // a name that only starts with the one looked up must not match
    const real = envFor(typical);
    const env = {
      PANORA_WEBHOOK_SECRET_OLD: 'whsec_not_the_key', HTTP_PANORA_SIGNATURE_EXTRA: 'nonsense',
      REQUEST_METHOD_OVERRIDE: 'GET', CONTENT_LENGTH_HINT: '1', PANORA_WEBHOOK_MAX_BODY_X: '1', ...real,
    };
    assertDecodedUnderHost(await runWagi(mod, { env, body: typical.body }));
  });

  test('PANORA_WEBHOOK_MAX_BODY can only lower the limit', async () => {
    const env = { ...envFor({ ...typical, method: null }), PANORA_WEBHOOK_MAX_BODY: String(4 * 1024 * 1024) };
    const res = await runWagi(mod, { env, body: Buffer.concat([typical.body, Buffer.alloc(1024 * 1024 + 1 - typical.body.length, 0x20)]) });
    assertRejected(res, 413, 'payload_too_large');
  });

  test('CONTENT_LENGTH at and past 2^32 (the size_t of wasm32) is 413, as any size over the limit', async () => {
    for (const v of [2n ** 32n - 1n, 2n ** 32n, 2n ** 32n + BigInt(typical.body.length), 2n ** 64n, 10n ** 30n]) {
      const env = envFor(typical);
      env.CONTENT_LENGTH = String(v);
      const res = await runWagi(mod, { env, body: typical.body });
      assertRejected(res, 413, 'payload_too_large');
      assert.doesNotMatch(JSON.parse(res.body).message, /decimal/, String(v));
    }
  });
});

describe('WAGI module: what it is made of', () => {
  test('imports only wasi_snapshot_preview1 functions', () => {
    const imports = WebAssembly.Module.imports(mod);
    assert.ok(imports.length > 0);
    for (const i of imports) {
      assert.equal(i.module, 'wasi_snapshot_preview1', `${i.module}.${i.name}`);
      assert.equal(i.kind, 'function');
    }
    const names = imports.map((i) => i.name).sort();
    assert.deepEqual(names, ['environ_get', 'environ_sizes_get', 'fd_read', 'fd_write']);
  });

  test('exports _start and memory (a WASI command)', () => {
    const exports = WebAssembly.Module.exports(mod).map((e) => e.name).sort();
    assert.deepEqual(exports, ['_start', 'memory']);
  });

  test('contains no allocator: no malloc or sbrk linked, one page claim', () => {
    const wat = execFileSync('wasm2wat', [MODULE], { maxBuffer: 64 << 20 }).toString();
    // the adapter's claim() for large requests is the only memory.grow
    assert.equal(wat.split('memory.grow').length - 1, 1, 'memory.grow sites');
    const trace = fs.readFileSync('build/obj/panora-webhook.link.txt', 'utf8');
    for (const sym of ['malloc', 'free', 'calloc', 'realloc', 'sbrk', 'getenv', '__wasilibc_initialize_environ']) {
      const lines = trace.split('\n').filter((l) => l.endsWith(`of ${sym}`));
      assert.ok(lines.length > 0, `link trace names ${sym}`);
      for (const l of lines) assert.match(l, /lazy definition of/, l);
    }
    assert.ok(fs.existsSync(DEBUG_MODULE));
  });
});
