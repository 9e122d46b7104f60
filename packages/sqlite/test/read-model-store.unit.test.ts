/** What the SQLite read-model store adds to the contract: one writeOps call is all or nothing. */
import assert from 'node:assert/strict';
import { isCollabError } from '@collab/core';
import { createSqliteStorage, type SqliteStorage } from '../src/index.js';
import { op } from './support/ops.js';
import { useTempDir } from './support/temp-dir.js';

describe('SQLite read-model store', function () {
  const temp = useTempDir('read-models');
  let storage: SqliteStorage;
  beforeEach(async () => {
    storage = await createSqliteStorage({ path: temp.path('rm') });
  });
  afterEach(() => storage.close());

  it('writes nothing of a call that fails part way (ops and head together)', async () => {
    await storage.readModels.writeOps([op('d', 1)]);
    // A value SQLite's STRICT table refuses (a fractional seq) makes the second insert fail inside the transaction.
    await assert.rejects(storage.readModels.writeOps([op('d', 2), op('d', 3, { seq: 1.5 })]));
    assert.equal((await storage.readModels.getHead('d'))?.version, 1);
    assert.deepEqual(
      (await storage.readModels.getOps('d', 0, 10)).map((o) => o.version),
      [1],
    );
  });

  it('refuses ops without a docId or a positive version, and calls after close', async () => {
    await assert.rejects(storage.readModels.writeOps([op('d', 0)]), (err) =>
      isCollabError(err, 'ERR_INVALID_ARGUMENT'),
    );
    await storage.readModels.close();
    await assert.rejects(storage.readModels.getHead('d'), (err) => isCollabError(err, 'ERR_CLOSED'));
  });
});
