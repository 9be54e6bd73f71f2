// store.test.mjs -- the SQLite schema follows the record's field list
// (lib/panora_webhook.h, build/fields.json): a database made before a
// field existed gains its column when it is opened, and keeps its rows.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { FIELDS } from '../../deploy/host/handler.mjs';
import { openStore } from '../../deploy/host/store.mjs';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-store-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const record = Object.fromEntries(FIELDS.map(({ name }) => [name, `${name}-value`]));

test('every record field has its column, and a record comes back whole', () => {
  const store = openStore(path.join(dir, 'fresh.sqlite'));
  assert.equal(store.upsert(record), true);
  const [row] = store.byLinkedUser(record.id_linked_user);
  for (const { name, kind } of FIELDS) if (kind !== 'meta') assert.equal(row[name], record[name], name);
  store.close();
});

test('a database without the later fields\' columns gains them; its rows are kept', () => {
  const file = path.join(dir, 'old.sqlite');
  const old = new Database(file);
  // as if only the required fields had existed when it was made
  old.exec(`CREATE TABLE connections (id_connection TEXT PRIMARY KEY, connection_token TEXT NOT NULL,
    id_linked_user TEXT NOT NULL, first_id_event TEXT NOT NULL, last_id_event TEXT NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 1, first_received_at TEXT NOT NULL, last_received_at TEXT NOT NULL)`);
  old.prepare(`INSERT INTO connections (id_connection, connection_token, id_linked_user, first_id_event,
    last_id_event, first_received_at, last_received_at) VALUES ('c-old', 'ctok_old', 'u-old', 'e', 'e', 't', 't')`).run();
  old.close();
  const store = openStore(file);
  const [kept] = store.byLinkedUser('u-old');
  assert.equal(kept.connection_token, 'ctok_old');
  assert.equal(kept.arrival, 'webhook');
  for (const { name, kind } of FIELDS) if (kind === 'text' || kind === 'option') assert.equal(kept[name], null, name);
  assert.equal(store.upsert(record), true);
  assert.equal(store.byLinkedUser(record.id_linked_user)[0].status, record.status);
  store.close();
});
