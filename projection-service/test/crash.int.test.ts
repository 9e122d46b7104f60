/**
 * Crash safety of the real process: the projection-service is spawned as a child process
 * (`node --conditions=@collab/source --import tsx projection-service/src/main.ts`), killed with SIGKILL while it projects a large backlog,
 * and restarted. The read models must then hold every op exactly once — no gap, no duplicate — with the right
 * heads. Then a SIGTERM must stop it cleanly with its last checkpoints committed.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createCassandraReadModelStore, DEFAULT_BUCKET_SIZE, TIME_INDEX_EVERY } from '@collab/adapter-cassandra';
import type { OpLog, ReadModelStore } from '@collab/core';
import { useStack } from '@collab/infra';
import type { Client } from 'cassandra-driver';
import { Kafka, logLevel } from 'kafkajs';
import { generateOps } from './support/ops.js';
import {
  appendOps,
  connectCassandra,
  countRows,
  countStoredOps,
  deleteTopic,
  dropKeyspace,
  eventually,
  freshKeyspaceName,
  freshTopic,
  openLog,
  suffix,
  type TestTopic,
} from './support/stack.js';

const TOTAL = 40_000;

describe('projection-service process: SIGKILL mid-backlog, restart', function () {
  // Two process starts and a 40,000-op backlog on a 2-core machine.
  this.timeout(300_000);
  let client: Client;
  let localDataCenter: string;
  let topic: TestTopic;
  let log: OpLog;
  const keyspace = freshKeyspaceName('proj_crash');
  const groupId = `projection-crash-${suffix()}`;
  const children = new Set<ChildProcess>();
  const outputs = new Map<ChildProcess, string[]>();
  /** stdout and stderr of the process started last (also of one that exited before it was ready). */
  let lastOutput: string[] = [];
  let store: ReadModelStore | undefined;
  const generated = generateOps({ documents: 150, ops: TOTAL, seed: 31 });

  before(async function () {
    ({ client, localDataCenter } = await connectCassandra());
    topic = await freshTopic(4);
    log = await openLog(topic);
    await appendOps(log, generated.ops, 500);
  });

  after(async function () {
    for (const child of children) child.kill('SIGKILL');
    await store?.close();
    await log?.close();
    await dropKeyspace(client, keyspace);
    if (topic !== undefined) await deleteTopic(topic);
    await client?.shutdown();
  });

  async function startProcess(group = groupId): Promise<ChildProcess> {
    const stack = await useStack();
    const child = spawn(
      process.execPath,
      ['--conditions=@collab/source', '--import', 'tsx', 'projection-service/src/main.ts'],
      {
        env: {
          PATH: process.env.PATH,
          KAFKA_BROKERS: stack.kafka.brokers.join(','),
          COLLAB_OPS_TOPIC: topic.topic,
          COLLAB_OPS_PARTITIONS: String(topic.partitions),
          COLLAB_PROJECTION_GROUP: group,
          CASSANDRA_CONTACT_POINTS: stack.cassandra.contactPoints.join(','),
          CASSANDRA_LOCAL_DC: localDataCenter,
          CASSANDRA_KEYSPACE: keyspace,
          CASSANDRA_REPLICATION_FACTOR: '1',
          COLLAB_MIGRATE: 'true',
          COLLAB_METRICS_PORT: '0',
          // Small writes so that a kill lands between the writes of one batch, not only between batches.
          COLLAB_PROJECTION_MAX_OPS_PER_WRITE: '100',
          LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stderr!.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      outputs.get(child)?.push(chunk.toString());
    });
    children.add(child);
    child.once('exit', () => children.delete(child));
    const lines = createInterface({ input: child.stdout! });
    const output: string[] = [];
    outputs.set(child, output);
    lastOutput = output;
    const ready = new Promise<void>((resolve, reject) => {
      lines.on('line', (line) => {
        output.push(line);
        if (output.length > 50) output.shift();
        if (line.includes('"ready":true')) resolve();
      });
      child.once('exit', (code, signal) => reject(new Error(`projection-service exited early: ${code ?? signal}`)));
    });
    await ready;
    return child;
  }

  it('after kill -9 and a restart, every op is there exactly once and every head is right', async function () {
    const first = await startProcess();
    // Kill it once some, but far from all, of the backlog is projected.
    const atKill = await eventually(
      'a partly projected backlog',
      async () => {
        const n = await countStoredOps(client, keyspace);
        return n > TOTAL * 0.1 ? n : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 50 },
    );
    first.kill('SIGKILL');
    const [, signal] = (await once(first, 'exit')) as [number | null, string | null];
    assert.equal(signal, 'SIGKILL');
    const afterKill = await countStoredOps(client, keyspace);
    assert.ok(afterKill < TOTAL, `killed mid-backlog (${atKill} → ${afterKill} of ${TOTAL} ops projected)`);

    const second = await startProcess();
    store = await createCassandraReadModelStore({ client, keyspace });
    await eventually(
      'every head projected after the restart',
      async () => {
        for (const [docId, head] of generated.heads) {
          if ((await store!.getHead(docId))?.version !== head.version) return undefined;
        }
        return true;
      },
      { timeoutMs: 180_000, intervalMs: 500 },
    );

    // Exactly once: each document's ops are versions 1..head, each equal to what was appended, and no table has
    // an extra entry (a duplicate with any differing cell would be a second row in the time or activity index).
    for (const [docId, head] of generated.heads) {
      assert.deepEqual(await store.getHead(docId), head);
      const ops = await store.getOps(docId, 1);
      assert.deepEqual(
        ops.map((o) => o.version),
        Array.from({ length: head.version }, (_, i) => i + 1),
      );
      assert.deepEqual(
        ops,
        generated.ops.filter((o) => o.docId === docId),
      );
    }
    assert.equal(await countStoredOps(client, keyspace), TOTAL);
    // The indexes (migration 0002): one time-index row per index point, one row per (user, document, bucket).
    const points = generated.ops.filter((o) => (o.version - 1) % TIME_INDEX_EVERY === 0).length;
    assert.equal(await countRows(client, keyspace, 'version_times'), points);
    const userDocBuckets = new Set(
      generated.ops.map((o) => JSON.stringify([o.userId, o.docId, Math.floor(o.version / DEFAULT_BUCKET_SIZE)])),
    );
    assert.equal(await countRows(client, keyspace, 'user_doc_buckets'), userDocBuckets.size);

    // A graceful stop commits the last checkpoints: the group's offsets reach the last record of each partition.
    second.kill('SIGTERM');
    const [code] = (await once(second, 'exit')) as [number | null, string | null];
    // The process's last log lines say why, should it not stop cleanly.
    assert.equal(code, 0, `unclean stop; its last output:\n${(outputs.get(second) ?? []).join('\n')}`);
    const ends = await log.endOffsets();
    const admin = new Kafka({ clientId: 'test-admin', brokers: topic.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic.topic] });
      for (const { partition, offset } of offsets?.partitions ?? []) {
        // The committed offset is the next record to read: the end, the last record being an op (appends are
        // single produces, with no commit marker after them).
        assert.equal(BigInt(offset), ends[partition] ?? 0n, `partition ${partition} committed`);
      }
    } finally {
      await admin.disconnect();
    }
  });

  it('refuses to start on a keyspace another consumer group projects, before projecting anything', async function () {
    const before = await countStoredOps(client, keyspace);
    const other = `projection-other-${suffix()}`;
    await assert.rejects(startProcess(other), /exited early: 1/);
    const said = lastOutput.join('\n');
    assert.ok(said.includes(`by consumer group ${groupId}, not ${other}`), said);
    assert.equal(await countStoredOps(client, keyspace), before);
  });
});
