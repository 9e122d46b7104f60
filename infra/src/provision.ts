/**
 * Creates what the services expect to exist: the ops topic, the snapshot bucket, the Cassandra keyspace and
 * tables. Idempotent: run it any number of times, against containers or real clusters; it only creates, never
 * alters or deletes.
 *
 * The ops topic in production (what the defaults below become on a real cluster):
 *  - key = docId, so all ops of one document are in one partition, in order (one writer per partition).
 *  - retention.ms=-1 and cleanup.policy=delete: the topic is the source of truth and is never trimmed.
 *  - replication factor 3 with min.insync.replicas=2 and producers using acks=all: an acknowledged op survives
 *    the loss of one broker, and a write is refused rather than accepted by a single replica.
 *    (Here: the broker count caps both, so a single test broker gets 1 and 1.)
 *  - The partition count is fixed for the topic's life: adding partitions moves documents to other
 *    partitions and breaks per-document ordering. So an existing topic with a different count is an error,
 *    never "fixed" by provisioning.
 */
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import {
  DEFAULT_COMMANDS_TOPIC,
  DEFAULT_OPS_PARTITIONS,
  DEFAULT_OPS_TOPIC,
  DEFAULT_REPLIES_TOPIC,
} from '@collab/env-config';
import cassandra from 'cassandra-driver';
import type { Admin } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import type { StackEndpoints } from './endpoints.js';
import { s3Client } from './probes.js';

export interface ProvisionOptions {
  opsTopic: string;
  opsPartitions: number;
  /** The command-service's command bus: commands (the ops topic's partition count) and replies. */
  commandsTopic: string;
  repliesTopic: string;
  /** Default: min(3, number of brokers). */
  replicationFactor?: number;
  bucket: string;
  keyspace: string;
}

export interface ProvisionResult {
  opsTopic: 'created' | 'exists';
  bucket: 'created' | 'exists';
  cassandra: 'migrated';
}

/**
 * The services' defaults (@collab/env-config), overridable by the same variables: COLLAB_OPS_TOPIC,
 * COLLAB_OPS_PARTITIONS, COLLAB_COMMANDS_TOPIC, COLLAB_REPLIES_TOPIC, S3_BUCKET, CASSANDRA_KEYSPACE.
 */
export function provisionOptionsFromEnv(env: NodeJS.ProcessEnv): ProvisionOptions {
  const partitions = Number(env.COLLAB_OPS_PARTITIONS || DEFAULT_OPS_PARTITIONS);
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new Error(`COLLAB_OPS_PARTITIONS=${env.COLLAB_OPS_PARTITIONS} is not a positive integer.`);
  }
  return {
    opsTopic: env.COLLAB_OPS_TOPIC || DEFAULT_OPS_TOPIC,
    opsPartitions: partitions,
    commandsTopic: env.COLLAB_COMMANDS_TOPIC || DEFAULT_COMMANDS_TOPIC,
    repliesTopic: env.COLLAB_REPLIES_TOPIC || DEFAULT_REPLIES_TOPIC,
    bucket: env.S3_BUCKET || 'collab-snapshots',
    keyspace: env.CASSANDRA_KEYSPACE || 'collab',
  };
}

export async function provision(endpoints: StackEndpoints, options: ProvisionOptions): Promise<ProvisionResult> {
  const [opsTopic, bucket, cassandra] = await Promise.all([
    provisionOpsTopic(endpoints.kafka.brokers, options),
    provisionBucket(endpoints.s3, options.bucket),
    provisionCassandra(endpoints.cassandra, options.keyspace),
  ]);
  return { opsTopic, bucket, cassandra };
}

/** Attempts of the whole topic step when the broker answers with a retriable error (see provisionOpsTopic). */
const TOPIC_ATTEMPTS = 5;

/**
 * Creates the topics, again on a retriable broker error: right after a broker starts, kafkajs's createTopics with
 * waitForLeaders can read the new topic's metadata before the broker hosts it and fail with
 * UNKNOWN_TOPIC_OR_PARTITION ("This server does not host this topic-partition"), which it does not retry itself
 * (seen once in CI). Every step is idempotent: a topic that exists is checked, not created again.
 */
export async function provisionOpsTopic(brokers: string[], options: ProvisionOptions): Promise<'created' | 'exists'> {
  // An attempt that created the topic and then failed (on a three-broker stack a broker may not know the new
  // topics for a moment) must not make the next attempt report it as 'exists'.
  const progress = { created: false };
  for (let attempt = 1; ; attempt++) {
    try {
      const outcome = await provisionOpsTopicOnce(brokers, options, progress);
      return progress.created ? 'created' : outcome;
    } catch (err) {
      const retriable = (err as { retriable?: unknown }).retriable === true;
      if (!retriable || attempt >= TOPIC_ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }
}

async function provisionOpsTopicOnce(
  brokers: string[],
  options: ProvisionOptions,
  progress: { created: boolean },
): Promise<'created' | 'exists'> {
  const kafka = new Kafka({ clientId: 'collab-infra-provision', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { brokers: live } = await admin.describeCluster();
    const replicationFactor = options.replicationFactor ?? Math.min(3, live.length);
    // Not waitForLeaders: kafkajs would ask a broker that may not know the new topic yet and fail with
    // UNKNOWN_TOPIC_OR_PARTITION, which it does not retry; awaitLeaders below takes that as "not yet".
    const created = await admin.createTopics({
      waitForLeaders: false,
      topics: [
        {
          topic: options.opsTopic,
          numPartitions: options.opsPartitions,
          replicationFactor,
          configEntries: [
            { name: 'retention.ms', value: '-1' },
            { name: 'cleanup.policy', value: 'delete' },
            { name: 'min.insync.replicas', value: String(Math.max(1, Math.min(2, replicationFactor - 1))) },
          ],
        },
      ],
    }); // false (not an error) when the topic already exists
    if (created) progress.created = true;
    if (created) await awaitLeaders(admin, options.opsTopic);
    if (!created) {
      const metadata = await admin.fetchTopicMetadata({ topics: [options.opsTopic] });
      const partitions = metadata.topics[0]?.partitions.length ?? 0;
      if (partitions !== options.opsPartitions) {
        throw new Error(
          `Topic ${options.opsTopic} exists with ${partitions} partitions, not ${options.opsPartitions}: ` +
            `changing the count would move documents between partitions, so provisioning will not alter it.`,
        );
      }
    }
    await provisionCommandTopics(admin, options, replicationFactor);
    return created ? 'created' : 'exists';
  } finally {
    await admin.disconnect();
  }
}

/** Every partition of a new topic has a leader, as the broker asked sees it; its own errors are "not yet". */
async function awaitLeaders(admin: Admin, topic: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const partitions = await admin
      .fetchTopicMetadata({ topics: [topic] })
      .then((m) => m.topics[0]?.partitions ?? [])
      .catch(() => []);
    if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return;
    if (Date.now() > deadline)
      throw new Error(`topic ${topic} has no leader for every partition after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The module that owns the command bus topics' settings; imported by name at run time (it builds after infra). */
const KAFKA_ADAPTER = '@collab/adapter-kafka';

/** packages/kafka's `ensureCommandTopics(admin, spec)`: idempotent, refuses a topic with another partition count. */
type EnsureCommandTopics = (
  admin: Admin,
  spec: { commandsTopic: string; repliesTopic: string; partitions: number; replicationFactor: number },
) => Promise<void>;

/**
 * The command-service's commands and replies topics, beside the ops topic: without them a command-service
 * started on this stack refuses to start (unless COLLAB_PROVISION=true). Their settings live in the Kafka adapter,
 * the one place that defines them.
 */
async function provisionCommandTopics(
  admin: Admin,
  options: ProvisionOptions,
  replicationFactor: number,
): Promise<void> {
  const { ensureCommandTopics } = (await import(KAFKA_ADAPTER)) as { ensureCommandTopics: EnsureCommandTopics };
  await ensureCommandTopics(admin, {
    commandsTopic: options.commandsTopic,
    repliesTopic: options.repliesTopic,
    partitions: options.opsPartitions,
    replicationFactor,
  });
}

export async function provisionBucket(s3: StackEndpoints['s3'], bucket: string): Promise<'created' | 'exists'> {
  const client = s3Client(s3);
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    return 'created';
  } catch (err) {
    // Ours already: fine. BucketAlreadyExists (someone else's name) is a real error and propagates.
    if ((err as { name?: string }).name === 'BucketAlreadyOwnedByYou') return 'exists';
    throw err;
  } finally {
    client.destroy();
  }
}

/** The module that owns the CQL schema (see provisionCassandra for why it is imported by name). */
const CASSANDRA_ADAPTER = '@collab/adapter-cassandra';

type Replication =
  | { class: 'SimpleStrategy'; replicationFactor: number }
  | { class: 'NetworkTopologyStrategy'; dataCenters: Record<string, number> };
/** packages/cassandra's `migrate(client, { keyspace, replication })` (creates the keyspace, applies migrations). */
type Migrate = (client: cassandra.Client, options: { keyspace: string; replication: Replication }) => Promise<unknown>;

/**
 * Keyspace and tables come from packages/cassandra's `migrate()`: the harness writes no CQL of its own, so
 * there is one schema, versioned in one place. Replication: NetworkTopologyStrategy in the contact points'
 * data center, factor min(3, nodes there) — 3 on a production cluster, 1 on the single test node. The adapter is
 * imported by name at run time: its tests use this harness, and a static import would make the two a cycle.
 */
async function provisionCassandra(
  endpoints: StackEndpoints['cassandra'],
  keyspace: string,
): Promise<ProvisionResult['cassandra']> {
  const { migrate } = (await import(CASSANDRA_ADAPTER)) as { migrate: Migrate };
  const client = new cassandra.Client({
    contactPoints: endpoints.contactPoints,
    localDataCenter: endpoints.localDataCenter,
    socketOptions: { connectTimeout: 10_000, readTimeout: 60_000 },
  });
  try {
    await client.connect();
    const nodes = client.hosts.values().filter((h) => h.datacenter === endpoints.localDataCenter).length;
    const replication: Replication = {
      class: 'NetworkTopologyStrategy',
      dataCenters: { [endpoints.localDataCenter]: Math.max(1, Math.min(3, nodes)) },
    };
    await migrate(client, { keyspace, replication });
    return 'migrated';
  } finally {
    await client.shutdown();
  }
}
