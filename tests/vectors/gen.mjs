// gen.mjs -- end-to-end test cases, signed and decoded by Node, not by us.
//
//   node tests/vectors/gen.mjs OUT_DIR
//
// Writes OUT_DIR/cases.json (for the WebAssembly tests) and OUT_DIR/cases.h
// (for the native unit tests). Each case is a request and what must come
// back. Signatures follow Panora's rule exactly:
//
//   data      = JSON.stringify(connectionRow)            (a string)
//   body      = JSON.stringify({ id_event, data, type })
//   signature = hex(HMAC-SHA256(secret, JSON.stringify(data)))
//
// Expected records come from JSON.parse of the same bytes, so the C code is
// checked against an independent implementation.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { panoraRow } from '../lib/panora-api.mjs';
import { FIELDS as RECORD_FIELDS } from '../../deploy/host/handler.mjs';

const SECRET = 'whsec_9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const SECRET_UUID = '3b241101-e2bb-4255-8caf-4136c566a962';
const OLD_SECRET = 'whsec_retired_0123456789abcdef';

// Deterministic UUIDs so the files are reproducible.
const uuid = (label) => {
  const h = crypto.createHash('sha256').update(label).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

export const hmac = (secret, msg) =>
  crypto.createHmac('sha256', secret).update(msg).digest('hex');

export function connectionRow(label, over = {}) {
  return {
    id_connection: uuid(`conn:${label}`),
    status: 'valid',
    provider_slug: 'hubspot',
    vertical: 'crm',
    account_url: 'https://app.hubspot.com/contacts/4242',
    token_type: 'oauth2',
    access_token: 'enc:v1:provider-access-credential-must-never-leak',
    refresh_token: 'enc:v1:provider-refresh-credential-must-never-leak',
    expiration_timestamp: '2026-12-01T10:00:00.000Z',
    created_at: '2026-11-27T10:00:00.000Z',
    connection_token: `ctok_${crypto.createHash('sha256').update(label).digest('hex').slice(0, 32)}`,
    id_project: uuid(`proj:${label}`),
    id_linked_user: uuid(`user:${label}`),
    ...over,
  };
}

// A delivery exactly as Panora sends it.
export function panoraDelivery({ secret = SECRET, type = 'connection.created', row, id_event }) {
  const data = JSON.stringify(row);
  const body = JSON.stringify({ id_event: id_event ?? uuid(`evt:${JSON.stringify(row)}`), data, type });
  return { body: Buffer.from(body), signature: hmac(secret, JSON.stringify(data)) };
}

// The record's fields, from lib/panora_webhook.h (build/fields.json).
const FIELDS = RECORD_FIELDS.map((f) => f.name);
const REQUIRED = RECORD_FIELDS.filter((f) => f.kind === 'required').map((f) => f.name);
const NULLABLE = RECORD_FIELDS.filter((f) => f.kind === 'text' || f.kind === 'option').map((f) => f.name);

// The record Node extracts from a body: the independent expectation.
function expectedRecord(body) {
  const env = JSON.parse(body.toString('utf8'));
  const d = typeof env.data === 'string' ? JSON.parse(env.data) : env.data;
  const r = {};
  for (const f of FIELDS) r[f] = f === 'id_event' ? env.id_event : (d[f] ?? null);
  return r;
}

// What a 2xx tells the sender about a case: `captured <value> <kept>\n`
// or `ignored <value>\n`, whose value is the signed id_connection or the
// event type as below. Only whole characters are kept, 128 bytes of UTF-8
// at most. A character is shown as \xHH per byte of its UTF-8 when it is a
// control character, a space, DEL or a backslash, or when it could make the
// line look like something else: U+0080 to U+009F, U+2028 to U+202E,
// U+2066 to U+2069. Every other character stays as it is.
function receiptValue(text) {
  let value = '';
  let bytes = 0;
  for (const ch of text) {
    const utf8 = Buffer.from(ch, 'utf8');
    if (bytes + utf8.length > 128) break;
    bytes += utf8.length;
    const cp = ch.codePointAt(0);
    const shown = cp <= 0x20 || cp === 0x7f || cp === 0x5c || (cp >= 0x80 && cp <= 0x9f)
      || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
    value += shown ? [...utf8].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('') : ch;
  }
  return value;
}

const cases = [];
// Hostile cases (everything refused, plus captures of abusive sizes) form
// the adversarial corpus: each runner also checks that at least 60 exist.
const add = (name, req, expect, hostile = expect.code !== 'captured' && expect.code !== 'ignored') => {
  const c = {
    name,
    hostile,
    method: req.method === undefined ? 'POST' : req.method,
    signature: req.signature === undefined ? null : req.signature,
    content_type: req.content_type === undefined ? 'application/json' : req.content_type,
    secret: req.secret === undefined ? SECRET : req.secret,
    max_body: req.max_body ?? 0,
    body: Buffer.from(req.body ?? ''),
    http: expect.http,
    code: expect.code,
    message: expect.message ?? null,   // a part of the refusal's sentence, when it matters
  };
  if (expect.code === 'captured') c.record = expectedRecord(c.body);
  if (expect.code === 'ignored') c.type = JSON.parse(c.body.toString('utf8')).type;
  if (c.record || c.type !== undefined) c.receipt_value = receiptValue(c.record ? c.record.id_connection : c.type);
  cases.push(c);
};
const ok = { http: 200, code: 'captured' };
const err = (http, code, message) => ({ http, code, message });

// ---------------------------------------------------------------- captured
{
  const d = panoraDelivery({ row: connectionRow('typical') });
  add('typical connection.created', d, ok);
  add('signature in upper case', { ...d, signature: d.signature.toUpperCase() }, ok);
  add('signature with surrounding blanks', { ...d, signature: ` ${d.signature}\t` }, ok);
  add('content type with charset', { ...d, content_type: 'Application/JSON; charset=utf-8' }, ok);
  add('no content type', { ...d, content_type: null }, ok);
  add('no method (direct invocation)', { ...d, method: null }, ok);
  add('rotation: second secret matches', { ...d, secret: `${OLD_SECRET},${SECRET}` }, ok);
  add('rotation: first secret matches', { ...d, secret: `${SECRET},${OLD_SECRET}` }, ok);
  add('rotation: blanks and empty entries', { ...d, secret: ` , ,${OLD_SECRET} ,, ${SECRET} ,` }, ok);
}
{
  const row = connectionRow('uuid-secret');
  add('UUID secret (Panora server default)', { ...panoraDelivery({ secret: SECRET_UUID, row }), secret: SECRET_UUID }, ok);
}
{
  const row = connectionRow('unicode', {
    account_url: 'https://exämple.com/ü/\u2028/\u2029/"quoted"/back\\slash/\ttab\nnl/\u0001ctl/😀𝄞/中文',
    provider_slug: 'zendesk', vertical: 'ticketing',
  });
  add('unicode, escapes and control characters', panoraDelivery({ row }), ok);
}
{
  const row = connectionRow('nulls', { account_url: null, expiration_timestamp: null, access_token: null, refresh_token: null });
  add('nullable fields null', panoraDelivery({ row }), ok);
}
{
  const row = connectionRow('sparse');
  for (const k of NULLABLE) delete row[k];
  add('only the required fields', panoraDelivery({ row }), ok);
}
{
  const row = connectionRow('extra', { future_field: { nested: [1, 2.5e3, true, null, 'x'] }, id_connection_hint: 'not-it' });
  add('unknown fields are skipped', panoraDelivery({ row }), ok);
}
{
  // data as an object: the signed bytes are the raw object text
  const row = connectionRow('object-data');
  const body = JSON.stringify({ id_event: uuid('evt:object'), data: row, type: 'connection.created' });
  add('data as an object', { body, signature: hmac(SECRET, JSON.stringify(row)) }, ok);
}
{
  // pretty-printed envelope: only the data span is signed
  const row = connectionRow('pretty');
  const data = JSON.stringify(row);
  const body = JSON.stringify({ id_event: uuid('evt:pretty'), data, type: 'connection.created' }, null, 2);
  add('pretty-printed envelope', { body, signature: hmac(SECRET, JSON.stringify(data)) }, ok);
}
{
  const row = connectionRow('escaped-id', {});
  const d = panoraDelivery({ row, id_event: 'evt-"quoted"-\u00e9' });
  add('id_event with escapes', d, ok);
}

// ---------------------------------------------------------------- ignored
{
  const row = { id_contact: uuid('contact'), first_name: 'Ada', last_name: 'Lovelace' };
  add('other event type is ignored', panoraDelivery({ row, type: 'crm.contact.created' }), { http: 200, code: 'ignored' });
  // what could make a receipt or a log line read as something else: C1
  // controls, the line separators, bidirectional overrides and isolates
  add('ignored type with C1 controls and bidirectional overrides',
    panoraDelivery({ row, type: 'crm.\u0085\u009b31m\u2028\u2029\u202a\u202e\u2066\u2069\u202dcreated\u0080\u009f' }), { http: 200, code: 'ignored' });
}
{
  const row = connectionRow('spoof');
  add('captured id_connection with C1 controls and bidirectional overrides',
    panoraDelivery({ row: { ...row, id_connection: `\u202e${row.id_connection}\u0085\u2067x`, provider_slug: 'hub\u202espot\u0090' } }), ok);
  // what a receipt writes as \xHH, or clips
  add('captured id_connection with blanks, a backslash and DEL',
    panoraDelivery({ row: { ...row, id_connection: `conn 1\\2\t3\u007f4` } }), ok);
  add('captured id_connection whose receipt clip falls inside a character',
    panoraDelivery({ row: { ...row, id_connection: `${'c'.repeat(127)}\u00e9-tail` } }), ok);
  add('ignored type with blanks, a backslash and DEL',
    panoraDelivery({ row, type: 'crm.contact created\\by\tme\u007f' }), { http: 200, code: 'ignored' });
}

// ---------------------------------------------------------------- refusals before parsing
{
  const d = panoraDelivery({ row: connectionRow('refusals') });
  add('GET is not allowed', { ...d, method: 'GET' }, err(405, 'method_not_allowed'));
  add('lower-case post is not POST', { ...d, method: 'post' }, err(405, 'method_not_allowed'));
  add('body over the limit', { ...d, max_body: d.body.length - 1 }, err(413, 'payload_too_large'));
  add('body exactly at the limit', { ...d, max_body: d.body.length }, ok);
  add('no secret configured', { ...d, secret: null }, err(500, 'no_secret'));
  add('empty secret list', { ...d, secret: '' }, err(500, 'no_secret'));
  add('only empty secret entries', { ...d, secret: ' , ,, ' }, err(500, 'no_secret'));
  add('too many secrets', { ...d, secret: Array.from({ length: 9 }, (_, i) => `s${i}`).join(',') }, err(500, 'no_secret'));
  add('missing signature', { ...d, signature: null }, err(400, 'missing_signature'));
  add('empty signature', { ...d, signature: '' }, err(400, 'missing_signature'));
  add('63 hex digits', { ...d, signature: d.signature.slice(1) }, err(400, 'missing_signature'));
  add('65 hex digits', { ...d, signature: `${d.signature}0` }, err(400, 'missing_signature'));
  add('sha256= prefix', { ...d, signature: `sha256=${d.signature}` }, err(400, 'missing_signature'));
  add('non-hex digit', { ...d, signature: `${d.signature.slice(0, 63)}g` }, err(400, 'missing_signature'));
  add('space inside signature', { ...d, signature: `${d.signature.slice(0, 32)} ${d.signature.slice(33)}` }, err(400, 'missing_signature'));
  add('two signature values', { ...d, signature: `${d.signature}, ${d.signature}` }, err(400, 'missing_signature'));
  add('text/plain content type', { ...d, content_type: 'text/plain' }, err(400, 'malformed_request'));
  add('application/jsonx content type', { ...d, content_type: 'application/jsonx' }, err(400, 'malformed_request'));
}

// ---------------------------------------------------------------- signature
{
  const row = connectionRow('sig');
  const d = panoraDelivery({ row });
  add('wrong secret', { ...d, secret: OLD_SECRET }, err(401, 'bad_signature'));
  add('signature of other data', { ...d, signature: panoraDelivery({ row: connectionRow('other') }).signature }, err(401, 'bad_signature'));
  const tampered = Buffer.from(d.body);
  const at = tampered.indexOf('ctok_') + 6;
  tampered[at] = tampered[at] === 0x61 ? 0x62 : 0x61;
  add('one byte of data changed', { ...d, body: tampered }, err(401, 'bad_signature'));
  add('signature over the whole body', { ...d, signature: hmac(SECRET, d.body) }, err(401, 'bad_signature'));
  add('signature over unquoted data', { ...d, signature: hmac(SECRET, JSON.stringify(row)) }, err(401, 'bad_signature'));
  add('empty-key signature with empty entries', { ...d, secret: `,${OLD_SECRET},`, signature: hmac('', JSON.stringify(JSON.stringify(row))) }, err(401, 'bad_signature'));
  // relabelled: a genuine non-connection event sent as connection.created
  const contact = panoraDelivery({ row: { id_contact: uuid('c2'), email: 'a@b.c' }, type: 'crm.contact.created' });
  const env = JSON.parse(contact.body);
  add('genuine data relabelled as connection.created',
    { body: JSON.stringify({ ...env, type: 'connection.created' }), signature: contact.signature },
    err(422, 'unusable_data'));
}

// ---------------------------------------------------------------- envelope
{
  const row = connectionRow('envelope');
  const data = JSON.stringify(row);
  const sig = hmac(SECRET, JSON.stringify(data));
  const id = uuid('evt:env');
  const forged = JSON.stringify(JSON.stringify(connectionRow('forged')));
  const m = (body) => ({ body, signature: sig });
  add('duplicate data: genuine first, forged second',
    m(`{"id_event":"${id}","data":${JSON.stringify(data)},"data":${forged},"type":"connection.created"}`), err(400, 'malformed_request'));
  add('duplicate data: forged first, genuine second',
    m(`{"id_event":"${id}","data":${forged},"data":${JSON.stringify(data)},"type":"connection.created"}`), err(400, 'malformed_request'));
  add('duplicate type',
    m(`{"id_event":"${id}","data":${JSON.stringify(data)},"type":"connection.created","type":"x"}`), err(400, 'malformed_request'));
  add('duplicate id_event',
    m(`{"id_event":"${id}","id_event":"b","data":${JSON.stringify(data)},"type":"connection.created"}`), err(400, 'malformed_request'));
  add('escaped key spelling data',
    m(`{"id_event":"${id}","d\\u0061ta":${JSON.stringify(data)},"type":"connection.created"}`), err(400, 'malformed_request'));
  const good = `{"id_event":"${id}","data":${JSON.stringify(data)},"type":"connection.created"}`;
  add('trailing garbage', m(`${good}x`), err(400, 'malformed_request'));
  add('two top-level objects', m(`${good}{}`), err(400, 'malformed_request'));
  add('trailing white space is fine', m(`${good} \n`), ok);
  add('truncated body', m(good.slice(0, -1)), err(400, 'malformed_request'));
  add('empty body', m(''), err(400, 'malformed_request'));
  add('top level is an array', m(`[${good}]`), err(400, 'malformed_request'));
  add('top level is a string', m(JSON.stringify(good)), err(400, 'malformed_request'));
  add('missing data', m(`{"id_event":"${id}","type":"connection.created"}`), err(400, 'malformed_request'));
  add('missing type', m(`{"id_event":"${id}","data":${JSON.stringify(data)}}`), err(400, 'malformed_request'));
  add('missing id_event', m(`{"data":${JSON.stringify(data)},"type":"connection.created"}`), err(400, 'malformed_request'));
  for (const [what, v] of [['number', '42'], ['null', 'null'], ['true', 'true'], ['array', '[1]']]) {
    add(`data is ${what}`, m(`{"id_event":"${id}","data":${v},"type":"connection.created"}`), err(400, 'malformed_request'));
  }
  add('type is a number', m(`{"id_event":"${id}","data":${JSON.stringify(data)},"type":1}`), err(400, 'malformed_request'));
  add('id_event is null', m(`{"id_event":null,"data":${JSON.stringify(data)},"type":"connection.created"}`), err(400, 'malformed_request'));
  add('missing comma (jsmn would accept)', m(`{"id_event":"${id}" "data":${JSON.stringify(data)},"type":"connection.created"}`), err(400, 'malformed_request'));
  add('bare word value (jsmn would accept)', m(`{"id_event":"${id}","data":${JSON.stringify(data)},"type":"connection.created","x":tru}`), err(400, 'malformed_request'));
  add('trailing comma', m(`{"id_event":"${id}","data":${JSON.stringify(data)},"type":"connection.created",}`), err(400, 'malformed_request'));
  add('leading zero number', m(`{"id_event":"${id}","data":${JSON.stringify(data)},"type":"connection.created","n":01}`), err(400, 'malformed_request'));
  add('deep nesting', m(`{"id_event":"${id}","data":${JSON.stringify(data)},"type":"connection.created","n":${'['.repeat(40)}${']'.repeat(40)}}`), err(400, 'malformed_request'));
  add('many tokens', m(`{"id_event":"${id}","data":${JSON.stringify(data)},"type":"connection.created","n":[${Array(2000).fill(0).join(',')}]}`), err(400, 'malformed_request'));
  const bytes = (pre, raw, post) => Buffer.concat([Buffer.from(pre), Buffer.from(raw), Buffer.from(post)]);
  const inId = (raw) => m(bytes(`{"id_event":"`, raw, `","data":${JSON.stringify(data)},"type":"connection.created"}`));
  add('NUL byte in body', inId([0x00]), err(400, 'malformed_request'));
  add('raw control byte in a string', inId([0x01]), err(400, 'malformed_request'));
  add('overlong UTF-8', inId([0xc0, 0xaf]), err(400, 'malformed_request'));
  add('UTF-8 encoded surrogate', inId([0xed, 0xa0, 0x80]), err(400, 'malformed_request'));
  add('truncated UTF-8', inId([0xe2, 0x82]), err(400, 'malformed_request'));
  add('stray continuation byte', inId([0x80]), err(400, 'malformed_request'));
  add('a lead byte as the third byte of a sequence', inId([0xe2, 0x82, 0xc2]), err(400, 'malformed_request'));
  add('above U+10FFFF', inId([0xf4, 0x90, 0x80, 0x80]), err(400, 'malformed_request'));
  add('NUL byte after the body', m(bytes(good, [0x00], '')), err(400, 'malformed_request'));
}

// ---------------------------------------------------------------- verified, unusable
{
  const unusable = (name, row) => add(name, panoraDelivery({ row }), err(422, 'unusable_data'));
  const base = connectionRow('unusable');
  const without = (k) => { const r = { ...base }; delete r[k]; return r; };
  unusable('no connection_token', without('connection_token'));
  unusable('null connection_token', { ...base, connection_token: null });
  unusable('empty connection_token', { ...base, connection_token: '' });
  unusable('numeric connection_token', { ...base, connection_token: 12345 });
  unusable('no id_linked_user', without('id_linked_user'));
  unusable('null id_linked_user', { ...base, id_linked_user: null });
  unusable('no id_connection', without('id_connection'));
  unusable('empty id_connection', { ...base, id_connection: '' });
  unusable('NUL inside connection_token', { ...base, connection_token: 'ctok_\u0000_tail' });
  unusable('lone surrogate in account_url', { ...base, account_url: 'https://x/\ud800' });
  unusable('provider_slug is an object', { ...base, provider_slug: { a: 1 } });
  unusable('status is a number', { ...base, status: 1 });
  add('data string holds an array', panoraDelivery({ row: [base] }), err(422, 'unusable_data'));
  add('data string holds a string', panoraDelivery({ row: 'hello' }), err(422, 'unusable_data'));
  {
    // a string that is not JSON at all
    const data = 'not json {';
    const body = JSON.stringify({ id_event: 'e', data, type: 'connection.created' });
    add('data string is not JSON', { body, signature: hmac(SECRET, JSON.stringify(data)) }, err(422, 'unusable_data'));
  }
  {
    // repeated field inside the signed object
    const data = JSON.stringify(base).replace('"status":"valid"', '"connection_token":"ctok_second","status":"valid"');
    const body = JSON.stringify({ id_event: 'e', data, type: 'connection.created' });
    add('repeated connection_token inside data', { body, signature: hmac(SECRET, JSON.stringify(data)) }, err(422, 'unusable_data'));
  }
}

// ---------------------------------------------------------------- abusive sizes and forms
{
  const row = connectionRow('abuse');
  const d = panoraDelivery({ row });
  for (const m of ['HEAD', 'OPTIONS', 'PUT', 'DELETE', 'PATCH', 'POST ', ' POST', 'PoSt', '', 'POSTX']) {
    add(`method ${JSON.stringify(m)}`, { ...d, method: m }, err(405, 'method_not_allowed'));
  }
  const id = uuid('evt:abuse');
  const data = JSON.stringify(row);
  const sig = hmac(SECRET, JSON.stringify(data));
  const big = `{"id_event":"${'a'.repeat(1 << 20)}","data":${JSON.stringify(data)},"type":"connection.created"}`;
  add('body one byte over 1 MiB', { body: big.slice(0, (1 << 20) + 1), signature: sig }, err(413, 'payload_too_large'));
  add('a million tiny tokens (2 MiB)', { body: `[${'0,'.repeat(1e6)}0]`, signature: sig }, err(413, 'payload_too_large'));
  const tokens = `{"id_event":"${id}","data":${JSON.stringify(data)},"type":"connection.created","n":[${'0,'.repeat(500000)}0]}`;
  add('half a million tokens within the limit', { body: tokens, signature: sig }, err(400, 'malformed_request'));
  add('nesting 100,000 deep', { body: `{"n":${'['.repeat(100000)}${']'.repeat(100000)}}`, signature: sig }, err(400, 'malformed_request'));
  const hugeId = `{"id_event":"${'e'.repeat(900000)}","data":${JSON.stringify(data)},"type":"connection.created"}`;
  add('a 900 KB id_event string', { body: hugeId, signature: sig }, ok, true);
  const wide = connectionRow('wide', { account_url: `https://x/${'\u00e9\n"'.repeat(40000)}` });
  add('a 400 KB escaped account_url', panoraDelivery({ row: wide }), ok, true);
  add('a 1 MiB secret list', { ...d, secret: 'x,'.repeat(1 << 19) }, err(500, 'no_secret'));
  add('a 1 MiB list of empty entries', { ...d, secret: ','.repeat(1 << 20) }, err(500, 'no_secret'));
  add('one 1 MiB secret that is not the key', { ...d, secret: 'k'.repeat(1 << 20) }, err(401, 'bad_signature'));
  add('signature of NUL bytes', { ...d, signature: '\u0000'.repeat(64) }, err(400, 'missing_signature'));
  add('signature with a non-ASCII digit', { ...d, signature: `${d.signature.slice(0, 62)}\u0660` }, err(400, 'missing_signature'));
  add('data is false', { body: `{"id_event":"${id}","data":false,"type":"connection.created"}`, signature: sig }, err(400, 'malformed_request'));
  add('data is a negative number', { body: `{"id_event":"${id}","data":-1,"type":"connection.created"}`, signature: sig }, err(400, 'malformed_request'));
  add('data signed as the empty string', { body: `{"id_event":"${id}","data":"","type":"connection.created"}`, signature: hmac(SECRET, '""') }, err(422, 'unusable_data'));
  const deep = JSON.stringify({ ...row, x: JSON.parse(`${'['.repeat(40)}${']'.repeat(40)}`) });
  add('signed data nested too deep', { body: JSON.stringify({ id_event: id, data: deep, type: 'connection.created' }), signature: hmac(SECRET, JSON.stringify(deep)) }, err(422, 'unusable_data'));
  add('signed data with escaped NUL in the key name', panoraDelivery({ row: { ...row, ['connection_token\u0000']: 'x' } }), ok, true);
  add('type with a NUL escape', { body: `{"id_event":"${id}","data":${JSON.stringify(data)},"type":"connection.created\\u0000"}`, signature: sig }, err(400, 'malformed_request', 'without NUL characters'));
  add('id_event with a lone surrogate escape', { body: `{"id_event":"\\ud800","data":${JSON.stringify(data)},"type":"connection.created"}`, signature: sig }, err(400, 'malformed_request', 'lone surrogate'));
  add('type with a lone low surrogate escape', { body: `{"id_event":"${id}","data":${JSON.stringify(data)},"type":"connection.created\\udc00"}`, signature: sig }, err(400, 'malformed_request', 'lone surrogate'));
}

// ---------------------------------------------------------------- near misses
// Each of these separates the right rule from a plausible wrong one.
{
  const row = connectionRow('near-miss');
  add('type that only starts with connection.created is ignored',
    panoraDelivery({ row, type: 'connection.created.x' }), { http: 200, code: 'ignored' });
  add('type that is a prefix of connection.created is ignored',
    panoraDelivery({ row, type: 'connection.create' }), { http: 200, code: 'ignored' });
  const { connection_token: _t, ...noToken } = row;
  add('connection_token only inside a nested object',
    panoraDelivery({ row: { ...noToken, meta: { connection_token: 'ctok_nested' } } }), err(422, 'unusable_data'));
  add('nested connection_token beside the top-level one',
    panoraDelivery({ row: { ...row, meta: { connection_token: 'ctok_nested', vertical: 'nested' } } }), ok);
  add('a value spelled like a field name',
    panoraDelivery({ row: { ...row, status: 'vertical', vertical: 'status', provider_slug: 'connection_token' } }), ok);
  const d = panoraDelivery({ row });
  const lastDigit = `${d.signature.slice(0, 63)}${d.signature[63] === '0' ? '1' : '0'}`;
  add('only the last hex digit of the signature changed', { ...d, signature: lastDigit }, err(401, 'bad_signature'));
  const firstDigit = `${d.signature[0] === '0' ? '1' : '0'}${d.signature.slice(1)}`;
  add('only the first hex digit of the signature changed', { ...d, signature: firstDigit }, err(401, 'bad_signature'));
  // the log clips id_event to 128 bytes: here the cut falls inside "é"
  add('id_event whose log clip falls inside a character',
    panoraDelivery({ row, id_event: `${'a'.repeat(127)}\u00e9-tail` }), ok);
  const env = JSON.parse(d.body.toString());
  // the envelope may hold at most 32 top-level members
  const withMembers = (n) => {
    const o = { id_event: env.id_event, data: env.data, type: env.type };
    for (let i = 0; o && Object.keys(o).length < n; i++) o[`extra_${i}`] = i;
    return { body: JSON.stringify(o), signature: d.signature };
  };
  add('32 top-level members, the most allowed', withMembers(32), ok);
  add('33 top-level members, one past the limit', withMembers(33), err(400, 'malformed_request', 'top-level members'));
  const forged = JSON.stringify(connectionRow('forged-beside'));
  const both = `{"id_event":${JSON.stringify(env.id_event)},"data":${JSON.stringify(env.data)},"d\\u0061ta":${JSON.stringify(forged)},"type":"connection.created"}`;
  add('genuine data beside a forged escaped "d\\u0061ta"', { body: both, signature: d.signature }, err(400, 'malformed_request'));
}

// ---------------------------------------------------------------- forward
// The Standard Webhooks message a forward sink sends for a captured case,
// signed by the standardwebhooks package: the id from SHA-256 of
// id_connection, the body from JSON.stringify, at fixed instants chosen
// to cross calendar edges.
const FORWARD_SECRET = `whsec_${crypto.createHash('sha256').update('forward-secret').digest('base64')}`;
const INSTANTS = [0, 951782400, 951868799, 1709164800, 1795827997, 4107542399, 4107542400, 253402300799];
const forwards = [];
{
  const wh = new Webhook(FORWARD_SECRET);
  const captured = cases.map((c, i) => [c, i]).filter(([c]) => c.code === 'captured' && c.body.length < 200000);
  captured.forEach(([c, i], k) => {
    const t = INSTANTS[k % INSTANTS.length];
    const timestamp = new Date(t * 1000).toISOString().replace('.000Z', 'Z');
    const body = JSON.stringify({ type: 'connection.created', timestamp, data: c.record });
    const id = `msg_${crypto.createHash('sha256').update(c.record.id_connection).digest('hex').slice(0, 32)}`;
    forwards.push({ case: i, t, id, body, signature: wh.sign(id, new Date(t * 1000), body) });
  });
}
// base64 of random byte strings of every length up to 70, by Buffer
const base64 = [];
for (let n = 0; n <= 70; n++) {
  const raw = crypto.createHash('sha512').update(`b64:${n}`).digest();
  const bytes = Buffer.concat([raw, raw]).subarray(0, n);
  base64.push({ raw: bytes, text: bytes.toString('base64') });
}

// ---------------------------------------------------------------- catch-up
// GET /connections answers, as Panora's controller sends them: every row of
// the project, all columns, serialised by JSON.stringify (dates as ISO
// strings). Each element's expected outcome comes from JSON.parse: a record
// when it holds usable id_connection, connection_token and id_linked_user
// strings, else skipped. For every recovered row the same row's webhook is
// given too, so the tests can check that both paths give the same record.
export const CATCHUP_ELEMENT_MAX = 64 * 1024;
// Rows as the stand-in API serves them (tests/lib/panora-api.mjs), at a
// fixed creation time so the files are reproducible.
const listedRow = (label, over = {}) => panoraRow(label, { created_at: '2026-11-30T08:00:00.000Z', ...over });
const usable = (v) => typeof v === 'string' && v.length > 0;
const plainOk = (v) => v === undefined || v === null || typeof v === 'string';
// The documented limits of the decoder (PW_MAX_DEPTH, PW_MAX_TOKENS):
// nesting levels, and values plus keys, as JSON.parse's tree has them.
const depthOf = (v) => (v && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0);
const tokensOf = (v) => (v && typeof v === 'object'
  ? 1 + Object.entries(v).reduce((n, [, x]) => n + (Array.isArray(v) ? 0 : 1) + tokensOf(x), 0) : 1);
function expectedElement(text) {
  if (Buffer.byteLength(text) > CATCHUP_ELEMENT_MAX) return null;
  const d = JSON.parse(text);
  if (depthOf(d) > 32 || tokensOf(d) > 512) return null;
  for (const f of FIELDS.slice(1)) {
    if (REQUIRED.includes(f)) {
      if (!usable(d[f])) return null;
    } else if (!plainOk(d[f])) return null;
    if (typeof d[f] === 'string' && d[f].includes('\u0000')) return null;
  }
  const r = {};
  for (const f of FIELDS) r[f] = f === 'id_event' ? null : (d[f] ?? null);
  return r;
}
const catchupRows = [
  listedRow('c1'),
  listedRow('c2', { connection_token: null }),                       // not yet usable
  listedRow('c3', { account_url: 'https://x.example/\u2028\u00e9\ud83d\ude00"\\\u0001/', provider_slug: 'hubspot', vertical: 'crm', expiration_timestamp: '2027-01-01T00:00:00.000Z' }),
  (() => { const r = listedRow('c4'); delete r.connection_token; return r; })(),
  listedRow('c5', { account_url: { nested: [1, 2, { deep: 'x' }] } }),  // wrong type
  listedRow('c6', { connection_token: 42 }),
  listedRow('c7', { status: 'valid', vertical: 'filestorage', provider_slug: 'box' }),
  listedRow('c8', { account_url: 'a'.repeat(CATCHUP_ELEMENT_MAX) }),   // over the element limit
  listedRow('c9', { account_url: 'x\u0000y' }),                        // NUL in a field
  listedRow('c10', { access_token: '[{"not":"json-of-ours"}]', token_type: { deep: JSON.parse('['.repeat(40) + ']'.repeat(40)) } }),
  listedRow('c11', { id_linked_user: '' }),
  listedRow('c12', { created_at: '2026-12-01T11:59:59.999Z', provider_slug: 'caf\u00e9' }),
];
const catchupElements = catchupRows.map((r) => JSON.stringify(r));
const catchupList = Buffer.from(`[${catchupElements.join(',')}]`);
if (JSON.stringify(JSON.parse(catchupList)) !== catchupList.toString()) throw new Error('catch-up list is not JSON.stringify output');
const catchupExpect = catchupElements.map((t, i) => {
  const record = expectedElement(t);
  const hook = record ? panoraDelivery({ secret: SECRET, row: catchupRows[i] }) : null;
  return { record, hook };
});
// Lists that are not lists of connections: each must be an error.
const catchupBad = [
  ['empty answer', ''],
  ['an object, not a list', '{"message":"Unauthorized","statusCode":401}'],
  ['truncated inside an element', catchupList.subarray(0, 300).toString('latin1')],
  ['truncated between elements', `[${catchupElements[0]},`],
  ['no closing bracket', `[${catchupElements[0]}`],
  ['text after the list', `[${catchupElements[0]}] x`],
  ['a number element', `[${catchupElements[0]},7]`],
  ['a null element', '[null]'],
  ['two commas', `[${catchupElements[0]},,${catchupElements[0]}]`],
  ['a comma before the first element', `[,${catchupElements[0]}]`],
  ['trailing comma', `[${catchupElements[0]},]`],
  ['missing comma', `[${catchupElements[0]}${catchupElements[0]}]`],
  ['bad JSON inside an element', '[{"id_connection":"a" "b"}]'],
  ['bad UTF-8 inside an element', Buffer.concat([Buffer.from('[{"id_connection":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}]')]).toString('latin1')],
  ['mismatched brackets', '[{"a":[}]]'],
].map(([name, text]) => ({ name, text: Buffer.from(text, 'latin1') }));
for (const b of catchupBad) {
  let ok = true;
  try { const v = JSON.parse(b.text.toString('utf8')); ok = Array.isArray(v) && v.every((e) => e && typeof e === 'object' && !Array.isArray(e)); } catch { ok = false; }
  if (b.name === 'bad UTF-8 inside an element') ok = false;   // JSON.parse replaces, a strict reader refuses
  if (ok) throw new Error(`catch-up bad list "${b.name}" is a valid list`);
}

// ---------------------------------------------------------------- output
const outDir = process.argv[2];
if (!outDir) {
  console.error('usage: node tests/vectors/gen.mjs OUT_DIR');
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'cases.json'), JSON.stringify(cases.map((c) => ({
  ...c, body: c.body.toString('base64'),
})), null, 1));

// C: every byte outside printable ASCII as a 3-digit octal escape
const cstr = (v) => {
  if (v === null || v === undefined) return 'NULL';
  const b = Buffer.isBuffer(v) ? v : Buffer.from(String(v));
  let s = '"';
  for (const x of b) {
    if (x >= 0x20 && x < 0x7f && x !== 0x22 && x !== 0x5c && x !== 0x3f) s += String.fromCharCode(x);
    else s += `\\${x.toString(8).padStart(3, '0')}`;
  }
  return `${s}"`;
};
const clen = (v) => (v === null || v === undefined ? 0 : Buffer.byteLength(Buffer.isBuffer(v) ? v : String(v)));
let h = '/* generated by tests/vectors/gen.mjs: do not edit */\n';
h += `#define PWT_NFIELDS ${FIELDS.length}\n`;
h += `static const char *const pwt_field_names[PWT_NFIELDS] = { ${FIELDS.map((f) => cstr(f)).join(', ')} };\n`;
h += 'typedef struct { const char *p; size_t n; } pwt_str;\n';
h += 'typedef struct {\n\tconst char *name;\n\tint hostile;\n\tpwt_str method, signature, content_type, secret, body;\n'
  + '\tsize_t max_body;\n\tunsigned http;\n\tconst char *code;\n\tconst char *message;\n\tpwt_str type;\n\tint has_record;\n'
  + '\tpwt_str record[PWT_NFIELDS];\n\tpwt_str receipt_value;\n} pwt_case;\n';
const s = (v) => `{ ${cstr(v)}, ${clen(v)} }`;
h += 'static const pwt_case pwt_cases[] = {\n';
for (const c of cases) {
  h += `\t{ ${cstr(c.name)}, ${c.hostile ? 1 : 0}, ${s(c.method)}, ${s(c.signature)}, ${s(c.content_type)}, ${s(c.secret)}, ${s(c.body)},\n`;
  h += `\t  ${c.max_body}, ${c.http}, ${cstr(c.code)}, ${cstr(c.message)}, ${s(c.type ?? null)}, ${c.record ? 1 : 0},\n`;
  h += `\t  { ${c.record ? FIELDS.map((f) => s(c.record[f])).join(', ') : '{ NULL, 0 }'} }, ${s(c.receipt_value ?? null)} },\n`;
}
h += '};\n#define PWT_NCASES (sizeof pwt_cases / sizeof pwt_cases[0])\n';
h += `static const char pwt_forward_secret[] = ${cstr(FORWARD_SECRET)};\n`;
h += 'typedef struct { size_t case_index; unsigned long long t; const char *id; pwt_str body; const char *signature; } pwt_forward;\n';
h += 'static const pwt_forward pwt_forwards[] = {\n';
for (const f of forwards) h += `\t{ ${f.case}, ${f.t}ULL, ${cstr(f.id)}, ${s(f.body)}, ${cstr(f.signature)} },\n`;
h += '};\n#define PWT_NFORWARDS (sizeof pwt_forwards / sizeof pwt_forwards[0])\n';
h += 'typedef struct { pwt_str raw; const char *text; } pwt_base64;\n';
h += 'static const pwt_base64 pwt_base64s[] = {\n';
for (const b of base64) h += `\t{ ${s(b.raw)}, ${cstr(b.text)} },\n`;
h += '};\n#define PWT_NBASE64 (sizeof pwt_base64s / sizeof pwt_base64s[0])\n';
h += `#define PWT_CATCHUP_ELEMENT_MAX ${CATCHUP_ELEMENT_MAX}\n`;
h += `static const pwt_str pwt_catchup_list = ${s(catchupList)};\n`;
h += 'typedef struct { int has_record; pwt_str record[PWT_NFIELDS]; pwt_str hook_body, hook_signature; } pwt_listed;\n';
h += 'static const pwt_listed pwt_catchup_expect[] = {\n';
for (const e of catchupExpect) {
  h += `\t{ ${e.record ? 1 : 0}, { ${e.record ? FIELDS.map((f) => s(e.record[f])).join(', ') : '{ NULL, 0 }'} },\n`;
  h += `\t  ${e.hook ? s(e.hook.body) : '{ NULL, 0 }'}, ${e.hook ? s(e.hook.signature) : '{ NULL, 0 }'} },\n`;
}
h += '};\n#define PWT_NLISTED (sizeof pwt_catchup_expect / sizeof pwt_catchup_expect[0])\n';
h += `static const char pwt_catchup_secret[] = ${cstr(SECRET)};\n`;
h += 'typedef struct { const char *name; pwt_str text; } pwt_bad_list;\n';
h += 'static const pwt_bad_list pwt_catchup_bad[] = {\n';
for (const b of catchupBad) h += `\t{ ${cstr(b.name)}, ${s(b.text)} },\n`;
h += '};\n#define PWT_NBAD_LISTS (sizeof pwt_catchup_bad / sizeof pwt_catchup_bad[0])\n';
fs.writeFileSync(path.join(outDir, 'cases.h'), h);
fs.writeFileSync(path.join(outDir, 'catchup.json'), JSON.stringify({
  element_max: CATCHUP_ELEMENT_MAX,
  secret: SECRET,
  list: catchupList.toString('base64'),
  expect: catchupExpect.map((e) => ({ record: e.record, hook: e.hook && { body: e.hook.body.toString('base64'), signature: e.hook.signature } })),
  bad: catchupBad.map((b) => ({ name: b.name, text: b.text.toString('base64') })),
}, null, 1));
fs.writeFileSync(path.join(outDir, 'forward.json'), JSON.stringify({ secret: FORWARD_SECRET, forwards }, null, 1));
console.log(`gen.mjs: ${cases.length} cases, ${forwards.length} forward messages -> ${outDir}`);
