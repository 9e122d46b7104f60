/**
 * The ReadModelStore contract against Cassandra, with a bucket size of 4 so the contract's 23-version documents
 * span six partitions per document.
 */
import assert from 'node:assert/strict';

import type { Client } from 'cassandra-driver';

import { isCollabError } from '@collab/core';

import { readModelStoreContract } from '@collab/contracts';

import { createCassandraReadModelStore, migrate } from '../src/index.js';
import { connectTestCassandra, dropKeyspace, freshKeyspaceName, TEST_REPLICATION } from './stack.js';

describe('Cassandra read-model store', function () {
  const keyspace = freshKeyspaceName('rms_test');
  let admin: Client | undefined;
  let endpoints: { contactPoints: string[]; localDataCenter: string };

  before(async function () {
    const test = await connectTestCassandra();
    admin = test.client;
    endpoints = test;
    await migrate(admin, { keyspace, replication: TEST_REPLICATION });
  });

  after(async function () {
    if (admin !== undefined) {
      await dropKeyspace(admin, keyspace);
      await admin.shutdown();
    }
  });

  readModelStoreContract('cassandra, bucket size 4', async () => {
    const store = await createCassandraReadModelStore({ client: admin!, keyspace, bucketSize: 4 });
    return { store, cleanup: () => store.close() };
  });

  it('with its own client: connects, reads its writes, and after close() answers ERR_CLOSED', async function () {
    const store = await createCassandraReadModelStore({ ...endpoints, keyspace, timeouts: { connectMs: 5000 } });
    const op = { docId: `doc-${Date.now()}`, version: 1, op: ['hi 👋'], baseVersion: 0 } as const;
    await store.writeOps([{ ...op, op: [...op.op], clientId: 'c', seq: 1, userId: 'u', timestamp: 1_700_000_000_000 }]);
    assert.equal((await store.getHead(op.docId))?.length, 4);
    await Promise.all([store.close(), store.close()]);
    await assert.rejects(store.getHead(op.docId), (err) => isCollabError(err, 'ERR_CLOSED'));
  });
});
