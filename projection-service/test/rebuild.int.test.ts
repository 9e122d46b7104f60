/**
 * Invariant 6, "the op topic is the truth": drop the read-model keyspace and rebuild it from Kafka with the
 * rebuild CLI's function; the rebuilt rows must be identical to the live ones, table by table.
 */
import assert from 'node:assert/strict';
import type { OpLog, ReadModelStore } from '@collab/core';
import type { Client } from 'cassandra-driver';
import pino from 'pino';
import { rebuildKeyspace, type RebuildKeyspaceOptions } from '../src/rebuild.js';
import { startProjectionService } from '../src/service.js';
import { generateOps } from './support/ops.js';
import {
  appendOps,
  connectCassandra,
  deleteTopic,
  dropKeyspace,
  countStoredOps,
  dumpKeyspace,
  eventually,
  freshKeyspaceName,
  freshStore,
  freshTopic,
  openLog,
  suffix,
  TEST_REPLICATION,
  type TestTopic,
} from './support/stack.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

describe('rebuild from Kafka', function () {
  this.timeout(240_000);
  let client: Client;
  let contactPoints: string[];
  let localDataCenter: string;
  let topic: TestTopic;
  let log: OpLog;
  let store: ReadModelStore;
  const live = freshKeyspaceName('proj_live');
  const keyspaces = [live];
  const generated = generateOps({ documents: 60, ops: 8_000, seed: 41 });
  let liveRows: Record<string, string[]>;

  const options = (keyspace: string, extra: Partial<RebuildKeyspaceOptions> = {}): RebuildKeyspaceOptions => {
    keyspaces.push(keyspace);
    return {
      kafka: { brokers: topic.brokers, topic: topic.topic, partitions: topic.partitions },
      cassandra: { contactPoints, localDataCenter, keyspace, replication: TEST_REPLICATION },
      ...extra,
    };
  };

  before(async function () {
    ({ client, contactPoints, localDataCenter } = await connectCassandra());
    topic = await freshTopic(4);
    log = await openLog(topic);
    await appendOps(log, generated.ops, 400);
    // The live keyspace, projected by the service as in production.
    store = await freshStore(client, live);
    const service = await startProjectionService({
      log,
      store,
      groupId: `projection-${suffix()}`,
      logger,
      lagRefreshMs: 0,
    });
    try {
      await eventually(
        'the live keyspace projected',
        async () => {
          for (const [docId, head] of generated.heads) {
            if ((await store.getHead(docId))?.version !== head.version) return undefined;
          }
          return true;
        },
        { timeoutMs: 120_000, intervalMs: 500 },
      );
    } finally {
      await service.stop();
      await store.close();
    }
    liveRows = await dumpKeyspace(client, live);
    assert.equal(await countStoredOps(client, live), generated.ops.length);
  });

  after(async function () {
    for (const k of keyspaces) await dropKeyspace(client, k);
    await log?.close();
    if (topic !== undefined) await deleteTopic(topic);
    await client?.shutdown();
  });

  it('into a fresh keyspace: every table row-for-row identical to the live one, and the check finds no difference', async function () {
    const rebuilt = freshKeyspaceName('proj_rebuilt');
    const progress: bigint[] = [];
    const result = await rebuildKeyspace(
      options(rebuilt, { compareWith: live, readBatchSize: 1_000, onProgress: (p) => progress.push(p.done) }),
    );

    assert.equal(result.replay.ops, generated.ops.length);
    assert.equal(result.replay.documents, generated.heads.size);
    assert.deepEqual(result.consistency?.differences, []);
    assert.equal(result.consistency?.ops.rebuilt, generated.ops.length);
    assert.ok(progress.length > 1, 'progress was reported');
    assert.deepEqual(await dumpKeyspace(client, rebuilt), liveRows);
  });

  it('after dropping the live keyspace, rebuilds it under the same name with identical rows', async function () {
    await dropKeyspace(client, live);
    await rebuildKeyspace(options(live));
    assert.deepEqual(await dumpKeyspace(client, live), liveRows);
  });

  it('refuses to rebuild into a keyspace that exists', async function () {
    await assert.rejects(rebuildKeyspace(options(live)), /exists; a rebuild writes into a fresh keyspace/);
  });

  it('from later offsets: the check reports exactly the documents whose early ops were skipped', async function () {
    const partial = freshKeyspaceName('proj_partial');
    // Skip the first 100 offsets of partition 0 only.
    const from = [100n];
    const result = await rebuildKeyspace(options(partial, { compareWith: live, from }));
    const skipped = generated.ops.filter((o) => log.partitionFor(o.docId) === 0).slice(0, 50);
    assert.ok(result.replay.ops < generated.ops.length);
    const differing = new Set(result.consistency?.differences.map((d) => d.docId));
    for (const o of skipped) assert.ok(differing.has(o.docId), `${o.docId} differs`);
    for (const docId of differing) assert.equal(log.partitionFor(docId), 0);
  });
});
