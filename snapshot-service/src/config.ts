/**
 * Configuration of the snapshot-service, read from the environment once at startup and validated with zod:
 * every problem is reported at once. Nothing else in the service reads process.env.
 */
import {
  ConfigError,
  cassandraEnv,
  int,
  loadCassandraSecurity,
  loadKafkaSecurity,
  opsTopicEnv,
  redactedCassandraSecurity,
  redactedKafkaSecurity,
  s3Credentials,
  s3Env,
  s3Problems,
  serviceEnv,
  shutdownSettings,
  telemetrySettings,
  schemaRegistrySettings,
} from '@collab/env-config';
import { z } from 'zod';
import { DEFAULT_SNAPSHOT_BATCH_WAIT_MS } from './snapshot-worker.js';

const Env = z.object({
  ...serviceEnv(9466),
  // The op log
  ...opsTopicEnv,
  COLLAB_SNAPSHOT_CONSUMER_GROUP: z.string().min(1).default('collab-snapshot-service'),
  COLLAB_SNAPSHOT_BATCH_WAIT_MS: int(0, 60_000).default(DEFAULT_SNAPSHOT_BATCH_WAIT_MS),
  // The read models (to rebuild a document's state)
  ...cassandraEnv,
  // The snapshot store
  ...s3Env,
  // Policy
  SNAPSHOT_EVERY_VERSIONS: int(1).default(500),
  SNAPSHOT_IDLE_SECONDS: int(1).default(30),
  SNAPSHOT_HOT_OPS_PER_SECOND: int(1, 2_000).default(20),
  SNAPSHOT_HOT_EVERY_VERSIONS: int(1).default(100),
  SNAPSHOT_MAX_DIRTY_SECONDS: int(1).default(300),
  // Retries of a snapshot write
  SNAPSHOT_RETRIES: int(0, 100).default(8),
  SNAPSHOT_RETRY_MIN_MS: int(1).default(200),
  SNAPSHOT_RETRY_MAX_MS: int(1).default(15_000),
  // Retention
  SNAPSHOT_KEEP_LATEST: int(1).default(3),
  SNAPSHOT_KEEP_EVERY_VERSIONS: int(1).optional(),
  SNAPSHOT_KEEP_DAILY: int(1).optional(),
});

/** The shared configuration error (every problem at once), re-exported for this service's entry point. */
export { ConfigError };

export type SnapshotServiceConfig = ReturnType<typeof loadConfig>;

export function loadConfig(env: NodeJS.ProcessEnv) {
  const parsed = Env.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  problems.push(...s3Problems(env));
  const kafkaSecurity = loadKafkaSecurity(env);
  const cassandraSecurity = loadCassandraSecurity(env);
  problems.push(...kafkaSecurity.problems, ...cassandraSecurity.problems);
  if (parsed.success) {
    const e = parsed.data;
    if (e.SNAPSHOT_RETRY_MIN_MS > e.SNAPSHOT_RETRY_MAX_MS) {
      problems.push('SNAPSHOT_RETRY_MIN_MS: must not exceed SNAPSHOT_RETRY_MAX_MS');
    }
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  return {
    instanceId: e.COLLAB_INSTANCE_ID,
    logLevel: e.LOG_LEVEL,
    telemetry: telemetrySettings(e),
    shutdown: shutdownSettings(e),
    kafka: {
      brokers: e.KAFKA_BROKERS,
      topic: e.COLLAB_OPS_TOPIC,
      partitions: e.COLLAB_OPS_PARTITIONS,
      groupId: e.COLLAB_SNAPSHOT_CONSUMER_GROUP,
      batchWaitMs: e.COLLAB_SNAPSHOT_BATCH_WAIT_MS,
      security: kafkaSecurity.value,
      schemaRegistry: schemaRegistrySettings(e),
    },
    cassandra: {
      contactPoints: e.CASSANDRA_CONTACT_POINTS,
      localDataCenter: e.CASSANDRA_LOCAL_DC,
      keyspace: e.CASSANDRA_KEYSPACE,
      security: cassandraSecurity.value,
    },
    s3: {
      endpoint: e.S3_ENDPOINT,
      region: e.S3_REGION,
      ...s3Credentials(e),
      bucket: e.S3_BUCKET,
      prefix: e.S3_PREFIX,
    },
    policy: {
      everyVersions: e.SNAPSHOT_EVERY_VERSIONS,
      idleMs: e.SNAPSHOT_IDLE_SECONDS * 1000,
      hotOpsPerSecond: e.SNAPSHOT_HOT_OPS_PER_SECOND,
      hotEveryVersions: e.SNAPSHOT_HOT_EVERY_VERSIONS,
      maxDirtyMs: e.SNAPSHOT_MAX_DIRTY_SECONDS * 1000,
    },
    retry: { retries: e.SNAPSHOT_RETRIES, minDelayMs: e.SNAPSHOT_RETRY_MIN_MS, maxDelayMs: e.SNAPSHOT_RETRY_MAX_MS },
    retention: {
      keepLatest: e.SNAPSHOT_KEEP_LATEST,
      ...(e.SNAPSHOT_KEEP_EVERY_VERSIONS === undefined ? {} : { keepEveryNth: e.SNAPSHOT_KEEP_EVERY_VERSIONS }),
      ...(e.SNAPSHOT_KEEP_DAILY === undefined ? {} : { keepDaily: e.SNAPSHOT_KEEP_DAILY }),
    },
  };
}

export function redacted(config: SnapshotServiceConfig): unknown {
  return {
    ...config,
    kafka: { ...config.kafka, security: redactedKafkaSecurity(config.kafka.security) },
    cassandra: { ...config.cassandra, security: redactedCassandraSecurity(config.cassandra.security) },
    s3: { ...config.s3, credentials: config.s3.credentials === undefined ? undefined : '[redacted]' },
  };
}
