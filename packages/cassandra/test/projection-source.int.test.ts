/** The keyspace's projection source (migration 0004) against Cassandra: claimed once, never taken over. */
import assert from 'node:assert/strict';

import type { Client } from 'cassandra-driver';

import { isCollabError } from '@collab/core';

import type { CassandraReadModelStore } from '../src/index.js';
import { createCassandraReadModelStore, migrate } from '../src/index.js';
import { connectTestCassandra, dropKeyspace, freshKeyspaceName, TEST_REPLICATION } from './stack.js';

describe('Cassandra read-model store: projection source (migration 0004)', function () {
  const keyspace = freshKeyspaceName('src_test');
  let admin: Client;
  let a: CassandraReadModelStore;
  let b: CassandraReadModelStore;

  before(async function () {
    admin = (await connectTestCassandra()).client;
    await migrate(admin, { keyspace, replication: TEST_REPLICATION });
    [a, b] = await Promise.all([
      createCassandraReadModelStore({ client: admin, keyspace }),
      createCassandraReadModelStore({ client: admin, keyspace }),
    ]);
  });
  after(async function () {
    await Promise.all([a?.close(), b?.close()]);
    if (admin !== undefined) {
      await dropKeyspace(admin, keyspace);
      await admin.shutdown();
    }
  });

  it('is unclaimed at first, then held by the first group to claim it, again and again', async function () {
    assert.equal(await a.projectionSource('ops'), undefined);
    await a.claimProjectionSource('ops', 'group-a');
    await b.claimProjectionSource('ops', 'group-a'); // a restart, or a second instance of the same group
    assert.equal(await b.projectionSource('ops'), 'group-a');
  });

  it('refuses another group with ERR_CONFLICT naming both, and keeps the claim', async function () {
    await assert.rejects(
      b.claimProjectionSource('ops', 'group-b'),
      (err) =>
        isCollabError(err, 'ERR_CONFLICT') &&
        err.message.includes('group-a') &&
        err.message.includes('group-b') &&
        err.message.includes(keyspace),
    );
    assert.equal(await a.projectionSource('ops'), 'group-a');
  });

  it('of two groups racing for an unclaimed topic, exactly one wins', async function () {
    const results = await Promise.allSettled([
      a.claimProjectionSource('other-topic', 'group-x'),
      b.claimProjectionSource('other-topic', 'group-y'),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const holder = await a.projectionSource('other-topic');
    assert.ok(holder === 'group-x' || holder === 'group-y');
    assert.equal(results[holder === 'group-x' ? 0 : 1]?.status, 'fulfilled');
  });
});
