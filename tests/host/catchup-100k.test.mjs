// catchup-100k.test.mjs -- the reference host reconciles a 100,000-row
// GET /connections answer (the stand-in API's, streamed) in one run. Only
// the outcome is asserted; the run's time and the host's peak RSS growth
// are printed (tests/lib/big-catchup.mjs says how they are measured).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostCatchup } from '../lib/big-catchup.mjs';

const API_KEY = 'pk_test_4f1c9a0e7b2d4c8e9a1b3c5d7e9f0a2b';

test('catch-up: 100,000 listed connections are reconciled in one run', async () => {
  const m = await hostCatchup({ rows: 100000, apiKey: API_KEY, secret: 'whsec_catchup_test' });
  console.log(`# catch-up of 100,000 connections: ${m.run.ms} ms, host peak RSS growth ${(m.growth / 1048576).toFixed(1)} MiB`);
  assert.deepEqual(m.run, { outcome: 'catch-up', listed: 100000, recovered: 100000, skipped: 0, ms: m.run.ms });
  assert.equal(m.recovered, 100000, 'one log line per recovered connection');
  assert.equal(m.stored, 100000, 'every row in SQLite, arrival catch-up');
  assert.equal(m.exit, 0);
  assert.ok(!m.leaked, 'no token or API key in the log');
});
