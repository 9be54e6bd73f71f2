// component.test.mjs -- the handler component (wit/catcher.wit), run through
// jco's transpilation, against the same Node-signed cases as everything
// else, against the WAGI module's answers, and in the reference host.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { errorBody, loadCatchup, loadHandler, toHttp } from '../../deploy/host/handler.mjs';
import { startServer } from '../../deploy/host/server.mjs';
import { loadModule, runWagi, wagiEnv } from '../../deploy/node/wagi.mjs';
import { spawnTracked, stop, waitExit, within } from '../lib/proc.mjs';

const COMPONENT = 'build/panora-webhook.component.wasm';
const cases = JSON.parse(fs.readFileSync('build/vectors/cases.json', 'utf8'))
  .map((c) => ({ ...c, body: Buffer.from(c.body, 'base64') }));
const SECRETS = ['whsec_', '3b241101-e2bb-4255-8caf-4136c566a962',
  'provider-access-credential', 'provider-refresh-credential'];

const headersOf = (c) => {
  const h = [];
  if (c.signature !== null) h.push(['Panora-Signature', c.signature]);
  if (c.content_type !== null) h.push(['Content-Type', c.content_type]);
  return h;
};
// The body limit is the component's compile-time one; cases that lower it
// at run time are exercised through the hosts that can (WAGI, the server).
const componentCases = cases.filter((c) => !c.max_body);
// The receipt a 2xx to case `c` must carry, as gen.mjs computes it.
const receiptOf = (c, kept) => (c.code === 'captured' ? `captured ${c.receipt_value} ${kept}\n` : `ignored ${c.receipt_value}\n`);

let handle, receipt, core, wagi;
before(async () => {
  ({ handle, receipt } = await loadHandler({ onCore: (i) => { core = i; } }));
  wagi = await loadModule('build/panora-webhook.wasm');
});

describe('component: what it is', () => {
  test('jco wit: exports panora:webhook/handler and catchup, imports only their types', () => {
    const wit = execFileSync(process.execPath, ['node_modules/@bytecodealliance/jco/dist/jco.js', 'wit', COMPONENT]).toString();
    const lines = wit.split('\n').map((l) => l.trim()).filter((l) => /^(import|export) /.test(l));
    assert.deepEqual(lines, ['import panora:webhook/types@0.1.0;', 'export panora:webhook/handler@0.1.0;',
      'export panora:webhook/catchup@0.1.0;']);
  });

  test('the core module imports nothing and cannot grow memory', () => {
    const mod = new WebAssembly.Module(fs.readFileSync('build/obj/catcher.core.wasm'));
    assert.deepEqual(WebAssembly.Module.imports(mod), []);
    const names = WebAssembly.Module.exports(mod).map((e) => e.name).sort();
    assert.deepEqual(names, ['cabi_post_panora:webhook/catchup@0.1.0#feed',
      'cabi_post_panora:webhook/handler@0.1.0#handle', 'cabi_post_panora:webhook/handler@0.1.0#receipt',
      'cabi_realloc', 'memory', 'panora:webhook/catchup@0.1.0#begin', 'panora:webhook/catchup@0.1.0#feed',
      'panora:webhook/catchup@0.1.0#finish', 'panora:webhook/handler@0.1.0#handle',
      'panora:webhook/handler@0.1.0#receipt']);
    const wat = execFileSync('wasm2wat', ['build/obj/catcher.core.wasm'], { maxBuffer: 64 << 20 }).toString();
    assert.ok(!wat.includes('memory.grow'));
  });
});

describe('component: every end-to-end case', () => {
  for (const c of componentCases) {
    test(c.name, async () => {
      const r = handle({ method: c.method ?? 'POST', headers: headersOf(c), body: c.body },
        c.secret === null ? [] : [c.secret]);
      const answer = toHttp(r);
      assert.equal(answer.status, c.http);
      if (c.code === 'captured') assert.deepEqual(answer.record, c.record);
      else if (c.code === 'ignored') assert.equal(answer.type, c.type);
      else assert.equal(answer.error, c.code);
      const said = answer.outcome === 'rejected' ? JSON.stringify(errorBody(answer)) : receipt(r.outcome, 'new');
      if (answer.outcome !== 'rejected') assert.equal(said, receiptOf(c, 'new'));
      const text = said + JSON.stringify(answer.log);
      for (const s of SECRETS) assert.ok(!text.includes(s), `output holds ${s}`);
      assert.ok(!text.includes('ctok_'), 'no token in what the sender or the log sees');

      // the WAGI module, run as a command (a WAGI host refuses captures),
      // decodes the very same record, type or error
      const direct = c.method === null || c.method === 'POST';
      const env = wagiEnv({ method: direct ? null : c.method, signature: c.signature, contentType: c.content_type, body: c.body });
      if (c.secret !== null) env.PANORA_WEBHOOK_SECRET = c.secret;
      const w = await runWagi(wagi, { env, body: c.body });
      const wb = JSON.parse(w.body.toString('utf8'));
      assert.equal(answer.status, w.status);
      if (c.signature?.includes('\u0000')) {
        // a WASI environment cannot carry NUL: WAGI sees the value cut there
        assert.equal(answer.error, wb.error);
      } else if (answer.outcome === 'captured') {
        assert.deepEqual({ outcome: 'captured', ...answer.record }, wb);
      } else if (answer.outcome === 'ignored') {
        assert.deepEqual({ outcome: 'ignored', type: answer.type, message: answer.message }, wb);
      } else {
        // the module names the setting its secrets come from; the component takes them as a parameter
        const named = answer.message === 'no endpoint secret is configured' ? ' (PANORA_WEBHOOK_SECRET)' : '';
        assert.deepEqual({ ...errorBody(answer), message: answer.message + named }, wb);
      }
    });
  }
});

describe('component: one instance, many calls', () => {
  test('10,000 calls neither leak nor grow memory, and stay right', () => {
    const pick = ['typical connection.created', 'wrong secret', 'unicode, escapes and control characters',
      'other event type is ignored', 'duplicate data: genuine first, forged second', 'a 400 KB escaped account_url']
      .map((n) => cases.find((c) => c.name === n));
    handle({ method: 'POST', headers: headersOf(pick[0]), body: pick[0].body }, [pick[0].secret]);
    const pages = core.exports.memory.buffer.byteLength;
    for (let i = 0; i < 10000; i++) {
      const c = pick[i % pick.length];
      const a = toHttp(handle({ method: 'POST', headers: headersOf(c), body: c.body }, [c.secret]));
      if (a.status !== c.http) assert.fail(`call ${i} (${c.name}): ${a.status}`);
    }
    assert.equal(core.exports.memory.buffer.byteLength, pages);
    const last = toHttp(handle({ method: 'POST', headers: headersOf(pick[0]), body: pick[0].body }, [pick[0].secret]));
    assert.deepEqual(last.record, pick[0].record);
  });

  test('a 2 MiB body is answered 413, not trapped on', () => {
    const c = cases[0];
    const a = toHttp(handle({ method: 'POST', headers: headersOf(c), body: Buffer.alloc(2 << 20, 0x20) }, [c.secret]));
    assert.equal(a.status, 413);
  });

  test('header names match in any case; a repeated signature is refused', () => {
    const c = cases[0];
    const lower = [['panora-signature', c.signature], ['CONTENT-TYPE', 'application/json']];
    assert.equal(toHttp(handle({ method: 'POST', headers: lower, body: c.body }, [c.secret])).status, 200);
    const twice = [...lower, ['Panora-Signature', c.signature]];
    assert.equal(toHttp(handle({ method: 'POST', headers: twice, body: c.body }, [c.secret])).error, 'missing_signature');
  });

  test('secrets: entries may be lists; more than 8 is no_secret', () => {
    const c = cases[0];
    const req = { method: 'POST', headers: headersOf(c), body: c.body };
    assert.equal(toHttp(handle(req, ['old', ` x ,${c.secret}`])).status, 200);
    assert.equal(toHttp(handle(req, ['', ',,'])).error, 'no_secret');
    assert.equal(toHttp(handle(req, Array.from({ length: 9 }, (_, i) => `s${i}`))).error, 'no_secret');
  });
});

describe('component: the receipt export', () => {
  const answered = componentCases.filter((c) => c.code === 'captured' || c.code === 'ignored');
  const outcomeOf = (c) => handle({ method: 'POST', headers: headersOf(c), body: c.body }, [c.secret]).outcome;

  test('every captured and ignored case gets the receipt gen.mjs writes, whatever was kept', () => {
    for (const name of ['captured id_connection with C1 controls and bidirectional overrides',
      'captured id_connection with blanks, a backslash and DEL',
      'captured id_connection whose receipt clip falls inside a character',
      'ignored type with C1 controls and bidirectional overrides', 'ignored type with blanks, a backslash and DEL']) {
      assert.ok(answered.some((c) => c.name === name), `the vectors hold "${name}"`);
    }
    for (const c of answered) {
      const outcome = outcomeOf(c);
      for (const kept of ['new', 'known', 'forwarded', 'new forwarded']) assert.equal(receipt(outcome, kept), receiptOf(c, kept), c.name);
      assert.equal(receipt(outcome, ''), receiptOf(c, 'kept'), `${c.name}: nothing said kept`);
    }
  });

  test('a kept word that could break the line traps; calls do not grow memory', async () => {
    const c = answered.find((x) => x.name === 'typical connection.created');
    const outcome = outcomeOf(c);
    const pages = core.exports.memory.buffer.byteLength;
    for (let i = 0; i < 10000; i++) receipt(outcome, 'new');
    assert.equal(core.exports.memory.buffer.byteLength, pages);
    for (const kept of ['new\ncaptured x', 'a\\b', 'x'.repeat(33), 'n\u00e9w']) {
      const fresh = await loadHandler();
      assert.throws(() => fresh.receipt(outcome, kept), JSON.stringify(kept));
    }
  });
});

// ---------------------------------------------------------------- catch-up
// The list and each element's outcome come from tests/vectors/gen.mjs
// (JSON.stringify of Panora-shaped rows, outcomes from JSON.parse).
describe('component: the catch-up reader (panora:webhook/catchup)', () => {
  const cu = JSON.parse(fs.readFileSync('build/vectors/catchup.json', 'utf8'));
  const list = Buffer.from(cu.list, 'base64');
  const want = cu.expect.filter((e) => e.record).map((e) => e.record);
  const wantSkips = cu.expect.length - want.length;

  // Feed `text` in pieces of `size`; what came out, and how it ended.
  const readAll = async (text, size, opts) => {
    const reader = await loadCatchup(opts);
    const records = [];
    const skipped = [];
    for (let off = 0; off < text.length; off += size) {
      const got = reader.feed(text.subarray(off, off + size));
      if (got.error !== undefined) return { records, skipped, error: got.error };
      records.push(...got.records);
      skipped.push(...got.skipped);
    }
    const end = reader.finish();
    return { records, skipped, error: end.error, counts: end.error ? null : [end.listed, end.skipped] };
  };

  for (const size of [1, 7, 4096, 65536]) {
    test(`every element, fed ${size} bytes at a time, is the record or skip JSON.parse says`, async () => {
      const r = await readAll(list, size);
      assert.equal(r.error, undefined);
      assert.deepEqual(r.records.map((x) => ({ ...x, id_event: null })), want);
      assert.equal(r.skipped.length, wantSkips);
      assert.deepEqual(r.counts, [cu.expect.length, wantSkips]);
      for (const s of r.skipped) assert.match(s, /^[ -~]+$/, 'a skip reason is a fixed sentence');
      const text = JSON.stringify(r);
      for (const row of JSON.parse(list)) {
        for (const c of [row.access_token, row.refresh_token]) {
          if (typeof c === 'string' && c.length > 8) assert.ok(!text.includes(c), 'no credential is read');
        }
      }
    });
  }

  test('the same row gives the same record through the webhook and the catch-up', async () => {
    const r = await readAll(list, 65536);
    const hooks = cu.expect.filter((e) => e.record).map((e) => e.hook);
    assert.equal(hooks.length, r.records.length);
    hooks.forEach((h, i) => {
      const body = Buffer.from(h.body, 'base64');
      const a = toHttp(handle({ method: 'POST', headers: [['Panora-Signature', h.signature]], body }, [cu.secret]));
      assert.equal(a.status, 200);
      assert.deepEqual({ ...a.record, id_event: '' }, r.records[i]);
    });
  });

  test('a list that is not a list of connections is an error, never a partial record', async () => {
    for (const b of cu.bad) {
      const text = Buffer.from(b.text, 'base64');
      for (const size of [1, 65536]) {
        const r = await readAll(text, size);
        assert.equal(typeof r.error, 'string', `${b.name}: an error`);
        assert.ok(r.error.length > 0 && !r.error.includes('{'), `${b.name}: a sentence, not the answer's bytes`);
        for (const rec of r.records) assert.ok(rec.connection_token && rec.id_connection && rec.id_linked_user, b.name);
      }
    }
  });

  test('a chunk over 64 KiB is refused; 64 KiB of the smallest elements fits', async () => {
    const reader = await loadCatchup();
    assert.equal(reader.feed(Buffer.alloc(65537, 0x20)).error, 'a chunk is larger than 64 KiB');
    // 21,845 "{}," in one chunk: the most skips one chunk can hold
    const tiny = Buffer.from(`[${'{},'.repeat(21845)}`);
    const r = await loadCatchup();
    const first = r.feed(tiny.subarray(0, 65536));
    assert.equal(first.error, undefined);
    const rest = r.feed(Buffer.concat([tiny.subarray(65536), Buffer.from('{}]')]));
    assert.equal(first.skipped.length + rest.skipped.length, 21846);
    assert.deepEqual(r.finish(), { listed: 21846, skipped: 21846 });
  });

  test('a 100,000-element list in one instance: memory never grows', async () => {
    let core;
    const reader = await loadCatchup({ onCore: (i) => { core = i; } });
    const row = cu.expect.find((e) => e.record).record;
    const el = JSON.stringify({ ...row, id_event: undefined, access_token: 'a'.repeat(40) });
    assert.equal(reader.feed(Buffer.from('[')).error, undefined);
    const pages = core.exports.memory.buffer.byteLength;
    const piece = Buffer.from(`${el},`.repeat(100));
    let n = 0;
    for (let i = 0; i < 1000; i++) {
      const got = reader.feed(i === 999 ? Buffer.from(`${`${el},`.repeat(99)}${el}]`) : piece);
      n += got.records.length;
    }
    assert.equal(n, 100000);
    assert.deepEqual(reader.finish(), { listed: 100000, skipped: 0 });
    assert.equal(core.exports.memory.buffer.byteLength, pages);
  });
});

// ---------------------------------------------------------------- the host
function post(base, body, headers) {
  return within(30000, 'POST', new Promise((resolve, reject) => {
    const req = http.request(`${base}/panora_webhooks`, { method: 'POST', headers }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  }));
}

const LISTING_TOKEN = crypto.randomBytes(16).toString('hex');
const get = (url) => within(30000, `GET ${url}`, new Promise((resolve, reject) => {
  http.get(url, { headers: { authorization: `Bearer ${LISTING_TOKEN}` } }, (res) => {
    let s = '';
    res.on('data', (d) => { s += d; });
    res.on('end', () => resolve({ status: res.statusCode, body: s }));
  }).on('error', reject);
}));

describe('reference host', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-host-'));
  const secret = 'whsec_host_test';
  let srv, base;
  const logs = [];

  const delivery = (row, id_event = crypto.randomUUID()) => {
    const data = JSON.stringify(row);
    return {
      body: Buffer.from(JSON.stringify({ id_event, data, type: 'connection.created' })),
      signature: crypto.createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex'),
    };
  };
  const row = {
    id_connection: crypto.randomUUID(), connection_token: 'ctok_host', id_linked_user: 'user-1',
    provider_slug: 'zendesk', vertical: 'ticketing', access_token: 'provider-access-credential',
  };
  const hdr = (d) => ({ 'content-type': 'application/json', 'panora-signature': d.signature });

  before(async () => {
    srv = await startServer({ PANORA_WEBHOOK_SECRET: `old,${secret}`, PANORA_WEBHOOK_DB: path.join(dir, 'db.sqlite'), PORT: '0', PANORA_WEBHOOK_LISTING: '1', PANORA_WEBHOOK_LISTING_TOKEN: LISTING_TOKEN },
      { log: (l) => logs.push(l) });
    base = `http://127.0.0.1:${srv.address.port}`;
  });
  after(async () => { await srv.close(); fs.rmSync(dir, { recursive: true, force: true }); });

  test('a delivery is persisted once; retries and replays are known', async () => {
    const d = delivery(row, 'evt-first');
    const first = await post(base, d.body, hdr(d));
    assert.equal(first.status, 200);
    assert.equal(first.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(first.body, `captured ${row.id_connection} new\n`);
    const retry = await post(base, d.body, hdr(d));
    assert.equal(retry.body, `captured ${row.id_connection} known\n`);
    const replay = delivery(row, 'evt-replayed');               // same signed data, new id_event
    assert.equal((await post(base, replay.body, hdr(replay))).body, `captured ${row.id_connection} known\n`);
    const list = JSON.parse((await get(`${base}/connections?id_linked_user=user-1`)).body).connections;
    assert.equal(list.length, 1);
    assert.equal(list[0].first_id_event, 'evt-first');
    assert.equal(list[0].last_id_event, 'evt-replayed');
    assert.equal(list[0].deliveries, 3);
    assert.equal(list[0].connection_token, 'ctok_host');
    assert.equal(srv.store.count(), 1);
    assert.ok(!logs.join('\n').includes('ctok_') && !logs.join('\n').includes(secret));
  });

  test('its receipts are the component\'s: escaped and clipped as gen.mjs says', async () => {
    const picked = cases.filter((c) => /receipt clip|blanks, a backslash|C1 controls/.test(c.name));
    const own = await startServer({ PANORA_WEBHOOK_SECRET: picked[0].secret, PANORA_WEBHOOK_DB: path.join(dir, 'receipts.sqlite'), PORT: '0' },
      { log: () => {} });
    try {
      for (const c of picked) {
        const got = await post(`http://127.0.0.1:${own.address.port}`, c.body, { 'content-type': 'application/json', 'panora-signature': c.signature });
        assert.equal(got.body, receiptOf(c, 'new'), c.name);
      }
    } finally {
      await own.close();
    }
  });

  test('answers as the WAGI module does, with Allow on 405', async () => {
    const d = delivery({ ...row, id_connection: crypto.randomUUID() });
    const bad = await post(base, d.body, { ...hdr(d), 'panora-signature': '0'.repeat(64) });
    assert.equal(bad.status, 401);
    assert.deepEqual(JSON.parse(bad.body).error, 'bad_signature');
    const res = await new Promise((resolve) => {
      http.request(`${base}/panora_webhooks`, { method: 'PUT' }, resolve).end();
    });
    assert.equal(res.statusCode, 405);
    assert.equal(res.headers.allow, 'POST');
    res.resume();
  });

  test('a 2 MiB body gets 413 without being buffered', async () => {
    const big = Buffer.alloc(2 << 20, 0x20);
    const declared = await post(base, big, { 'content-type': 'application/json', 'panora-signature': '0'.repeat(64) });
    assert.equal(declared.status, 413);
    // no Content-Length: the host counts as it reads and stops at the limit
    const streamed = await within(30000, 'streamed upload', new Promise((resolve, reject) => {
      const req = http.request(`${base}/panora_webhooks`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      for (let i = 0; i < 32; i++) req.write(Buffer.alloc(64 << 10, 0x20));
      req.end();
    }));
    assert.equal(streamed, 413);
  });

  test('GET /connections needs id_linked_user', async () => {
    assert.equal((await get(`${base}/connections`)).status, 400);
    assert.deepEqual(JSON.parse((await get(`${base}/connections?id_linked_user=nobody`)).body), { connections: [] });
  });

  test('SIGTERM: running requests finish, the database is checkpointed, exit 0', async () => {
    const db = path.join(dir, 'signal.sqlite');
    const child = spawnTracked(process.execPath, ['deploy/host/server.mjs'], {
      env: { ...process.env, PANORA_WEBHOOK_SECRET: secret, PANORA_WEBHOOK_DB: db, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const port = await within(30000, 'reference host start', new Promise((resolve, reject) => {
        child.stdout.on('data', (d) => {
          const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(d.toString());
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => reject(new Error(`the host exited ${code} before listening`)));
      }));
      const d = delivery({ ...row, id_connection: 'conn-signal', id_linked_user: 'user-signal' });
      assert.equal((await post(`http://127.0.0.1:${port}`, d.body, hdr(d))).status, 200);
      child.kill('SIGTERM');
      assert.equal(await waitExit(child, 15000), 0);
    } finally {
      await stop(child);
    }
    const { default: Database } = await import('better-sqlite3');
    const check = new Database(db, { readonly: true });
    assert.equal(check.prepare('SELECT count(*) AS n FROM connections').get().n, 1);
    check.close();
    assert.ok(!fs.existsSync(`${db}-wal`) || fs.statSync(`${db}-wal`).size === 0, 'WAL checkpointed');
  });
});
