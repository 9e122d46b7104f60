/**
 * Fresh, isolated resources on the shared integration stack for one test: an ops topic, a Cassandra keyspace
 * with the read-model tables, an S3 bucket. Each comes with its cleanup. Endpoints only from useStack().
 */
import { randomBytes } from 'node:crypto';
import { DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createCassandraReadModelStore, migrate } from '@collab/adapter-cassandra';
import { createKafkaOpLog, ensureOpsTopic } from '@collab/adapter-kafka';
import { createS3Client, createS3SnapshotStore, ensureBucket, type S3EndpointConfig } from '@collab/adapter-s3';
import type { OpCommitted, OpLog, ReadModelStore, SnapshotStore } from '@collab/core';
import { bestEffort, isOpCommitted } from '@collab/core';
import { useStack } from '@collab/infra';
import cassandra from 'cassandra-driver';
import { Kafka, logLevel } from 'kafkajs';

const suffix = () => randomBytes(5).toString('hex');

export interface TestTopic {
  topic: string;
  brokers: string[];
  partitions: number;
  /** A new OpLog client on the topic (each worker gets its own). */
  open(clientId: string): Promise<OpLog>;
  cleanup(): Promise<void>;
}

export async function freshTopic(partitions = 3): Promise<TestTopic> {
  const { kafka } = await useStack();
  const topic = `test.snapshots.${suffix()}`;
  const admin = new Kafka({
    clientId: 'snapshot-test-admin',
    brokers: kafka.brokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  await ensureOpsTopic(admin, { topic, partitions, replicationFactor: 1 });
  const opened: OpLog[] = [];
  return {
    topic,
    brokers: kafka.brokers,
    partitions,
    async open(clientId) {
      const log = await createKafkaOpLog({
        brokers: kafka.brokers,
        topic,
        partitionCount: partitions,
        clientId: `${clientId}-${suffix()}`,
        timeouts: { heartbeatMs: 500, sessionMs: 10_000 },
      });
      opened.push(log);
      return log;
    },
    async cleanup() {
      await Promise.allSettled(opened.map((l) => l.close()));
      await bestEffort(admin.deleteTopics({ topics: [topic] }));
      await admin.disconnect();
    },
  };
}

export interface TestKeyspace {
  readModels: ReadModelStore;
  cleanup(): Promise<void>;
}

export async function freshKeyspace(): Promise<TestKeyspace> {
  const { cassandra: endpoints } = await useStack();
  const client = new cassandra.Client({
    contactPoints: endpoints.contactPoints,
    localDataCenter: endpoints.localDataCenter,
    socketOptions: { connectTimeout: 10_000, readTimeout: 60_000 },
  });
  await client.connect();
  const keyspace = `snapshot_test_${suffix()}`;
  await migrate(client, { keyspace, replication: { class: 'SimpleStrategy', replicationFactor: 1 } });
  const readModels = await createCassandraReadModelStore({ client, keyspace });
  return {
    readModels,
    async cleanup() {
      await readModels.close();
      await bestEffort(client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`));
      await client.shutdown();
    },
  };
}

export interface TestBucket {
  config: S3EndpointConfig & { endpoint: string };
  bucket: string;
  /** A store on the bucket; `prefix` isolates stores that share it. */
  store(prefix?: string, overrides?: Partial<S3EndpointConfig>): SnapshotStore;
  cleanup(): Promise<void>;
}

export async function freshBucket(endpoint?: string): Promise<TestBucket> {
  const { s3 } = await useStack();
  const config = {
    endpoint: endpoint ?? s3.endpoint,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  };
  const client = createS3Client(config);
  const bucket = `collab-test-snap-${suffix()}`;
  await ensureBucket(client, bucket);
  const stores: SnapshotStore[] = [];
  return {
    config,
    bucket,
    store(prefix = '', overrides = {}) {
      const store = createS3SnapshotStore({ ...config, ...overrides, bucket, prefix });
      stores.push(store);
      return store;
    },
    async cleanup() {
      await Promise.allSettled(stores.map((s) => s.close()));
      await bestEffort(emptyAndDelete(client, bucket));
      client.destroy();
    },
  };
}

async function emptyAndDelete(client: S3Client, Bucket: string): Promise<void> {
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket, ContinuationToken: token }));
    await Promise.all((page.Contents ?? []).map(({ Key }) => client.send(new DeleteObjectCommand({ Bucket, Key }))));
    token = page.NextContinuationToken;
  } while (token !== undefined);
  await client.send(new DeleteBucketCommand({ Bucket }));
}

/** Append ops to the log the way the command-service does: per partition, through that partition's writer. */
export async function appendOps(log: OpLog, ops: readonly OpCommitted[], chunk = 250): Promise<void> {
  const byPartition = new Map<number, OpCommitted[]>();
  for (const op of ops) {
    const p = log.partitionFor(op.docId);
    byPartition.set(p, [...(byPartition.get(p) ?? []), op]);
  }
  await Promise.all(
    [...byPartition].map(async ([partition, list]) => {
      const writer = await log.openWriter(partition);
      try {
        for (let i = 0; i < list.length; i += chunk) {
          await writer.append(list.slice(i, i + chunk).map((value) => ({ value })));
        }
      } finally {
        await writer.close();
      }
    }),
  );
}

/** The truth: every document's text at every version, by replaying the whole topic from offset 0. */
export async function replayLog(log: OpLog): Promise<Map<string, string[]>> {
  const { type } = await import('@collab/ot-text');
  const docs = new Map<string, { doc: ReturnType<typeof type.create>; texts: string[] }>();
  for (let partition = 0; partition < log.partitionCount; partition++) {
    for await (const batch of log.read(partition, 0n)) {
      for (const { value } of batch) {
        if (!isOpCommitted(value)) continue;
        const entry = docs.get(value.docId) ?? { doc: type.create(''), texts: [''] };
        if (value.version !== entry.texts.length) throw new Error(`log gap in ${value.docId} at ${value.version}`);
        entry.doc = type.apply(entry.doc, value.op);
        entry.texts.push(entry.doc.toString());
        docs.set(value.docId, entry);
      }
    }
  }
  return new Map([...docs].map(([docId, { texts }]) => [docId, texts]));
}

/** Bounded polling for conditions that have no event to await (a snapshot appearing in S3). */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
