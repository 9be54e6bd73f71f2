// store.mjs -- captured token records in SQLite, idempotent on id_connection.
//
// id_connection is signed; id_event is not. So the first delivery of a
// connection makes the row, and every later one (Panora's retry, or anyone
// replaying the same signed data under a new id_event) only counts as a
// delivery: it never makes a second row and never changes the first.
// WAL mode with synchronous=FULL: each upsert is one transaction, and once
// it has returned (before the 2xx goes out) the row survives a crash of the
// process or of the machine (SQLite fsyncs the WAL at every commit).
// A write waits at most `busyTimeout` ms for a lock held elsewhere, then
// throws SQLITE_BUSY, which the host answers with 503.
//
// `arrival` says how a row came: `webhook`, or `catch-up` (Panora's GET
// /connections, deploy/host/catchup.mjs). A catch-up only ever inserts: a
// row that exists, whichever way it came, is left as it is; a webhook
// after a catch-up counts as a delivery of a known row (deliveries starts
// at 0 for a caught-up row, and its arrival stays `catch-up`). Catch-up
// rows are written in batches, one transaction (one fsync) per batch.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { FIELDS } from './handler.mjs';

// One column per record field (lib/panora_webhook.h), then the delivery
// bookkeeping. A database made before a field or `arrival` existed gains
// the column when it is opened; its rows hold null there (an empty string
// for a required field, and 'webhook' for arrival: every row made before it
// came by webhook).
const KEY = 'id_connection';
const COLUMNS = FIELDS.filter((f) => f.kind !== 'meta').map((f) => f.name);
const declared = ({ name, kind }) => (name === KEY ? 'TEXT PRIMARY KEY' : kind === 'required' ? 'TEXT NOT NULL' : 'TEXT');
const SCHEMA = `
CREATE TABLE IF NOT EXISTS connections (
${FIELDS.filter((f) => f.kind !== 'meta').map((f) => `  ${f.name.padEnd(20)} ${declared(f)},\n`).join('')}\
  first_id_event       TEXT NOT NULL,
  last_id_event        TEXT NOT NULL,
  deliveries           INTEGER NOT NULL DEFAULT 1,
  first_received_at    TEXT NOT NULL,
  last_received_at     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS connections_by_linked_user ON connections (id_linked_user);
`;
const ADDED = [
  ...FIELDS.filter((f) => f.kind !== 'meta' && f.name !== KEY)
    .map((f) => [f.name, f.kind === 'required' ? "TEXT NOT NULL DEFAULT ''" : 'TEXT']),
  ['arrival', "TEXT NOT NULL DEFAULT 'webhook'"],
];

export function openStore(file, { busyTimeout = 250 } = {}) {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file, { timeout: busyTimeout });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(SCHEMA);
  const have = new Set(db.pragma('table_info(connections)').map((c) => c.name));
  for (const [name, decl] of ADDED) if (!have.has(name)) db.exec(`ALTER TABLE connections ADD COLUMN ${name} ${decl}`);
  const insert = db.prepare(`
    INSERT INTO connections (${COLUMNS.join(', ')}, first_id_event, last_id_event, first_received_at, last_received_at)
    VALUES (${COLUMNS.map((c) => `@${c}`).join(', ')}, @id_event, @id_event, @now, @now)
    ON CONFLICT (id_connection) DO NOTHING`);
  const seenAgain = db.prepare(`
    UPDATE connections SET deliveries = deliveries + 1, last_id_event = @id_event, last_received_at = @now
    WHERE id_connection = @id_connection`);
  const caughtUp = db.prepare(`
    INSERT INTO connections (${COLUMNS.join(', ')}, first_id_event, last_id_event, deliveries, first_received_at, last_received_at, arrival)
    VALUES (${COLUMNS.map((c) => `@${c}`).join(', ')}, '', '', 0, @now, @now, 'catch-up')
    ON CONFLICT (id_connection) DO NOTHING`);
  const byUser = db.prepare(`
    SELECT ${COLUMNS.join(', ')}, first_id_event, last_id_event, deliveries, first_received_at, last_received_at, arrival
    FROM connections WHERE id_linked_user = ? ORDER BY first_received_at, id_connection`);

  // true if the record is new, false if id_connection was already known
  const upsert = db.transaction((record) => {
    const row = { ...record, now: new Date().toISOString() };
    if (insert.run(row).changes === 1) return true;
    seenAgain.run(row);
    return false;
  });

  // The records of one catch-up batch, in one transaction: those whose
  // id_connection was not yet known. The records are the caller's to give
  // up (they gain a `now`): a large list makes no copies.
  const insertCaughtUp = db.transaction((records) => {
    const now = new Date().toISOString();
    return records.filter((r) => {
      r.now = now;
      return caughtUp.run(r).changes === 1;
    });
  });

  return {
    upsert,
    insertCaughtUp,
    byLinkedUser: (id) => byUser.all(id),
    count: () => db.prepare('SELECT count(*) AS n FROM connections').get().n,
    close: () => { db.pragma('wal_checkpoint(TRUNCATE)'); db.close(); },
  };
}
