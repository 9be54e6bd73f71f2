// state.test.mjs -- the catch-up command's high-water mark in a preopened
// state directory (as `wasmtime run --dir` gives it; here the directory is
// preopened into jco's WASI shim, tests/catchup/run.mjs). An outage longer
// than the window is caught up by the next successful run; a failed run
// leaves the mark; a run after a good one forwards only what is new; an
// unreadable mark stops the run rather than guessing.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { panoraRow } from '../lib/panora-api.mjs';
import { forwardId } from '../http/serve.mjs';
import { hoursAgo, recordOf, startCatchup } from './run.mjs';

const MARK = 'panora-catchup.mark';
const nowS = () => Math.floor(Date.now() / 1000);

describe('catch-up command: the high-water mark in a state directory', () => {
  let c;
  const state = path.resolve('build/catchup-run/state-dir');
  const markFile = path.join(state, MARK);
  const readMark = () => fs.readFileSync(markFile, 'utf8');
  before(async () => {
    fs.rmSync(state, { recursive: true, force: true });
    fs.mkdirSync(state, { recursive: true });
    c = await startCatchup('state');
  });
  after(() => c?.close());

  const a = panoraRow('state-a', { created_at: hoursAgo(1) });
  const b = panoraRow('state-b', { created_at: hoursAgo(48) });    // outside the default window
  const d = panoraRow('state-d', { created_at: hoursAgo(0.5) });

  test('a first run forwards by the window and writes the mark of its listing', async () => {
    c.list(a);
    const sink = await c.sink();
    const t0 = nowS();
    const r = await c.run(c.env(sink), { state });
    const t1 = nowS();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.summary.forwarded, 1);
    const text = readMark();
    assert.match(text, /^\d+\n$/);
    const mark = Number(text);
    assert.ok(mark >= t0 && mark <= t1, `the mark ${mark} is the run's own time`);
    assert.ok(!fs.existsSync(`${markFile}.tmp`), 'no temporary file is left');
  });

  test('after a long outage, the next successful run forwards everything since the mark, past the window', async () => {
    const threeDays = `${nowS() - 3 * 86400}\n`;
    fs.writeFileSync(markFile, threeDays);      // the last good run was three days ago
    c.list(a, b, d);
    const down = await c.sink();
    const env = c.env(down);
    await down.close();                          // the backend is still down
    const failed = await c.run(env, { state });
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /^catch-up failed: the backend did not accept a forward: /);
    assert.equal(readMark(), threeDays, 'a failed run leaves the mark');

    const sink = await c.sink();                 // back up
    const r = await c.run(c.env(sink), { state });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.summary, { outcome: 'catch-up', listed: 3, recovered: 3, forwarded: 3, skipped: 0, outside_window: 0 });
    assert.deepEqual(sink.messages.map((m) => m.id).sort(), [a, b, d].map((x) => forwardId(x.id_connection)).sort());
    assert.deepEqual(sink.messages.find((m) => m.id === forwardId(b.id_connection)).event.data, recordOf(b));
    assert.ok(Number(readMark()) >= nowS() - 600, 'the mark moved to this run');
  });

  test('a run after a good one forwards only what was created since, less the slack', async () => {
    const fresh = panoraRow('state-fresh', { created_at: new Date().toISOString() });
    c.list(a, b, d, fresh);
    const sink = await c.sink();
    const r = await c.run(c.env(sink), { state });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.summary, { outcome: 'catch-up', listed: 4, recovered: 4, forwarded: 1, skipped: 0, outside_window: 3 });
    assert.equal(sink.messages[0].id, forwardId(fresh.id_connection));
  });

  test('a window of 0 still forwards everything', async () => {
    c.list(a, b);
    const sink = await c.sink();
    const r = await c.run(c.env(sink, { PANORA_WEBHOOK_CATCHUP_WINDOW_S: '0' }), { state });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.summary.forwarded, 2);
  });

  test('an unreadable mark stops the run, forwarding nothing and keeping the file', async () => {
    fs.writeFileSync(markFile, 'yesterday\n');
    c.list(a);
    const sink = await c.sink();
    const listed = c.api.requests.length;
    const r = await c.run(c.env(sink), { state });
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr, `catch-up failed: the high-water mark in the state directory is not readable (remove ${MARK} to start again from the window)\n`);
    assert.equal(sink.attempts.length, 0);
    assert.equal(c.api.requests.length, listed);
    assert.equal(readMark(), 'yesterday\n');
  });
});
