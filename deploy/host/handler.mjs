// handler.mjs -- the panora:webhook handler component, as transpiled by jco
// (build/host/catcher.js, `make host`), and its answers as HTTP.
import path from 'node:path';
import fs from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const TRANSPILED = path.resolve(here, '../../build/host/catcher.js');

// The token record's fields, in their one order: [{ name, kind }], kind
// "meta", "required", "text" or "option", as lib/panora_webhook.h lists
// them (PW_RECORD_FIELDS; `make build/fields.json`).
export const FIELDS = JSON.parse(readFileSync(path.resolve(here, '../../build/fields.json'), 'utf8'));

// Instantiate the component; the core module is compiled once per file.
// `onCore` receives each core instance (the tests use it to watch linear
// memory).
const compiled = new Map();
async function instantiateCatcher({ file = TRANSPILED, onCore } = {}) {
  const { instantiate } = await import(pathToFileURL(file).href);
  const dir = path.dirname(file);
  const getCoreModule = async (name) => {
    const p = path.join(dir, name);
    if (!compiled.has(p)) compiled.set(p, WebAssembly.compile(await fs.readFile(p)));
    return compiled.get(p);
  };
  const instantiateCore = async (module, imports) => {
    const instance = await WebAssembly.instantiate(module, imports);
    onCore?.(instance);
    return instance;
  };
  return instantiate(getCoreModule, {}, instantiateCore);
}

// The failure of a result<_, E> export: jco throws it with the payload.
const failureOf = (e) => {
  if (e?.payload !== undefined) return e.payload;
  throw e;
};

// The panora:webhook/handler export: handle(req, secrets) gives { outcome }
// or { failure }; receipt(outcome, kept) the line a 2xx answers with,
// written by the component's C (lib/pw_output.c), never by the host.
export async function loadHandler(opts) {
  const exports = await instantiateCatcher(opts);
  const handler = exports.handler ?? exports['panora:webhook/handler@0.1.0'];
  return {
    // result<outcome, failure>: jco returns the outcome and throws the failure
    handle(req, secrets) {
      try {
        return { outcome: handler.handle(req, secrets) };
      } catch (e) {
        if (e?.payload?.code) return { failure: e.payload };
        throw e;
      }
    },
    receipt: (outcome, kept) => handler.receipt(outcome, kept ?? ''),
  };
}

// A fresh instance's panora:webhook/catchup reader, for one GET
// /connections answer: begin() is called here; feed(chunk) gives
// { records, skipped } (records as the store takes them) or { error };
// finish() gives { listed, skipped } or { error }. Its own instance: a
// trap in a catch-up can never reach the webhook handler's.
export async function loadCatchup(opts) {
  const exports = await instantiateCatcher(opts);
  const cu = exports.catchup ?? exports['panora:webhook/catchup@0.1.0'];
  cu.begin();
  return {
    feed(chunk) {
      try {
        const { recovered, skipped } = cu.feed(chunk);
        return { records: recovered.map(recordOf), skipped };
      } catch (e) {
        return { error: failureOf(e) };
      }
    },
    finish() {
      try {
        const [listed, skipped] = cu.finish();
        return { listed: Number(listed), skipped: Number(skipped) };
      } catch (e) {
        return { error: failureOf(e) };
      }
    },
  };
}

// The same words the WAGI module uses (lib/pw_handle.c).
const IGNORED = 'verified; this event type carries no connection token';
const snake = (s) => s.replaceAll('-', '_');
const orNull = (v) => (v === undefined || v === '' ? null : v);

// A token-record as the store keeps it (Panora's field names; an empty or
// absent optional field as null).
const camel = (s) => s.replace(/_(.)/g, (_, c) => c.toUpperCase());
export const recordOf = (r) => Object.fromEntries(FIELDS.map(({ name, kind }) => [name,
  kind === 'meta' || kind === 'required' ? r[camel(name)] : orNull(r[camel(name)])]));

// { status, outcome, record?, type?, error?, message?, log } for one
// result of handle(). `record` is what the host must keep; it never goes
// back to the sender.
export function toHttp({ outcome, failure }) {
  if (failure) {
    const error = snake(failure.code);
    return {
      status: failure.httpStatus,
      outcome: 'rejected',
      error,
      message: failure.message,
      log: { outcome: 'rejected', http: failure.httpStatus, error },
    };
  }
  if (outcome.tag === 'ignored') {
    return {
      status: 200,
      outcome: 'ignored',
      type: outcome.val,
      message: IGNORED,
      log: { outcome: 'ignored', http: 200, type: outcome.val.slice(0, 128) },
    };
  }
  const r = outcome.val;
  const record = recordOf(r);
  return {
    status: 200,
    outcome: 'captured',
    record,
    log: {
      outcome: 'captured', http: 200, id_event: r.idEvent.slice(0, 128), type: 'connection.created',
      provider: record.provider_slug, vertical: record.vertical,
    },
  };
}

// The JSON body of a refusal, as the WebAssembly interfaces write it.
export const errorBody = (answer) => ({ outcome: 'rejected', error: answer.error, message: answer.message });
