// invoke.test.mjs -- the handler component (wit/catcher.wit) called through
// wasmtime's own canonical ABI, never jco's: `wasmtime run --invoke
// 'handle(...)'` with its arguments in WAVE, and, for what a command line
// cannot carry (a 64 KiB body), wasmtime-py's component API
// (tests/wasmtime/invoke.py). Each answer must equal jco's for the same
// call, and the named cases must also equal what Node's JSON.parse and
// crypto say they are.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { FIELDS, loadHandler } from '../../deploy/host/handler.mjs';
import { spawnTracked, waitExit } from '../lib/proc.mjs';
import { WASMTIME_SKIP, wasmtimeRun } from '../lib/wasmtime.mjs';

const COMPONENT = 'build/panora-webhook.component.wasm';
const PYTHON = 'build/venv/bin/python';
const cases = JSON.parse(fs.readFileSync('build/vectors/cases.json', 'utf8'))
  .map((c) => ({ ...c, body: Buffer.from(c.body, 'base64') }));

// ------------------------------------------------------------ WAVE
// A WAVE string literal: quote, backslash and every character outside
// printable ASCII escaped as \u{...}.
const waveString = (s) => `"${[...s].map((ch) => {
  const cp = ch.codePointAt(0);
  if (ch === '"' || ch === '\\') return `\\${ch}`;
  return cp >= 0x20 && cp < 0x7f ? ch : `\\u{${cp.toString(16)}}`;
}).join('')}"`;

// The `--invoke` expression for handle(req, secrets).
const waveCall = ({ method, headers, body, secrets }) => `handle({method: ${waveString(method)}, headers: [${
  headers.map(([n, v]) => `(${waveString(n)}, ${waveString(v)})`).join(', ')}], body: [${[...body].join(', ')}]}, [${
  secrets.map(waveString).join(', ')}])`;

// Parse the WAVE value wasmtime prints into the neutral form of
// invoke.py: {tag, val} for results and variants, the value or null for
// options, the name for enum cases, objects for records.
function parseWave(text) {
  let i = 0;
  const ws = () => { while (/\s/.test(text[i] ?? '')) i++; };
  const expect = (ch) => { ws(); if (text[i] !== ch) throw new Error(`WAVE: '${ch}' expected at ${i}: ${text.slice(i, i + 40)}`); i++; };
  const ident = () => { ws(); const m = /^%?[a-z][a-z0-9-]*/.exec(text.slice(i)); if (!m) throw new Error(`WAVE: name expected at ${i}`); i += m[0].length; return m[0].replace(/^%/, ''); };
  const string = () => {
    expect('"');
    let out = '';
    while (text[i] !== '"') {
      if (i >= text.length) throw new Error('WAVE: unterminated string');
      if (text[i] !== '\\') { const cp = text.codePointAt(i); out += String.fromCodePoint(cp); i += cp > 0xffff ? 2 : 1; continue; }
      const e = text[i + 1];
      if (e === 'u') {
        const end = text.indexOf('}', i);
        out += String.fromCodePoint(parseInt(text.slice(i + 3, end), 16));
        i = end + 1;
      } else {
        out += { n: '\n', r: '\r', t: '\t', '"': '"', "'": "'", '\\': '\\' }[e];
        i += 2;
      }
    }
    i++;
    return out;
  };
  const seq = (close) => {
    const items = [];
    ws();
    while (text[i] !== close) { items.push(value()); ws(); if (text[i] === ',') i++; ws(); }
    i++;
    return items;
  };
  function value() {
    ws();
    const ch = text[i];
    if (ch === '"') return string();
    if (ch === '[') { i++; return seq(']'); }
    if (ch === '(') { i++; return seq(')'); }
    if (/[-0-9]/.test(ch)) { const m = /^-?[0-9]+/.exec(text.slice(i)); i += m[0].length; return Number(m[0]); }
    if (ch === '{') {
      i++;
      const rec = {};
      ws();
      while (text[i] !== '}') { const k = ident(); expect(':'); rec[k] = value(); ws(); if (text[i] === ',') i++; ws(); }
      i++;
      return rec;
    }
    const name = ident();
    ws();
    if (text[i] !== '(') return name === 'none' ? null : name;
    i++;
    const payload = value();
    expect(')');
    return name === 'some' ? payload : { tag: name, val: payload };
  }
  const v = value();
  ws();
  if (i !== text.length) throw new Error(`WAVE: trailing text at ${i}`);
  return v;
}

// WAVE leaves out a record field whose option is none; so that the three
// forms compare, every null-valued member is left out of all of them.
const dropNulls = (v) => (Array.isArray(v) ? v.map(dropNulls)
  : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, dropNulls(x)]))
    : v);

// ------------------------------------------------------------ jco
// jco's answer in the same neutral form (it camel-cases field names, gives
// options as undefined, and throws the error of a result).
const kebab = (s) => s.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`);
const neutral = (v) => (v === undefined ? null
  : Array.isArray(v) ? v.map(neutral)
    : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [kebab(k), neutral(x)]))
      : v);
let handle;
const jcoAnswer = ({ method, headers, body, secrets }) => {
  const r = handle({ method, headers, body }, secrets);
  return dropNulls(r.failure ? { tag: 'err', val: neutral(r.failure) } : { tag: 'ok', val: neutral(r.outcome) });
};

// ------------------------------------------------------------ calls
const callOf = (c) => ({
  name: c.name,
  method: c.method ?? 'POST',
  headers: [...(c.signature !== null ? [['Panora-Signature', c.signature]] : []),
    ...(c.content_type !== null ? [['Content-Type', c.content_type]] : [])],
  body: c.body,
  secrets: c.secret === null ? [] : [c.secret],
});

// A delivery exactly as Panora makes it, signed by Node's crypto.
const SECRET = `whsec_${crypto.randomBytes(12).toString('hex')}`;
function signed(row, { type = 'connection.created', secret = SECRET } = {}) {
  const data = JSON.stringify(row);
  const idEvent = crypto.randomUUID();
  const body = Buffer.from(JSON.stringify({ id_event: idEvent, data, type }));
  const sig = crypto.createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex');
  return { method: 'POST', headers: [['Panora-Signature', sig], ['Content-Type', 'application/json']], body, secrets: [SECRET], idEvent };
}
const fullRow = () => ({
  id_connection: crypto.randomUUID(), status: 'valid', provider_slug: 'zendesk', vertical: 'ticketing',
  account_url: 'https://acme.zendesk.com/agent/"quoted"\\path/caf\u00e9', token_type: 'oauth2',
  access_token: 'enc:a', refresh_token: 'enc:r', expiration_timestamp: '2027-01-01T00:00:00.000Z',
  created_at: '2026-12-01T10:00:00.000Z', connection_token: `ctok_${crypto.randomBytes(8).toString('hex')}`,
  id_project: crypto.randomUUID(), id_linked_user: crypto.randomUUID(),
});
const nullRow = () => ({
  ...fullRow(), account_url: null, expiration_timestamp: null, status: null, provider_slug: null,
  vertical: null, id_project: null, created_at: null, access_token: null, refresh_token: null,
});
// The captured variant a row must give, from the WIT's contract: kebab
// names, options null when absent, plain strings empty when absent.
const capturedOf = (row, idEvent) => dropNulls({
  tag: 'ok',
  val: {
    tag: 'captured',
    val: Object.fromEntries(FIELDS.map(({ name, kind }) => [name.replaceAll('_', '-'),
      name === 'id_event' ? idEvent : kind === 'option' ? row[name] : row[name] ?? ''])),
  },
});

// What Linux lets one argument be (MAX_ARG_STRLEN), less a margin.
const ARG_MAX = 128 * 1024 - 1024;

function viaPython(calls) {
  const child = spawnTracked(PYTHON, ['tests/wasmtime/invoke.py', COMPONENT], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  child.stdin.end(JSON.stringify(calls.map((c) => ({ ...c, body: Buffer.from(c.body).toString('base64') }))));
  const closed = new Promise((resolve) => child.once('close', resolve));
  return waitExit(child, 60000).then(async (code) => {
    await closed;
    assert.equal(code, 0, err);
    return JSON.parse(out).map(dropNulls);
  });
}

const viaInvoke = async (call) => {
  const r = await wasmtimeRun([COMPONENT], { flags: ['--invoke', waveCall(call)] });
  assert.equal(r.code, 0, r.stderr.toString());
  return dropNulls(parseWave(r.stdout.toString('utf8').trim()));
};

describe('the handler component through wasmtime\'s canonical ABI', { skip: WASMTIME_SKIP }, () => {
  before(async () => { ({ handle } = await loadHandler()); });

  // The five named calls, each with the answer Node's side says it must
  // get; for a refusal, its code and status (the sentence is the C's own:
  // wasmtime and jco must give the same one).
  const named = () => {
    const full = fullRow();
    const none = nullRow();
    const big = fullRow();
    // a 64 KiB body: the account URL takes up the rest (plain letters, so
    // they are one byte each in the body, escaped twice or not)
    big.account_url = 'https://example.com/';
    big.account_url += 'p'.repeat((64 << 10) - signed(big).body.length);
    const d = {
      full: signed(full), none: signed(none), ignored: signed(fullRow(), { type: 'crm.contact.created' }),
      forged: { ...signed(fullRow()), secrets: ['whsec_another'] }, big: signed(big),
    };
    assert.equal(d.big.body.length, 64 << 10);
    return [
      ['a capture with every optional field present', d.full, capturedOf(full, d.full.idEvent)],
      ['a capture with every optional field null', d.none, capturedOf(none, d.none.idEvent)],
      ['an ignored event', d.ignored, { tag: 'ok', val: { tag: 'ignored', val: 'crm.contact.created' } }],
      ['a bad signature', d.forged, { tag: 'err', val: { code: 'bad-signature', 'http-status': 401 } }],
      ['a 64 KiB body', d.big, capturedOf(big, d.big.idEvent)],
    ];
  };
  const check = (name, call, got, want) => {
    const jco = jcoAnswer(call);
    if (want.tag === 'err') {
      assert.equal(got.tag, 'err', name);
      assert.deepEqual({ code: got.val.code, 'http-status': got.val['http-status'] }, want.val, name);
      assert.equal(typeof got.val.message, 'string');
    } else {
      assert.deepEqual(got, want, name);
    }
    assert.deepEqual(got, jco, `${name}: wasmtime and jco`);
  };

  test('run --invoke: the named cases, as Node says and as jco answers', async () => {
    let n = 0;
    for (const [name, call, want] of named()) {
      if (waveCall(call).length > ARG_MAX) continue;          // the 64 KiB body: below
      check(name, call, await viaInvoke(call), want);
      n++;
    }
    assert.equal(n, 4);
  });

  test('run --invoke cannot carry a 64 KiB body: one argument over 128 KiB is refused by the kernel', async () => {
    const big = named()[4][1];
    const arg = waveCall(big);
    assert.ok(arg.length > 128 * 1024, `${arg.length} characters`);
    await assert.rejects(wasmtimeRun([COMPONENT], { flags: ['--invoke', arg] }), { code: 'E2BIG' });
  });

  test('wasmtime-py: the named cases, the 64 KiB body among them, as Node says and as jco answers', async () => {
    const list = named();
    const got = await viaPython(list.map(([, call]) => call));
    list.forEach(([name, call, want], i) => check(name, call, got[i], want));
  });

  // Every end-to-end case at the component's own limit whose strings are
  // Unicode (no lone surrogate can cross the canonical ABI).
  const wellFormed = (s) => s === null || s.isWellFormed();
  const all = cases.filter((c) => !c.max_body && [c.signature, c.content_type, c.secret, c.method].every(wellFormed)).map(callOf);

  test(`every end-to-end case that fits a command line through run --invoke, the rest through wasmtime-py: jco's answer each time`, async () => {
    const long = all.filter((c) => waveCall(c).length > ARG_MAX);
    const short = all.filter((c) => waveCall(c).length <= ARG_MAX);
    assert.ok(short.length >= 100, `${short.length} cases fit`);
    const diffs = [];
    // two runs at a time, one per core: each is its own wasmtime process
    let next = 0;
    const worker = async () => {
      while (next < short.length) {
        const c = short[next++];
        const got = await viaInvoke(c);
        try { assert.deepEqual(got, jcoAnswer(c)); } catch (e) { diffs.push(`${c.name}: ${e.message.slice(0, 300)}`); }
      }
    };
    await Promise.all([worker(), worker()]);
    const py = await viaPython(all);
    all.forEach((c, i) => {
      try { assert.deepEqual(py[i], jcoAnswer(c)); } catch (e) { diffs.push(`${c.name} (wasmtime-py): ${e.message.slice(0, 300)}`); }
    });
    assert.deepEqual(diffs, []);
    console.log(`# ${short.length} cases through run --invoke, ${all.length} through wasmtime-py (${long.length} only there)`);
  });
});
