// catchup.test.mjs -- the reference host's catch-up from Panora's API
// (deploy/host/catchup.mjs) against the stand-in API and one-attempt sender
// of tests/lib/panora-api.mjs: what Panora's single delivery did not bring
// is fetched back into the same SQLite table, and no fault of the API ever
// touches webhook serving.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startServer } from '../../deploy/host/server.mjs';
import { catchupConfig } from '../../deploy/host/catchup.mjs';
import { credentialsOf, deliverOnce, panoraRow, startPanoraApi } from '../lib/panora-api.mjs';
import { spawnTracked, stop, waitExit, within } from '../lib/proc.mjs';

const SECRET = 'whsec_catchup_test';
const API_KEY = 'pk_test_4f1c9a0e7b2d4c8e9a1b3c5d7e9f0a2b';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-catchup-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

let dbn = 0;
const freshDb = () => path.join(dir, `db${++dbn}.sqlite`);

// A host in this process; its log lines are kept, parsed.
async function host(api, { env = {}, catchup = {}, db = freshDb() } = {}) {
  const lines = [];
  const srv = await startServer({
    PANORA_WEBHOOK_SECRET: SECRET, PANORA_WEBHOOK_DB: db, PORT: '0',
    PANORA_API_KEY: API_KEY, PANORA_API_URL: api.url, PANORA_WEBHOOK_CATCHUP_INTERVAL_S: '3600', ...env,
  }, { log: (l) => lines.push(l), catchup });
  const parsed = () => lines.map((l) => JSON.parse(l));
  return {
    srv, db, lines, parsed,
    hook: `http://127.0.0.1:${srv.address.port}/panora_webhooks`,
    runs: () => parsed().filter((l) => l.outcome === 'catch-up' || l.outcome === 'catch-up-failed'),
    row: (id) => srv.store.byLinkedUser(id),
  };
}

// Wait until `pred()` holds, checking every 50 ms, for at most `ms`.
async function until(pred, ms, what) {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// A port on which nothing listens.
async function closedPort() {
  const s = http.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

describe('catch-up: settings', () => {
  test('off without PANORA_API_KEY; defaults 300 s and https://api.panora.dev', () => {
    assert.equal(catchupConfig({}), null);
    assert.deepEqual(catchupConfig({ PANORA_API_KEY: 'k' }),
      { apiKey: 'k', endpoint: 'https://api.panora.dev/connections', intervalMs: 300000 });
    assert.equal(catchupConfig({ PANORA_API_KEY: 'k', PANORA_API_URL: 'http://localhost:3000/api' }).endpoint,
      'http://localhost:3000/api/connections');
    assert.equal(catchupConfig({ PANORA_API_KEY: 'k', PANORA_API_URL: 'http://[::1]:3000', PANORA_WEBHOOK_CATCHUP_INTERVAL_S: '1' }).intervalMs, 1000);
  });

  test('bad values are refused with a message naming the setting', () => {
    for (const v of ['0', '-1', '1.5', 'abc', ' 5', '604801']) {
      assert.throws(() => catchupConfig({ PANORA_API_KEY: 'k', PANORA_WEBHOOK_CATCHUP_INTERVAL_S: v }),
        /PANORA_WEBHOOK_CATCHUP_INTERVAL_S must be a whole number of seconds from 1/, v);
    }
    for (const u of ['http://api.panora.dev', 'http://10.0.0.1:3000', 'ftp://api.panora.dev', 'not a url',
      'https://user:pw@api.panora.dev', 'https://api.panora.dev/?x=1']) {
      assert.throws(() => catchupConfig({ PANORA_API_KEY: 'k', PANORA_API_URL: u }), /PANORA_API_URL/, u);
    }
  });

  test('the command refuses to start on a bad setting, and says why without the key', async () => {
    const child = spawnTracked(process.execPath, ['deploy/host/server.mjs'], {
      env: { ...process.env, PANORA_WEBHOOK_SECRET: SECRET, PANORA_WEBHOOK_DB: freshDb(), PORT: '0',
        PANORA_API_KEY: API_KEY, PANORA_API_URL: 'http://example.com' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    try {
      assert.equal(await waitExit(child, 30000), 1);
    } finally {
      await stop(child);
    }
    assert.match(err, /PANORA_API_URL must be https:\/\/, or http:\/\/ to a loopback address/);
    assert.ok(!err.includes(API_KEY));
  });
});

describe('catch-up: the missed delivery comes back', () => {
  let api;
  before(async () => { api = await startPanoraApi({ apiKey: API_KEY }); });
  after(() => api.close());

  test('the host is down when the single delivery comes; the token is in SQLite after start-up', async () => {
    const row = panoraRow('down');
    api.rows.push(row);
    const missed = await deliverOnce(`http://127.0.0.1:${await closedPort()}/panora_webhooks`, SECRET, row);
    assert.equal(missed.status, 0, 'the one attempt found nobody');
    const h = await host(api);
    try {
      await within(30000, 'first run', h.srv.catchup.runOnce());
      const [kept] = h.row(row.id_linked_user);
      assert.equal(kept.connection_token, row.connection_token);
      assert.equal(kept.id_connection, row.id_connection);
      assert.equal(kept.arrival, 'catch-up');
      assert.equal(kept.deliveries, 0);
      assert.deepEqual(h.runs().at(-1), { ...h.runs().at(-1), outcome: 'catch-up', recovered: 1 });
      assert.ok(h.parsed().some((l) => l.outcome === 'recovered' && l.id_connection === row.id_connection));
      assert.ok(api.requests.every((r) => r.key === API_KEY && r.path === '/connections'));
    } finally {
      await h.srv.close();
    }
  });

  test('the sink fails on the delivery; the next run recovers it', async () => {
    const h = await host(api, { env: { PANORA_WEBHOOK_CATCHUP_INTERVAL_S: '1' } });
    try {
      await h.srv.catchup.runOnce();
      const row = panoraRow('sink-fails');
      const lock = new Database(h.db);
      lock.exec('BEGIN EXCLUSIVE');                  // the store cannot write
      api.rows.push(row);
      const first = await deliverOnce(h.hook, SECRET, row);
      assert.equal(first.status, 503);
      assert.match(first.text, /storage_failed/);
      lock.exec('COMMIT');
      lock.close();
      await until(() => h.row(row.id_linked_user).length === 1, 15000, 'recovered by a periodic run');
      assert.equal(h.row(row.id_linked_user)[0].connection_token, row.connection_token);
    } finally {
      await h.srv.close();
    }
  });

  test('a connection listed later is caught by the periodic run (interval 1 s)', async () => {
    const h = await host(api, { env: { PANORA_WEBHOOK_CATCHUP_INTERVAL_S: '1' } });
    try {
      await h.srv.catchup.runOnce();
      const later = panoraRow('later');
      api.rows.push(later);
      await until(() => h.row(later.id_linked_user).length === 1, 15000, 'caught by the periodic run');
      assert.ok(h.runs().length >= 2);
    } finally {
      await h.srv.close();
    }
  });

  test('a late webhook after a catch-up leaves one row, which keeps its arrival', async () => {
    const row = panoraRow('late-webhook');
    api.rows.push(row);
    const h = await host(api);
    try {
      await h.srv.catchup.runOnce();
      const late = await deliverOnce(h.hook, SECRET, row);
      assert.equal(late.status, 200);
      assert.equal(late.text, `captured ${row.id_connection} known\n`);
      const rows = h.row(row.id_linked_user);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].arrival, 'catch-up');
      assert.equal(rows[0].deliveries, 1);
      // and a run after a webhook changes nothing the webhook wrote
      const hooked = panoraRow('webhook-first');
      assert.equal((await deliverOnce(h.hook, SECRET, hooked)).status, 200);
      api.rows.push({ ...hooked, connection_token: 'ctok_changed_later', status: 'invalid' });
      await h.srv.catchup.runOnce();
      const [w] = h.row(hooked.id_linked_user);
      assert.deepEqual([w.connection_token, w.status, w.arrival, w.deliveries], [hooked.connection_token, 'valid', 'webhook', 1]);
    } finally {
      await h.srv.close();
    }
  });

  test('no credential is stored or logged; no token and no API key in any log', async () => {
    const rows = [panoraRow('cred-1'), panoraRow('cred-2', { connection_token: null }), panoraRow('cred-3')];
    const a = await startPanoraApi({ apiKey: API_KEY, rows });
    const h = await host(a);
    try {
      await h.srv.catchup.runOnce();
      a.mode = '500';
      await h.srv.catchup.runOnce();
    } finally {
      await h.srv.close();
      await a.close();
    }
    const check = new Database(h.db, { readonly: true });
    const dump = JSON.stringify(check.prepare('SELECT * FROM connections').all());
    check.close();
    const files = fs.readdirSync(dir).filter((f) => f.startsWith(path.basename(h.db)))
      .map((f) => fs.readFileSync(path.join(dir, f)).toString('latin1')).join('');
    const logs = h.lines.join('\n');
    for (const r of rows) {
      for (const c of credentialsOf(r)) {
        assert.ok(!dump.includes(c) && !files.includes(c), 'credential stored');
        assert.ok(!logs.includes(c), 'credential logged');
      }
      if (r.connection_token) {
        assert.ok(dump.includes(r.connection_token), 'token kept');
        assert.ok(!logs.includes(r.connection_token), 'token logged');
      }
    }
    assert.ok(!logs.includes(API_KEY) && !logs.includes(SECRET));
    assert.equal(h.parsed().filter((l) => l.outcome === 'recovered').length, 2);
  });

  test('an existing database without the arrival column gains it; its rows came by webhook', async () => {
    const db = freshDb();
    const old = new Database(db);
    old.exec(`CREATE TABLE connections (id_connection TEXT PRIMARY KEY, connection_token TEXT NOT NULL,
      id_linked_user TEXT NOT NULL, id_project TEXT, provider_slug TEXT, vertical TEXT, status TEXT,
      account_url TEXT, created_at TEXT, expiration_timestamp TEXT, first_id_event TEXT NOT NULL,
      last_id_event TEXT NOT NULL, deliveries INTEGER NOT NULL DEFAULT 1, first_received_at TEXT NOT NULL,
      last_received_at TEXT NOT NULL)`);
    old.prepare(`INSERT INTO connections (id_connection, connection_token, id_linked_user, first_id_event,
      last_id_event, first_received_at, last_received_at) VALUES ('c-old', 'ctok_old', 'u-old', 'e', 'e', 't', 't')`).run();
    old.close();
    const row = panoraRow('after-upgrade');
    const a = await startPanoraApi({ apiKey: API_KEY, rows: [row] });
    const h = await host(a, { db });
    try {
      await h.srv.catchup.runOnce();
      assert.equal(h.row('u-old')[0].arrival, 'webhook');
      assert.equal(h.row(row.id_linked_user)[0].arrival, 'catch-up');
    } finally {
      await h.srv.close();
      await a.close();
    }
  });
});

describe('catch-up: every fault of the API leaves webhook serving untouched', () => {
  let api;
  let h;
  before(async () => {
    api = await startPanoraApi({ apiKey: API_KEY, rows: Array.from({ length: 12 }, (_, i) => panoraRow(`fault-${i}`)) });
    h = await host(api, { catchup: { stallMs: 1500 } });
    await h.srv.catchup.runOnce();
  });
  after(async () => { await h.srv.close(); await api.close(); });

  // Start a run in `mode`, deliver a webhook while it goes and after it.
  async function faulty(mode, want) {
    api.mode = mode;
    const before = h.runs().length;
    const run = h.srv.catchup.runOnce();
    const during = panoraRow(`during-${mode}`);
    const d = await deliverOnce(h.hook, SECRET, during);
    assert.equal(d.status, 200, `webhook during ${mode}`);
    assert.equal(d.text, `captured ${during.id_connection} new\n`);
    await within(30000, `run in ${mode}`, run);
    api.mode = 'ok';
    const after_ = panoraRow(`after-${mode}`);
    assert.equal((await deliverOnce(h.hook, SECRET, after_)).status, 200, `webhook after ${mode}`);
    assert.equal(h.row(after_.id_linked_user)[0].arrival, 'webhook');
    const lines = h.runs().slice(before);
    assert.equal(lines.length, 1, 'one line for the run');
    assert.deepEqual(lines[0], { ...lines[0], ...want });
    assert.equal(typeof lines[0].ms, 'number');
    return lines[0];
  }

  test('500', () => faulty('500', { outcome: 'catch-up-failed', error: 'api_error', http: 500 }));
  test('a hang is aborted after the stall bound', () => faulty('hang', { outcome: 'catch-up-failed', error: 'timeout' }));
  test('a truncated body', () => faulty('truncate', { outcome: 'catch-up-failed', error: 'truncated' }));
  test('a malformed answer', async () => {
    const l = await faulty('malformed', { outcome: 'catch-up-failed', error: 'malformed_answer' });
    assert.match(l.message, /not a JSON array/);
  });
  test('a slow trickle still completes', () => faulty('trickle', { outcome: 'catch-up', listed: 12, recovered: 0, skipped: 0 }));

  test('401: "Panora refused the API key"', async () => {
    const wrong = await host(api, { env: { PANORA_API_KEY: 'pk_wrong_key_0000' } });
    try {
      await wrong.srv.catchup.runOnce();
      assert.deepEqual(wrong.runs(), [{ outcome: 'catch-up-failed', error: 'unauthorized', message: 'Panora refused the API key', http: 401, ms: wrong.runs()[0].ms }]);
      const r = panoraRow('during-401');
      assert.equal((await deliverOnce(wrong.hook, SECRET, r)).status, 200);
      assert.ok(!wrong.lines.join('\n').includes('pk_wrong_key_0000'));
    } finally {
      await wrong.srv.close();
    }
  });

  test('a network error, and a run that goes on too long', async () => {
    const gone = await host({ url: `http://127.0.0.1:${await closedPort()}` });
    try {
      await gone.srv.catchup.runOnce();
      assert.deepEqual(gone.runs()[0], { ...gone.runs()[0], outcome: 'catch-up-failed', error: 'network', what: 'ECONNREFUSED' });
      assert.equal((await deliverOnce(gone.hook, SECRET, panoraRow('during-network'))).status, 200);
    } finally {
      await gone.srv.close();
    }
    const slow = await host(api, { catchup: { runMaxMs: 300 } });
    try {
      await slow.srv.catchup.runOnce();
      api.mode = 'trickle';
      await slow.srv.catchup.runOnce();
      api.mode = 'ok';
      assert.deepEqual(slow.runs()[1], { ...slow.runs()[1], outcome: 'catch-up-failed', error: 'timeout' });
      assert.match(slow.runs()[1].message, /longer than 0.3 s/);
    } finally {
      api.mode = 'ok';
      await slow.srv.close();
    }
  });

  test('runs never overlap', async () => {
    api.mode = 'trickle';
    const seen = api.requests.length;
    const a = h.srv.catchup.runOnce();
    const b = h.srv.catchup.runOnce();
    assert.equal(a, b, 'a second start joins the run going');
    await within(30000, 'trickle run', a);
    api.mode = 'ok';
    assert.equal(api.requests.length, seen + 1);
  });
});
