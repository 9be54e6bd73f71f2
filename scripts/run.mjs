// run.mjs -- `make run-wagi`: one signed connection.created delivery, made the
// way Panora makes it, handed to the WAGI module as a command (`wasmtime run
// ... < body`): the caller is the sink and gets the record. Then the same
// delivery forged, and as a WAGI host would hand it over, where nothing
// would keep the record, so it is refused (500 no_sink).
//
//   node scripts/run.mjs build/panora-webhook.wasm
//
// Uses `wasmtime run` when wasmtime is on PATH, else Node's WASI. The
// endpoint secret is PANORA_WEBHOOK_SECRET if set, else a fresh demo secret
// written to build/run/demo-secret; it is never printed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadModule, runWagi, wagiEnv, parseCgi } from '../deploy/node/wagi.mjs';

const wasm = process.argv[2] ?? 'build/panora-webhook.wasm';
const dir = path.join(path.dirname(wasm), 'run');
fs.mkdirSync(dir, { recursive: true });

let secret = process.env.PANORA_WEBHOOK_SECRET;
if (!secret) {
  secret = `whsec_${crypto.randomBytes(24).toString('hex')}`;
  fs.writeFileSync(path.join(dir, 'demo-secret'), secret, { mode: 0o600 });
}

// What Panora stores for a new connection, serialised as Panora does.
const now = new Date();
const row = {
  id_connection: crypto.randomUUID(),
  status: 'valid',
  provider_slug: 'hubspot',
  vertical: 'crm',
  account_url: 'https://app.hubspot.com/contacts/4242',
  token_type: 'oauth2',
  access_token: crypto.randomBytes(48).toString('base64'),
  refresh_token: crypto.randomBytes(48).toString('base64'),
  expiration_timestamp: new Date(now.getTime() + 3600e3).toISOString(),
  created_at: now.toISOString(),
  connection_token: crypto.randomBytes(32).toString('hex'),
  id_project: crypto.randomUUID(),
  id_linked_user: crypto.randomUUID(),
};
const data = JSON.stringify(row);
const body = Buffer.from(JSON.stringify({ id_event: crypto.randomUUID(), data, type: 'connection.created' }));
const signature = crypto.createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex');
fs.writeFileSync(path.join(dir, 'delivery.json'), body);
fs.writeFileSync(path.join(dir, 'signature'), signature);

const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

async function invoke(sig, { host = false } = {}) {
  const env = wagiEnv({ method: host ? 'POST' : null, signature: sig, body });
  env.PANORA_WEBHOOK_SECRET = secret;
  if (have('wasmtime')) {
    const args = ['run'];
    for (const k of Object.keys(env)) args.push('--env', k);   // values from our env
    args.push(wasm);
    const r = spawnSync('wasmtime', args, { input: body, env: { ...process.env, ...env } });
    return { host: 'wasmtime run', ...parseCgi(r.stdout), stderr: r.stderr.toString() };
  }
  const r = await runWagi(await loadModule(wasm), { env, body });
  return { host: "Node's WASI", ...r };
}

const show = (title, r) => {
  console.log(`\n${title}  [${r.host}]`);
  console.log(`  HTTP ${r.status} ${r.headers.status ? r.headers.status.slice(4) : ''}`);
  const text = r.body.toString('utf8');
  const json = r.headers['content-type'] === 'application/json';
  console.log((json ? JSON.stringify(JSON.parse(text), null, 2) : text.trimEnd()).replace(/^/gm, '  '));
  console.log(`  log: ${r.stderr.trim()}`);
};

console.log(`A signed connection.created delivery (${body.length} bytes) is in ${dir}/delivery.json`);
show('Genuine delivery, run as a command -> the token record, for the caller to keep:', await invoke(signature));
const forged = (signature[0] === '0' ? '1' : '0') + signature.slice(1);
show('Same body, forged signature -> refused:', await invoke(forged));
show('Genuine delivery under a WAGI host -> refused, nothing there would keep it:', await invoke(signature, { host: true }));

console.log(`
The same call with wasmtime (https://wasmtime.dev); the secret comes from
your shell, not from the command line:
  export PANORA_WEBHOOK_SECRET="$(cat ${dir}/demo-secret)"
  wasmtime run --env PANORA_WEBHOOK_SECRET \\
    --env HTTP_PANORA_SIGNATURE="$(cat ${dir}/signature)" \\
    --env HTTP_CONTENT_TYPE=application/json \\
    ${wasm} < ${dir}/delivery.json`);
