// panora-rule.test.mjs -- every HTTP-facing interface, delivered to exactly
// as Panora's WebhookService.deliverWebhook does it (axios.post of
// {id_event, data, type} with the Panora-Signature header), and judged by
// what Panora then does with the answer: it stores axios's parsed
// `response.data` in a Prisma String column, so a 2xx is only a success
// when that value is a string, and whatever it holds ends up in Panora's
// database: it must never hold the token.
//
// Interfaces: the wasi:http component (forward sink), its Spin flavour
// (key-value store), the reference host (SQLite), and the WAGI module behind
// a minimal WAGI host (which can keep nothing, so captures are refused).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import axios from 'axios';
import { startServer } from '../../deploy/host/server.mjs';
import { loadModule, runWagi, wagiEnv } from '../../deploy/node/wagi.mjs';
import { backend, serve } from './serve.mjs';

const secret = `whsec_${crypto.randomBytes(12).toString('hex')}`;

// What Panora sends, and what it concludes from the answer.
async function deliverAsPanora(url, { row, type = 'connection.created' }) {
  const data = JSON.stringify(row);
  const event = { id_event: crypto.randomUUID(), data, type };
  const signature = crypto.createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex');
  try {
    const response = await axios.post(url, event, { headers: { 'Panora-Signature': signature }, timeout: 20000 });
    // prisma.webhooks_reponses.create({ http_response_data: response.data }):
    // a String column, so anything but a string throws and the attempt fails
    const stored = typeof response.data === 'string';
    return { ok: stored, status: response.status, stored: response.data };
  } catch (e) {
    if (e.response) return { ok: false, status: e.response.status, stored: null };
    throw e;
  }
}

const row = (label) => ({
  id_connection: crypto.randomUUID(), status: 'valid', provider_slug: 'hubspot', vertical: 'crm',
  account_url: null, token_type: 'oauth2', access_token: 'enc:provider-access', refresh_token: 'enc:provider-refresh',
  expiration_timestamp: null, created_at: new Date().toISOString(),
  connection_token: `ctok_rule_${label}_${crypto.randomBytes(8).toString('hex')}`,
  id_project: crypto.randomUUID(), id_linked_user: crypto.randomUUID(),
});

function assertStoredSafely(r, label) {
  assert.ok(r.ok, `${label}: Panora counts it as delivered (status ${r.status}, data ${JSON.stringify(r.stored)})`);
  assert.equal(typeof r.stored, 'string');
  assert.ok(!r.stored.includes('ctok_') && !r.stored.includes('enc:provider'), `${label}: ${r.stored}`);
  assert.ok(!r.stored.includes(secret));
}

// A WAGI host in a few lines: each request runs the module once, with the
// CGI meta-variables and the body, and relays its CGI answer.
async function wagiHost() {
  const mod = await loadModule('build/panora-webhook.wasm');
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const env = wagiEnv({ method: req.method, signature: req.headers['panora-signature'], contentType: req.headers['content-type'], body });
      env.PANORA_WEBHOOK_SECRET = secret;
      const w = await runWagi(mod, { env, body });
      res.writeHead(w.status, { 'content-type': w.headers['content-type'] });
      res.end(w.body);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) };
}

describe("Panora's own rule, on every HTTP interface", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-rule-'));
  const open = [];
  let sink;
  const ends = {};
  before(async () => {
    sink = await backend();
    const comp = await serve('build/panora-webhook-http.wasm', {
      PANORA_WEBHOOK_SECRET: secret, PANORA_WEBHOOK_FORWARD_URL: sink.url, PANORA_WEBHOOK_FORWARD_SECRET: sink.secret,
    }, 'rule-http');
    open.push(comp);
    ends.http = `${comp.base}/panora_webhooks`;
    const kv = path.join(dir, 'kv.json');
    const spin = await serve('build/panora-webhook-spin.wasm', { PANORA_TEST_SPIN_SECRET: secret, PANORA_TEST_KV_FILE: kv }, 'rule-spin', ['--jco-map',
      `wasi:config/store@0.2.0-draft-2024-09-27=${path.resolve('tests/http/fake-config.mjs')}`,
      `wasi:keyvalue/store@0.2.0-draft2=${path.resolve('tests/http/fake-kv.mjs')}`]);
    open.push(spin);
    ends.spin = `${spin.base}/panora_webhooks`;
    const host = await startServer({ PANORA_WEBHOOK_SECRET: secret, PANORA_WEBHOOK_DB: path.join(dir, 'db.sqlite'), PORT: '0' }, { log: () => {} });
    open.push({ stop: () => host.close() });
    ends.host = `http://127.0.0.1:${host.address.port}/panora_webhooks`;
    const wagi = await wagiHost();
    open.push({ stop: () => wagi.close() });
    ends.wagi = wagi.url;
  });
  after(async () => {
    for (const o of open) await o.stop();
    await sink?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const name of ['http', 'spin', 'host']) {
    test(`${name}: a capture is delivered at the first attempt, and Panora stores only a receipt`, async () => {
      const r = row(name);
      const got = await deliverAsPanora(ends[name], { row: r });
      assertStoredSafely(got, name);
      assert.match(got.stored, new RegExp(`^captured ${r.id_connection} `));
    });

    test(`${name}: an ignored event, the same`, async () => {
      const got = await deliverAsPanora(ends[name], { row: row(name), type: 'crm.contact.created' });
      assertStoredSafely(got, name);
      assert.equal(got.stored, 'ignored crm.contact.created\n');
    });
  }

  test('http: the forward really has the record Panora was told about', async () => {
    sink.clear();
    const r = row('fwd');
    assertStoredSafely(await deliverAsPanora(ends.http, { row: r }), 'http');
    assert.equal(sink.messages.length, 1);
    assert.equal(sink.messages[0].event.data.connection_token, r.connection_token);
  });

  test('wagi: an ignored event is delivered; a capture is refused, so Panora sends it again', async () => {
    assertStoredSafely(await deliverAsPanora(ends.wagi, { row: row('wagi'), type: 'crm.contact.created' }), 'wagi');
    const got = await deliverAsPanora(ends.wagi, { row: row('wagi') });
    assert.equal(got.ok, false);
    assert.equal(got.status, 500);
  });
});
