/**
 * createSqliteStorage: the embedded mode's composition of adapters on ONE database file — the op log, the read
 * models and the snapshots share a connection (one WAL, one fsync policy, one file to back up) — plus an
 * in-process presence bus.
 *
 * The connection closes when storage.close() is called or when the three database adapters have all been closed
 * (so a composition root may close adapters one by one, as it would close Kafka, Cassandra and S3 clients). A
 * clean close checkpoints the WAL into the main file and truncates it.
 */
import { CollabError, type PresenceBus, type ReadModelStore, type SnapshotStore } from '@collab/core';
import { closeDatabase, openDatabase, type OpenedDatabase, type SqliteDatabase } from './database.js';
import { guard } from './errors.js';
import { silentLogger, type Logger } from '@collab/core';
import { migrate } from './migrations.js';
import { createSqliteOpLog, type SqliteOpLog } from './op-log/op-log.js';
import { InProcessPresenceBus } from './presence/bus.js';
import { InProcessPresenceHub } from './presence/hub.js';
import { createSqliteReadModelStore } from './read-model/store.js';
import { createSqliteSnapshotStore } from './snapshot-store.js';

export interface SqliteStorageOptions {
  /** The database file (created if missing, with its directory's -wal and -shm beside it), or ':memory:'. */
  path: string;
  /** Partitions of the op log; fixed when the file is created, refused if different later. Default 8. */
  partitionCount?: number;
  /** How long a write waits for another connection's lock before failing with ERR_TIMEOUT. Default 5000. */
  busyTimeoutMs?: number;
  /** Consumers look at the file at least this often, for appends made by other processes. Default 250. */
  pollIntervalMs?: number;
  /** Records per consumer batch (and per read() batch by default). Default 500. */
  batchSize?: number;
  /** The presence hub to join (to share presence with other storages in the process). Default: a new one. */
  presenceHub?: InProcessPresenceHub;
  /** The presence clock, when no hub is given. Default Date.now. */
  now?: () => number;
  logger?: Logger;
}

export interface SqliteStorage {
  readonly path: string;
  readonly opLog: SqliteOpLog;
  readonly readModels: ReadModelStore;
  readonly snapshots: SnapshotStore;
  readonly presence: PresenceBus;
  /** Shared by `presence` and every bus made with `new InProcessPresenceBus({ hub })`. */
  readonly presenceHub: InProcessPresenceHub;
  /** The connection, for diagnostics and tests; the adapters own what is in it. */
  readonly database: SqliteDatabase;
  /** Stop consumers (committing their checkpoints), close every adapter, checkpoint the WAL, close the file. */
  close(): Promise<void>;
}

const DEFAULTS = { partitionCount: 8, busyTimeoutMs: 5_000, pollIntervalMs: 250, batchSize: 500 };

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new CollabError('ERR_INVALID_ARGUMENT', `${name} must be a positive integer, got ${value}`);
  }
  return value;
}

export async function createSqliteStorage(options: SqliteStorageOptions): Promise<SqliteStorage> {
  if (typeof options.path !== 'string' || options.path === '') {
    throw new CollabError('ERR_INVALID_ARGUMENT', "path must be a file path or ':memory:'");
  }
  const settings = {
    partitionCount: positiveInteger('partitionCount', options.partitionCount ?? DEFAULTS.partitionCount),
    busyTimeoutMs: positiveInteger('busyTimeoutMs', options.busyTimeoutMs ?? DEFAULTS.busyTimeoutMs),
    pollIntervalMs: positiveInteger('pollIntervalMs', options.pollIntervalMs ?? DEFAULTS.pollIntervalMs),
    batchSize: positiveInteger('batchSize', options.batchSize ?? DEFAULTS.batchSize),
  };
  const logger = options.logger ?? silentLogger;
  const opened: OpenedDatabase = openDatabase(options.path, settings);
  const { db, endpoint } = opened;

  // The database adapters still open; the file closes after the last one.
  const open = new Set<string>(['opLog', 'readModels', 'snapshots']);
  const release = (name: string) => () => {
    open.delete(name);
    if (open.size === 0) {
      closeDatabase(opened);
      logger.debug({ endpoint }, 'sqlite storage: closed');
    }
  };

  let opLog: SqliteOpLog;
  let readModels: ReadModelStore;
  let snapshots: SnapshotStore;
  try {
    const applied = guard('migrate the schema', endpoint, () => migrate(db));
    if (applied.length > 0) logger.debug({ endpoint, applied }, 'sqlite storage: schema migrated');
    opLog = createSqliteOpLog({ db, endpoint, logger, ...settings, onClose: release('opLog') });
    readModels = createSqliteReadModelStore({ db, endpoint, onClose: release('readModels') });
    snapshots = createSqliteSnapshotStore({ db, endpoint, onClose: release('snapshots') });
  } catch (err) {
    db.close();
    throw err;
  }

  const presenceHub =
    options.presenceHub ?? new InProcessPresenceHub({ ...(options.now && { now: options.now }), logger });
  const presence = new InProcessPresenceBus({ hub: presenceHub });
  let closed: Promise<void> | undefined;

  return {
    path: options.path,
    opLog,
    readModels,
    snapshots,
    presence,
    presenceHub,
    database: db,
    close() {
      closed ??= (async () => {
        await presence.close();
        // The op log first: its consumers commit their last checkpoints while the file is open.
        await opLog.close();
        await Promise.all([readModels.close(), snapshots.close()]);
      })();
      return closed;
    },
  };
}
