// settings.test.mjs -- the settings are one list (function/settings.h):
// the README's table is generated from it, every name in it is one a
// loader can read (each Spin variable is its environment name in lower
// case; each Spin manifest maps every setting its component reads), and
// the Spin flavour reads the body limit as the environment flavour does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { rewrite, settings } from '../../scripts/settings.mjs';
import { send, serve } from './serve.mjs';

test('README.md: the settings table is the one function/settings.h makes', () => {
  const readme = fs.readFileSync('README.md', 'utf8');
  assert.equal(readme, rewrite(readme), 'run node scripts/settings.mjs');
});

test('the list parses whole: every setting has both names, readers and a meaning', () => {
  const list = settings();
  const header = fs.readFileSync('function/settings.h', 'utf8');
  assert.equal(list.length, (header.match(/^\tX\(/gm) ?? []).length);
  assert.ok(list.length >= 8);
  for (const s of list) {
    assert.equal(s.spin, s.env.toLowerCase(), s.env);
    assert.ok(s.meaning.length > 10, s.env);
    assert.ok(s.readers.length > 0, s.env);
  }
});

for (const [file, component, reader] of [
  ['spin.toml', 'panora-webhook', 'Spin component'],
  ['catchup.toml', 'panora-webhook-catchup', 'Spin catch-up command'],
]) {
  test(`${file} maps every setting the ${reader} reads`, () => {
    const m = JSON.parse(JSON.stringify(parseToml(fs.readFileSync(`deploy/spin/${file}`, 'utf8'))));
    const vars = m.component[component].variables;
    const read = settings().filter((x) => x.readers.includes(reader));
    assert.ok(read.length > 0, reader);
    for (const s of read) {
      assert.equal(vars[s.spin], `{{ ${s.spin} }}`, s.spin);
      assert.ok(m.variables[s.spin], `${s.spin} is declared`);
    }
  });
}

test('Spin: panora_webhook_max_body lowers the body limit, as PANORA_WEBHOOK_MAX_BODY does', async () => {
  const secret = `whsec_${crypto.randomBytes(8).toString('hex')}`;
  const data = JSON.stringify({ id_connection: 'conn-limit', connection_token: 'ctok_limit', id_linked_user: 'u' });
  const body = Buffer.from(JSON.stringify({ id_event: 'evt-limit', data, type: 'connection.created' }));
  const headers = {
    'panora-signature': crypto.createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex'),
    'content-type': 'application/json',
  };
  const kv = path.resolve('build/serve/spin-limit-kv.json');
  const maps = ['--jco-map',
    `wasi:config/store@0.2.0-draft-2024-09-27=${path.resolve('tests/http/fake-config.mjs')}`,
    `wasi:keyvalue/store@0.2.0-draft2=${path.resolve('tests/http/fake-kv.mjs')}`];
  fs.rmSync(kv, { force: true });
  for (const [limit, status] of [[body.length - 1, 413], [body.length, 200]]) {
    const srv = await serve('build/panora-webhook-spin.wasm', {
      PANORA_TEST_SPIN_SECRET: secret, PANORA_TEST_KV_FILE: kv, PANORA_TEST_SPIN_MAX_BODY: String(limit),
    }, 'spin-limit', maps);
    try {
      const r = await send(srv.base, { headers, body });
      assert.equal(r.status, status, `limit ${limit}: ${r.body}`);
      if (status === 413) assert.equal(JSON.parse(r.body).error, 'payload_too_large');
    } finally {
      await srv.stop();
    }
  }
});
