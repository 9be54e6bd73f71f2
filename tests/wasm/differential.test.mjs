// differential.test.mjs -- lib/ (compiled to wasm32) against independent
// implementations: Node's JSON.parse for the string decoder, Node's crypto
// and JSON.stringify for the signature rule.
//
// Deterministic: the seed is printed and can be set with DIFF_SEED.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { loadCore } from '../harness/core.mjs';
import { FIELDS as RECORD_FIELDS } from '../../deploy/host/handler.mjs';

const SEED = Number(process.env.DIFF_SEED ?? 20261127);
const LITERALS = Number(process.env.DIFF_LITERALS ?? 100000);
const OBJECTS = Number(process.env.DIFF_OBJECTS ?? 400);

// mulberry32: small, seeded, good enough to spread cases
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (n) => Math.floor(next() * n);
  next.pick = (arr) => arr[next.int(arr.length)];
  return next;
}

// A random JS string from every class of character that matters to JSON:
// ASCII with the specials, controls, Latin-1, the BMP, U+2028/9, astral
// planes (surrogate pairs) and, when allowed, lone surrogates.
function randomString(r, { lone = false, max = 24 } = {}) {
  let s = '';
  const len = r.int(max + 1);
  for (let i = 0; i < len; i++) {
    const k = r.int(lone ? 11 : 10);
    switch (k) {
      case 0: case 1: s += String.fromCharCode(0x20 + r.int(0x5f)); break;
      case 2: s += r.pick(['"', '\\', '/', "'", '<', '>', '&']); break;
      case 3: s += String.fromCharCode(r.int(0x20)); break;
      case 4: s += String.fromCharCode(0x7f + r.int(0x81)); break;
      case 5: { let c; do c = 0x100 + r.int(0xfeff); while (c >= 0xd800 && c <= 0xdfff); s += String.fromCharCode(c); break; }
      case 6: s += r.pick(['\u2028', '\u2029', '\ufeff', '\uffff', '\u0800', '\u07ff']); break;
      case 7: case 8: s += String.fromCodePoint(0x10000 + r.int(0x100000)); break;
      case 9: s += r.pick(['é', '中', '😀', '𝄞', '\u0000']); break;
      default: s += String.fromCharCode(0xd800 + r.int(0x800)); break;   // lone half
    }
  }
  return s;
}

const hex4 = (r, u) => {
  const h = u.toString(16).padStart(4, '0');
  return r() < 0.5 ? h : h.toUpperCase();
};

// Inside of a JSON string literal for s, choosing among the legal spellings
// of each character: raw, short escape, \uXXXX (either case), \/.
function randomLiteral(r, s) {
  const short = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    const ch = s[i];
    const isHigh = u >= 0xd800 && u <= 0xdbff;
    const pairOk = isHigh && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
    const lone = (u >= 0xd800 && u <= 0xdfff) && !pairOk && !(u >= 0xdc00 && i > 0 && s.charCodeAt(i - 1) >= 0xd800 && s.charCodeAt(i - 1) <= 0xdbff);
    const must = u < 0x20 || ch === '"' || ch === '\\' || lone;
    const v = r();
    if (must) {
      out += short[ch] && v < 0.5 ? short[ch] : `\\u${hex4(r, u)}`;
    } else if (pairOk) {
      if (v < 0.6) out += s[i] + s[i + 1];
      else out += `\\u${hex4(r, u)}\\u${hex4(r, s.charCodeAt(i + 1))}`;
      i++;
    } else if (ch === '/' && v < 0.3) out += '\\/';
    else if (v < 0.2) out += `\\u${hex4(r, u)}`;
    else out += ch;
  }
  return out;
}

// Break a literal in one of the ways JSON forbids (JSON.parse is the judge).
function breakLiteral(r, lit) {
  const at = r.int(lit.length + 1);
  const bad = r.pick(['\u0000', '\u0001', '\n', '\t', '\u001f', '\\x', '\\u12', '\\uZZZZ', '"', '\\U0041', "\\'", '\\']);
  return lit.slice(0, at) + bad + lit.slice(at);
}

let core;
before(async () => { core = await loadCore(); });

test(`string decoder agrees with JSON.parse on ${LITERALS} literals (seed ${SEED})`, () => {
  const r = rng(SEED);
  let accepted = 0, refused = 0;
  for (let n = 0; n < LITERALS; n++) {
    const s = randomString(r, { lone: r() < 0.1, max: r() < 0.02 ? 400 : 24 });
    let lit = randomLiteral(r, s);
    if (r() < 0.15) lit = breakLiteral(r, lit);
    let truth;
    try { truth = JSON.parse(`"${lit}"`); } catch { truth = undefined; }
    const got = core.unescape(Buffer.from(lit, 'utf8'));
    if (truth === undefined || !truth.isWellFormed()) {
      assert.equal(got, null, `accepted ${JSON.stringify(lit)}: JSON.parse ${truth === undefined ? 'throws' : 'gives a lone surrogate'}`);
      refused++;
    } else {
      assert.ok(got !== null, `refused ${JSON.stringify(lit)}`);
      assert.deepEqual(got, Buffer.from(truth, 'utf8'), `bytes differ for ${JSON.stringify(lit)}`);
      accepted++;
    }
  }
  assert.ok(accepted > LITERALS * 0.6 && refused > LITERALS * 0.1, `spread: ${accepted} accepted, ${refused} refused`);
});

// The fields read from data (lib/panora_webhook.h), all but id_event.
const FIELDS = RECORD_FIELDS.filter((f) => f.kind !== 'meta').map((f) => f.name);

test(`signature rule agrees with Node's crypto on ${OBJECTS} random Connection Objects`, () => {
  const r = rng(SEED ^ 0x5eed);
  const secret = `whsec_${crypto.randomBytes(16).toString('hex')}`;
  assert.equal(core.setSecrets(secret), 1);
  let mutations = 0;
  for (let n = 0; n < OBJECTS; n++) {
    const str = () => randomString(r, { max: 40 }) || 'x';
    const row = {
      id_connection: crypto.randomUUID(), status: str(), provider_slug: str(), vertical: str(),
      account_url: r() < 0.2 ? null : str(), token_type: 'oauth2',
      access_token: str(), refresh_token: str(),
      expiration_timestamp: r() < 0.3 ? null : new Date(r() * 4e12).toISOString(),
      created_at: new Date(r() * 4e12).toISOString(),
      connection_token: str(), id_project: crypto.randomUUID(), id_linked_user: str(),
    };
    // record fields never hold NUL (documented); the unread credentials may
    for (const f of FIELDS) if (typeof row[f] === 'string') row[f] = row[f].replaceAll('\u0000', 'z');
    row.access_token += '\u0000';
    const data = JSON.stringify(row);
    const id_event = crypto.randomUUID();
    const body = Buffer.from(JSON.stringify({ id_event, data, type: 'connection.created' }));
    const signature = crypto.createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex');

    assert.equal(core.handle(body, signature), 'captured', `object ${n}`);
    const expected = { outcome: 'captured', id_event };
    for (const f of FIELDS) expected[f] = row[f] ?? null;
    const got = core.response();
    const ordered = { outcome: got.outcome, id_event: got.id_event };
    for (const f of FIELDS) ordered[f] = got[f];
    assert.deepEqual(ordered, expected);

    // any single-byte change inside data must not be accepted
    const lit = Buffer.from(JSON.stringify(data));
    const start = body.indexOf(lit);
    assert.ok(start > 0);
    for (let k = 0; k < 8; k++) {
      const at = start + r.int(lit.length);
      const m = Buffer.from(body);
      m[at] = (m[at] + 1 + r.int(255)) & 0xff;
      const st = core.handle(m, signature);
      assert.ok(st !== 'captured' && st !== 'ignored', `byte ${at - start} of data changed, got ${st}`);
      mutations++;
    }
  }
  assert.equal(mutations, OBJECTS * 8);
});

test('a lone surrogate in a signed field is verified, then refused as unusable', () => {
  const r = rng(SEED ^ 0x10e);
  const secret = 'whsec_lone';
  core.setSecrets(secret);
  for (let n = 0; n < 50; n++) {
    const row = { id_connection: crypto.randomUUID(), connection_token: 'ctok', id_linked_user: 'u',
      account_url: `${randomString(r)}${String.fromCharCode(0xd800 + r.int(0x800))}` };
    const data = JSON.stringify(row);
    const body = Buffer.from(JSON.stringify({ id_event: 'e', data, type: 'connection.created' }));
    const sig = crypto.createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex');
    assert.equal(core.handle(body, sig), 'unusable_data');
  }
});
