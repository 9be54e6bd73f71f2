// catchup.mjs -- the reference host's catch-up: what Panora's one delivery
// did not bring, fetched back from its API into the same SQLite table.
//
// Panora makes one delivery attempt of connection.created for six of its
// seven verticals (../../../shared/PANORA_PROTOCOL.md): a token delivered
// while this host was down, restarting or failing is lost unless it is
// fetched back. GET /connections (header x-api-key) answers every
// connection of the project, unpaginated. With PANORA_API_KEY set, the host
// runs this right after start-up and then every interval:
//
//   PANORA_API_KEY                      Panora API key (a secret: it reads every
//                                       connection token of the project)
//   PANORA_API_URL                      default https://api.panora.dev; https, or
//                                       http only to a loopback address
//   PANORA_WEBHOOK_CATCHUP_INTERVAL_S   seconds between runs, 1 to 604800 (default 300)
//
// A run streams the answer, in chunks of at most 64 KiB, into a fresh
// instance of the component's panora:webhook/catchup reader (the same C
// Connection Object decoder as the webhook path) and inserts each record
// whose id_connection is not yet known, CHUNK_ROWS records per transaction,
// with arrival `catch-up`; a row already there, however it came, is never
// changed. Runs never overlap. A run ends when the answer does, or is
// aborted after STALL_MS without a byte or RUN_MAX_MS in all. A failure
// is one JSON line and the next interval tries again; it never touches
// webhook serving (its own component instance; nothing it does throws out
// of here). Records completed before a failure are kept: each is a whole,
// checked element.
//
// Log lines (never a token, a credential or the API key):
//   {"outcome":"recovered","id_connection":…,"provider":…,"vertical":…}   one per new row
//   {"outcome":"catch-up-skipped","reason":…,"count":n}                 one per reason
//   {"outcome":"catch-up","listed":N,"recovered":K,"skipped":S,"ms":T}   one per run
//   {"outcome":"catch-up-failed","error":…,"message":…,…,"ms":T}         a run that failed
import { loadCatchup } from './handler.mjs';

const DEFAULT_URL = 'https://api.panora.dev';
const CHUNK_MAX = 64 * 1024;          // the component's largest chunk
const CHUNK_ROWS = 500;               // records per transaction (few survive a GC)
const STALL_MS = 30000;
const RUN_MAX_MS = 30 * 60 * 1000;
const INTERVAL_MAX_S = 7 * 24 * 3600;

const isLoopbackHost = (h) => h === 'localhost' || h === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(h);

// The catch-up settings from the environment: null when PANORA_API_KEY is
// unset, else { apiKey, endpoint, intervalMs }. Throws an Error whose
// message names the setting for a value that cannot be used.
export function catchupConfig(env) {
  const apiKey = env.PANORA_API_KEY ?? '';
  if (apiKey === '') return null;
  const rawInterval = env.PANORA_WEBHOOK_CATCHUP_INTERVAL_S ?? '';
  const interval = rawInterval === '' ? 300 : Number(rawInterval);
  if (!/^\d+$/.test(rawInterval || '300') || interval < 1 || interval > INTERVAL_MAX_S) {
    throw new Error(`PANORA_WEBHOOK_CATCHUP_INTERVAL_S must be a whole number of seconds from 1 to ${INTERVAL_MAX_S} (got "${String(rawInterval).slice(0, 40)}")`);
  }
  let url;
  try {
    url = new URL(env.PANORA_API_URL || DEFAULT_URL);
  } catch {
    throw new Error('PANORA_API_URL is not a URL (for example https://api.panora.dev)');
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new Error('PANORA_API_URL must be a base URL without user info, query or fragment');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new Error(`PANORA_API_URL must be https://, or http:// to a loopback address for a self-hosted Panora (got ${url.protocol}//${url.host})`);
  }
  const base = url.href.endsWith('/') ? url.href : `${url.href}/`;
  return { apiKey, endpoint: new URL('connections', base).href, intervalMs: interval * 1000 };
}

// Why a run stopped, as its failure line says it.
class RunFailure extends Error {
  constructor(error, message, extra = {}) {
    super(message);
    this.fields = { error, message, ...extra };
  }
}

// What went wrong with fetch, in a word that never holds a header value.
const causeOf = (e) => String(e?.cause?.code ?? e?.cause?.message ?? e?.code ?? e?.name ?? 'error').slice(0, 100);

// Start the schedule: a run now, then one every cfg.intervalMs after the
// previous one started (or as soon as it ended, if it took longer).
// Returns { runOnce(), stop(), running }; runOnce() starts a run unless one
// is going, and resolves when that run has ended. `stallMs` and
// `runMaxMs` override the bounds (tests).
export function startCatchup(cfg, { store, log, stallMs = STALL_MS, runMaxMs = RUN_MAX_MS, load = loadCatchup }) {
  let current = null;
  let timer = null;
  let stopping = false;
  let abortRun = () => {};
  const say = (fields) => log(JSON.stringify(fields));

  async function run() {
    const t0 = performance.now();
    const ac = new AbortController();
    let why = null;                                   // what aborted the run
    const abort = (reason) => { why ??= reason; ac.abort(); };
    abortRun = () => abort('stopped');
    let stall;
    const kick = () => { clearTimeout(stall); stall = setTimeout(() => abort('stalled'), stallMs); };
    const whole = setTimeout(() => abort('too_long'), runMaxMs);
    const counts = { listed: 0, recovered: 0, skipped: 0 };
    const reasons = new Map();
    let pending = [];
    const flush = () => {
      const batch = pending;
      pending = [];
      if (batch.length === 0) return;
      let fresh;
      try {
        fresh = store.insertCaughtUp(batch);
      } catch (e) {
        throw new RunFailure('storage_failed', 'the recovered records could not be stored', { store: String(e?.code ?? 'error') });
      }
      counts.recovered += fresh.length;
      for (const r of fresh) {
        say({ outcome: 'recovered', id_connection: r.id_connection.slice(0, 128), provider: r.provider_slug?.slice(0, 128) ?? null, vertical: r.vertical?.slice(0, 128) ?? null });
      }
    };
    const take = (reader, chunk) => {
      for (let off = 0; off < chunk.length; off += CHUNK_MAX) {
        let got;
        try {
          got = reader.feed(chunk.subarray(off, off + CHUNK_MAX));
        } catch (e) {
          throw new RunFailure('internal_error', 'the catch-up reader failed', { what: causeOf(e) });
        }
        if (got.error !== undefined) throw new RunFailure('malformed_answer', `Panora's answer is not a list of connections: ${got.error}`);
        counts.listed += got.records.length + got.skipped.length;
        counts.skipped += got.skipped.length;
        for (const s of got.skipped) reasons.set(s, (reasons.get(s) ?? 0) + 1);
        pending.push(...got.records);
        if (pending.length >= CHUNK_ROWS) flush();
      }
    };
    const failed = (e) => {
      if (e instanceof RunFailure) return e;
      if (why === 'stalled') return new RunFailure('timeout', `Panora's API sent nothing for ${stallMs / 1000} s; the run was aborted`);
      if (why === 'too_long') return new RunFailure('timeout', `the run took longer than ${runMaxMs / 1000} s; it was aborted`);
      if (why === 'stopped') return new RunFailure('stopped', 'the host is stopping');
      return null;
    };

    try {
      kick();
      let res;
      try {
        res = await fetch(cfg.endpoint, {
          headers: { 'x-api-key': cfg.apiKey, accept: 'application/json' },
          redirect: 'error',                            // the key goes to this origin only
          signal: ac.signal,
        });
      } catch (e) {
        throw failed(e) ?? new RunFailure('network', "Panora's API could not be reached", { what: causeOf(e) });
      }
      if (!res.ok) {
        res.body?.cancel().catch(() => {});
        if (res.status === 401) throw new RunFailure('unauthorized', 'Panora refused the API key', { http: 401 });
        throw new RunFailure('api_error', `Panora's API answered ${res.status}`, { http: res.status });
      }
      const reader = await load();
      try {
        for await (const chunk of res.body ?? []) {     // no body: an empty answer
          // an abort that the body stream has not passed on yet still ends
          // the run here, at the next piece
          if (why !== null) throw new Error(why);
          kick();
          take(reader, chunk);
        }
      } catch (e) {
        throw failed(e) ?? new RunFailure('truncated', "the connection to Panora's API broke before the answer ended", { what: causeOf(e) });
      }
      const end = reader.finish();
      if (end.error !== undefined) throw new RunFailure('malformed_answer', `Panora's answer is not a list of connections: ${end.error}`);
      flush();
      for (const [reason, count] of reasons) say({ outcome: 'catch-up-skipped', reason, count });
      say({ outcome: 'catch-up', ...counts, ms: Math.round(performance.now() - t0) });
    } catch (e) {
      // records completed before the failure are whole: keep them
      let f = failed(e) ?? new RunFailure('internal_error', 'the catch-up run failed', { what: causeOf(e) });
      try { flush(); } catch (g) { f = g; }
      const kept = counts.recovered > 0 ? { recovered: counts.recovered } : {};
      say({ outcome: 'catch-up-failed', ...f.fields, ...kept, ms: Math.round(performance.now() - t0) });
    } finally {
      clearTimeout(stall);
      clearTimeout(whole);
    }
  }

  const runOnce = () => {
    current ??= run().finally(() => { current = null; });
    return current;
  };
  const cycle = async () => {
    const t0 = Date.now();
    await runOnce();
    schedule(Math.max(0, cfg.intervalMs - (Date.now() - t0)));
  };
  const schedule = (ms) => {
    if (stopping) return;
    timer = setTimeout(cycle, ms);
    timer.unref();
  };
  cycle();                     // the first run starts now: runOnce() joins it

  return {
    runOnce,
    get running() { return current !== null; },
    // No new run; the one going is aborted; resolves when it has ended.
    stop: async () => {
      stopping = true;
      clearTimeout(timer);
      if (current) {
        abortRun();
        await current;
      }
    },
  };
}
