// deliveries.mjs -- the signed deliveries that both benches send, made as
// Panora makes them: the body is the compact JSON.stringify of
// {id_event, data, type}, data a JSON string, and the signature the HMAC
// of data's JSON string literal (JSON.stringify(data)).
import crypto from 'node:crypto';

// { body: Buffer, signature: hex } for `row` as the data of a `type` event.
export function signedDelivery(secret, row, type) {
  const data = JSON.stringify(row);
  const body = Buffer.from(JSON.stringify({ id_event: crypto.randomUUID(), data, type }));
  return { body, signature: crypto.createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex') };
}

// A connection row of typical size (about 800 bytes as a body).
export const connectionRow = () => ({
  id_connection: crypto.randomUUID(), status: 'valid', provider_slug: 'hubspot', vertical: 'crm',
  account_url: 'https://app.hubspot.com/contacts/4242', token_type: 'oauth2',
  access_token: crypto.randomBytes(96).toString('base64'), refresh_token: crypto.randomBytes(96).toString('base64'),
  expiration_timestamp: '2026-12-01T10:00:00.000Z', created_at: '2026-11-27T10:00:00.000Z',
  connection_token: crypto.randomBytes(32).toString('hex'), id_project: crypto.randomUUID(),
  id_linked_user: crypto.randomUUID(),
});

// An account URL of at least `units` UTF-16 code units, dense in what the
// parser must walk: two- to four-byte UTF-8, quotes to escape.
export function denseUrl(units) {
  let url = 'https://exämple.com/conta€ts/';
  while (url.length < units) url += `é😀/"${crypto.randomBytes(6).toString('hex')}"/中文/`;
  return url;
}

// The same delivery with its signature's first hex digit changed.
export const forged = (d) => ({ ...d, signature: `${d.signature[0] === '0' ? '1' : '0'}${d.signature.slice(1)}` });
