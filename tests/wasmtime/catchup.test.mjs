// catchup.test.mjs -- the catch-up command (build/panora-webhook-catchup.wasm)
// under the real `wasmtime run -S http`, as cron runs it: a connection whose
// one delivery was lost is forwarded, verified with the npm standardwebhooks
// package, carrying what JSON.parse of the row says; the API's refusals and
// a broken answer end in a non-zero exit with the reason; the high-water
// mark in a directory given with --dir; no secret in any output.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { credentialsOf, panoraRow, startPanoraApi } from '../lib/panora-api.mjs';
import { WASMTIME_SKIP, wasmtimeRun } from '../lib/wasmtime.mjs';
import { backend, forwardId } from '../http/serve.mjs';
import { hoursAgo, recordOf } from '../catchup/run.mjs';

const COMMAND = 'build/panora-webhook-catchup.wasm';

describe('catch-up command under wasmtime run -S http', { skip: WASMTIME_SKIP }, () => {
  const apiKey = `pk_${crypto.randomBytes(12).toString('hex')}`;
  let api;
  let sink;
  const outputs = [];
  const rows = [];
  const list = (...r) => { api.rows.length = 0; api.rows.push(...r); rows.push(...r); api.mode = 'ok'; };
  const run = async ({ dir } = {}) => {
    const env = {
      PANORA_API_KEY: apiKey, PANORA_API_URL: api.url,
      PANORA_WEBHOOK_FORWARD_URL: sink.url, PANORA_WEBHOOK_FORWARD_SECRET: sink.secret,
    };
    const flags = ['-S', 'http', ...(dir ? ['--dir', `${dir}::/state`] : [])];
    const r = await wasmtimeRun([COMMAND], { env, flags, ms: 60000 });
    const stdout = r.stdout.toString();
    const stderr = r.stderr.toString();
    outputs.push(stdout, stderr);
    const lines = stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, `one summary line: ${stdout}${stderr}`);
    return { code: r.code, stderr, summary: JSON.parse(lines[0]) };
  };

  before(async () => {
    api = await startPanoraApi({ apiKey });
    sink = await backend();
  });
  after(async () => {
    await api?.close();
    await sink?.close();
    const all = outputs.join('\n');
    assert.ok(!all.includes(apiKey), 'no API key in any output');
    assert.ok(!all.includes(sink.secret), 'no forward secret in any output');
    for (const row of rows) {
      for (const c of credentialsOf(row)) assert.ok(!all.includes(c), 'no provider credential in any output');
      if (row.connection_token) assert.ok(!all.includes(row.connection_token), 'no connection token in any output');
    }
  });

  test('a lost connection is forwarded as the wasi:http component would send it; a row without a token is skipped', async () => {
    sink.clear();
    const row = panoraRow('wasmtime-missed');
    list(row, panoraRow('wasmtime-no-token', { connection_token: null }));
    const r = await run();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.summary, { outcome: 'catch-up', listed: 2, recovered: 1, forwarded: 1, skipped: 1, outside_window: 0 });
    assert.deepEqual(api.requests.at(-1), { method: 'GET', path: '/connections', key: apiKey });
    assert.equal(sink.messages.length, 1, sink.attempts[0]?.error);
    const m = sink.messages[0];
    assert.equal(m.id, forwardId(row.id_connection));
    assert.equal(m.event.type, 'connection.created');
    assert.deepEqual(m.event.data, recordOf(row));
    for (const c of credentialsOf(row)) assert.ok(!m.raw.includes(c), 'no provider credential is forwarded');
  });

  test('Panora refusing the API key: a non-zero exit, and the reason', async () => {
    list(panoraRow('wasmtime-401'));
    const saved = api.rows.slice();
    const r = await (async () => {
      const env = { PANORA_API_KEY: 'pk_wrong', PANORA_API_URL: api.url, PANORA_WEBHOOK_FORWARD_URL: sink.url, PANORA_WEBHOOK_FORWARD_SECRET: sink.secret };
      const x = await wasmtimeRun([COMMAND], { env, flags: ['-S', 'http'], ms: 60000 });
      outputs.push(x.stdout.toString(), x.stderr.toString());
      return x;
    })();
    assert.notEqual(r.code, 0);
    assert.match(r.stderr.toString(), /Panora refused the API key/);
    assert.equal(JSON.parse(r.stdout.toString()).outcome, 'catch-up-failed');
    assert.deepEqual(api.rows, saved);
  });

  for (const [mode, why] of [['500', /a 5xx answer/], ['truncate', /failed during its answer/], ['malformed', /not a list of connections: the answer is not a JSON array/]]) {
    test(`an API answer that is ${mode === '500' ? 'a 500' : mode}: a non-zero exit with its reason`, async () => {
      list(panoraRow(`wasmtime-${mode}`));
      api.mode = mode;
      const r = await run();
      assert.notEqual(r.code, 0);
      assert.equal(r.summary.outcome, 'catch-up-failed');
      assert.match(r.stderr, /^catch-up failed: /);
      assert.match(r.stderr, why);
    });
  }

  test('with --dir, the mark: a second run forwards only what was created since the first', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-mark-'));
    try {
      sink.clear();
      const early = panoraRow('wasmtime-mark-early', { created_at: hoursAgo(1) });
      list(early);
      const first = await run({ dir });
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.summary.forwarded, 1);
      assert.ok(fs.existsSync(path.join(dir, 'panora-catchup.mark')), 'the mark is written');
      const late = panoraRow('wasmtime-mark-late');
      list(early, late);
      const second = await run({ dir });
      assert.equal(second.code, 0, second.stderr);
      assert.equal(second.summary.forwarded, 1, JSON.stringify(second.summary));
      assert.deepEqual(sink.messages.map((m) => m.event.data.id_connection), [early.id_connection, late.id_connection]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
