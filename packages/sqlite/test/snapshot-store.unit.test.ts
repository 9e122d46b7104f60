/** What the SQLite snapshot store adds to the contract: a row damaged on disk is ERR_CORRUPT, never a wrong text. */
import assert from 'node:assert/strict';
import { isCollabError } from '@collab/core';
import { createSqliteStorage, type SqliteStorage } from '../src/index.js';
import { useTempDir } from './support/temp-dir.js';

describe('SQLite snapshot store', function () {
  const temp = useTempDir('snapshots');
  let storage: SqliteStorage;
  beforeEach(async () => {
    storage = await createSqliteStorage({ path: temp.path('snapshots') });
    for (const version of [1, 2]) {
      await storage.snapshots.put({ docId: 'd', version, text: `text ${version} ✓`, createdAt: version });
    }
  });
  afterEach(() => storage.close());

  const tamper = (sql: string) => storage.database.prepare(sql).run();
  const corrupt = (err: unknown) => isCollabError(err, 'ERR_CORRUPT');

  it('answers ERR_CORRUPT when the stored text no longer matches its checksum', async () => {
    tamper("UPDATE snapshots SET text = replace(text, '2', '3') WHERE version = 2"); // same size, other text
    await assert.rejects(storage.snapshots.get('d', 2), corrupt);
    await assert.rejects(storage.snapshots.latest('d'), corrupt);
    assert.equal((await storage.snapshots.latest('d', 1))?.text, 'text 1 ✓', 'the intact one still reads');
  });

  it('answers ERR_CORRUPT when the recorded size disagrees', async () => {
    tamper('UPDATE snapshots SET size = size + 1 WHERE version = 1');
    await assert.rejects(storage.snapshots.get('d', 1), corrupt);
  });

  it('fails with ERR_CLOSED after close', async () => {
    await storage.snapshots.close();
    await assert.rejects(storage.snapshots.get('d', 1), (err) => isCollabError(err, 'ERR_CLOSED'));
  });
});
