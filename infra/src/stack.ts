/**
 * The one way tests get the integration stack: `await useStack()`. The stack is started once per test run and
 * shared by every suite. Today: endpoints from the environment only; the Testcontainers harness (local images,
 * public images) plugs in here.
 */
import type { StackEndpoints } from './endpoints.js';
import { endpointsFromEnv } from './endpoints.js';

let stack: Promise<StackEndpoints> | undefined;

export function useStack(): Promise<StackEndpoints> {
  stack ??= (async () => {
    const external = endpointsFromEnv(process.env);
    if (external !== undefined) return external;
    throw new Error('No integration stack: set KAFKA_BROKERS, CASSANDRA_CONTACT_POINTS, S3_ENDPOINT and REDIS_URL.');
  })();
  return stack;
}
