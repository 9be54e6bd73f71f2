// wagi-runs.mjs -- the WAGI module's runs that every command host gets:
// each end-to-end case as a WAGI host hands it over (REQUEST_METHOD,
// CONTENT_LENGTH, HTTP_* set), and each capture also as a direct command,
// wherever a process environment can carry them. Shared by the suites on
// wasmtime's engine (tests/wasm/wasmtime.test.mjs, through wizer) and on
// the wasmtime CLI (tests/wasmtime/run.test.mjs).
import fs from 'node:fs';
import { runWagi, wagiEnv } from '../../deploy/node/wagi.mjs';

export const cases = JSON.parse(fs.readFileSync('build/vectors/cases.json', 'utf8'))
  .map((c) => ({ ...c, body: Buffer.from(c.body, 'base64') }));

// What a process environment can carry: no NUL, no string over 128 KiB.
export const carriable = (env) => Object.entries(env)
  .every(([k, v]) => !`${k}${v}`.includes('\u0000') && k.length + v.length < 100000);

// The environment for case `c`: as a WAGI host sets it, or (direct) as a
// caller of the command sets it, without REQUEST_METHOD.
export function envOf(c, direct) {
  const e = wagiEnv({ method: direct ? null : c.method, signature: c.signature, contentType: c.content_type, body: c.body });
  if (c.secret !== null) e.PANORA_WEBHOOK_SECRET = c.secret;
  if (c.max_body) e.PANORA_WEBHOOK_MAX_BODY = String(c.max_body);
  return e;
}

export const isCommandCapture = (c) => c.code === 'captured' && (c.method === null || c.method === 'POST');

export const runs = [];
for (const c of cases) {
  const host = envOf(c, false);
  if (carriable(host)) runs.push({ name: c.name, mode: 'under a WAGI host', env: host, body: c.body });
  if (isCommandCapture(c)) {
    const direct = envOf(c, true);
    if (carriable(direct)) runs.push({ name: c.name, mode: 'as a command', env: direct, body: c.body });
  }
}

// Run `jobs` (functions returning promises) with at most `n` at a time;
// resolves with their results in order.
export async function pool(jobs, n) {
  const results = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  }));
  return results;
}

// Compare each run's answer (`got[i]`: code, stdout, stderr) with Node's
// WASI's for the same run; the list of differences, empty when none.
export async function mismatchesWithNode(mod, got) {
  const out = [];
  for (const [i, r] of runs.entries()) {
    const w = await runWagi(mod, { env: r.env, body: r.body });
    const g = got[i];
    if (g.code !== 0 || !g.stdout.equals(w.stdout) || g.stderr.toString('utf8') !== w.stderr) {
      out.push(`${r.name} (${r.mode}): exit ${g.code}\n  host: ${g.stdout.toString().slice(0, 120)}\n  node: ${w.stdout.toString().slice(0, 120)}\n  stderr: ${g.stderr.toString().slice(0, 200)}`);
    }
  }
  return out;
}
