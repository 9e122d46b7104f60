/**
 * Configuration of the projection-service, read from the environment once at startup (main.ts) and validated
 * strictly: every problem is reported at once.
 */
import { z } from 'zod';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0),
);
const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
const identifier = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,47}$/, 'use [A-Za-z0-9_], starting with a letter');

const Env = z.object({
  COLLAB_INSTANCE_ID: z.string().min(1).optional(),
  COLLAB_METRICS_PORT: int(0, 65535).default(9465),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // The op log
  KAFKA_BROKERS: list.pipe(z.array(z.string()).min(1, 'give at least one host:port')),
  COLLAB_OPS_TOPIC: z.string().min(1).default('collab.ops'),
  COLLAB_OPS_PARTITIONS: int(1, 10_000).default(12),
  COLLAB_PROJECTION_GROUP: z.string().min(1).default('collab-projection-service'),
  // The read models
  CASSANDRA_CONTACT_POINTS: list.pipe(z.array(z.string()).min(1, 'give at least one host:port')),
  CASSANDRA_LOCAL_DC: z.string().min(1).default('datacenter1'),
  CASSANDRA_KEYSPACE: identifier.default('collab'),
  /** Replicas in the local data center when COLLAB_MIGRATE creates the keyspace. */
  CASSANDRA_REPLICATION_FACTOR: int(1, 32).default(3),
  COLLAB_MIGRATE: bool.default('false'),
  // Tuning
  COLLAB_LAG_REFRESH_MS: int(0).default(5_000),
  COLLAB_PROJECTION_MAX_OPS_PER_WRITE: int(1).default(5_000),
  COLLAB_PROJECTION_WRITE_CONCURRENCY: int(1, 1_024).default(4),
});

export type ProjectionServiceConfig = ReturnType<typeof loadConfig>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export function loadConfig(env: NodeJS.ProcessEnv) {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  return {
    instanceId: e.COLLAB_INSTANCE_ID,
    logLevel: e.LOG_LEVEL,
    telemetry: { prometheusPort: e.COLLAB_METRICS_PORT, otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT },
    kafka: {
      brokers: e.KAFKA_BROKERS,
      topic: e.COLLAB_OPS_TOPIC,
      partitions: e.COLLAB_OPS_PARTITIONS,
      groupId: e.COLLAB_PROJECTION_GROUP,
    },
    cassandra: {
      contactPoints: e.CASSANDRA_CONTACT_POINTS,
      localDataCenter: e.CASSANDRA_LOCAL_DC,
      keyspace: e.CASSANDRA_KEYSPACE,
      replicationFactor: e.CASSANDRA_REPLICATION_FACTOR,
      migrate: e.COLLAB_MIGRATE,
    },
    lagRefreshMs: e.COLLAB_LAG_REFRESH_MS,
    maxOpsPerWrite: e.COLLAB_PROJECTION_MAX_OPS_PER_WRITE,
    writeConcurrency: e.COLLAB_PROJECTION_WRITE_CONCURRENCY,
  };
}
