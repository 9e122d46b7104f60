/**
 * Starts the whole stack in containers: one user-defined network for the run, the five servers in parallel,
 * each ready only when its log says so and a real client round trip succeeds, all within a bounded time.
 * On any failure everything already started is removed and the error names each server that failed, with
 * the last lines of its log.
 */
import { randomBytes } from 'node:crypto';
import { getContainerRuntimeClient } from 'testcontainers';
import type { ContainerContext, LoopbackContainer } from './containers.js';
import {
  LABEL_HARNESS,
  LABEL_PURPOSE,
  LABEL_RUN,
  S3_CREDENTIALS,
  cassandraContainer,
  kafkaContainer,
  SCHEMA_REGISTRY_API_PATH,
  redisContainer,
  s3Container,
  schemaRegistryContainer,
} from './containers.js';
import { stackJit, stackKafka } from './config.js';
import type { KafkaCluster } from './kafka-cluster.js';
import { startKafkaNodes } from './kafka-cluster.js';
import { removeHarnessResources } from './cleanup.js';
import { prepareTestcontainers } from './docker.js';
import { freePort } from './ports.js';
import type { StackEndpoints } from './endpoints.js';
import type { StackImages } from './images.js';
import { assertLocalImagesPresent, localImages, publicImages } from './images.js';
import type { Logger } from './log.js';
import type { Service } from './probes.js';
import { SERVICES, errorMessage, probeUntil } from './probes.js';

export interface StartOptions {
  source: 'local' | 'public';
  /** Labels every container and the network; `infra:down --run <id>` removes one run. */
  runId?: string;
  /** `test` for a mocha run, `up` for `npm run infra:up`, `stack` for `npm run stack:up` (the whole system). */
  purpose: 'test' | 'up' | 'stack';
  startupTimeoutMs: number;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /** Publish every server on a 127.0.0.1 port chosen beforehand, kept across a stop and start (fault runs). */
  fixedHostPorts?: boolean;
}

export interface RunningStack {
  runId: string;
  network: string;
  images: StackImages;
  endpoints: StackEndpoints;
  /** The three brokers, with their fault helpers, when the run asked for COLLAB_STACK_KAFKA=cluster. */
  kafkaCluster?: KafkaCluster;
  /** Removes the containers and the network. Idempotent. */
  stop(): Promise<void>;
}

export const newRunId = (): string => `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

const BUILDERS: Record<Service, (image: string, ctx: ContainerContext) => LoopbackContainer> = {
  kafka: kafkaContainer,
  cassandra: cassandraContainer,
  s3: s3Container,
  redis: redisContainer,
  schemaRegistry: schemaRegistryContainer,
};

function endpointsFor(
  source: 'local' | 'public',
  ports: Partial<Record<Service, number>>,
  kafkaBrokers?: string[],
): StackEndpoints {
  const at = (service: Service): string => `127.0.0.1:${ports[service] ?? 0}`;
  return {
    mode: source === 'local' ? 'local-images' : 'public-images',
    kafka: { brokers: kafkaBrokers ?? [at('kafka')] },
    cassandra: { contactPoints: [at('cassandra')], localDataCenter: 'datacenter1' },
    s3: { endpoint: `http://${at('s3')}`, region: 'us-east-1', ...S3_CREDENTIALS },
    redis: { url: `redis://${at('redis')}` },
    schemaRegistry: { url: `http://${at('schemaRegistry')}${SCHEMA_REGISTRY_API_PATH}` },
  };
}

export async function startStack(options: StartOptions): Promise<RunningStack> {
  const { source, purpose, startupTimeoutMs, logger } = options;
  const env = options.env ?? process.env;
  const runId = options.runId ?? newRunId();
  const started = Date.now();
  const kafkaTopology = stackKafka(env, source); // validated before anything is created
  prepareTestcontainers(env);
  const client = await getContainerRuntimeClient();
  const images = source === 'local' ? await localImages() : publicImages(env);
  if (source === 'local') await assertLocalImagesPresent(client, images);

  const labels = { [LABEL_HARNESS]: '1', [LABEL_RUN]: runId, [LABEL_PURPOSE]: purpose };
  const network = `collab-it-${runId}`;
  await client.network.create({ Name: network, Driver: 'bridge', CheckDuplicate: true, Labels: labels });
  logger.info({ runId, source, network, images }, 'starting integration stack');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= removeHarnessResources(runId).then((removed) =>
      logger.info({ runId, ...removed }, 'integration stack removed'),
    ));

  const ctx: ContainerContext = {
    runId,
    network,
    labels,
    startupTimeoutMs,
    public: source === 'public',
    jit: stackJit(env),
    ...(options.fixedHostPorts === true ? { hostPorts: await chooseHostPorts() } : {}),
  };
  const deadline = started + startupTimeoutMs;
  const ports: Partial<Record<Service, number>> = {};
  let kafkaCluster: KafkaCluster | undefined;
  const containers = SERVICES.map((service) => BUILDERS[service](images[service], ctx));

  const results = await Promise.allSettled(
    SERVICES.map(async (service, i) => {
      const t0 = Date.now();
      const container = containers[i]!;
      if (service === 'kafka' && kafkaTopology === 'cluster') {
        kafkaCluster = await startKafkaNodes(images.kafka, ctx);
      } else {
        const running = await container.start();
        ports[service] = running.getMappedPort(container.port);
      }
      // Log line seen; now the real client round trip, within what is left of this container's budget.
      const detail = await probeUntil(
        service,
        endpointsFor(source, ports, kafkaCluster?.brokers),
        t0 + startupTimeoutMs,
      );
      logger.info({ service, ms: Date.now() - t0, port: ports[service], detail }, 'ready');
    }),
  );

  // A cluster's error already carries each node's log lines (the unused single-broker container has none).
  const tailOf = (i: number): string =>
    SERVICES[i] === 'kafka' && kafkaTopology === 'cluster'
      ? ''
      : `\n    last log lines:\n${indent(containers[i]!.logTail(), '      | ')}`;
  const failures = results.flatMap((result, i) =>
    result.status === 'rejected'
      ? [`  ${SERVICES[i]} (${images[SERVICES[i]!]}): ${errorMessage(result.reason)}${tailOf(i)}`]
      : [],
  );
  if (failures.length > 0) {
    await stop().catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'cleanup after failure failed'));
    throw new Error(
      `Integration stack (${source} images) did not start within ${startupTimeoutMs} ms per container:\n` +
        `${failures.join('\n')}\n` +
        `(deadline ${new Date(deadline).toISOString()}; raise COLLAB_STACK_STARTUP_TIMEOUT_MS on a slow machine)`,
    );
  }
  const endpoints = endpointsFor(source, ports, kafkaCluster?.brokers);
  logger.info({ runId, ms: Date.now() - started, endpoints, kafka: kafkaTopology }, 'integration stack ready');
  return { runId, network, images, endpoints, ...(kafkaCluster === undefined ? {} : { kafkaCluster }), stop };
}

async function chooseHostPorts(): Promise<Partial<Record<Service, number>>> {
  const ports: Partial<Record<Service, number>> = {};
  for (const service of SERVICES) ports[service] = await freePort();
  return ports;
}

function indent(text: string, prefix: string): string {
  return text === '' ? `${prefix}(no output)` : text.replace(/^/gm, prefix);
}
