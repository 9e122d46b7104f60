/**
 * For the CLI's tests on the integration stack (distributed mode): a fresh ops topic, created with the servers'
 * own topic settings (ensureOpsTopic), opened as an op log and removed at the end; a fresh read-model keyspace
 * written by the Cassandra store; the environment that points a `collab` child process at both; and the ops
 * such tests write (each version appends one character to its document's text).
 */
import { createCassandraReadModelStore, migrate } from '@collab/adapter-cassandra';
import { createKafkaOpLog, ensureOpsTopic } from '@collab/adapter-kafka';
import { bestEffort, type OpCommitted, type OpLog, type ReadModelStore } from '@collab/core';
import type { StackEndpoints } from '@collab/infra';
import cassandra from 'cassandra-driver';
import { Kafka, logLevel } from 'kafkajs';
import { cleanEnv } from './cli.js';

export interface OpsTopic {
  topic: string;
  log: OpLog;
  /** Closes the log and deletes the topic; never throws (a teardown). */
  remove(): Promise<void>;
}

export async function freshOpsTopic(brokers: string[], topic: string, partitions: number): Promise<OpsTopic> {
  const kafka = new Kafka({ clientId: 'cli-test', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureOpsTopic(admin, { topic, partitions, replicationFactor: 1 });
  } finally {
    await admin.disconnect();
  }
  const log = await createKafkaOpLog({ brokers, topic, partitionCount: partitions, clientId: 't' });
  return {
    topic,
    log,
    async remove() {
      await bestEffort(log.close());
      const cleanup = kafka.admin();
      await bestEffort(cleanup.connect().then(() => cleanup.deleteTopics({ topics: [topic] })));
      await bestEffort(cleanup.disconnect());
    },
  };
}

/** Version `version` of `docId`: "x" at version 1, then `text` appended at the end. */
export const appendingOp = (docId: string, version: number, timestamp: number, text = 'y'): OpCommitted => ({
  docId,
  version,
  op: version === 1 ? ['x'] : [version - 1, text],
  baseVersion: version - 1,
  clientId: 'c',
  seq: version,
  userId: 'u',
  timestamp,
});

export interface TestKeyspace {
  client: cassandra.Client;
  store: ReadModelStore;
  /** Drops `keyspace` and every other keyspace given, closes the store and the client; never throws. */
  remove(...others: string[]): Promise<void>;
}

/** A new keyspace, migrated, with a read-model store on it (what the projection-service writes through). */
export async function freshKeyspace(stack: StackEndpoints, keyspace: string): Promise<TestKeyspace> {
  const client = new cassandra.Client({
    contactPoints: stack.cassandra.contactPoints,
    localDataCenter: stack.cassandra.localDataCenter,
  });
  await client.connect();
  await migrate(client, { keyspace, replication: { class: 'SimpleStrategy', replicationFactor: 1 } });
  const store = await createCassandraReadModelStore({ client, keyspace });
  return {
    client,
    store,
    async remove(...others) {
      await bestEffort(store.close());
      for (const k of [keyspace, ...others]) await bestEffort(client.execute(`DROP KEYSPACE IF EXISTS ${k}`));
      await bestEffort(client.shutdown());
    },
  };
}

/** The environment of a `collab` child process on this topic and keyspace (distributed mode). */
export const distributedEnv = (stack: StackEndpoints, topic: OpsTopic, partitions: number, keyspace: string) =>
  cleanEnv({
    COLLAB_MODE: 'distributed',
    KAFKA_BROKERS: stack.kafka.brokers.join(','),
    COLLAB_OPS_TOPIC: topic.topic,
    COLLAB_OPS_PARTITIONS: String(partitions),
    CASSANDRA_CONTACT_POINTS: stack.cassandra.contactPoints.join(','),
    CASSANDRA_LOCAL_DC: stack.cassandra.localDataCenter,
    CASSANDRA_KEYSPACE: keyspace,
    CASSANDRA_REPLICATION_FACTOR: '1',
  });
