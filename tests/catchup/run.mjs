// run.mjs -- what the catch-up command's tests share: the command run as
// `jco run` runs it, the stand-in for Panora's API (tests/lib/panora-api.mjs),
// a Standard Webhooks backend verifying every forward with the npm
// `standardwebhooks` package (tests/http/serve.mjs), and the no-secret rule.
//
// `jco run` transpiles the component and then runs its generated runner
// (_run.js) in a child process; the first run here goes through `jco run`
// itself with --jco-dir, later runs start that same runner directly, which
// saves the transpile per run. The command runs in its own process, so the
// servers live in the test process and answer while it blocks.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { credentialsOf, startPanoraApi } from '../lib/panora-api.mjs';
import { spawnTracked, waitExit } from '../lib/proc.mjs';
import { backend } from '../http/serve.mjs';
import { FIELDS as RECORD_FIELDS } from '../../deploy/host/handler.mjs';

const JCO = 'node_modules/@bytecodealliance/jco/dist/jco.js';
export const COMMAND = 'build/panora-webhook-catchup.wasm';
// The record fields a forward carries, in Panora's names (lib/panora_webhook.h).
const FIELDS = RECORD_FIELDS.map((f) => f.name);

// The record a forward must carry for a listed row: what JSON.parse of the
// row says, id_event null (a listed connection has no delivery).
export const recordOf = (row) => {
  const parsed = JSON.parse(JSON.stringify(row));
  return Object.fromEntries(FIELDS.map((f) => [f, f === 'id_event' ? null : (parsed[f] ?? null)]));
};
export const hoursAgo = (h) => new Date(Date.now() - h * 3600e3).toISOString();

// One run: exit code, stdout, stderr and the parsed summary line.
async function runChild(args, env) {
  const child = spawnTracked(process.execPath, args, {
    env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const code = await waitExit(child, 90000);
  await new Promise((resolve) => setImmediate(resolve));
  const lines = stdout.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `one summary line on stdout: ${stdout}`);
  return { code, stdout, stderr, summary: JSON.parse(lines[0]) };
}

// A module run before the component (jco run --jco-import, node --import)
// that preopens PANORA_TEST_STATE_DIR as the guest's /state, as
// `wasmtime run --dir` does. It lives in the jco directory, so that it
// reaches the same preview2-shim instance as the generated code.
const STATE_MODULE = `import { _addPreopen } from '@bytecodealliance/preview2-shim/filesystem';
if (process.env.PANORA_TEST_STATE_DIR) _addPreopen('/state', process.env.PANORA_TEST_STATE_DIR);
`;

// A test file's context: the API stand-in, its backends, every output.
// `command` and `extra` (more `jco run` arguments, such as --jco-map)
// choose another flavour of the command.
export async function startCatchup(name, { command = COMMAND, extra = [] } = {}) {
  const apiKey = `pk_${crypto.randomBytes(12).toString('hex')}`;
  const api = await startPanoraApi({ apiKey });
  const dir = path.resolve(`build/catchup-run/${name}`);
  const sinks = [];
  const outputs = [];
  const rowsSeen = [];
  let runner = null;
  const ctx = {
    api, apiKey, outputs,
    // a fresh backend, closed at the end
    sink: async (opts) => { const s = await backend(opts); sinks.push(s); return s; },
    // the environment for a run against `sink`
    env: (sink, extra = {}) => ({
      PANORA_API_KEY: apiKey, PANORA_API_URL: api.url,
      PANORA_WEBHOOK_FORWARD_URL: sink.url, PANORA_WEBHOOK_FORWARD_SECRET: sink.secret, ...extra,
    }),
    // what the API lists from now on
    list: (...rows) => {
      api.rows.length = 0;
      api.rows.push(...rows);
      rowsSeen.push(...rows);
      api.mode = 'ok';
      api.streamRows = 0;
    },
    // one run of the command; with `state`, that directory preopened
    run: async (env, { state } = {}) => {
      const stateModule = path.join(dir, '_state.mjs');
      const withState = state ? { ...env, PANORA_TEST_STATE_DIR: state } : env;
      let r;
      if (runner === null) {
        fs.rmSync(dir, { recursive: true, force: true });
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(stateModule, STATE_MODULE);
        r = await runChild([JCO, 'run', '--jco-dir', dir, '--jco-import', stateModule, command, ...extra], withState);
        runner = path.join(dir, '_run.js');
      } else {
        r = await runChild(['--import', pathToFileURL(stateModule).href, runner], withState);
      }
      outputs.push(r.stdout, r.stderr);
      return r;
    },
    // the no-secret rule over one text
    assertClean: (text, what) => {
      assert.ok(!text.includes(apiKey), `${what}: no API key`);
      for (const s of sinks) assert.ok(!text.includes(s.secret), `${what}: no forward secret`);
      for (const row of rowsSeen) {
        for (const c of credentialsOf(row)) assert.ok(!text.includes(c), `${what}: no provider credential`);
        if (row.connection_token) assert.ok(!text.includes(row.connection_token), `${what}: no connection token`);
      }
    },
    close: async () => {
      await api.close();
      for (const s of sinks) await s.close();
      for (const o of outputs) ctx.assertClean(o, 'a run\'s output');
    },
  };
  return ctx;
}
