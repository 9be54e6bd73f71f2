// soak.test.mjs -- the short soak that `make test` runs: the reference host
// under 8 clients for 8 s, SIGKILL and restart half-way, and not one
// acknowledged record missing or changed (tests/soak/soak.mjs; `make soak`
// runs the long one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSoak } from '../soak/soak.mjs';

test('short soak: every acknowledged record survives a SIGKILL, exactly once', async () => {
  const r = await runSoak({ clients: 8, seconds: 8, log: () => {} });
  assert.equal(r.restarts, 1);
  assert.ok(r.acknowledged > 100, `only ${r.acknowledged} acknowledged`);
  assert.equal(r.lost, 0);
  assert.equal(r.mismatched, 0);
});
