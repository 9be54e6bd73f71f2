// handler.mjs -- the panora:webhook handler component, as transpiled by jco
// (build/host/catcher.js, `make host`), and its answers as HTTP.
import path from 'node:path';
import fs from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const TRANSPILED = path.resolve(here, '../../build/host/catcher.js');

// Instantiate the component. `onCore` receives each core instance (the
// tests use it to watch linear memory).
export async function loadHandler({ file = TRANSPILED, onCore } = {}) {
  const { instantiate } = await import(pathToFileURL(file).href);
  const dir = path.dirname(file);
  const getCoreModule = async (name) => WebAssembly.compile(await fs.readFile(path.join(dir, name)));
  const instantiateCore = async (module, imports) => {
    const instance = await WebAssembly.instantiate(module, imports);
    onCore?.(instance);
    return instance;
  };
  const exports = await instantiate(getCoreModule, {}, instantiateCore);
  const handler = exports.handler ?? exports['panora:webhook/handler@0.1.0'];
  // result<outcome, failure>: jco returns the outcome and throws the failure
  return (req, secrets) => {
    try {
      return { outcome: handler.handle(req, secrets) };
    } catch (e) {
      if (e?.payload?.code) return { failure: e.payload };
      throw e;
    }
  };
}

// The same words the WAGI module uses (lib/pw_handle.c); the tests compare
// the two byte for byte.
const IGNORED = 'verified; this event type carries no connection token';
const snake = (s) => s.replaceAll('-', '_');
const orNull = (v) => (v === undefined || v === '' ? null : v);

// { status, body, log, record? } for one result of handle().
export function toHttp({ outcome, failure }) {
  if (failure) {
    const error = snake(failure.code);
    return {
      status: failure.httpStatus,
      body: { outcome: 'rejected', error, message: failure.message },
      log: { outcome: 'rejected', http: failure.httpStatus, error },
    };
  }
  if (outcome.tag === 'ignored') {
    return {
      status: 200,
      body: { outcome: 'ignored', type: outcome.val, message: IGNORED },
      log: { outcome: 'ignored', http: 200, type: outcome.val.slice(0, 128) },
    };
  }
  const r = outcome.val;
  const record = {
    id_event: r.idEvent,
    id_connection: r.idConnection,
    connection_token: r.connectionToken,
    id_linked_user: r.idLinkedUser,
    id_project: orNull(r.idProject),
    provider_slug: orNull(r.providerSlug),
    vertical: orNull(r.vertical),
    status: orNull(r.status),
    account_url: orNull(r.accountUrl),
    created_at: orNull(r.createdAt),
    expiration_timestamp: orNull(r.expirationTimestamp),
  };
  return {
    status: 200,
    record,
    body: { outcome: 'captured', ...record },
    log: {
      outcome: 'captured', http: 200, id_event: r.idEvent.slice(0, 128), type: 'connection.created',
      provider: record.provider_slug, vertical: record.vertical,
    },
  };
}
