/**
 * The read side of the integration stack for command-service tests: a fresh Cassandra keyspace (migrated) and a
 * fresh S3 bucket per run, the real projection-service consuming a test topic into them, and a Kafka admin for
 * the projection group's committed offsets.
 */
import { randomBytes } from 'node:crypto';
import { DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createCassandraReadModelStore, migrate } from '@collab/adapter-cassandra';
import type { CassandraReadModelStore } from '@collab/adapter-cassandra';
import { createS3Client, createS3SnapshotStore, ensureBucket } from '@collab/adapter-s3';
import type { OpLog, ReadModelStore, SnapshotStore } from '@collab/core';
import { bestEffort } from '@collab/core';
import { useStack } from '@collab/infra';
import { startProjectionService, type ProjectionService } from '@collab/projection-service';
import cassandra from 'cassandra-driver';
import type { Admin } from 'kafkajs';
import { Kafka } from 'kafkajs';
import pino from 'pino';
import type { TestTopic } from './service.js';
import { openLog } from './service.js';
import { until } from './processes.js';

export interface TestReadSide {
  keyspace: string;
  bucket: string;
  readModels: CassandraReadModelStore;
  snapshots: SnapshotStore;
  admin: Admin;
  /** What a command-service process needs in its environment to use this keyspace and bucket. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function freshReadSide(): Promise<TestReadSide> {
  const stack = await useStack();
  const cleanups: (() => Promise<unknown>)[] = [];
  const client = new cassandra.Client({
    contactPoints: stack.cassandra.contactPoints,
    localDataCenter: stack.cassandra.localDataCenter,
    socketOptions: { connectTimeout: 10_000, readTimeout: 60_000 },
  });
  await client.connect();
  const keyspace = `cmd_${randomBytes(5).toString('hex')}`;
  cleanups.push(async () => {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
    await client.shutdown();
  });
  await migrate(client, { keyspace, replication: { class: 'SimpleStrategy', replicationFactor: 1 } });
  const readModels = await createCassandraReadModelStore({ client, keyspace });
  cleanups.push(() => readModels.close());

  const s3 = {
    endpoint: stack.s3.endpoint,
    region: stack.s3.region,
    credentials: { accessKeyId: stack.s3.accessKeyId, secretAccessKey: stack.s3.secretAccessKey },
  };
  const s3Client = createS3Client(s3);
  const bucket = `collab-test-cmd-${randomBytes(5).toString('hex')}`;
  await ensureBucket(s3Client, bucket);
  cleanups.push(async () => {
    const page = await s3Client.send(new ListObjectsV2Command({ Bucket: bucket }));
    await Promise.all(
      (page.Contents ?? []).map(({ Key }) => s3Client.send(new DeleteObjectCommand({ Bucket: bucket, Key }))),
    );
    await s3Client.send(new DeleteBucketCommand({ Bucket: bucket }));
    s3Client.destroy();
  });
  const snapshots = createS3SnapshotStore({ ...s3, bucket, prefix: '' });
  cleanups.push(() => snapshots.close());

  const admin = new Kafka({ clientId: 'test-read-side', brokers: stack.kafka.brokers, logLevel: 0 }).admin();
  await admin.connect();
  cleanups.push(() => admin.disconnect());

  return {
    keyspace,
    bucket,
    readModels,
    snapshots,
    admin,
    env: {
      CASSANDRA_CONTACT_POINTS: stack.cassandra.contactPoints.join(','),
      CASSANDRA_LOCAL_DC: stack.cassandra.localDataCenter,
      CASSANDRA_KEYSPACE: keyspace,
      S3_ENDPOINT: stack.s3.endpoint,
      S3_REGION: stack.s3.region,
      S3_ACCESS_KEY_ID: stack.s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: stack.s3.secretAccessKey,
      S3_BUCKET: bucket,
    },
    close: async () => {
      for (const cleanup of cleanups.reverse()) await bestEffort(cleanup());
    },
  };
}

export interface RunningProjection {
  service: ProjectionService;
  log: OpLog;
  /** Stop consuming; the consumer commits its last checkpoints. */
  stop(): Promise<void>;
}

/**
 * The real projection-service on `t`, writing into `readModels`, in consumer group `groupId`; it claims the
 * keyspace for the group first, as its main does.
 */
export async function startProjection(
  t: TestTopic,
  readModels: CassandraReadModelStore,
  groupId: string,
): Promise<RunningProjection> {
  await readModels.claimProjectionSource(t.topic, groupId);
  const log = await openLog(t);
  const service = await startProjectionService({
    log,
    store: readModels,
    groupId,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    lagRefreshMs: 0,
  });
  return {
    service,
    log,
    stop: async () => {
      await service.stop();
      await log.close();
    },
  };
}

/** Wait until the read models' head of every document in `heads` is at least the given version. */
export async function projected(readModels: ReadModelStore, heads: Record<string, number>): Promise<void> {
  await until(
    `the projection to reach ${JSON.stringify(heads)}`,
    async () => {
      for (const [docId, version] of Object.entries(heads)) {
        if (((await readModels.getHead(docId))?.version ?? 0) < version) return undefined;
      }
      return true;
    },
    90_000,
    200,
  );
}

/** The projection group's committed offset of one partition (undefined: none). */
export async function committedOffset(
  admin: Admin,
  groupId: string,
  topic: string,
  partition: number,
): Promise<bigint | undefined> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const offset = entry?.partitions.find((p) => p.partition === partition)?.offset;
  return offset === undefined || offset === '-1' ? undefined : BigInt(offset);
}
