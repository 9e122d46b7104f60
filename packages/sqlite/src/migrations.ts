/**
 * Versioned schema migrations. `schema_migrations` records every applied step; opening a file applies the missing
 * ones in order, each in its own IMMEDIATE transaction that re-checks what is applied (two processes opening the
 * same new file at once apply each step exactly once). A file written by a newer version of this package (a step
 * we do not know) is refused rather than used with a schema we do not understand.
 *
 * Never edit a step that has shipped: add a new one.
 */
import { CollabError } from '@collab/core';
import type { SqliteDatabase } from './database.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * STRICT tables: SQLite otherwise stores whatever type it is given. WITHOUT ROWID for the small, key-addressed rows
 * (log records, read-model ops, heads, offsets), so the primary key is the table; snapshots keep a rowid because
 * their rows are large (WITHOUT ROWID suits rows well under a twentieth of a page).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'op log, read models, snapshots',
    sql: `
      CREATE TABLE log_config (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;

      -- One row per partition: the fencing epoch of its current writer and the offset its next record gets.
      CREATE TABLE log_partitions (
        partition_id INTEGER PRIMARY KEY,
        writer_epoch INTEGER NOT NULL DEFAULT 0,
        next_offset  INTEGER NOT NULL DEFAULT 0
      ) STRICT;

      CREATE TABLE log_records (
        partition_id  INTEGER NOT NULL REFERENCES log_partitions (partition_id),
        record_offset INTEGER NOT NULL,
        doc_id        TEXT NOT NULL,
        version       INTEGER NOT NULL,
        value         TEXT NOT NULL, -- JSON of OpCommitted
        headers       TEXT NOT NULL, -- JSON object of strings
        PRIMARY KEY (partition_id, record_offset)
      ) STRICT, WITHOUT ROWID;

      -- Committed consumer positions: next_offset is the next record to deliver (Kafka's convention).
      CREATE TABLE log_group_offsets (
        group_id     TEXT NOT NULL,
        partition_id INTEGER NOT NULL REFERENCES log_partitions (partition_id),
        next_offset  INTEGER NOT NULL,
        committed_at INTEGER NOT NULL,
        PRIMARY KEY (group_id, partition_id)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE rm_ops (
        doc_id       TEXT NOT NULL,
        version      INTEGER NOT NULL,
        op           TEXT NOT NULL, -- JSON of the TextOp
        base_version INTEGER NOT NULL,
        client_id    TEXT NOT NULL,
        seq          INTEGER NOT NULL,
        user_id      TEXT NOT NULL,
        ts           INTEGER NOT NULL,
        PRIMARY KEY (doc_id, version)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX rm_ops_by_time ON rm_ops (doc_id, ts, version);
      CREATE INDEX rm_ops_by_user ON rm_ops (user_id, ts, doc_id, version);

      CREATE TABLE rm_heads (
        doc_id       TEXT PRIMARY KEY,
        version      INTEGER NOT NULL,
        length       INTEGER NOT NULL,
        last_user_id TEXT NOT NULL,
        updated_at   INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE snapshots (
        doc_id     TEXT NOT NULL,
        version    INTEGER NOT NULL,
        text       TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        size       INTEGER NOT NULL, -- UTF-8 bytes of text
        sha256     TEXT NOT NULL,    -- hex SHA-256 of the UTF-8 text, checked on every read
        PRIMARY KEY (doc_id, version)
      ) STRICT;
    `,
  },
  {
    version: 2,
    name: 'comment events read model',
    sql: `
      -- A document's comment events in log order (docs/comments.md "Loading"): the offset orders the events of one
      -- version and makes a redelivered record the same row (INSERT OR IGNORE).
      CREATE TABLE rm_comment_events (
        doc_id     TEXT NOT NULL,
        version    INTEGER NOT NULL,
        log_offset INTEGER NOT NULL,
        event      TEXT NOT NULL, -- JSON of CommentEvent
        PRIMARY KEY (doc_id, version, log_offset)
      ) STRICT, WITHOUT ROWID;

      -- The events already in the log (an earlier release kept comments on here but projected only ops): a load
      -- trusts every event below the projection's committed offset to be in this table. A comment event is the
      -- record whose JSON has a body.
      INSERT OR IGNORE INTO rm_comment_events (doc_id, version, log_offset, event)
        SELECT doc_id, version, record_offset, value FROM log_records WHERE json_extract(value, '$.body') IS NOT NULL;
    `,
  },
];

const appliedVersions = (db: SqliteDatabase): Set<number> =>
  new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));

/** Apply the missing migrations; returns the versions applied by this call. */
export function migrate(db: SqliteDatabase, migrations: readonly Migration[] = MIGRATIONS): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`);
  const known = new Set(migrations.map((m) => m.version));
  const unknown = [...appliedVersions(db)].filter((v) => !known.has(v));
  if (unknown.length > 0) {
    throw new CollabError(
      'ERR_INVALID_ARGUMENT',
      `the database has schema migrations ${unknown.join(', ')} that this version does not know: it was written by a newer version`,
      { retriable: false },
    );
  }
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    db.transaction(() => {
      if (appliedVersions(db).has(migration.version)) return;
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        Date.now(),
      );
      applied.push(migration.version);
    }).immediate();
  }
  return applied;
}

/** The highest applied migration, 0 for an empty file. */
export const schemaVersion = (db: SqliteDatabase): number => Math.max(0, ...appliedVersions(db));
