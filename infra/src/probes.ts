/**
 * Readiness probes: one real client round trip per server (the log line alone is not enough: Kafka logs
 * "Kafka Server started" before its listener answers metadata requests on a slow machine, Cassandra logs
 * "Startup complete" a moment before CQL clients are served). Every probe is bounded in time and traffic goes
 * only to the endpoints given (127.0.0.1 ports mapped from our containers, or the external servers named).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import cassandra from 'cassandra-driver';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import type { StackEndpoints } from './endpoints.js';
import { bestEffort } from '@collab/core';

export type Service = 'kafka' | 'cassandra' | 's3' | 'redis' | 'schemaRegistry';
export const SERVICES: readonly Service[] = ['kafka', 'cassandra', 's3', 'redis', 'schemaRegistry'];

/** The services an endpoint set has (the schema registry is optional for external endpoints). */
export const servicesOf = (endpoints: StackEndpoints): Service[] =>
  SERVICES.filter((s) => s !== 'schemaRegistry' || endpoints.schemaRegistry !== undefined);

/** Rejects with `what timed out after N ms` unless `work` settles first. */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function probeKafka(brokers: string[], timeoutMs: number): Promise<string> {
  const kafka = new Kafka({
    clientId: 'collab-infra-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(timeoutMs, 3000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return `cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s)`;
  } finally {
    await bestEffort(admin.disconnect());
  }
}

export async function probeCassandra(endpoints: StackEndpoints['cassandra'], timeoutMs: number): Promise<string> {
  const client = new cassandra.Client({
    contactPoints: endpoints.contactPoints,
    localDataCenter: endpoints.localDataCenter,
    socketOptions: { connectTimeout: Math.min(timeoutMs, 5000), readTimeout: timeoutMs },
    // One attempt: the caller owns retrying, bounded by its own deadline.
    policies: { reconnection: new cassandra.policies.reconnection.ConstantReconnectionPolicy(60_000) },
  });
  try {
    await client.connect();
    const result = await client.execute('SELECT release_version FROM system.local');
    return `Cassandra ${String(result.first()?.get('release_version'))}`;
  } finally {
    await bestEffort(client.shutdown());
  }
}

export function s3Client(endpoints: StackEndpoints['s3']): S3Client {
  return new S3Client({
    endpoint: endpoints.endpoint,
    region: endpoints.region,
    credentials: { accessKeyId: endpoints.accessKeyId, secretAccessKey: endpoints.secretAccessKey },
    forcePathStyle: true, // S3Proxy, MinIO and s3mock serve path-style URLs on one host:port
    maxAttempts: 1,
  });
}

export async function probeS3(endpoints: StackEndpoints['s3'], timeoutMs: number): Promise<string> {
  const client = s3Client(endpoints);
  try {
    const out = await client.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(timeoutMs) });
    return `${out.Buckets?.length ?? 0} bucket(s)`;
  } finally {
    client.destroy();
  }
}

export async function probeRedis(url: string, timeoutMs: number): Promise<string> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: Math.min(timeoutMs, 3000),
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null, // no reconnect loop: the caller retries within its deadline
  });
  redis.on('error', () => undefined); // reported through the rejected promise instead of ioredis' console warning
  try {
    await redis.connect();
    return `PING ${await redis.ping()}`;
  } finally {
    redis.disconnect();
  }
}

/** GET /subjects: the Confluent API answers with a JSON array once the registry serves requests. */
export async function probeSchemaRegistry(url: string, timeoutMs: number): Promise<string> {
  const response = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`GET ${url}/subjects answered ${response.status}`);
  const subjects = (await response.json()) as unknown;
  if (!Array.isArray(subjects)) throw new Error(`GET ${url}/subjects did not answer a JSON array`);
  return `${subjects.length} subject(s)`;
}

export function probe(service: Service, endpoints: StackEndpoints, timeoutMs: number): Promise<string> {
  const attempt = (): Promise<string> => {
    switch (service) {
      case 'kafka':
        return probeKafka(endpoints.kafka.brokers, timeoutMs);
      case 'cassandra':
        return probeCassandra(endpoints.cassandra, timeoutMs);
      case 's3':
        return probeS3(endpoints.s3, timeoutMs);
      case 'redis':
        return probeRedis(endpoints.redis.url, timeoutMs);
      case 'schemaRegistry':
        return probeSchemaRegistry(endpoints.schemaRegistry?.url ?? '(none)', timeoutMs);
    }
  };
  return withTimeout(attempt(), timeoutMs, `${service} probe`);
}

/**
 * Repeats the probe until it succeeds or `deadline` (epoch ms) passes; rethrows the last error. Polling is the
 * only way to learn that a remote server has become ready, so this is the one place with a pause between tries.
 */
export async function probeUntil(service: Service, endpoints: StackEndpoints, deadline: number): Promise<string> {
  let last: unknown;
  for (let attempt = 0; ; attempt++) {
    const remaining = deadline - Date.now();
    // At least one real attempt, even when the container took the whole budget to log its readiness line:
    // "ready but slow" and "not answering" are different failures.
    if (remaining <= 0 && attempt > 0) break;
    try {
      return await probe(service, endpoints, Math.max(1000, Math.min(remaining, 10_000)));
    } catch (err) {
      last = err;
    }
    await delay(Math.min(200 * 2 ** attempt, 2000, Math.max(0, deadline - Date.now())));
  }
  throw last instanceof Error ? last : new Error(`${service} probe did not succeed before the deadline`);
}

/** Where a service is, for error messages: the variable a developer would fix and its value. */
export function describeEndpoint(service: Service, endpoints: StackEndpoints): string {
  switch (service) {
    case 'kafka':
      return `KAFKA_BROKERS=${endpoints.kafka.brokers.join(',')}`;
    case 'cassandra':
      return `CASSANDRA_CONTACT_POINTS=${endpoints.cassandra.contactPoints.join(',')}`;
    case 's3':
      return `S3_ENDPOINT=${endpoints.s3.endpoint}`;
    case 'redis':
      return `REDIS_URL=${endpoints.redis.url}`;
    case 'schemaRegistry':
      return `SCHEMA_REGISTRY_URL=${endpoints.schemaRegistry?.url ?? ''}`;
  }
}

/**
 * Checks all the endpoints in parallel within `timeoutMs`; throws one error naming every server that did not
 * answer (which variable, which address, why), so a wrong or dead endpoint is obvious within a bounded time.
 */
export async function checkEndpoints(
  endpoints: StackEndpoints,
  timeoutMs: number,
): Promise<Partial<Record<Service, string>>> {
  const deadline = Date.now() + timeoutMs;
  const services = servicesOf(endpoints);
  const results = await Promise.allSettled(services.map((s) => probeUntil(s, endpoints, deadline)));
  const failures: string[] = [];
  const details: Partial<Record<Service, string>> = {};
  results.forEach((result, i) => {
    const service = services[i]!;
    if (result.status === 'fulfilled') details[service] = result.value;
    else failures.push(`  ${service} (${describeEndpoint(service, endpoints)}): ${errorMessage(result.reason)}`);
  });
  if (failures.length > 0) {
    throw new Error(
      `Integration stack (${endpoints.mode}): ${failures.length} endpoint(s) did not answer within ${timeoutMs} ms:\n` +
        failures.join('\n'),
    );
  }
  return details;
}

export function errorMessage(err: unknown): string {
  if (err instanceof AggregateError) return err.errors.map(errorMessage).join('; ');
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
