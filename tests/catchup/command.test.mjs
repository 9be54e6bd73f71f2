// command.test.mjs -- the catch-up command (build/panora-webhook-catchup.wasm)
// under `jco run` (tests/catchup/run.mjs): a delivery Panora's one-attempt
// sender lost while the backend was down arrives with the next run, as
// JSON.parse of the row says, verified with the npm standardwebhooks
// package, under the webhook-id the wasi:http component uses for the same
// connection; the window; a large and a slow answer. No run's output holds
// a credential, the API key, the forward secret or a connection token.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { credentialsOf, deliverOnce, panoraRow } from '../lib/panora-api.mjs';
import { forwardId, freePort, serve } from '../http/serve.mjs';
import { hoursAgo, recordOf, startCatchup } from './run.mjs';

const HTTP = 'build/panora-webhook-http.wasm';
const WEBHOOK_SECRET = `whsec_${crypto.randomBytes(8).toString('hex')}`;

describe('catch-up command under jco run', () => {
  let c;
  before(async () => { c = await startCatchup('command'); });
  after(() => c?.close());

  test('a delivery lost while the backend was down is forwarded by the next run, as the component would send it', async () => {
    const port = await freePort();
    const secret = `whsec_${crypto.randomBytes(24).toString('base64')}`;
    const row = panoraRow('missed');
    c.list(row, panoraRow('no-token-yet', { connection_token: null }));
    const srv = await serve(HTTP, {
      PANORA_WEBHOOK_SECRET: WEBHOOK_SECRET, PANORA_WEBHOOK_FORWARD_URL: `http://127.0.0.1:${port}/hooks/panora`, PANORA_WEBHOOK_FORWARD_SECRET: secret,
    }, 'catchup-http');
    try {
      // Panora's queue sender: one attempt, the backend is down, no retry
      const lost = await deliverOnce(`${srv.base}/panora_webhooks`, WEBHOOK_SECRET, row);
      assert.equal(lost.status, 503, JSON.stringify(lost));

      const sink = await c.sink({ secret, port });       // the backend is back
      const r = await c.run(c.env(sink));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.deepEqual(r.summary, { outcome: 'catch-up', listed: 2, recovered: 1, forwarded: 1, skipped: 1, outside_window: 0 });
      assert.deepEqual(c.api.requests.at(-1), { method: 'GET', path: '/connections', key: c.apiKey });
      assert.equal(sink.attempts.length, 1, sink.attempts[0]?.error);
      assert.equal(sink.messages.length, 1, 'verified with standardwebhooks');
      const m = sink.messages[0];
      assert.equal(m.id, forwardId(row.id_connection));
      assert.equal(m.event.type, 'connection.created');
      assert.deepEqual(m.event.data, recordOf(row));
      assert.ok(m.raw.includes(row.connection_token), 'the token travels in the forwarded body');
      for (const cred of credentialsOf(row)) assert.ok(!m.raw.includes(cred), 'no provider credential is forwarded');

      // the same connection through the wasi:http component, now that the
      // backend is up: the same webhook-id, the same record but id_event
      const late = await deliverOnce(`${srv.base}/panora_webhooks`, WEBHOOK_SECRET, row);
      assert.equal(late.status, 200, JSON.stringify(late));
      assert.equal(sink.messages.length, 2);
      const w = sink.messages[1];
      assert.equal(w.id, m.id, 'one webhook-id per connection, whichever path brought it');
      assert.deepEqual({ ...w.event.data, id_event: null }, m.event.data);
    } finally {
      await srv.stop();
    }
    c.assertClean(srv.log(), 'the component log');
  });

  test('only connections created within the window are forwarded; 0 means all', async () => {
    const recent = panoraRow('recent', { created_at: hoursAgo(1) });
    const day = panoraRow('yesterday', { created_at: hoursAgo(23) });
    const old = panoraRow('old', { created_at: hoursAgo(49) });
    c.list(recent, day, old);
    const sink = await c.sink();
    const byDefault = await c.run(c.env(sink));
    assert.equal(byDefault.code, 0, byDefault.stderr);
    assert.deepEqual(byDefault.summary, { outcome: 'catch-up', listed: 3, recovered: 3, forwarded: 2, skipped: 0, outside_window: 1 });
    assert.deepEqual(sink.messages.map((m) => m.id).sort(), [recent, day].map((x) => forwardId(x.id_connection)).sort());

    sink.clear();
    const twoHours = await c.run(c.env(sink, { PANORA_WEBHOOK_CATCHUP_WINDOW_S: '7200' }));
    assert.equal(twoHours.summary.forwarded, 1);
    assert.equal(twoHours.summary.outside_window, 2);
    assert.equal(sink.messages[0].id, forwardId(recent.id_connection));

    sink.clear();
    const all = await c.run(c.env(sink, { PANORA_WEBHOOK_CATCHUP_WINDOW_S: '0' }));
    assert.equal(all.summary.forwarded, 3);
    assert.equal(sink.messages.length, 3);
    for (const m of sink.messages) {
      const row = [recent, day, old].find((x) => forwardId(x.id_connection) === m.id);
      assert.deepEqual(m.event.data, recordOf(row));
    }
  });

  test('a large answer, read as it arrives: every row listed', async () => {
    c.list();
    c.api.streamRows = 20000;               // created 2026-11-30, outside a 1 s window
    const sink = await c.sink();
    const r = await c.run(c.env(sink, { PANORA_WEBHOOK_CATCHUP_WINDOW_S: '1' }));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.summary, { outcome: 'catch-up', listed: 20000, recovered: 20000, forwarded: 0, skipped: 0, outside_window: 20000 });
    assert.equal(sink.attempts.length, 0);
  });

  test('a slow trickle is read to its end', async () => {
    c.list(panoraRow('trickled'));
    c.api.mode = 'trickle';
    const sink = await c.sink();
    const r = await c.run(c.env(sink));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.summary.forwarded, 1);
    assert.equal(sink.messages.length, 1);
  });

  describe('a backend that does not accept the forward: non-zero, the next run delivers', () => {
    test('a backend that answers 5xx', async () => {
      const row = panoraRow('refused-by-backend');
      c.list(row);
      const sink = await c.sink({ mode: (n) => (n === 0 ? 500 : 204) });
      const first = await c.run(c.env(sink));
      assert.notEqual(first.code, 0);
      assert.equal(first.stderr, 'catch-up failed: the backend did not accept a forward: the forward was answered with a non-2xx status\n');
      assert.equal(first.summary.outcome, 'catch-up-failed');
      assert.equal(first.summary.forwarded, 0);
      const again = await c.run(c.env(sink));
      assert.equal(again.code, 0, again.stderr);
      assert.equal(sink.messages.length, 1);
      assert.equal(sink.attempts[0].headers['webhook-id'], sink.attempts[1].headers['webhook-id']);
      assert.deepEqual(sink.messages[0].event.data, recordOf(row));
    });

    test('a backend that is down', async () => {
      c.list(panoraRow('backend-down'));
      const sink = await c.sink();
      const env = c.env(sink);
      await sink.close();
      const r = await c.run(env);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /^catch-up failed: the backend did not accept a forward: [^\n]+\n$/);
      assert.equal(r.summary.recovered, 1);
      assert.equal(r.summary.forwarded, 0);
    });
  });
});
