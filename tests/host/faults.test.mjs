// faults.test.mjs -- the reference host (deploy/host/server.mjs, the real
// command, in its own process) under hostile traffic and store faults:
// request targets the URL class refuses, a store locked by another process,
// SIGTERM with a client that never finishes, the listing behind a proxy, a
// flood of idle connections, and bodies over the limit. Every test is
// bounded in time and count, talks to loopback only, and kills what it
// started on every path.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { spawnTracked, stop, waitExit, within } from '../lib/proc.mjs';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-faults-'));
const secret = 'whsec_faults';
after(() => fs.rmSync(dir, { recursive: true, force: true }));

// Start the host; resolves once it listens, with its port and its output.
async function host(env = {}, name = crypto.randomUUID()) {
  const db = path.join(dir, `${name}.sqlite`);
  const child = spawnTracked(process.execPath, ['deploy/host/server.mjs'], {
    env: { ...process.env, PANORA_WEBHOOK_SECRET: secret, PANORA_WEBHOOK_DB: db, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  try {
    const port = await within(30000, 'host start', new Promise((resolve, reject) => {
      const poll = setInterval(() => {
        const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
        if (m) { clearInterval(poll); resolve(Number(m[1])); }
      }, 20);
      child.once('exit', (code) => { clearInterval(poll); reject(new Error(`host exited ${code}: ${out}`)); });
    }));
    return { child, port, db, base: `http://127.0.0.1:${port}`, out: () => out, alive: () => child.exitCode === null && child.signalCode === null };
  } catch (e) {
    await stop(child);
    throw e;
  }
}

function delivery(row, idEvent = crypto.randomUUID()) {
  const data = JSON.stringify(row);
  return {
    body: Buffer.from(JSON.stringify({ id_event: idEvent, data, type: 'connection.created' })),
    headers: { 'content-type': 'application/json', 'panora-signature': crypto.createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex') },
  };
}
const row = (n) => ({ id_connection: `conn-${n}`, connection_token: `ctok_${n}`, id_linked_user: 'user-faults' });

function request(base, { method = 'POST', p = '/panora_webhooks', headers = {}, body } = {}) {
  return within(20000, `${method} ${p}`, new Promise((resolve, reject) => {
    const req = http.request(`${base}${p}`, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  }));
}
const post = (base, d) => request(base, { headers: d.headers, body: d.body });

// Raw bytes on a fresh connection; resolves with what came back by close.
function raw(port, text) {
  return within(10000, 'raw request', new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(text));
    let got = '';
    s.on('data', (d) => { got += d; });
    s.on('error', () => {});
    s.on('close', () => resolve(got));
  }));
}

describe('reference host: faults it must survive', () => {
  test('request targets the URL class refuses end nothing', async () => {
    const h = await host();
    try {
      for (const target of ['//', '//a:b@', '//x:99999/', 'http://[/', '/%', '/connections?%zz']) {
        for (const method of ['POST', 'GET']) {
          const answer = await raw(h.port, `${method} ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
          assert.match(answer, /^HTTP\/1\.1 \d{3}/, `${method} ${target}: ${answer.slice(0, 40)}`);
          assert.ok(h.alive(), `${method} ${target} ended the host`);
        }
      }
      assert.match(await raw(h.port, 'garbage\r\n\r\n'), /^HTTP\/1\.1 400/);
      const ok = await post(h.base, delivery(row('targets')));
      assert.equal(ok.status, 200);
    } finally {
      await stop(h.child);
    }
  });

  test('a store locked elsewhere: 503 storage_failed at once, other requests served, the resend lands', async () => {
    const h = await host({}, 'locked');
    const other = new Database(h.db);
    try {
      other.exec('BEGIN IMMEDIATE');                    // holds the write lock
      const d = delivery(row('locked'));
      const t0 = Date.now();
      const refused = await post(h.base, d);
      assert.equal(refused.status, 503);
      assert.equal(JSON.parse(refused.body).error, 'storage_failed');
      assert.ok(Date.now() - t0 < 2000, 'the wait for the lock is short');
      const bad = await post(h.base, { ...d, headers: { ...d.headers, 'panora-signature': '0'.repeat(64) } });
      assert.equal(bad.status, 401, 'still serving');
      other.exec('COMMIT');
      const again = await post(h.base, d);
      assert.equal(again.status, 200);
      assert.equal(again.body, 'captured conn-locked new\n');
      assert.equal(other.prepare("SELECT count(*) AS n FROM connections WHERE id_connection = 'conn-locked'").get().n, 1);
      assert.ok(h.alive());
      assert.ok(!h.out().includes('ctok_'), 'no token in the log');
    } finally {
      other.close();
      await stop(h.child);
    }
  });

  test('SIGTERM with a client trickling a body: exit 0 within 15 s, WAL checkpointed', async () => {
    const h = await host({ PANORA_WEBHOOK_SHUTDOWN_GRACE_MS: '1000' }, 'sigterm');
    const d = delivery(row('sigterm'));
    assert.equal((await post(h.base, d)).status, 200);
    const s = net.connect(h.port, '127.0.0.1');
    await new Promise((resolve) => s.once('connect', resolve));
    s.on('error', () => {});
    s.write(`POST /panora_webhooks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`);
    const trickle = setInterval(() => { if (!s.destroyed) s.write('x'); }, 100);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      h.child.kill('SIGTERM');
      assert.equal(await waitExit(h.child, 15000), 0);
      assert.ok(Date.now() - t0 < 15000);
      const check = new Database(h.db, { readonly: true });
      assert.equal(check.prepare('SELECT count(*) AS n FROM connections').get().n, 1);
      check.close();
      assert.ok(!fs.existsSync(`${h.db}-wal`) || fs.statSync(`${h.db}-wal`).size === 0, 'WAL checkpointed');
    } finally {
      clearInterval(trickle);
      s.destroy();
      await stop(h.child);
    }
  });

  test('GET /connections: off by default; on request, loopback only, with the token it printed, never through a proxy', async () => {
    const off = await host({}, 'listing-off');
    try {
      assert.equal((await request(off.base, { method: 'GET', p: '/connections?id_linked_user=user-faults' })).status, 404);
    } finally {
      await stop(off.child);
    }
    const on = await host({ PANORA_WEBHOOK_LISTING: '1', HOST: 'localhost' }, 'listing-on');
    try {
      const base = `http://localhost:${on.port}`;
      const d = delivery(row('listed'));
      assert.equal((await post(base, d)).status, 200);
      const printed = /Authorization: Bearer (\S+)/.exec(on.out());
      assert.ok(printed, `the host prints the listing token: ${on.out()}`);
      const auth = { authorization: `Bearer ${printed[1]}` };
      const p = '/connections?id_linked_user=user-faults';
      const listed = await request(base, { method: 'GET', p, headers: auth });
      assert.equal(listed.status, 200, 'HOST=localhost counts as loopback');
      assert.equal(JSON.parse(listed.body).connections[0].connection_token, 'ctok_listed');
      // being on loopback is not enough: without the token, or with another, nothing
      for (const hdr of [{}, { authorization: 'Bearer wrong' }, { authorization: printed[1] },
        { authorization: `Bearer ${printed[1]}x` }, { authorization: `Basic ${printed[1]}` }]) {
        const r = await request(base, { method: 'GET', p, headers: hdr });
        assert.equal(r.status, 404, JSON.stringify(hdr));
        assert.ok(!r.body.includes('ctok_'));
      }
      // each header a proxy or a CDN adds, as a plain nginx proxy_pass with
      // one proxy_set_header would send it, token and all
      const proxied = [
        { 'x-forwarded-for': '203.0.113.7' }, { forwarded: 'for=203.0.113.7' }, { 'X-Forwarded-For': '127.0.0.1' },
        { 'x-real-ip': '127.0.0.1' }, { via: '1.1 nginx' }, { 'x-forwarded-host': 'example.com' },
        { 'x-forwarded-proto': 'https' }, { 'X-Forwarded-Port': '443' }, { 'true-client-ip': '127.0.0.1' },
        { 'cf-connecting-ip': '127.0.0.1' }, { 'x-client-ip': '127.0.0.1' }, { 'fastly-client-ip': '127.0.0.1' },
      ];
      for (const hdr of proxied) {
        const r = await request(base, { method: 'GET', p, headers: { ...auth, ...hdr } });
        assert.equal(r.status, 404, JSON.stringify(hdr));
        assert.ok(!r.body.includes('ctok_'));
      }
      assert.equal((await request(base, { method: 'GET', p, headers: auth })).status, 200, 'still served without them');
    } finally {
      await stop(on.child);
    }
    const given = await host({ PANORA_WEBHOOK_LISTING: '1', PANORA_WEBHOOK_LISTING_TOKEN: 'tok-given' }, 'listing-given');
    try {
      assert.ok(!given.out().includes('tok-given'), 'a token the operator chose is not printed');
      const p = '/connections?id_linked_user=user-faults';
      assert.equal((await request(given.base, { method: 'GET', p, headers: { authorization: 'Bearer tok-given' } })).status, 200);
    } finally {
      await stop(given.child);
    }
  });

  test('10,000 request headers: 431 Request Header Fields Too Large, and the host lives on', async () => {
    const h = await host({}, 'many-headers');
    try {
      const lines = Array.from({ length: 10000 }, (_, i) => `x-h${i}: v\r\n`).join('');
      const got = await raw(h.port, `GET / HTTP/1.1\r\nHost: x\r\n${lines}\r\n`);
      // Node stops reading at its 16 KiB limit and closes after the answer;
      // the client, still sending, may see a reset before it reads it
      console.log(`# 10,000 headers: ${got === '' ? 'reset before the answer was read' : JSON.stringify(got.split('\r\n')[0])}`);
      if (got !== '') assert.match(got, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
      const big = await raw(h.port, `GET / HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(20000)}\r\n\r\n`);
      if (big !== '') assert.match(big, /^HTTP\/1\.1 431 /);
      assert.ok(got !== '' || big !== '', 'at least one client read the 431');
      assert.match(await raw(h.port, 'GET / HTTP/1.1\r\nHost: x\r\nBad header\r\n\r\n'), /^HTTP\/1\.1 400 /, 'a malformed header is still 400');
      assert.equal((await post(h.base, delivery(row('after-headers')))).status, 200);
      assert.ok(h.alive());
    } finally {
      await stop(h.child);
    }
  });

  test('a known id_connection never changes what is stored', async () => {
    const h = await host({ PANORA_WEBHOOK_LISTING: '1', PANORA_WEBHOOK_LISTING_TOKEN: 'tok-faults' }, 'first-values');
    try {
      assert.equal((await post(h.base, delivery(row('same')))).body, 'captured conn-same new\n');
      const changed = delivery({ ...row('same'), connection_token: 'ctok_other', provider_slug: 'zendesk' });
      assert.equal((await post(h.base, changed)).body, 'captured conn-same known\n');
      const list = JSON.parse((await request(h.base, { method: 'GET', p: '/connections?id_linked_user=user-faults', headers: { authorization: 'Bearer tok-faults' } })).body).connections;
      assert.equal(list.length, 1);
      assert.equal(list[0].connection_token, 'ctok_same');
      assert.equal(list[0].provider_slug, null);
      assert.equal(list[0].deliveries, 2);
    } finally {
      await stop(h.child);
    }
  });

  test('idle and trickling connections: deliveries get through while they are held, and after the cap', async () => {
    const h = await host({ PANORA_WEBHOOK_MAX_CONNECTIONS: '40', PANORA_WEBHOOK_HEADERS_TIMEOUT_MS: '1000' }, 'flood');
    const hostile = [];
    let closed = 0;
    const open = (n) => {
      for (let i = 0; i < n; i++) {
        const s = net.connect(h.port, '127.0.0.1');
        s.on('error', () => {});
        s.on('close', () => { closed++; });
        s.on('connect', () => s.write('POST /panora_webhooks HTTP/1.1\r\nHost: x\r\n'));
        hostile.push(s);
      }
    };
    const trickle = setInterval(() => {
      for (const s of hostile) if (!s.destroyed) s.write('X-Slow: 1\r\n');
    }, 200);
    try {
      open(25);                                   // below the cap
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 10; i++) {
        const r = await post(h.base, delivery(row(`held-${i}`)));
        assert.equal(r.status, 200, `delivery ${i} while 25 connections are held`);
      }
      open(100);                                  // past the cap
      await new Promise((r) => setTimeout(r, 300));
      // the held ones run out of header time; a delivery then gets through
      const t0 = Date.now();
      let ok = false;
      while (!ok && Date.now() - t0 < 8000) {
        try {
          ok = (await post(h.base, delivery(row('after-cap')))).status === 200;
        } catch { /* refused while full */ }
        if (!ok) await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(ok, 'a delivery got through within 8 s of the flood');
      // and the server, not the clients, ended every hostile connection:
      // the cap refused the excess, the header deadline cut the rest
      const t1 = Date.now();
      while (closed < hostile.length && Date.now() - t1 < 5000) await new Promise((r) => setTimeout(r, 100));
      assert.equal(closed, hostile.length, `${hostile.length - closed} hostile connections still open`);
      assert.ok(h.alive());
    } finally {
      clearInterval(trickle);
      for (const s of hostile) s.destroy();
      await stop(h.child);
    }
  });

  test('bodies over the limit: the client reads 413, every time, and Expect: 100-continue is refused before the upload', async () => {
    const h = await host({}, 'too-large');
    try {
      for (let i = 0; i < 20; i++) {
        const status = await within(20000, 'streamed upload', new Promise((resolve, reject) => {
          const req = http.request(`${h.base}/panora_webhooks`, { method: 'POST', agent: false, headers: { 'transfer-encoding': 'chunked' } }, (res) => {
            res.resume();
            resolve(res.statusCode);
          });
          req.on('error', (e) => reject(new Error(`try ${i}: ${e.code}`)));
          const chunk = Buffer.alloc(64 << 10, 0x20);
          for (let k = 0; k < 32; k++) req.write(chunk);
          req.end();
        }));
        assert.equal(status, 413, `try ${i}`);
      }
      const expect = await within(20000, 'expect 100-continue', new Promise((resolve, reject) => {
        let continued = false;
        const req = http.request(`${h.base}/panora_webhooks`, {
          method: 'POST', agent: false, headers: { 'content-length': 2 << 20, expect: '100-continue', 'content-type': 'application/json' },
        }, (res) => {
          res.resume();
          resolve({ status: res.statusCode, continued, close: res.headers.connection });
        });
        req.on('continue', () => { continued = true; req.end(Buffer.alloc(2 << 20, 0x20)); });
        req.on('error', reject);
        req.flushHeaders();
      }));
      assert.deepEqual(expect, { status: 413, continued: false, close: 'close' });
      assert.ok(h.alive());
    } finally {
      await stop(h.child);
    }
  });
});
