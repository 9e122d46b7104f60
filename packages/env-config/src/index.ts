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

/**
 * How a process stops on SIGTERM/SIGINT (every service and `collab serve`): readiness turns to 503, the process
 * keeps serving COLLAB_SHUTDOWN_DRAIN_MS (so load balancers stop sending it anything), then closes in order; it
 * exits within COLLAB_SHUTDOWN_TIMEOUT_MS of the signal whatever its backends do (exit code 1 past it). The
 * default deadline is below Kubernetes' default grace period (30 s), so the process's own log line says what hung.
 */
export const shutdownEnv = {
  COLLAB_SHUTDOWN_DRAIN_MS: int(0, 600_000).default(0),
  COLLAB_SHUTDOWN_TIMEOUT_MS: int(100, 3_600_000).default(25_000),
};

/** What a process's entry point hands to the process kit (@collab/observability), from `shutdownEnv`. */
export function shutdownSettings(e: { COLLAB_SHUTDOWN_DRAIN_MS: number; COLLAB_SHUTDOWN_TIMEOUT_MS: number }): {
  drainMs: number;
  timeoutMs: number;
} {
  return { drainMs: e.COLLAB_SHUTDOWN_DRAIN_MS, timeoutMs: e.COLLAB_SHUTDOWN_TIMEOUT_MS };
}

/** Every service: its instance id, metrics port, OTLP endpoint, log level and how it stops. */
export const serviceEnv = (metricsPort: number) => ({
  ...shutdownEnv,
  COLLAB_INSTANCE_ID: z.string().min(1).optional(),
  COLLAB_METRICS_PORT: int(0, 65535).default(metricsPort),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  /** The OpenTelemetry variable (ms between OTLP metric pushes); the SDK's default is 60 s, ours 10 s. */
  OTEL_METRIC_EXPORT_INTERVAL: int(100, 3_600_000).default(10_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** What a service's entry point hands to `startTelemetry`, from the variables of `serviceEnv`. */
export function telemetrySettings(e: {
  COLLAB_METRICS_PORT: number;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_METRIC_EXPORT_INTERVAL: number;
}): { prometheusPort: number; otlpEndpoint?: string; otlpMetricIntervalMs: number } {
  return {
    prometheusPort: e.COLLAB_METRICS_PORT,
    ...(e.OTEL_EXPORTER_OTLP_ENDPOINT === undefined ? {} : { otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT }),
    otlpMetricIntervalMs: e.OTEL_METRIC_EXPORT_INTERVAL,
  };
}

/**
 * The ops topic's partition count when COLLAB_OPS_PARTITIONS is not given: one number for everything that creates
 * the topic (`collab migrate`, `npm run infra:up`, `COLLAB_PROVISION=true`) and everything that opens it (every
 * service, the CLI, the rebuild), so the defaults never disagree. Why 6 (docs/operations.md, Kafka): partitions
 * are the unit of scale-out, but each one an instance owns commits its own chain of Kafka transactions, so a
 * small box pays for every partition beyond the instance count (ack p50 on one instance: 39 ms with 4 partitions,
 * 81 ms with 12). 6 splits evenly over 1, 2, 3 or 6 instances — the local cluster runs two command-services —
 * and is what `infra:up` has always created, so an existing dev topic keeps matching.
 */
export const DEFAULT_OPS_PARTITIONS = 6;
export const DEFAULT_OPS_TOPIC = 'collab.ops';
export const DEFAULT_COMMANDS_TOPIC = 'collab.commands';
export const DEFAULT_REPLIES_TOPIC = 'collab.replies';

/** The op log: the brokers, the ops topic and its partition count. */
export const opsTopicEnv = {
  KAFKA_BROKERS: hosts,
  COLLAB_OPS_TOPIC: z.string().min(1).default(DEFAULT_OPS_TOPIC),
  COLLAB_OPS_PARTITIONS: int(1, 10_000).default(DEFAULT_OPS_PARTITIONS),
  COLLAB_SCHEMA_REGISTRY_URL: z.string().url().optional(),
  COLLAB_SCHEMA_REGISTRY_ID_CACHE: z.string().min(1).optional(),
  COLLAB_OPS_SCHEMA_VERSION: int(1).optional(),
};

/**
 * The ops records' schema registry (docs/operations.md, "Schema registry"): with COLLAB_SCHEMA_REGISTRY_URL, the
 * op log frames records with the id the registry assigns and looks unknown ids up in it; without it, the local
 * schema ids (as before registries). COLLAB_SCHEMA_REGISTRY_ID_CACHE: a file remembering the id, so a restart
 * while the registry is down still starts.
 */
export function schemaRegistrySettings(e: {
  COLLAB_SCHEMA_REGISTRY_URL?: string | undefined;
  COLLAB_SCHEMA_REGISTRY_ID_CACHE?: string | undefined;
}): { url: string; idCachePath?: string } | undefined {
  if (e.COLLAB_SCHEMA_REGISTRY_URL === undefined) return undefined;
  return {
    url: e.COLLAB_SCHEMA_REGISTRY_URL,
    ...(e.COLLAB_SCHEMA_REGISTRY_ID_CACHE === undefined ? {} : { idCachePath: e.COLLAB_SCHEMA_REGISTRY_ID_CACHE }),
  };
}

/**
 * COLLAB_OPS_SCHEMA_VERSION, the rolling-upgrade switch of a deployment without a schema registry
 * (docs/operations.md, "Upgrade order"): the op-committed schema version the writer encodes with (default the
 * newest; the op log refuses a version @collab/schemas does not have when it opens, naming those it has). A release that writes v2 sets it to 1 until every reader runs a release that reads v2,
 * since a reader of an older release refuses the local id of a schema it does not know. With a registry there is
 * nothing to switch (old readers resolve the new schema by its registry id), and the variable is refused.
 */
export function opsSchemaVersionSetting(e: {
  COLLAB_OPS_SCHEMA_VERSION?: string | undefined;
  COLLAB_SCHEMA_REGISTRY_URL?: string | undefined;
}): { value: number | undefined; problems: string[] } {
  const raw = e.COLLAB_OPS_SCHEMA_VERSION ?? '';
  if (raw === '') return { value: undefined, problems: [] };
  const problems: string[] = [];
  const version = Number(raw);
  if (!Number.isSafeInteger(version) || version < 1) {
    problems.push(`COLLAB_OPS_SCHEMA_VERSION: a schema version (1, 2, ...), not ${raw}`);
  }
  if ((e.COLLAB_SCHEMA_REGISTRY_URL ?? '') !== '') {
    problems.push(
      'COLLAB_OPS_SCHEMA_VERSION: only without COLLAB_SCHEMA_REGISTRY_URL (with a registry, readers of older releases resolve the newest schema by its id; unset it)',
    );
  }
  return { value: problems.length === 0 ? version : undefined, problems };
}

/**
 * The command bus beside the ops topic (multi-instance command-services): submissions forwarded to a document's
 * owner (same partition count as the ops topic) and the owner's replies.
 */
export const commandTopicsEnv = {
  COLLAB_COMMANDS_TOPIC: z.string().min(1).default(DEFAULT_COMMANDS_TOPIC),
  COLLAB_REPLIES_TOPIC: z.string().min(1).default(DEFAULT_REPLIES_TOPIC),
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
  // Media uploads (keys under {S3_PREFIX}media/): a bucket of their own is advised, as media are primary data and
  // snapshots derived (docs/operations.md, "Media"). Unset: S3_BUCKET.
  COLLAB_MEDIA_BUCKET: z.string().min(3).optional(),
};

/**
 * Media uploads (POST /v1/docs/:docId/media): the largest accepted image, in bytes (10 MiB by default, at most
 * 1 GiB: an upload is held in memory until it is checked and stored).
 */
export const mediaEnv = {
  COLLAB_MEDIA_MAX_BYTES: int(1, 1024 * 1024 * 1024).default(10 * 1024 * 1024),
};

/**
 * The limits of comment threads (docs/comments.md, docs/protocol.md "Comments"): code points per message, threads
 * per document, messages per thread. Unset, each keeps the default the composition root passes to
 * `commentLimits` (DEFAULT_COMMENT_LIMITS of @collab/core), so the defaults have one definition.
 */
export const commentLimitsEnv = {
  COLLAB_COMMENT_MAX_MESSAGE_CHARS: int(1, 1_000_000).optional(),
  COLLAB_COMMENT_MAX_THREADS: int(1, 1_000_000).optional(),
  COLLAB_COMMENT_MAX_MESSAGES_PER_THREAD: int(1, 1_000_000).optional(),
};

export interface CommentLimitSettings {
  maxCommentLength: number;
  maxThreadsPerDocument: number;
  maxMessagesPerThread: number;
}

export function commentLimits(
  e: {
    COLLAB_COMMENT_MAX_MESSAGE_CHARS?: number | undefined;
    COLLAB_COMMENT_MAX_THREADS?: number | undefined;
    COLLAB_COMMENT_MAX_MESSAGES_PER_THREAD?: number | undefined;
  },
  defaults: CommentLimitSettings,
): CommentLimitSettings {
  return {
    maxCommentLength: e.COLLAB_COMMENT_MAX_MESSAGE_CHARS ?? defaults.maxCommentLength,
    maxThreadsPerDocument: e.COLLAB_COMMENT_MAX_THREADS ?? defaults.maxThreadsPerDocument,
    maxMessagesPerThread: e.COLLAB_COMMENT_MAX_MESSAGES_PER_THREAD ?? defaults.maxMessagesPerThread,
  };
}

/** A comma-separated allow-list whose every item matches `pattern`; `*` alone (or among others) allows anything. */
const allowList = (pattern: RegExp, what: string) =>
  list.pipe(
    z
      .array(z.string())
      .min(1, `give at least one ${what}, or *`)
      .refine((items) => items.every((i) => i === '*' || pattern.test(i)), `each item is ${what}, or *`),
  );

/** A host name, an IPv4 address or a bracketed IPv6 address, optionally with a port. */
const HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:\d{1,5})?$/i;
/** A browser origin: http(s)://host[:port], nothing after it. */
const ORIGIN = /^https?:\/\/(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:\d{1,5})?$/i;

/**
 * The edge of a service that accepts connections (the command-service, `collab serve`): which Host names and
 * browser Origins its HTTP routes and WebSocket upgrade answer (unset: the loopback names with the bound port on a
 * loopback bind, any name otherwise; an Origin must then be the Host the request was sent to), how many
 * connections it holds, in all and per client address, how long a connection may stay unauthenticated, and which
 * WebSocket server serves it.
 */
export const edgeEnv = {
  COLLAB_ALLOWED_HOSTS: allowList(HOST, 'a host or host:port (no scheme)').optional(),
  COLLAB_ALLOWED_ORIGINS: allowList(ORIGIN, 'an origin http(s)://host[:port] (no path)').optional(),
  COLLAB_MAX_CONNECTIONS: int(1).default(10_000),
  COLLAB_MAX_CONNECTIONS_PER_IP: int(1).default(256),
  COLLAB_AUTH_TIMEOUT_MS: int(100, 600_000).default(10_000),
  /** The WebSocket server: uWebSockets.js when its binary loads here (Node 20), else `ws`; or one of them. */
  COLLAB_EDGE_TRANSPORT: z.enum(['auto', 'uws', 'ws']).default('auto'),
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

export { ConfigError } from './config-error.js';

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
