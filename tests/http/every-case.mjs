// every-case.mjs -- every end-to-end case of build/vectors/cases.json
// against a wasi:http component, whichever host serves it (jco serve in
// tests/http/, wasmtime serve in tests/wasmtime/). The component forwards
// to a backend that verifies each message with the npm standardwebhooks
// package: a capture is answered with its receipt (gen.mjs's expected
// text, not ours) and arrives there exactly once, as Node decoded it;
// every other case is answered as the WAGI module answers it under Node's
// WASI, and nothing is forwarded.
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { loadModule, runWagi, wagiEnv } from '../../deploy/node/wagi.mjs';
import { backend, forwardId, send } from './serve.mjs';

const TEXT = 'text/plain; charset=utf-8';

// What an HTTP client can carry: a method Node's client knows, header
// values without control characters or bytes outside Latin-1; and what a
// host can be handed: Linux caps one environment string at 128 KiB, so the
// 1 MiB secret lists stay with the native and WAGI suites.
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

// The settings of one group of cases (a secret list and a body limit).
function settingsOf(secret, maxBody) {
  const env = {};
  if (secret !== null) env.PANORA_WEBHOOK_SECRET = secret;
  if (maxBody) env.PANORA_WEBHOOK_MAX_BODY = String(maxBody);
  return env;
}

// A describe block `title`: one server per group, started by
// `start(env)` (it resolves to { base, log(), stop() }) with the group's
// settings and the forward to the verifying backend. After each group the
// server's log must hold no token and no forward secret.
export function everyCase(title, start, options = {}) {
  const cases = JSON.parse(fs.readFileSync('build/vectors/cases.json', 'utf8'))
    .map((c) => ({ ...c, body: Buffer.from(c.body, 'base64') }));
  describe(title, options, () => {
    let wagi;
    let sink;
    before(async () => {
      wagi = await loadModule('build/panora-webhook.wasm');
      sink = await backend();
    });
    after(() => sink?.close());

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
          srv = await start({ ...settingsOf(secret, maxBody), PANORA_WEBHOOK_FORWARD_URL: sink.url, PANORA_WEBHOOK_FORWARD_SECRET: sink.secret });
        });
        after(async () => {
          await srv?.stop();
          const log = srv?.log() ?? '';
          assert.ok(!log.includes('ctok_'), 'no connection token in the log');
          assert.ok(!log.includes(sink.secret), 'no forward secret in the log');
        });
        for (const c of group) {
          test(c.name, async () => {
            sink.clear();
            const got = await send(srv.base, requestOf(c));
            assert.equal(got.status, c.http, got.body.toString());
            if (c.code === 'captured') {
              assert.equal(got.headers['content-type'], TEXT);
              assert.equal(got.body.toString('utf8'), `captured ${c.receipt_value} forwarded\n`);
              assert.equal(sink.attempts.length, 1, 'exactly one forward');
              assert.equal(sink.messages.length, 1, sink.attempts[0]?.error);
              const m = sink.messages[0];
              assert.equal(m.id, forwardId(c.record.id_connection));
              assert.equal(m.event.type, 'connection.created');
              assert.deepEqual(m.event.data, c.record);
              assert.ok(Math.abs(Date.parse(m.event.timestamp) - Date.now()) < 60000, m.event.timestamp);
              return;
            }
            assert.equal(sink.attempts.length, 0, 'nothing is forwarded');
            // the WAGI module, as a WAGI host runs it, answers the same
            const env = { ...wagiEnv({ method: c.method ?? 'POST', signature: c.signature, contentType: c.content_type, body: c.body }), ...settingsOf(secret, maxBody) };
            const w = await runWagi(wagi, { env, body: c.body });
            assert.equal(got.status, w.status);
            if (c.code === 'ignored') {
              assert.equal(got.headers['content-type'], TEXT);
              assert.equal(got.body.toString('utf8'), `ignored ${c.receipt_value}\n`);
              assert.equal(got.body.toString('utf8'), w.body.toString('utf8'));
              return;
            }
            assert.equal(got.headers['content-type'], 'application/json');
            if (c.http === 405) assert.equal(got.headers.allow, 'POST');
            if (c.method === 'HEAD') return;         // no body, by HTTP's rules
            const body = JSON.parse(got.body.toString('utf8'));
            assert.equal(body.outcome, 'rejected');
            assert.equal(body.error, c.code);
            assert.deepEqual(body, JSON.parse(w.body.toString('utf8')));
          });
        }
      });
    }
  });
}
