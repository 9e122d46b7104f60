/**
 * The environment variables the services share, as zod schema fragments each service spreads into its own
 * `z.object({...})`, so a variable means the same, defaults the same and is refused with the same sentence in
 * every service. Service-specific variables stay in each service's config.ts. Nothing here reads process.env.
 */
import { z } from 'zod';

/** An integer in [min, max], from its decimal text. */
export const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

/** A comma-separated list; blanks around items and empty items are dropped. */
export const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0),
);

/** At least one host:port, comma-separated. */
export const hosts = list.pipe(z.array(z.string()).min(1, 'give at least one host:port'));

/** Exactly "true" or "false". */
export const bool = z.enum(['true', 'false']).transform((v) => v === 'true');

/**
 * A Cassandra keyspace: lowercase, because Cassandra folds unquoted names to lowercase and a "Collab" in the
 * configuration would silently be "collab" in the cluster.
 */
export const keyspace = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,47}$/, 'a Cassandra keyspace name: a-z, 0-9 and _, starting with a letter, at most 48');

/** Every service: its instance id, metrics port, OTLP endpoint and log level. */
export const serviceEnv = (metricsPort: number) => ({
  COLLAB_INSTANCE_ID: z.string().min(1).optional(),
  COLLAB_METRICS_PORT: int(0, 65535).default(metricsPort),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** The op log: the brokers, the ops topic and its partition count. */
export const opsTopicEnv = {
  KAFKA_BROKERS: hosts,
  COLLAB_OPS_TOPIC: z.string().min(1).default('collab.ops'),
  COLLAB_OPS_PARTITIONS: int(1, 10_000).default(12),
};

/** The read models. */
export const cassandraEnv = {
  CASSANDRA_CONTACT_POINTS: hosts,
  CASSANDRA_LOCAL_DC: z.string().min(1).default('datacenter1'),
  CASSANDRA_KEYSPACE: keyspace.default('collab'),
};

/** The snapshot store. Without S3_ENDPOINT: AWS S3 itself (the SDK's default endpoint for the region). */
export const s3Env = {
  S3_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_BUCKET: z.string().min(3).default('collab-snapshots'),
  S3_PREFIX: z.string().default(''),
};

const given = (env: NodeJS.ProcessEnv, name: string): boolean => (env[name] ?? '') !== '';

/** Problems across the S3 variables, from the raw environment (so they show even when another is invalid). */
export function s3Problems(env: NodeJS.ProcessEnv): string[] {
  return given(env, 'S3_ACCESS_KEY_ID') !== given(env, 'S3_SECRET_ACCESS_KEY')
    ? ['S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY: give both or neither (then the AWS default chain)']
    : [];
}

/** The static credentials, when both keys are given; otherwise nothing (the AWS default chain). */
export function s3Credentials(e: {
  S3_ACCESS_KEY_ID?: string | undefined;
  S3_SECRET_ACCESS_KEY?: string | undefined;
}): { credentials?: { accessKeyId: string; secretAccessKey: string } } {
  return e.S3_ACCESS_KEY_ID === undefined || e.S3_SECRET_ACCESS_KEY === undefined
    ? {}
    : { credentials: { accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY } };
}

export {
  cassandraSecurityEnv,
  describeTls,
  kafkaSecurityEnv,
  loadCassandraSecurity,
  loadKafkaSecurity,
  loadRedisConnection,
  redactedCassandraSecurity,
  redactedKafkaSecurity,
  redactedRedis,
  redactedUrl,
  redisEnv,
  redisUrl,
  type CassandraSecurity,
  type KafkaSecurity,
  type Loaded,
  type ReadFile,
  type RedisConnection,
  type TlsSettings,
} from './security.js';
