/**
 * Which stack a run uses, decided once from the environment (the only place besides endpoints.ts that reads it):
 *
 *   COLLAB_STACK=local     containers from our locally built images (infra/images, `npm run infra:images`)
 *   COLLAB_STACK=public    containers from the official public images (needs a registry; our CI has none)
 *   COLLAB_STACK=external  no containers: the servers named by KAFKA_BROKERS, CASSANDRA_CONTACT_POINTS,
 *                          S3_ENDPOINT and REDIS_URL
 *
 * Unset: `external` when the endpoint variables are set, otherwise `local`.
 */
import type { StackEndpoints } from './endpoints.js';
import { ENDPOINT_VARIABLES, endpointsFromEnv } from './endpoints.js';

export type StackSource = 'local' | 'public' | 'external';

export type StackChoice = { source: 'local' | 'public' } | { source: 'external'; endpoints: StackEndpoints };

export interface HarnessTimeouts {
  /** Per container: from `docker start` to the readiness log line and a successful client probe. */
  startupMs: number;
  /** Probing given (external) endpoints, all of them in parallel. */
  probeMs: number;
}

const SOURCES: readonly StackSource[] = ['local', 'public', 'external'];

export function chooseStack(env: NodeJS.ProcessEnv): StackChoice {
  const requested = env.COLLAB_STACK ?? '';
  if (requested !== '' && !(SOURCES as readonly string[]).includes(requested)) {
    throw new Error(`COLLAB_STACK=${requested} is not one of ${SOURCES.join(', ')}.`);
  }
  const endpoints = endpointsFromEnv(env);
  if (requested === 'external' || (requested === '' && endpoints !== undefined)) {
    if (endpoints === undefined) {
      throw new Error(`COLLAB_STACK=external needs ${ENDPOINT_VARIABLES.join(', ')}.`);
    }
    return { source: 'external', endpoints };
  }
  return { source: requested === 'public' ? 'public' : 'local' };
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name}=${raw} is not a positive integer.`);
  return value;
}

/**
 * How the JVMs of our local images compile: `fast` (default) stops at C1, which about halves Cassandra's start
 * on 2 cores — right for tests; `full` is the JVM's normal tiered compilation up to C2, as in production —
 * right for throughput benchmarks, at the price of a slower start and compile work while warming up.
 * COLLAB_STACK_JIT=fast|full.
 */
export function stackJit(env: NodeJS.ProcessEnv): 'fast' | 'full' {
  const raw = env.COLLAB_STACK_JIT ?? '';
  if (raw === '' || raw === 'fast') return 'fast';
  if (raw === 'full') return 'full';
  throw new Error(`COLLAB_STACK_JIT=${raw} is not one of fast, full.`);
}

export type StackKafka = 'single' | 'cluster';

/**
 * How many Kafka brokers a containers stack runs: `single` (default) is one combined broker and controller with
 * replication factors of one — fast to start, right for most tests; `cluster` is three KRaft nodes (each broker
 * and controller) with replication factor 3 and min.insync.replicas=2, for tests of broker failures.
 * COLLAB_STACK_KAFKA=single|cluster. With COLLAB_STACK=external the brokers are KAFKA_BROKERS, so `cluster`
 * there is an error rather than silently ignored.
 */
export function stackKafka(env: NodeJS.ProcessEnv, source: StackSource): StackKafka {
  const raw = env.COLLAB_STACK_KAFKA ?? '';
  if (raw === '' || raw === 'single') return 'single';
  if (raw !== 'cluster') throw new Error(`COLLAB_STACK_KAFKA=${raw} is not one of single, cluster.`);
  if (source === 'external') {
    throw new Error(
      'COLLAB_STACK_KAFKA=cluster starts Kafka containers; with external endpoints the brokers are KAFKA_BROKERS.',
    );
  }
  return 'cluster';
}

/**
 * Bounded by default: Cassandra is the slowest (~5 s here when idle, 20–30 s on a loaded 2-core CI machine),
 * so 120 s per container only trips on a real failure.
 */
export function harnessTimeouts(env: NodeJS.ProcessEnv): HarnessTimeouts {
  return {
    startupMs: positiveInt(env, 'COLLAB_STACK_STARTUP_TIMEOUT_MS', 120_000),
    probeMs: positiveInt(env, 'COLLAB_STACK_PROBE_TIMEOUT_MS', 20_000),
  };
}
