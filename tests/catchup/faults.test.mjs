// faults.test.mjs -- every fault of Panora's API, and every configuration
// that cannot work, ends the catch-up command with a non-zero exit, one
// reason line on stderr and nothing forwarded (tests/catchup/run.mjs).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { panoraRow } from '../lib/panora-api.mjs';
import { startCatchup } from './run.mjs';

describe('catch-up command faults: a non-zero exit and one reason line, nothing forwarded', () => {
  let c;
  before(async () => { c = await startCatchup('faults'); });
  after(() => c?.close());

  // [name, environment changes, API mode, the reason line]
  const faults = [
    ['a refused API key', { PANORA_API_KEY: 'pk_wrong' }, null, /^catch-up failed: Panora refused the API key\n$/],
    ['a 5xx answer', {}, '500', /^catch-up failed: Panora's API failed \(a 5xx answer\)\n$/],
    ['a truncated answer', {}, 'truncate', /^catch-up failed: (the connection to Panora's API failed (during|before) its answer|Panora's answer is not a list of connections: the answer ends before the list's closing bracket)\n$/],
    ['an answer that is not a list', {}, 'malformed', /^catch-up failed: Panora's answer is not a list of connections: the answer is not a JSON array\n$/],
    ['an API that never answers', {}, 'hang', /^catch-up failed: Panora's API did not answer (within 30 s|in time)\n$/],
    ['an API that is not there', { PANORA_API_URL: 'http://127.0.0.1:1' }, null, /^catch-up failed: Panora's API could not be reached\n$/],
    ['no API key', { PANORA_API_KEY: '' }, null, /^catch-up failed: PANORA_API_KEY is not set\n$/],
    ['plain http to a host that is not loopback', { PANORA_API_URL: 'http://api.panora.dev' }, null, /^catch-up failed: PANORA_API_URL must be https \(http only to a loopback address, for a self-hosted Panora\)\n$/],
    ['an API URL with a query', { PANORA_API_URL: 'https://api.panora.dev/?x=1' }, null, /^catch-up failed: PANORA_API_URL is not an absolute http or https base URL without a query\n$/],
    ['no forward URL', { PANORA_WEBHOOK_FORWARD_URL: '' }, null, /^catch-up failed: PANORA_WEBHOOK_FORWARD_URL is not set: there is nowhere to forward the connections to\n$/],
    ['a forward secret that is not whsec_', { PANORA_WEBHOOK_FORWARD_SECRET: 'not-a-secret' }, null, /^catch-up failed: PANORA_WEBHOOK_FORWARD_SECRET is not whsec_ and the base64 of 16 to 64 bytes\n$/],
    ['a window that is not a number', { PANORA_WEBHOOK_CATCHUP_WINDOW_S: '1d' }, null, /^catch-up failed: PANORA_WEBHOOK_CATCHUP_WINDOW_S is not a number of seconds\n$/],
  ];
  for (const [name, over, mode, why] of faults) {
    test(name, async () => {
      c.list(panoraRow(`fault:${name}`));
      if (mode) c.api.mode = mode;
      const sink = await c.sink();
      const listed = c.api.requests.length;
      const r = await c.run(c.env(sink, over));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, why);
      assert.equal(r.summary.outcome, 'catch-up-failed');
      assert.equal(r.summary.forwarded, 0);
      assert.equal(sink.attempts.length, 0, 'nothing is forwarded');
      if (/PANORA_/.test(why.source)) {
        assert.equal(c.api.requests.length, listed, 'a configuration that cannot work lists nothing');
      }
    });
  }
});
