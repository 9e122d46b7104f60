/**
 * The storage as a whole: the settings every connection gets, versioned migrations, and a clean close that leaves
 * no WAL behind (durability test (c)).
 */
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { isCollabError } from '@collab/core';
import { createSqliteStorage, migrate, MIGRATIONS, schemaVersion } from '../src/index.js';
import { docIn, input, op } from './support/ops.js';
import { useTempDir } from './support/temp-dir.js';

const walSize = (path: string): number => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);

describe('SQLite storage', function () {
  const temp = useTempDir('storage');

  it('opens the file in WAL mode with synchronous=FULL, foreign keys on and a busy timeout', async () => {
    const storage = await createSqliteStorage({ path: temp.path('pragmas'), busyTimeoutMs: 1234 });
    try {
      const pragma = (name: string) => storage.database.pragma(name, { simple: true });
      assert.equal(pragma('journal_mode'), 'wal');
      assert.equal(pragma('synchronous'), 2, 'FULL (NORMAL is 1)');
      assert.equal(pragma('foreign_keys'), 1);
      assert.equal(pragma('busy_timeout'), 1234);
    } finally {
      await storage.close();
    }
  });

  it('records applied migrations, applies each once, and refuses a file from a newer version', async () => {
    const path = temp.path('migrations');
    await (await createSqliteStorage({ path })).close();
    await (await createSqliteStorage({ path })).close();
    const db = new Database(path);
    try {
      const rows = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
      assert.deepEqual(
        rows,
        MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
      );
      assert.equal(schemaVersion(db), MIGRATIONS.length);
      assert.deepEqual(migrate(db), [], 'nothing left to apply');
      const next = { version: 99, name: 'from the future', sql: 'CREATE TABLE future (x INTEGER) STRICT' };
      assert.deepEqual(migrate(db, [...MIGRATIONS, next]), [99]);
    } finally {
      db.close();
    }
    await assert.rejects(createSqliteStorage({ path }), (err) => isCollabError(err, 'ERR_INVALID_ARGUMENT'));
  });

  it('migration 2 puts the comment events already in the log into the comment-events read model', async () => {
    const path = temp.path('backfill');
    const db = new Database(path);
    const event = { docId: 'd', version: 1, userId: 'u', timestamp: 5, body: { kind: 'resolved', threadId: 't' } };
    try {
      migrate(db, MIGRATIONS.slice(0, 1));
      db.exec('INSERT INTO log_partitions (partition_id) VALUES (0)');
      const insert = db.prepare(
        "INSERT INTO log_records (partition_id, record_offset, doc_id, version, value, headers) VALUES (0, ?, 'd', 1, ?, '{}')",
      );
      insert.run(0, JSON.stringify({ ...op('d', 1) }));
      insert.run(1, JSON.stringify(event));
      assert.deepEqual(migrate(db), [2]);
    } finally {
      db.close();
    }
    const storage = await createSqliteStorage({ path, partitionCount: 1 });
    try {
      assert.deepEqual(await storage.readModels.getCommentEvents('d'), [{ offset: 1n, event }]);
    } finally {
      await storage.close();
    }
  });

  it('checkpoints and truncates the WAL on a clean close, keeping everything written', async () => {
    const path = temp.path('wal');
    const storage = await createSqliteStorage({ path });
    const doc = docIn(storage.opLog, 0);
    const writer = await storage.opLog.openWriter(0);
    for (let v = 1; v <= 50; v++) await writer.append([input(doc, v)]);
    await storage.readModels.writeOps([op(doc, 1)]);
    await storage.snapshots.put({ docId: doc, version: 1, text: 'x', createdAt: 1 });
    assert.ok(walSize(path) > 0, 'the writes are in the WAL before the close');
    // Another connection stays open (a backup tool, the sqlite3 shell): SQLite's own checkpoint-on-last-close does
    // not happen then, so an empty WAL afterwards is the storage's explicit checkpoint at work.
    const bystander = new Database(path);
    bystander.prepare('SELECT count(*) FROM log_records').get(); // a read attaches it to the WAL
    try {
      await storage.close();
      assert.equal(walSize(path), 0, 'no WAL content left after close');
    } finally {
      bystander.close();
    }

    // Open read-only without WAL recovery help: everything is in the main file.
    const db = new Database(path, { readonly: true });
    try {
      assert.equal((db.prepare('SELECT count(*) AS n FROM log_records').get() as { n: number }).n, 50);
      assert.equal((db.prepare('SELECT count(*) AS n FROM rm_ops').get() as { n: number }).n, 1);
      assert.equal((db.prepare('SELECT count(*) AS n FROM snapshots').get() as { n: number }).n, 1);
    } finally {
      db.close();
    }
  });

  it('closes the file once its three database adapters are closed, one by one', async () => {
    const storage = await createSqliteStorage({ path: temp.path('refcount') });
    await storage.opLog.close();
    await storage.readModels.close();
    assert.equal(storage.database.open, true, 'the snapshot store still uses it');
    await storage.snapshots.close();
    assert.equal(storage.database.open, false);
    await storage.close(); // still fine
  });

  it('refuses bad options with ERR_INVALID_ARGUMENT', async () => {
    for (const options of [
      { path: '' },
      { path: ':memory:', partitionCount: 0 },
      { path: ':memory:', batchSize: 1.5 },
    ]) {
      await assert.rejects(createSqliteStorage(options), (err) => isCollabError(err, 'ERR_INVALID_ARGUMENT'));
    }
  });
});
