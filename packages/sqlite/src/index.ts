export { createSqliteStorage, type SqliteStorage, type SqliteStorageOptions } from './storage.js';
export { createSqliteOpLog, type SqliteOpLog, type SqliteOpLogOptions } from './op-log/op-log.js';
export { createPartitionFor, murmur2 } from './op-log/partitioner.js';
export { createSqliteReadModelStore, type SqliteReadModelStoreOptions } from './read-model/store.js';
export { createSqliteSnapshotStore, type SqliteSnapshotStoreOptions } from './snapshot-store.js';
export { InProcessPresenceBus, type InProcessPresenceBusOptions } from './presence/bus.js';
export { InProcessPresenceHub, type PresenceHubOptions } from './presence/hub.js';
export { openDatabase, closeDatabase, type OpenedDatabase, type SqliteDatabase } from './database.js';
export { migrate, schemaVersion, MIGRATIONS, type Migration } from './migrations.js';
