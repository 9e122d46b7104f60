/**
 * Configuration of the projection-service, read from the environment once at startup (main.ts) and validated
 * strictly: every problem is reported at once.
 */
import {
  ConfigError,
  bool,
  cassandraEnv,
  int,
  loadCassandraSecurity,
  loadKafkaSecurity,
  opsTopicEnv,
  redactedCassandraSecurity,
  redactedKafkaSecurity,
  serviceEnv,
  shutdownSettings,
  telemetrySettings,
  schemaRegistrySettings,
} from '@collab/env-config';
import { z } from 'zod';

const Env = z.object({
  ...serviceEnv(9465),
  // The op log
  ...opsTopicEnv,
  COLLAB_PROJECTION_GROUP: z.string().min(1).default('collab-projection-service'),
  // The read models
  ...cassandraEnv,
  /** Replicas in the local data center when COLLAB_MIGRATE creates the keyspace. */
  CASSANDRA_REPLICATION_FACTOR: int(1, 32).default(3),
  COLLAB_MIGRATE: bool.default('false'),
  // Tuning
  COLLAB_LAG_REFRESH_MS: int(0).default(5_000),
  COLLAB_PROJECTION_MAX_OPS_PER_WRITE: int(1).default(5_000),
  COLLAB_PROJECTION_WRITE_CONCURRENCY: int(1, 1_024).default(4),
  // How long a fetch gathers records before a batch is projected: fewer, bigger batches (less Cassandra CPU per
  // op) for that much projection lag. 0: project each record as soon as it is fetched.
  COLLAB_PROJECTION_BATCH_WAIT_MS: int(0, 10_000).default(500),
});

export type ProjectionServiceConfig = ReturnType<typeof loadConfig>;

/** The shared configuration error (every problem at once), re-exported for this service's entry point. */
export { ConfigError };

export function loadConfig(env: NodeJS.ProcessEnv) {
  const parsed = Env.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  const kafkaSecurity = loadKafkaSecurity(env);
  const cassandraSecurity = loadCassandraSecurity(env);
  problems.push(...kafkaSecurity.problems, ...cassandraSecurity.problems);
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
      groupId: e.COLLAB_PROJECTION_GROUP,
      security: kafkaSecurity.value,
      schemaRegistry: schemaRegistrySettings(e),
    },
    cassandra: {
      contactPoints: e.CASSANDRA_CONTACT_POINTS,
      localDataCenter: e.CASSANDRA_LOCAL_DC,
      keyspace: e.CASSANDRA_KEYSPACE,
      replicationFactor: e.CASSANDRA_REPLICATION_FACTOR,
      migrate: e.COLLAB_MIGRATE,
      security: cassandraSecurity.value,
    },
    lagRefreshMs: e.COLLAB_LAG_REFRESH_MS,
    maxOpsPerWrite: e.COLLAB_PROJECTION_MAX_OPS_PER_WRITE,
    writeConcurrency: e.COLLAB_PROJECTION_WRITE_CONCURRENCY,
    batchWaitMs: e.COLLAB_PROJECTION_BATCH_WAIT_MS,
  };
}

/** The configuration as an operator may see it: passwords and keys replaced. */
export function redacted(config: ProjectionServiceConfig): unknown {
  return {
    ...config,
    kafka: { ...config.kafka, security: redactedKafkaSecurity(config.kafka.security) },
    cassandra: { ...config.cassandra, security: redactedCassandraSecurity(config.cassandra.security) },
  };
}
