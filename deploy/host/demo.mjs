// demo.mjs -- `make run`: a demo secret and a freshly signed sample
// connection.created delivery, made the way Panora makes them (Node's
// crypto over JSON.stringify(data)), and the commands to try them. Unless
// PANORA_API_KEY is set, it also starts the stand-in for Panora's API
// (tests/lib/panora-api.mjs) on loopback, holding one connection whose
// only delivery was missed, for the host's catch-up to fetch back.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deliverOnce, panoraRow, startPanoraApi } from '../../tests/lib/panora-api.mjs';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../build/run');
let sample;
let missed;

// Environment additions for the demo server.
export function prepareDemo(env) {
  fs.mkdirSync(dir, { recursive: true });
  let secret = env.PANORA_WEBHOOK_SECRET;
  if (!secret) {
    secret = `whsec_${crypto.randomBytes(24).toString('hex')}`;
    fs.writeFileSync(path.join(dir, 'demo-secret'), secret, { mode: 0o600 });
  }
  const now = new Date();
  const row = {
    id_connection: crypto.randomUUID(), status: 'valid', provider_slug: 'hubspot', vertical: 'crm',
    account_url: 'https://app.hubspot.com/contacts/4242', token_type: 'oauth2',
    access_token: crypto.randomBytes(48).toString('base64'), refresh_token: crypto.randomBytes(48).toString('base64'),
    expiration_timestamp: new Date(now.getTime() + 3600e3).toISOString(), created_at: now.toISOString(),
    connection_token: crypto.randomBytes(32).toString('hex'), id_project: crypto.randomUUID(),
    id_linked_user: crypto.randomUUID(),
  };
  const data = JSON.stringify(row);
  const body = JSON.stringify({ id_event: crypto.randomUUID(), data, type: 'connection.created' });
  const signature = crypto.createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex');
  fs.writeFileSync(path.join(dir, 'delivery.json'), body);
  sample = { signature, user: row.id_linked_user, file: path.relative(process.cwd(), path.join(dir, 'delivery.json')) };
  // the demo is local: it also serves GET /connections to loopback clients
  return { PANORA_WEBHOOK_SECRET: secret, PANORA_WEBHOOK_LISTING: env.PANORA_WEBHOOK_LISTING ?? '1' };
}

// The stand-in API, and the one delivery of its connection made while no
// receiver listened (Panora's queue sender makes no second attempt).
// Environment additions pointing the host's catch-up at it.
export async function startDemoApi(env) {
  if (env.PANORA_API_KEY) return {};
  const apiKey = crypto.randomBytes(24).toString('hex');
  const row = panoraRow(`demo-missed-${crypto.randomUUID()}`, { provider_slug: 'zendesk', vertical: 'ticketing' });
  const api = await startPanoraApi({ apiKey, rows: [row] });
  const gone = http.createServer();                   // a port where nobody listens
  await new Promise((resolve) => gone.listen(0, '127.0.0.1', resolve));
  const { port } = gone.address();
  await new Promise((resolve) => gone.close(resolve));
  const nobody = await deliverOnce(`http://127.0.0.1:${port}/panora_webhooks`, env.PANORA_WEBHOOK_SECRET, row);
  missed = { api, row, attempt: nobody.status === 0 ? `refused (${nobody.error})` : `answered ${nobody.status}` };
  return { PANORA_API_KEY: apiKey, PANORA_API_URL: api.url };
}

export function printDemo(base, listingToken) {
  console.log(`
A signed sample connection.created delivery is in ${sample.file}. Send it:

  curl -sS -X POST ${base}/panora_webhooks \\
    -H 'Content-Type: application/json' \\
    -H 'Panora-Signature: ${sample.signature}' \\
    --data-binary @${sample.file}

The answer is a receipt, "captured <id_connection> new"; the record itself
went to SQLite. Send it again: the receipt says "known" and no second row
appears.
See what was caught:

  curl -sS -H 'Authorization: Bearer ${listingToken ?? '(PANORA_WEBHOOK_LISTING is off)'}' '${base}/connections?id_linked_user=${sample.user}'
${missed ? `
Catch-up: a stand-in for Panora's API on ${missed.api.url} holds connection
${missed.row.id_connection}, whose one delivery went to a receiver that was not
there (${missed.attempt}); Panora makes no second attempt. The host
fetched it back at start-up: see the {"outcome":"recovered",...} and
{"outcome":"catch-up",...} lines above, and the row, "arrival": "catch-up":

  curl -sS -H 'Authorization: Bearer ${listingToken ?? '(PANORA_WEBHOOK_LISTING is off)'}' '${base}/connections?id_linked_user=${missed.row.id_linked_user}'
` : ''}
Stop with Ctrl-C.`);
}
