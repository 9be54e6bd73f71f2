// catchup-100k.test.mjs -- the reference host reconciles a 100,000-row
// GET /connections answer (the stand-in of tests/lib/panora-api.mjs,
// streamed) in one run. Only the outcome is asserted; the run's time and
// the host's peak RSS growth (VmHWM, from before the first run that reads
// a list to after this one) are printed. The host's log goes to a file, so
// that this process reading it never slows the host down.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startPanoraApi } from '../lib/panora-api.mjs';
import { spawnTracked, stop, waitExit } from '../lib/proc.mjs';

const SECRET = 'whsec_catchup_test';
const API_KEY = 'pk_test_4f1c9a0e7b2d4c8e9a1b3c5d7e9f0a2b';

async function until(pred, ms, what) {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('catch-up: a 100,000-connection list', () => {
  test('reconciled in one run (time and the host\'s peak RSS growth printed)', async () => {
    const api = await startPanoraApi({ apiKey: API_KEY });
    api.mode = '500';                           // the first run fails at once: the baseline
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-catchup-100k-'));
    const db = path.join(dir, 'db.sqlite');
    const logFile = path.join(dir, 'host.log');
    const logFd = fs.openSync(logFile, 'w');
    const child = spawnTracked(process.execPath, ['deploy/host/server.mjs'], {
      env: { ...process.env, PANORA_WEBHOOK_SECRET: SECRET, PANORA_WEBHOOK_DB: db, PORT: '0',
        PANORA_API_KEY: API_KEY, PANORA_API_URL: api.url, PANORA_WEBHOOK_CATCHUP_INTERVAL_S: '2' },
      stdio: ['ignore', 'ignore', logFd],
    });
    fs.closeSync(logFd);
    const hwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) * 1024;
    let recovered = 0;
    let leaked = false;
    const runs = [];
    let rest = '';
    let at = 0;
    const readLog = () => {
      const fd = fs.openSync(logFile, 'r');
      const buf = Buffer.alloc(1 << 20);
      let n;
      while ((n = fs.readSync(fd, buf, 0, buf.length, at)) > 0) {
        at += n;
        const parts = (rest + buf.subarray(0, n).toString('utf8')).split('\n');
        rest = parts.pop();
        for (const l of parts) {
          if (l.includes('ctok_') || l.includes(API_KEY)) leaked = true;
          let j;
          try { j = JSON.parse(l); } catch { continue; }   // not a log line (a runtime warning)
          if (j.outcome === 'recovered') recovered++;
          else if (j.outcome === 'catch-up' || j.outcome === 'catch-up-failed') runs.push(j);
        }
      }
      fs.closeSync(fd);
      return true;
    };
    try {
      await until(() => readLog() && runs.length >= 1, 60000, 'the first run');
      const base = hwm();
      api.mode = 'ok';
      api.streamRows = 100000;
      await until(() => readLog() && runs.some((r) => r.outcome === 'catch-up'), 100000, 'the 100,000-row run')
        .catch((e) => { throw new Error(`${e.message}; runs: ${JSON.stringify(runs)}, ${recovered} recovered`); });
      const growth = hwm() - base;
      const run = runs.find((r) => r.outcome === 'catch-up');
      console.log(`# catch-up of 100,000 connections: ${run.ms} ms, host peak RSS growth ${(growth / 1048576).toFixed(1)} MiB`);
      assert.deepEqual(run, { outcome: 'catch-up', listed: 100000, recovered: 100000, skipped: 0, ms: run.ms });
      await until(() => readLog() && recovered === 100000, 10000, 'one line per recovered connection');
      child.kill('SIGTERM');
      assert.equal(await waitExit(child, 15000), 0);
    } finally {
      await stop(child);
      await api.close();
    }
    assert.ok(!leaked, 'no token or API key in the log');
    const check = new Database(db, { readonly: true });
    assert.equal(check.prepare("SELECT count(*) AS n FROM connections WHERE arrival = 'catch-up'").get().n, 100000);
    check.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
