/**
 * Opening the one database file every embedded adapter shares, with the settings that make "acknowledged means
 * durable" true.
 *
 * - journal_mode=WAL: readers never block the writer and the writer never blocks readers (consumers read the log
 *   while the command-service appends), and a commit is one sequential append to the -wal file. The mode is stored
 *   in the file, so every later connection (another process, the sqlite3 shell) uses it too.
 * - synchronous=FULL: SQLite fsyncs the WAL at every COMMIT, before the commit returns — so before append()
 *   resolves and the client gets its ack. With NORMAL, WAL mode fsyncs only at checkpoints: a commit is then safe
 *   from a crash of this process (the bytes are in the OS page cache) but NOT from a power cut or a kernel crash,
 *   which roll the database back to the last synced point and silently drop ops whose clients were told they were
 *   committed — breaking invariant 2 (no acknowledged op is ever lost). The cost is one fsync per transaction:
 *   tens to hundreds of microseconds on an SSD with power-loss protection, milliseconds on a laptop SSD, far more
 *   on spinning or network disks. The command-service's group commit appends many ops per transaction, so the
 *   cost is paid per batch, not per op. The read models and snapshots share the connection and so the setting:
 *   they are derived data and would be safe with NORMAL, but their writes are batched per consumed batch too.
 * - fullfsync: on macOS fsync() does not flush the drive's cache; F_FULLFSYNC does. Ignored elsewhere.
 * - busy_timeout: another connection to the file (a second process, a second storage in tests) may hold the write
 *   lock; wait for it up to this long instead of failing at once with SQLITE_BUSY. Writes use BEGIN IMMEDIATE so
 *   the wait happens at the start of a transaction, never as a deadlock in the middle of one.
 * - foreign_keys=ON: SQLite ignores REFERENCES clauses unless told; the log's tables use them.
 * - journal_size_limit: after a checkpoint, truncate the -wal file to this size instead of leaving it at its
 *   high-water mark.
 */
import Database from 'better-sqlite3';
import { CollabError } from '@collab/core';
import { toCollabError } from './errors.js';

export type SqliteDatabase = Database.Database;

/**
 * A prepared statement. Going through this alias (rather than `db.prepare` inferred) keeps the statement types
 * nameable in declaration files: better-sqlite3's own Statement interface lives in a namespace it does not export.
 */
export interface Statement<P extends unknown[], R = unknown> {
  run(...params: P): Database.RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
  iterate(...params: P): IterableIterator<R>;
}

export const prepare = <P extends unknown[], R = unknown>(db: SqliteDatabase, source: string): Statement<P, R> =>
  db.prepare<P, R>(source);

export interface OpenedDatabase {
  db: SqliteDatabase;
  /** How errors and logs name it: "sqlite <path>". */
  endpoint: string;
  /** ':memory:' databases have no WAL (journal_mode stays "memory") and vanish on close. */
  inMemory: boolean;
}

export interface DatabaseSettings {
  busyTimeoutMs: number;
}

const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

export function openDatabase(path: string, settings: DatabaseSettings): OpenedDatabase {
  const inMemory = path === ':memory:';
  const endpoint = `sqlite ${path}`;
  let db: SqliteDatabase | undefined;
  try {
    db = new Database(path, { timeout: settings.busyTimeoutMs });
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (!inMemory && mode !== 'wal') {
      throw new CollabError('ERR_UNAVAILABLE', `${endpoint}: cannot switch to WAL mode (got ${String(mode)})`, {
        endpoint,
        retriable: false,
      });
    }
    db.pragma('synchronous = FULL');
    db.pragma('fullfsync = ON');
    db.pragma('foreign_keys = ON');
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    return { db, endpoint, inMemory };
  } catch (err) {
    db?.close();
    throw toCollabError(err, 'open the database', endpoint);
  }
}

/**
 * Close cleanly: copy the WAL back into the main file and truncate it (so the file can be copied or backed up
 * alone), then close. SQLite would also checkpoint on the last connection's close, but only if no other
 * connection has the file open, and it leaves that to chance; TRUNCATE makes it explicit and checkable.
 */
export function closeDatabase(opened: OpenedDatabase): void {
  const { db } = opened;
  if (!db.open) return;
  try {
    if (!opened.inMemory) db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}
