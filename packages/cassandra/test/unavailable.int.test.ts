/**
 * An unreachable contact point (a closed local port, not the dev stack) must fail fast with ERR_UNAVAILABLE
 * naming the endpoint, never hang. Nothing listens on 127.0.0.1:1, so the connect is refused at once.
 */
import assert from 'node:assert/strict';

import { isCollabError } from '@collab/core';

import { createCassandraReadModelStore } from '../src/index.js';

describe('Cassandra read-model store: unreachable cluster', function () {
  it('rejects with a retriable ERR_UNAVAILABLE naming 127.0.0.1:1 within the connect timeout', async function () {
    const started = Date.now();
    await assert.rejects(
      createCassandraReadModelStore({
        contactPoints: ['127.0.0.1:1'],
        localDataCenter: 'datacenter1',
        keyspace: 'never_used',
        timeouts: { connectMs: 2000, readMs: 2000 },
      }),
      (err) =>
        isCollabError(err, 'ERR_UNAVAILABLE') &&
        err.retriable &&
        err.endpoint !== undefined &&
        err.endpoint.includes('127.0.0.1:1') &&
        err.message.includes('127.0.0.1:1'),
    );
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });
});
