// many.test.mjs -- one run that forwards hundreds of connections read from
// the same piece of the answer: every forward takes its scratch from the
// command's arena, and none may run out of it or leak into the next. Each
// message is verified with standardwebhooks and must carry what JSON.parse
// of its row says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { panoraRow } from '../lib/panora-api.mjs';
import { recordOf, startCatchup } from './run.mjs';

test('300 connections in one piece of the answer: 300 forwards, each verified', async () => {
  const c = await startCatchup('many');
  try {
    const rows = Array.from({ length: 300 }, (_, i) => panoraRow(`many:${i}`));
    c.list(...rows);
    const sink = await c.sink({});
    const r = await c.run(c.env(sink));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.summary, { outcome: 'catch-up', listed: 300, recovered: 300, forwarded: 300, skipped: 0, outside_window: 0 });
    assert.equal(sink.messages.length, 300);
    const byId = new Map(rows.map((row) => [row.id_connection, row]));
    for (const m of sink.messages) assert.deepEqual(m.event.data, recordOf(byId.get(m.event.data.id_connection)));
  } finally {
    await c.close();
  }
});
