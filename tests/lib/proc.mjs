// proc.mjs -- child processes that a test file can never leave behind.
//
// Every child runs in its own process group and is remembered here. Whether
// a test passes, fails or times out, the group is killed: by the caller's
// stop(), and in any case when the test process exits.
import { spawn } from 'node:child_process';

const live = new Set();

function killGroup(child, signal) {
  try { process.kill(-child.pid, signal); } catch { /* already gone */ }
}

process.on('exit', () => { for (const c of live) killGroup(c, 'SIGKILL'); });

// spawn() in a new process group, tracked until it exits.
export function spawnTracked(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { ...opts, detached: true });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

// Wait for `child` to exit; after `ms` kill its group and reject.
export function waitExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(child.exitCode ?? child.signalCode);
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup(child, 'SIGKILL');
      reject(new Error(`process ${child.pid} did not exit within ${ms} ms`));
    }, ms);
    child.once('exit', (code, signal) => { clearTimeout(timer); resolve(code ?? signal); });
  });
}

// Kill the child's whole group (SIGTERM, then SIGKILL after `graceMs`).
export async function stop(child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  killGroup(child, 'SIGTERM');
  try { await waitExit(child, graceMs); } catch { /* killed */ }
}

// Resolve with what `fn` resolves, or reject after `ms` with `what`.
export function within(ms, what, promise) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}
