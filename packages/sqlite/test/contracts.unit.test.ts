/**
 * Every port's contract suite against the embedded adapters, each database a fresh file in a temporary directory
 * (the embedded mode's real configuration: WAL, synchronous=FULL), plus the op log once more in memory.
 */
import { opLogContract, presenceBusContract, readModelStoreContract, snapshotStoreContract } from '@collab/contracts';
import {
  closeDatabase,
  createSqliteReadModelStore,
  createSqliteSnapshotStore,
  createSqliteStorage,
  InProcessPresenceBus,
  InProcessPresenceHub,
  migrate,
  openDatabase,
  type OpenedDatabase,
} from '../src/index.js';
import { useTempDir } from './support/temp-dir.js';

describe('@collab/adapter-sqlite contracts', function () {
  const temp = useTempDir('contracts');

  // A fresh storage per test: the suite needs an empty log each time. A short poll keeps no test waiting on it.
  opLogContract('SQLite file, 4 partitions', async () => {
    const storage = await createSqliteStorage({ path: temp.path('op-log'), partitionCount: 4, pollIntervalMs: 50 });
    return { log: storage.opLog, cleanup: () => storage.close() };
  });

  opLogContract('SQLite in memory, 2 partitions', async () => {
    const storage = await createSqliteStorage({ path: ':memory:', partitionCount: 2, pollIntervalMs: 50 });
    return { log: storage.opLog, cleanup: () => storage.close() };
  });

  describe('stores on one shared file', function () {
    // One database for these suites (they use random ids), with a new store object per test, as a service would
    // build its stores on the storage's connection.
    let shared: OpenedDatabase | undefined;
    before(() => {
      shared = openDatabase(temp.path('stores'), { busyTimeoutMs: 5_000 });
      migrate(shared.db);
    });
    after(() => {
      if (shared !== undefined) closeDatabase(shared);
    });
    const db = () => {
      if (shared === undefined) throw new Error('no database');
      return shared;
    };

    readModelStoreContract('SQLite', async () => {
      const store = createSqliteReadModelStore({ db: db().db, endpoint: db().endpoint });
      return { store, cleanup: () => store.close() };
    });

    snapshotStoreContract('SQLite', () => createSqliteSnapshotStore({ db: db().db, endpoint: db().endpoint }));
  });

  describe('stores of a storage', function () {
    // The same suites through createSqliteStorage, a storage per test (closing the store releases it).
    readModelStoreContract('SQLite storage', async () => {
      const storage = await createSqliteStorage({ path: temp.path('rm') });
      return { store: storage.readModels, cleanup: () => storage.close() };
    });
  });

  describe('presence', function () {
    // One hub per run: every bus the suite asks for stands for another instance on the same "Redis".
    const hub = new InProcessPresenceHub();
    presenceBusContract('in-process hub', () => new InProcessPresenceBus({ hub }));
  });
});
