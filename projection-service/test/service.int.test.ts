/**
 * The projection-service in a consumer group on the real Kafka and Cassandra: ops appended through the Kafka
 * OpLog are projected by two instances sharing the partitions, and the read models answer correctly.
 */
import assert from 'node:assert/strict';
import type { OpLog, ReadModelStore } from '@collab/core';
import type { Client } from 'cassandra-driver';
import pino from 'pino';
import { startProjectionService, type ProjectionService } from '../src/service.js';
import { generateOps } from './support/ops.js';
import {
  appendOps,
  connectCassandra,
  deleteTopic,
  dropKeyspace,
  eventually,
  freshKeyspaceName,
  freshStore,
  freshTopic,
  openLog,
  suffix,
  type TestTopic,
} from './support/stack.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

describe('projection-service (Kafka → Cassandra)', function () {
  let client: Client;
  let topic: TestTopic;
  let keyspace: string;
  let store: ReadModelStore;
  const logs: OpLog[] = [];
  const services: ProjectionService[] = [];
  const generated = generateOps({ documents: 40, ops: 3_000, seed: 21 });

  before(async function () {
    ({ client } = await connectCassandra());
    topic = await freshTopic(6);
    keyspace = freshKeyspaceName();
    store = await freshStore(client, keyspace);
    const writerLog = await openLog(topic);
    logs.push(writerLog);
    await appendOps(writerLog, generated.ops, 250);
  });

  after(async function () {
    await Promise.all(services.map((s) => s.stop()));
    await Promise.all(logs.map((l) => l.close()));
    await store?.close();
    if (keyspace !== undefined) await dropKeyspace(client, keyspace);
    if (topic !== undefined) await deleteTopic(topic);
    await client?.shutdown();
  });

  it('two instances in one group split the partitions and project every op; the read models answer correctly', async function () {
    const groupId = `projection-${suffix()}`;
    for (let i = 0; i < 2; i++) {
      const log = await openLog(topic);
      logs.push(log);
      services.push(await startProjectionService({ log, store, groupId, logger, lagRefreshMs: 0 }));
    }

    await eventually(
      'every head projected',
      async () => {
        for (const [docId, head] of generated.heads) {
          if ((await store.getHead(docId))?.version !== head.version) return undefined;
        }
        return true;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );

    for (const [docId, head] of generated.heads) {
      const expected = generated.ops.filter((o) => o.docId === docId);
      assert.deepEqual(await store.getHead(docId), head, `head of ${docId}`);
      assert.deepEqual(await store.getOps(docId, 1), expected, `ops of ${docId}`);
      assert.deepEqual(await store.getOps(docId, 3, 6), expected.slice(2, 5), `ops [3, 6) of ${docId}`);
      const first = expected[0]!;
      assert.equal(await store.versionAt(docId, first.timestamp - 1), 0);
      for (const o of expected.filter((_, i) => i % 7 === 0)) {
        assert.equal(await store.versionAt(docId, o.timestamp), o.version, `versionAt of ${docId} v${o.version}`);
        assert.equal(await store.versionAt(docId, o.timestamp - 1), o.version - 1);
      }
      const page = await store.history(docId, { limit: 3 });
      assert.deepEqual(
        page.items.map((h) => h.version),
        [head.version, head.version - 1, head.version - 2].filter((v) => v > 0),
      );
    }

    // Each partition is owned by exactly one of the two instances, and once caught up the lag is 0.
    await Promise.all(services.map((s) => s.refreshLag()));
    const owned = services.map((s) => s.lag().map((l) => l.partition));
    assert.deepEqual([...owned.flat()].sort(), [0, 1, 2, 3, 4, 5]);
    assert.ok(
      owned.every((o) => o.length > 0),
      `both instances own partitions: ${JSON.stringify(owned)}`,
    );
    for (const lag of services.flatMap((s) => s.lag())) {
      if (lag.position === undefined) continue; // a partition that got no records of this run
      assert.equal(lag.lagOps, 0, `partition ${lag.partition} caught up`);
      assert.equal(lag.oldestUnprojectedAgeSeconds, 0);
      assert.ok((lag.lastProjectedAgeSeconds ?? -1) > 0);
    }
  });
});
