// logs.test.mjs -- the reference host's log lines on stderr: JSON, one per
// line, and no raw character that can make a terminal or log viewer show
// something else than what is there (C1 controls, U+2028/U+2029, the
// bidirectional overrides and isolates), whatever a signed delivery's
// `type` or `id_event` holds. JSON.parse of the line still gives the text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../../deploy/host/server.mjs';

const SPOOFING = /[\u0080-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

test('log lines escape spoofing characters and still parse to the same text', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-logs-'));
  const secret = `whsec_${crypto.randomBytes(12).toString('hex')}`;
  const logs = [];
  const srv = await startServer({ PANORA_WEBHOOK_SECRET: secret, PANORA_WEBHOOK_DB: path.join(dir, 'db.sqlite'), PORT: '0' },
    { log: (l) => logs.push(l) });
  try {
    const type = 'crm.contact.created\u0085\u202e\u2066\u2028\u009b[2J';
    const data = JSON.stringify({ id: 'c-1' });
    const body = JSON.stringify({ id_event: 'evt-\u202eevil', data, type });
    const signature = crypto.createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex');
    const r = await fetch(`http://127.0.0.1:${srv.address.port}/panora_webhooks`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'panora-signature': signature }, body,
      signal: AbortSignal.timeout(10000),
    });
    assert.equal(r.status, 200);
    await r.text();
    assert.ok(logs.length >= 1, 'a log line');
    for (const l of logs) {
      assert.doesNotMatch(l, SPOOFING, `no raw spoofing character in ${JSON.stringify(l)}`);
      assert.ok(!l.includes('\n'));
      JSON.parse(l);
    }
    const line = JSON.parse(logs.find((l) => l.includes('"ignored"')));
    assert.equal(line.type, type, 'the escaped line parses back to the type');
  } finally {
    await srv.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
