/**
 * Where the integration stack's servers are. Tests never read `process.env` themselves: they ask the harness
 * (`useStack()`), which either starts containers or takes existing endpoints from the environment.
 */

export interface StackEndpoints {
  /** How the stack was obtained: our locally built images, the official public images, or given endpoints. */
  mode: 'local-images' | 'public-images' | 'external';
  kafka: { brokers: string[] };
  cassandra: { contactPoints: string[]; localDataCenter: string };
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
  redis: { url: string };
  /**
   * A Confluent-compatible schema registry (its API root, e.g. `http://127.0.0.1:PORT/apis/ccompat/v6`). Always
   * there for containers; for external endpoints only when SCHEMA_REGISTRY_URL is given (existing setups
   * without one keep working; a test that needs it fails naming the variable, see requireSchemaRegistry).
   */
  schemaRegistry?: { url: string };
}

/** The variables that point the tests at existing servers (no containers at all). */
export const ENDPOINT_VARIABLES = ['KAFKA_BROKERS', 'CASSANDRA_CONTACT_POINTS', 'S3_ENDPOINT', 'REDIS_URL'] as const;
/** Optional with the four above: the schema registry's Confluent-compatible API root. */
export const SCHEMA_REGISTRY_VARIABLE = 'SCHEMA_REGISTRY_URL';

const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

/**
 * Endpoints from the environment, when every server is given (KAFKA_BROKERS, CASSANDRA_CONTACT_POINTS,
 * S3_ENDPOINT, REDIS_URL; optional CASSANDRA_LOCAL_DC, S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY).
 * Returns undefined when none is given; throws listing what is missing when only some are.
 */
export function endpointsFromEnv(env: NodeJS.ProcessEnv): StackEndpoints | undefined {
  const given = ENDPOINT_VARIABLES.filter((name) => (env[name] ?? '') !== '');
  if (given.length === 0) return undefined;
  const missing = ENDPOINT_VARIABLES.filter((name) => !given.includes(name));
  if (missing.length > 0) {
    throw new Error(
      `Existing endpoints are given for ${given.join(', ')} but not for ${missing.join(', ')}: give all four or none.`,
    );
  }
  return {
    mode: 'external',
    kafka: { brokers: list(env.KAFKA_BROKERS!) },
    cassandra: {
      contactPoints: list(env.CASSANDRA_CONTACT_POINTS!),
      localDataCenter: env.CASSANDRA_LOCAL_DC ?? 'datacenter1',
    },
    s3: {
      endpoint: env.S3_ENDPOINT!,
      region: env.S3_REGION ?? 'us-east-1',
      accessKeyId: env.S3_ACCESS_KEY_ID ?? 'collab',
      secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? 'collab-secret',
    },
    redis: { url: env.REDIS_URL! },
    ...((env[SCHEMA_REGISTRY_VARIABLE] ?? '') === ''
      ? {}
      : { schemaRegistry: { url: env[SCHEMA_REGISTRY_VARIABLE]! } }),
  };
}

/** The registry of a stack, or an error naming what to set: for tests that need one (never skipped). */
export function requireSchemaRegistry(endpoints: StackEndpoints): { url: string } {
  if (endpoints.schemaRegistry === undefined) {
    throw new Error(
      `This test needs a schema registry: the stack (${endpoints.mode}) has none. Set ${SCHEMA_REGISTRY_VARIABLE} ` +
        `(e.g. http://127.0.0.1:PORT/apis/ccompat/v6) with the other endpoint variables, or let the harness start containers.`,
    );
  }
  return endpoints.schemaRegistry;
}

/** The inverse of endpointsFromEnv: the variables that point another process at these endpoints. */
export function endpointsToEnv(endpoints: StackEndpoints): Record<string, string> {
  return {
    KAFKA_BROKERS: endpoints.kafka.brokers.join(','),
    CASSANDRA_CONTACT_POINTS: endpoints.cassandra.contactPoints.join(','),
    CASSANDRA_LOCAL_DC: endpoints.cassandra.localDataCenter,
    S3_ENDPOINT: endpoints.s3.endpoint,
    S3_REGION: endpoints.s3.region,
    S3_ACCESS_KEY_ID: endpoints.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: endpoints.s3.secretAccessKey,
    REDIS_URL: endpoints.redis.url,
    ...(endpoints.schemaRegistry === undefined ? {} : { [SCHEMA_REGISTRY_VARIABLE]: endpoints.schemaRegistry.url }),
  };
}

/** The stack's S3 server as the S3 clients and stores of @collab/adapter-s3 take it: endpoint, region, credentials. */
export const s3ClientConfig = (s3: StackEndpoints['s3']) => ({
  endpoint: s3.endpoint,
  region: s3.region,
  credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
});
