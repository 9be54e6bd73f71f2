// wagi.mjs -- run the WAGI module once, the way Spin's WAGI executor does,
// on Node's built-in WASI (preview1).
//
//   import { loadModule, runWagi } from './deploy/node/wagi.mjs';
//   const mod = await loadModule('build/panora-webhook.wasm');
//   const res = await runWagi(mod, { env: { REQUEST_METHOD: 'POST', ... }, body });
//   // res = { exitCode, status, headers, body, stderr }
//
// The request is CGI: meta-variables in the environment, the body on stdin.
// The response is CGI on stdout: header lines, a blank line, the body.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WASI } from 'node:wasi';

export async function loadModule(file) {
  return WebAssembly.compile(fs.readFileSync(file));
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'panora-webhook-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
let seq = 0;

// Parse a CGI response as a WAGI host does: headers up to the first blank
// line (CR ignored), a Status header sets the code, 200 otherwise.
export function parseCgi(out) {
  let i = 0;
  let last = -1;
  for (; i < out.length; i++) {
    if (out[i] === 0x0a && last === 0x0a) break;
    if (out[i] !== 0x0d) last = out[i];
  }
  const head = out.subarray(0, i).toString('utf8').replace(/\r/g, '');
  const headers = {};
  for (const line of head.split('\n')) {
    const c = line.indexOf(':');
    if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
  }
  const status = headers.status ? Number(headers.status.split(' ')[0]) : 200;
  return { status, headers, body: out.subarray(Math.min(i + 1, out.length)) };
}

export async function runWagi(module, { env = {}, body = Buffer.alloc(0), args = ['panora-webhook'] } = {}) {
  const n = seq++;
  const files = ['in', 'out', 'err'].map((k) => path.join(tmp, `${n}.${k}`));
  fs.writeFileSync(files[0], body);
  const fds = [fs.openSync(files[0], 'r'), fs.openSync(files[1], 'w+'), fs.openSync(files[2], 'w+')];
  try {
    const wasi = new WASI({
      version: 'preview1', args, env, stdin: fds[0], stdout: fds[1], stderr: fds[2], returnOnExit: true,
    });
    const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
    const exitCode = wasi.start(instance);
    const out = fs.readFileSync(files[1]);
    // strictly: a log line that is not valid UTF-8 is an error, not repaired
    const stderr = new TextDecoder('utf-8', { fatal: true }).decode(fs.readFileSync(files[2]));
    return { exitCode, stdout: out, stderr, ...parseCgi(out) };
  } finally {
    fds.forEach((fd) => fs.closeSync(fd));
    files.forEach((f) => fs.rmSync(f, { force: true }));
  }
}

// The CGI meta-variables a WAGI host sets for one HTTP request.
export function wagiEnv({ method = 'POST', signature, contentType = 'application/json', body, extra = {} }) {
  const env = { ...extra };
  if (method !== null) {
    env.REQUEST_METHOD = method;
    env.CONTENT_LENGTH = String(body ? body.length : 0);
  }
  if (signature !== null && signature !== undefined) env.HTTP_PANORA_SIGNATURE = signature;
  if (contentType !== null && contentType !== undefined) env.HTTP_CONTENT_TYPE = contentType;
  env.CONTENT_TYPE = '';   // what Spin sets
  return env;
}
