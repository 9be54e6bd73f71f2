// spin.test.mjs -- the Spin flavour of the catch-up command
// (build/panora-webhook-catchup-spin.wasm) under `jco run`, with Spin's
// wasi:config and wasi:keyvalue imports mapped to the test modules the
// Spin HTTP flavour's tests use (tests/http/fake-config.mjs, fake-kv.mjs;
// the store file is shared between runs and with `jco serve`, as Spin's
// Redis-backed store is). A missed delivery lands in the store once, under
// the keys and in the JSON the webhook path writes, as JSON.parse of the
// row says; a second run writes and forwards nothing; the webhook path
// then finds it `known`; a store that refuses writes fails the run and
// leaves what was written whole. No credential is kept, forwarded or
// logged.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { credentialsOf, deliverOnce, panoraRow } from '../lib/panora-api.mjs';
import { forwardId, serve } from '../http/serve.mjs';
import { recordOf, startCatchup } from './run.mjs';

const COMMAND = 'build/panora-webhook-catchup-spin.wasm';
const SPIN = 'build/panora-webhook-spin.wasm';
const MAPS = ['--jco-map',
  `wasi:config/store@0.2.0-draft-2024-09-27=${path.resolve('tests/http/fake-config.mjs')}`,
  `wasi:keyvalue/store@0.2.0-draft2=${path.resolve('tests/http/fake-kv.mjs')}`];
const KV = path.resolve('build/catchup-run/spin-kv.json');
const WEBHOOK_SECRET = `whsec_${crypto.randomBytes(8).toString('hex')}`;

const store = () => (fs.existsSync(KV) ? JSON.parse(fs.readFileSync(KV, 'utf8')) : {});
const resetStore = () => { fs.rmSync(KV, { force: true }); fs.rmSync(`${KV}.fail`, { force: true }); };
// What the webhook path keeps for a row, by JSON.parse of the row: the
// record with its outcome, id_event null for a listed connection.
const kept = (row) => ({ outcome: 'captured', ...recordOf(row) });

describe('catch-up command, Spin flavour, under jco run', () => {
  let c;
  const stored = [];                      // every store file's text, for the no-secret rule
  // Spin variables and the store file for a run; a sink adds the forward
  const env = (sink, over = {}) => ({
    PANORA_TEST_KV_FILE: KV,
    PANORA_TEST_SPIN_API_KEY: c.apiKey,
    PANORA_TEST_SPIN_API_URL: c.api.url,
    ...(sink ? { PANORA_TEST_SPIN_FORWARD_URL: sink.url, PANORA_TEST_SPIN_FORWARD_SECRET: sink.secret } : {}),
    ...over,
  });
  const run = async (e) => {
    const r = await c.run(e);
    if (fs.existsSync(KV)) stored.push(fs.readFileSync(KV, 'utf8'));
    return r;
  };

  before(async () => {
    fs.mkdirSync(path.dirname(KV), { recursive: true });
    resetStore();
    c = await startCatchup('spin', { command: COMMAND, extra: MAPS });
  });
  after(async () => {
    resetStore();
    await c?.close();
  });

  const missed = panoraRow('spin-missed');

  test('a missed delivery is written once, as the webhook path writes it, and forwarded', async () => {
    c.list(missed, panoraRow('spin-no-token', { connection_token: null }));
    const sink = await c.sink();
    const r = await run(env(sink));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(r.summary, {
      outcome: 'catch-up', listed: 2, recovered: 1, stored: 1, known: 0, forwarded: 1, skipped: 1, outside_window: 0,
    });
    assert.deepEqual(c.api.requests.at(-1), { method: 'GET', path: '/connections', key: c.apiKey });
    const kv = store();
    assert.deepEqual(Object.keys(kv).sort(),
      [`connection/${missed.id_connection}`, `linked-user/${missed.id_linked_user}`].sort());
    assert.deepEqual(JSON.parse(kv[`connection/${missed.id_connection}`]), kept(missed));
    assert.deepEqual(JSON.parse(kv[`linked-user/${missed.id_linked_user}`]), [missed.id_connection]);
    assert.equal(sink.messages.length, 1, sink.attempts[0]?.error);
    assert.equal(sink.messages[0].id, forwardId(missed.id_connection));
    assert.deepEqual(sink.messages[0].event.data, recordOf(missed));
    for (const cred of credentialsOf(missed)) assert.ok(!sink.messages[0].raw.includes(cred), 'no provider credential is forwarded');
    assert.ok(!JSON.stringify(kv).includes(sink.secret), 'no forward secret in the store');
  });

  test('a second run writes and forwards nothing', async () => {
    const before = fs.readFileSync(KV, 'utf8');
    const sink = await c.sink();
    const r = await run(env(sink));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.summary, {
      outcome: 'catch-up', listed: 2, recovered: 1, stored: 0, known: 1, forwarded: 0, skipped: 1, outside_window: 0,
    });
    assert.equal(fs.readFileSync(KV, 'utf8'), before, 'the store is untouched');
    assert.equal(sink.attempts.length, 0, 'nothing is sent');
  });

  test('a webhook after the catch-up finds the record known; one before it makes the catch-up find it known', async () => {
    const srv = await serve(SPIN, { PANORA_TEST_SPIN_SECRET: WEBHOOK_SECRET, PANORA_TEST_KV_FILE: KV }, 'catchup-spin', MAPS);
    const early = panoraRow('spin-webhook-first');
    try {
      const late = await deliverOnce(`${srv.base}/panora_webhooks`, WEBHOOK_SECRET, missed);
      assert.deepEqual(late, { status: 200, text: `captured ${missed.id_connection} known\n` });
      assert.deepEqual(JSON.parse(store()[`connection/${missed.id_connection}`]), kept(missed), 'the first record stays');

      const first = await deliverOnce(`${srv.base}/panora_webhooks`, WEBHOOK_SECRET, early);
      assert.deepEqual(first, { status: 200, text: `captured ${early.id_connection} new\n` });
    } finally {
      await srv.stop();
    }
    c.assertClean(srv.log(), 'the component log');
    const delivered = store()[`connection/${early.id_connection}`];
    c.list(missed, early);
    const sink = await c.sink();
    const r = await run(env(sink));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([r.summary.stored, r.summary.known, r.summary.forwarded], [0, 2, 0]);
    assert.equal(store()[`connection/${early.id_connection}`], delivered, 'the delivered record is left as it was');
    assert.notEqual(JSON.parse(delivered).id_event, null, 'it is the webhook path\'s record');
    assert.equal(sink.attempts.length, 0);
  });

  test('a store that refuses writes: non-zero, what was written stays whole, the next run completes it', async () => {
    resetStore();
    const a = panoraRow('spin-full-a');
    const b = panoraRow('spin-full-b');
    c.list(a, b);
    fs.writeFileSync(`${KV}.fail`, '3');  // a's index and record, b's index; not b's record
    const r = await run(env());
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^catch-up failed: the key-value store did not take a connection: [^\n]+\n$/);
    assert.equal(r.summary.outcome, 'catch-up-failed');
    assert.deepEqual([r.summary.stored, r.summary.forwarded], [1, 0]);
    let kv = store();
    assert.deepEqual(JSON.parse(kv[`connection/${a.id_connection}`]), kept(a));
    assert.deepEqual(JSON.parse(kv[`linked-user/${a.id_linked_user}`]), [a.id_connection]);
    assert.ok(!(`connection/${b.id_connection}` in kv), 'no record without its index, no half record');

    fs.rmSync(`${KV}.fail`);
    const again = await run(env());
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual([again.summary.stored, again.summary.known], [1, 1]);
    kv = store();
    assert.deepEqual(JSON.parse(kv[`connection/${b.id_connection}`]), kept(b));
    assert.deepEqual(JSON.parse(kv[`linked-user/${b.id_linked_user}`]), [b.id_connection], 'listed once');
  });

  test('with a forward, a connection is forwarded before it is written: a failed write sends it again next run', async () => {
    resetStore();
    const row = panoraRow('spin-fwd-then-write');
    c.list(row);
    const sink = await c.sink();
    fs.writeFileSync(`${KV}.fail`, '');
    const r = await run(env(sink));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^catch-up failed: the key-value store did not take a connection: /);
    assert.deepEqual(store(), {});
    fs.rmSync(`${KV}.fail`);
    const again = await run(env(sink));
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual([again.summary.stored, again.summary.forwarded], [1, 1]);
    assert.deepEqual(sink.messages.map((m) => m.id), [forwardId(row.id_connection), forwardId(row.id_connection)],
      'the same webhook-id both times');
    assert.deepEqual(JSON.parse(store()[`connection/${row.id_connection}`]), kept(row));
  });

  test('a backend that refuses the forward: nothing written, non-zero; the next run forwards and writes', async () => {
    resetStore();
    const row = panoraRow('spin-backend-refuses');
    c.list(row);
    const sink = await c.sink({ mode: (n) => (n === 0 ? 503 : 204) });
    const r = await run(env(sink));
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr, 'catch-up failed: the backend did not accept a forward: the forward was answered with a non-2xx status\n');
    assert.deepEqual(store(), {}, 'a record in the store has been forwarded');
    const again = await run(env(sink));
    assert.equal(again.code, 0, again.stderr);
    assert.equal(sink.messages.length, 1);
    assert.ok(`connection/${row.id_connection}` in store());
  });

  // [name, variable changes, the reason line]
  const faults = [
    ['no panora_api_key', { PANORA_TEST_SPIN_API_KEY: '' }, 'catch-up failed: the Spin variable panora_api_key is not set\n'],
    ['plain http to a host that is not loopback', { PANORA_TEST_SPIN_API_URL: 'http://api.panora.dev' },
      'catch-up failed: the Spin variable panora_api_url must be https (http only to a loopback address, for a self-hosted Panora)\n'],
    ['a forward secret that is not whsec_', { PANORA_TEST_SPIN_FORWARD_SECRET: 'not-a-secret' },
      'catch-up failed: the Spin variable panora_webhook_forward_secret is not whsec_ and the base64 of 16 to 64 bytes\n'],
  ];
  for (const [name, over, why] of faults) {
    test(`a setting that cannot work lists and writes nothing: ${name}`, async () => {
      resetStore();
      c.list(panoraRow(`spin-fault:${name}`));
      const sink = await c.sink();
      const listed = c.api.requests.length;
      const r = await run(env(sink, over));
      assert.notEqual(r.code, 0);
      assert.equal(r.stderr, why);
      assert.equal(r.summary.outcome, 'catch-up-failed');
      assert.equal(c.api.requests.length, listed);
      assert.deepEqual(store(), {});
      assert.equal(sink.attempts.length, 0);
    });
  }

  test('a refused API key: non-zero, nothing written', async () => {
    resetStore();
    c.list(panoraRow('spin-refused-key'));
    const r = await run(env(null, { PANORA_TEST_SPIN_API_KEY: 'pk_wrong' }));
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr, 'catch-up failed: Panora refused the API key\n');
    assert.deepEqual(store(), {});
  });

  test('no credential is kept: the store holds tokens, never a provider credential, the API key or a secret', () => {
    assert.ok(stored.length > 5);
    assert.ok(stored.some((t) => t.includes(missed.connection_token)), 'the token is kept: it is what the store is for');
    for (const text of stored) {
      assert.ok(!text.includes(c.apiKey), 'no API key in the store');
      for (const cred of credentialsOf(missed)) assert.ok(!text.includes(cred), 'no provider credential in the store');
      assert.ok(!text.includes('access_token') && !text.includes('refresh_token'), 'no credential field in the store');
    }
    // the forwards' bodies, and every run's output (c.close: no token there either)
    for (const s of c.outputs) assert.ok(!s.includes('ctok_'), 'no connection token in an output');
  });
});
