// big-catchup.mjs -- the reference host, as its own process, reconciling a
// large GET /connections answer from the stand-in API (panora-api.mjs,
// `streamRows`) in one catch-up run; used by tests/host/catchup-100k.test.mjs
// and `make bench`.
//
//   const m = await hostCatchup({ rows: 100000, apiKey, secret });
//   m.run        the run's log line ({outcome, listed, recovered, skipped, ms})
//   m.growth     the host's peak RSS growth in bytes (VmHWM, from just
//                before the run that reads the list to just after it)
//   m.recovered  the "recovered" log lines; m.leaked: a log line held a
//                connection token or the API key; m.stored: catch-up rows
//                in SQLite; m.exit: the host's exit status after SIGTERM
//
// The host's first run meets a 500 and fails at once: the memory baseline
// is taken after it, with the host started and idle. Its log goes to a
// file, so that reading it never slows the host down.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startPanoraApi } from './panora-api.mjs';
import { spawnTracked, stop, waitExit } from './proc.mjs';

async function until(pred, ms, what) {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function hostCatchup({ rows, apiKey, secret, deadlineMs = 100000 }) {
  const api = await startPanoraApi({ apiKey });
  api.mode = '500';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-big-catchup-'));
  const db = path.join(dir, 'db.sqlite');
  const logFile = path.join(dir, 'host.log');
  const logFd = fs.openSync(logFile, 'w');
  const child = spawnTracked(process.execPath, ['deploy/host/server.mjs'], {
    env: { ...process.env, PANORA_WEBHOOK_SECRET: secret, PANORA_WEBHOOK_DB: db, PORT: '0',
      PANORA_API_KEY: apiKey, PANORA_API_URL: api.url, PANORA_WEBHOOK_CATCHUP_INTERVAL_S: '2' },
    stdio: ['ignore', 'ignore', logFd],
  });
  fs.closeSync(logFd);
  const hwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) * 1024;
  const m = { recovered: 0, leaked: false, runs: [] };
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
        if (l.includes('ctok_') || l.includes(apiKey)) m.leaked = true;
        let j;
        try { j = JSON.parse(l); } catch { continue; }   // not a log line (a runtime warning)
        if (j.outcome === 'recovered') m.recovered++;
        else if (j.outcome === 'catch-up' || j.outcome === 'catch-up-failed') m.runs.push(j);
      }
    }
    fs.closeSync(fd);
    return true;
  };
  try {
    await until(() => readLog() && m.runs.length >= 1, 60000, 'the first run');
    const base = hwm();
    api.mode = 'ok';
    api.streamRows = rows;
    await until(() => readLog() && m.runs.some((r) => r.outcome === 'catch-up'), deadlineMs, `the ${rows}-row run`)
      .catch((e) => { throw new Error(`${e.message}; runs: ${JSON.stringify(m.runs)}, ${m.recovered} recovered`); });
    m.growth = hwm() - base;
    m.run = m.runs.find((r) => r.outcome === 'catch-up');
    await until(() => readLog() && m.recovered >= m.run.recovered, 10000, 'one line per recovered connection');
    child.kill('SIGTERM');
    m.exit = await waitExit(child, 15000);
  } finally {
    await stop(child);
    await api.close();
  }
  const check = new Database(db, { readonly: true });
  m.stored = check.prepare("SELECT count(*) AS n FROM connections WHERE arrival = 'catch-up'").get().n;
  check.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return m;
}
