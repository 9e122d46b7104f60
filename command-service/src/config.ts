/**
 * Configuration of the command-service, read from the environment once at startup and validated strictly: every
 * problem is reported at once, and the effective configuration can be printed with secrets redacted.
 */
import { readFileSync } from 'node:fs';
import {
  ConfigError,
  cassandraEnv,
  commandTopicsEnv,
  commentLimits,
  commentLimitsEnv,
  edgeEnv,
  int,
  list,
  loadCassandraSecurity,
  loadKafkaSecurity,
  loadRedisConnection,
  mediaEnv,
  opsTopicEnv,
  redactedCassandraSecurity,
  redactedKafkaSecurity,
  redactedRedis,
  s3Credentials,
  s3Env,
  s3Problems,
  serviceEnv,
  shutdownSettings,
  telemetrySettings,
  schemaRegistrySettings,
  opsSchemaVersionSetting,
} from '@collab/env-config';
import { DEFAULT_COMMENT_LIMITS } from '@collab/core';
import { z } from 'zod';

/** Keys fetched over plain http could be swapped on the way: https, or http only to this machine (tests, dev). */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
function isSafeJwksUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
  } catch {
    return false;
  }
}

const Env = z.object({
  COLLAB_HOST: z.string().default('0.0.0.0'),
  COLLAB_PORT: int(0, 65535).default(8080),
  ...serviceEnv(9464),
  // Authentication
  COLLAB_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  COLLAB_JWT_PUBLIC_KEY_FILES: list.optional(),
  COLLAB_JWT_ISSUER: z.string().optional(),
  COLLAB_JWT_AUDIENCE: z.string().optional(),
  // Every token must carry exp; longer-lived ones are refused (a connection's access lasts as long as its token).
  COLLAB_JWT_MAX_LIFETIME_SECONDS: int(60, 31_536_000).default(86_400),
  // An identity provider's signing keys (JWKS), fetched and cached; a token's `kid` picks the key. An unknown kid
  // refetches the set at most once per cooldown, so a flood of made-up kids cannot flood the provider.
  COLLAB_JWT_JWKS_URL: z
    .string()
    .refine(isSafeJwksUrl, 'an https:// URL (http:// only on a loopback host: keys fetched in clear could be swapped)')
    .optional(),
  COLLAB_JWT_JWKS_CACHE_SECONDS: int(0, 86_400).default(600),
  COLLAB_JWT_JWKS_COOLDOWN_SECONDS: int(0, 3_600).default(30),
  // The op log
  ...opsTopicEnv,
  COLLAB_CONSUMER_GROUP: z.string().min(1).default('collab-command-service'),
  // Multi-instance: forwarding through the commands topic (same partition count as the ops topic), replies
  ...commandTopicsEnv,
  COLLAB_FORWARD_TIMEOUT_MS: int(100, 600_000).default(10_000),
  // Failover time is about the session timeout (a crashed member is noticed after it). Brokers refuse values
  // outside group.min/max.session.timeout.ms (6 s .. 30 min by default).
  COLLAB_KAFKA_SESSION_TIMEOUT_MS: int(1_000, 1_800_000).default(30_000),
  COLLAB_KAFKA_HEARTBEAT_MS: int(100, 600_000).default(3_000),
  // The writers' transactional ids are <prefix>-p<N>; every instance must use the same. Default <ops topic>-writer.
  COLLAB_KAFKA_TRANSACTIONAL_ID_PREFIX: z.string().min(1).optional(),
  // Create the topics if missing (development, tests); production provisions them deliberately.
  COLLAB_PROVISION: z.enum(['true', 'false']).default('false'),
  COLLAB_KAFKA_REPLICATION_FACTOR: int(1, 16).default(1),
  // Sequencing: ops kept in memory per open document (transforms of concurrent ops, catch-up without storage)
  COLLAB_WINDOW: int(1, 1_000_000).default(200),
  // A reconnecting client further behind than this gets the whole text; up to it, the missing ops (memory, then
  // the read models, then Kafka).
  COLLAB_CATCHUP_LIMIT: int(1, 1_000_000).default(1000),
  // ... and one whose ops take more bytes than this gets the whole text too (an open is a few bytes).
  COLLAB_MAX_CATCHUP_BYTES: int(1024).default(4 * 1024 * 1024),
  COLLAB_HASH_EVERY: int(0).default(100),
  // Limits
  COLLAB_MAX_FRAME_BYTES: int(1024).default(256 * 1024),
  COLLAB_MAX_OP_INSERT: int(1).default(64 * 1024),
  COLLAB_MAX_OP_COMPONENTS: int(1).default(2048),
  COLLAB_MAX_DOC_LENGTH: int(1).default(16 * 1024 * 1024),
  COLLAB_MAX_DOCS_PER_CONNECTION: int(1).default(64),
  COLLAB_MAX_UNACKED: int(1).default(256),
  COLLAB_OPS_PER_SECOND: int(1).default(200),
  COLLAB_MESSAGES_PER_SECOND: int(1).default(500),
  COLLAB_OPENS_PER_SECOND: int(1).default(10),
  // The HTTP read API: requests per second per principal, replays at once, replays waiting
  COLLAB_READS_PER_SECOND: int(1).default(20),
  COLLAB_READ_CONCURRENCY: int(1, 64).default(2),
  COLLAB_READ_QUEUE: int(0).default(64),
  // Media uploads, stored in S3 (the S3_* settings below, COLLAB_MEDIA_BUCKET): on when S3_ENDPOINT is given.
  ...mediaEnv,
  COLLAB_IDLE_TIMEOUT_SECONDS: int(8, 960).default(60),
  // Who may connect: Host and Origin allow-lists, connection caps, the auth deadline (docs/operations.md)
  ...edgeEnv,
  // The read API beside the WebSocket (document load, time travel, history): Cassandra read models, and S3
  // snapshots when S3_ENDPOINT is given. Without CASSANDRA_CONTACT_POINTS the read API is off.
  ...cassandraEnv,
  CASSANDRA_CONTACT_POINTS: list.optional(),
  ...s3Env,
  // REDIS_URL (presence, off without it) and the TLS, SASL and credentials of Kafka, Cassandra and Redis: read by
  // loadConfig through @collab/env-config's loaders.
  // Loading a document (takeover, first open) from the read side: snapshot + read-model ops + the Kafka tail after
  // the offset this projection group has committed. It must be the group that writes CASSANDRA_KEYSPACE.
  COLLAB_PROJECTION_GROUP: z.string().min(1).default('collab-projection-service'),
  COLLAB_LOAD_FROM_READ_SIDE: z.enum(['true', 'false']).default('true'),
  // Comment threads (docs/comments.md): on by default; `false` refuses every comment command
  // (ERR_COMMENTS_DISABLED). A load folds the comment events from the read models and the log's tail, so threads
  // cost a load no partition scan. Their limits: @collab/env-config's commentLimitsEnv.
  COLLAB_COMMENTS: z.enum(['true', 'false']).default('true'),
  ...commentLimitsEnv,
  // Serve the web editor page at / (the same page as the embedded mode).
  COLLAB_SERVE_PAGE: z.enum(['true', 'false']).default('true'),
});

export type CommandServiceConfig = ReturnType<typeof loadConfig>;

/** The shared configuration error (every problem at once), re-exported for this service's entry point. */
export { ConfigError };

export function loadConfig(env: NodeJS.ProcessEnv) {
  const parsed = Env.safeParse(env);
  const problems: string[] = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  // Checks across variables look at the raw environment, so they are reported even when another variable is bad.
  const given = (name: string): boolean => (env[name] ?? '') !== '';
  if (!given('COLLAB_JWT_SECRET') && !given('COLLAB_JWT_PUBLIC_KEY_FILES') && !given('COLLAB_JWT_JWKS_URL')) {
    problems.push(
      'COLLAB_JWT_SECRET, COLLAB_JWT_PUBLIC_KEY_FILES or COLLAB_JWT_JWKS_URL: give an HS256 secret, RS256 public keys or a JWKS URL',
    );
  }
  problems.push(...s3Problems(env));
  const kafkaSecurity = loadKafkaSecurity(env);
  const opsSchemaVersion = opsSchemaVersionSetting(env);
  problems.push(...opsSchemaVersion.problems);
  const cassandraSecurity = loadCassandraSecurity(env);
  const redis = loadRedisConnection(env);
  problems.push(...kafkaSecurity.problems, ...cassandraSecurity.problems, ...redis.problems);
  const publicKeys: string[] = [];
  for (const file of (parsed.success ? parsed.data.COLLAB_JWT_PUBLIC_KEY_FILES : undefined) ?? []) {
    try {
      publicKeys.push(readFileSync(file, 'utf8'));
    } catch (err) {
      problems.push(`COLLAB_JWT_PUBLIC_KEY_FILES: cannot read ${file} (${(err as Error).message})`);
    }
  }
  if (parsed.success && parsed.data.COLLAB_KAFKA_HEARTBEAT_MS * 3 > parsed.data.COLLAB_KAFKA_SESSION_TIMEOUT_MS) {
    problems.push('COLLAB_KAFKA_HEARTBEAT_MS: at most a third of COLLAB_KAFKA_SESSION_TIMEOUT_MS');
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  return {
    host: e.COLLAB_HOST,
    port: e.COLLAB_PORT,
    instanceId: e.COLLAB_INSTANCE_ID,
    logLevel: e.LOG_LEVEL,
    telemetry: telemetrySettings(e),
    shutdown: shutdownSettings(e),
    auth: {
      hs256Secret: e.COLLAB_JWT_SECRET,
      rs256PublicKeys: publicKeys,
      issuer: e.COLLAB_JWT_ISSUER,
      audience: e.COLLAB_JWT_AUDIENCE,
      maxLifetimeSeconds: e.COLLAB_JWT_MAX_LIFETIME_SECONDS,
      jwks:
        e.COLLAB_JWT_JWKS_URL === undefined
          ? undefined
          : {
              url: e.COLLAB_JWT_JWKS_URL,
              cacheMaxAgeMs: e.COLLAB_JWT_JWKS_CACHE_SECONDS * 1000,
              cooldownMs: e.COLLAB_JWT_JWKS_COOLDOWN_SECONDS * 1000,
            },
    },
    kafka: {
      brokers: e.KAFKA_BROKERS,
      topic: e.COLLAB_OPS_TOPIC,
      partitions: e.COLLAB_OPS_PARTITIONS,
      consumerGroup: e.COLLAB_CONSUMER_GROUP,
      commandsTopic: e.COLLAB_COMMANDS_TOPIC,
      repliesTopic: e.COLLAB_REPLIES_TOPIC,
      sessionTimeoutMs: e.COLLAB_KAFKA_SESSION_TIMEOUT_MS,
      heartbeatMs: e.COLLAB_KAFKA_HEARTBEAT_MS,
      transactionalIdPrefix: e.COLLAB_KAFKA_TRANSACTIONAL_ID_PREFIX,
      provision: e.COLLAB_PROVISION === 'true',
      replicationFactor: e.COLLAB_KAFKA_REPLICATION_FACTOR,
      security: kafkaSecurity.value,
      schemaRegistry: schemaRegistrySettings(e),
      opsSchemaVersion: opsSchemaVersion.value,
    },
    forwardTimeoutMs: e.COLLAB_FORWARD_TIMEOUT_MS,
    window: e.COLLAB_WINDOW,
    catchupLimit: e.COLLAB_CATCHUP_LIMIT,
    maxCatchupBytes: e.COLLAB_MAX_CATCHUP_BYTES,
    hashEvery: e.COLLAB_HASH_EVERY,
    limits: {
      maxFrameBytes: e.COLLAB_MAX_FRAME_BYTES,
      maxOpInsertLength: e.COLLAB_MAX_OP_INSERT,
      maxOpComponents: e.COLLAB_MAX_OP_COMPONENTS,
      maxDocumentLength: e.COLLAB_MAX_DOC_LENGTH,
      maxDocuments: e.COLLAB_MAX_DOCS_PER_CONNECTION,
      maxUnacked: e.COLLAB_MAX_UNACKED,
      opsPerSecond: e.COLLAB_OPS_PER_SECOND,
      messagesPerSecond: e.COLLAB_MESSAGES_PER_SECOND,
      opensPerSecond: e.COLLAB_OPENS_PER_SECOND,
    },
    readApiLimits: {
      readsPerSecond: e.COLLAB_READS_PER_SECOND,
      concurrentReads: e.COLLAB_READ_CONCURRENCY,
      queuedReads: e.COLLAB_READ_QUEUE,
    },
    idleTimeoutSeconds: e.COLLAB_IDLE_TIMEOUT_SECONDS,
    edgeTransport: e.COLLAB_EDGE_TRANSPORT,
    access: { allowedHosts: e.COLLAB_ALLOWED_HOSTS, allowedOrigins: e.COLLAB_ALLOWED_ORIGINS },
    connections: {
      max: e.COLLAB_MAX_CONNECTIONS,
      maxPerAddress: e.COLLAB_MAX_CONNECTIONS_PER_IP,
      authTimeoutMs: e.COLLAB_AUTH_TIMEOUT_MS,
    },
    readApi:
      e.CASSANDRA_CONTACT_POINTS === undefined || e.CASSANDRA_CONTACT_POINTS.length === 0
        ? undefined
        : {
            cassandra: {
              contactPoints: e.CASSANDRA_CONTACT_POINTS,
              localDataCenter: e.CASSANDRA_LOCAL_DC,
              keyspace: e.CASSANDRA_KEYSPACE,
              security: cassandraSecurity.value,
            },
            /** The load path from the read side (undefined: documents load from the whole log). */
            load: e.COLLAB_LOAD_FROM_READ_SIDE === 'true' ? { projectionGroup: e.COLLAB_PROJECTION_GROUP } : undefined,
            s3:
              e.S3_ENDPOINT === undefined
                ? undefined
                : {
                    endpoint: e.S3_ENDPOINT,
                    region: e.S3_REGION,
                    bucket: e.S3_BUCKET,
                    prefix: e.S3_PREFIX,
                    ...s3Credentials(e),
                  },
          },
    /** Media uploads, when S3_ENDPOINT is given: keys {S3_PREFIX}media/... in COLLAB_MEDIA_BUCKET (default S3_BUCKET). */
    media:
      e.S3_ENDPOINT === undefined
        ? undefined
        : {
            maxBytes: e.COLLAB_MEDIA_MAX_BYTES,
            s3: {
              endpoint: e.S3_ENDPOINT,
              region: e.S3_REGION,
              bucket: e.COLLAB_MEDIA_BUCKET ?? e.S3_BUCKET,
              prefix: e.S3_PREFIX,
              ...s3Credentials(e),
            },
          },
    servePage: e.COLLAB_SERVE_PAGE === 'true',
    /** Comment threads and their limits; undefined: comments are off. */
    comments: e.COLLAB_COMMENTS === 'true' ? commentLimits(e, DEFAULT_COMMENT_LIMITS) : undefined,
    redis: redis.value,
  };
}

/** The configuration as an operator may see it: secrets replaced. */
export function redacted(config: CommandServiceConfig): unknown {
  return {
    ...config,
    auth: {
      ...config.auth,
      hs256Secret: config.auth.hs256Secret === undefined ? undefined : '[redacted]',
      rs256PublicKeys: `${config.auth.rs256PublicKeys.length} key(s)`,
    },
    kafka: { ...config.kafka, security: redactedKafkaSecurity(config.kafka.security) },
    redis: redactedRedis(config.redis),
    readApi:
      config.readApi === undefined
        ? undefined
        : {
            ...config.readApi,
            cassandra: {
              ...config.readApi.cassandra,
              security: redactedCassandraSecurity(config.readApi.cassandra.security),
            },
            s3:
              config.readApi.s3 === undefined
                ? undefined
                : {
                    ...config.readApi.s3,
                    credentials: config.readApi.s3.credentials === undefined ? undefined : '[redacted]',
                  },
          },
    media:
      config.media === undefined
        ? undefined
        : {
            ...config.media,
            s3: {
              ...config.media.s3,
              credentials: config.media.s3.credentials === undefined ? undefined : '[redacted]',
            },
          },
  };
}
