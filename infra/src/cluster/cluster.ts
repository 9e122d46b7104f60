/**
 * The whole distributed system on one machine (`npm run stack:up`), from the local images only: Kafka,
 * Cassandra, S3 and Redis (the test harness's containers, `startStack`), `collab migrate --mode distributed`
 * from the CLI image, two command-service instances behind HAProxy, the projection and snapshot services.
 * Everything carries the harness labels of one run (`CLUSTER_RUN_ID`), so `stopCluster` (and `infra:down`) find
 * it; services are stopped with SIGTERM first (they drain and exit 0), then everything is removed.
 *
 * Docker Compose is not available here (`docker compose` is missing from Debian's docker.io), so this module is
 * the compose file: the same containers, built through the harness's helpers.
 */
import { randomBytes } from 'node:crypto';
import { getContainerRuntimeClient } from 'testcontainers';
import { Wait } from 'testcontainers';
import { removeHarnessResources } from '../cleanup.js';
import {
  LABEL_HARNESS,
  LABEL_PURPOSE,
  LABEL_RUN,
  LoopbackContainer,
  S3_CREDENTIALS,
  SCHEMA_REGISTRY_API_PATH,
  containerName,
} from '../containers.js';
import { startStack } from '../harness.js';
import type { Logger } from '../log.js';
import { errorMessage } from '../probes.js';
import { haproxyConfig } from './haproxy.js';
import type { ServiceImages } from './images.js';
import { runJob } from './jobs.js';

/** One local cluster per Docker engine: its containers are `collab-it-stack-*`, its network `collab-it-stack`. */
export const CLUSTER_RUN_ID = 'stack';

export const COMMAND_INSTANCES = ['command-1', 'command-2'] as const;
const COMMAND_PORT = 8080;
const LB_PORT = 8080;
const LB_STATS_PORT = 8404;
const IDLE_TIMEOUT_SECONDS = 60;
const CHECK_INTERVAL_MS = 2000;
/** Readiness goes 503 this long before an instance closes its sockets: HAProxy needs 2 failed checks. */
const DRAIN_MS = 2 * CHECK_INTERVAL_MS + 1000;
/** Kafka session for the command-services: a killed instance's partitions move after about this long. */
const KAFKA_SESSION_MS = 10_000;
/** `docker stop` grace: above the drain plus the services' own shutdown deadline would be too long for a dev
 * stack; the drain plus a few seconds of closing is what a healthy stop takes. */
const STOP_GRACE_SECONDS = 30;

export interface ClusterOptions {
  images: ServiceImages;
  /** Host port of the load balancer, on 127.0.0.1. */
  port: number;
  startupTimeoutMs: number;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
}

export interface RunningCluster {
  runId: string;
  network: string;
  /** The load balancer: http://localhost:<port>. */
  baseUrl: string;
  /** The HS256 secret of this cluster's command-services (tokens: the CLI image's `collab token`). */
  jwtSecret: string;
  /** A 12 h read/write token for every document, user `editor`. */
  token: string;
  /** The editor's page with that token. */
  editorUrl: string;
  /** Host ports (127.0.0.1) of each container's main port, for inspection. */
  ports: Record<string, number>;
  /** Container names by role. */
  containers: Record<string, string>;
}

/** Addresses of the storage servers on the cluster's network (the services never use the host ports). */
function internalEnv(runId: string): Record<string, string> {
  return {
    KAFKA_BROKERS: `${containerName(runId, 'kafka')}:19092`,
    CASSANDRA_CONTACT_POINTS: `${containerName(runId, 'cassandra')}:9042`,
    CASSANDRA_LOCAL_DC: 'datacenter1',
    S3_ENDPOINT: `http://${containerName(runId, 's3')}:8080`,
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
    S3_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
    // The ops records framed with the registry's id, as the standard Kafka tools expect (docs/operations.md).
    COLLAB_SCHEMA_REGISTRY_URL: `http://${containerName(runId, 'schemaRegistry')}:8080${SCHEMA_REGISTRY_API_PATH}`,
  };
}

export const clusterContainerName = (role: string): string => `collab-it-${CLUSTER_RUN_ID}-${role}`;

async function clusterContainers(): Promise<Array<{ Id: string; Names: string[]; State: string }>> {
  const client = await getContainerRuntimeClient();
  return client.container.dockerode.listContainers({
    all: true,
    filters: { label: [`${LABEL_RUN}=${CLUSTER_RUN_ID}`] },
  });
}

export async function startCluster(options: ClusterOptions): Promise<RunningCluster> {
  const { images, logger, startupTimeoutMs } = options;
  const env = options.env ?? process.env;
  const runId = CLUSTER_RUN_ID;
  const leftovers = await clusterContainers();
  if (leftovers.length > 0) {
    throw new Error(
      `a local cluster already exists (${leftovers.map((c) => c.Names[0]?.replace(/^\//, '')).join(', ')}): ` +
        'remove it first with npm run stack:down',
    );
  }
  const started = Date.now();
  try {
    const storage = await startStack({ source: 'local', purpose: 'stack', runId, startupTimeoutMs, logger, env });
    const { network } = storage;
    const labels = { [LABEL_HARNESS]: '1', [LABEL_RUN]: runId, [LABEL_PURPOSE]: 'stack' };
    const servers = internalEnv(runId);
    const jwtSecret = randomBytes(32).toString('hex');

    const migrate = await runJob({
      image: images.cli,
      name: clusterContainerName('migrate'),
      network,
      labels,
      args: ['migrate', '--mode', 'distributed'],
      env: servers,
      timeoutMs: startupTimeoutMs,
    });
    if (migrate.exitCode !== 0) {
      throw new Error(`collab migrate --mode distributed exited ${migrate.exitCode}:\n${migrate.output}`);
    }
    logger.info({ output: migrate.output.split('\n').filter((l) => /^(kafka|cassandra|s3):/.test(l)) }, 'migrated');

    const service = (role: string, image: string, port: number, serviceEnv: Record<string, string>) =>
      new LoopbackContainer(image, port)
        .withName(clusterContainerName(role))
        .withNetworkMode(network)
        .withLabels(labels)
        .withEnvironment({ ...servers, ...serviceEnv })
        .withWaitStrategy(Wait.forLogMessage(/^\{"ready":true/m))
        .withStartupTimeout(startupTimeoutMs);
    const commandEnv = (instance: string): Record<string, string> => ({
      COLLAB_INSTANCE_ID: instance,
      COLLAB_JWT_SECRET: jwtSecret,
      REDIS_URL: `redis://${containerName(runId, 'redis')}:6379`,
      // Clients reach the instances through the balancer, under the name they typed.
      COLLAB_ALLOWED_HOSTS: 'localhost,127.0.0.1',
      // Every client arrives from the balancer's address.
      COLLAB_MAX_CONNECTIONS_PER_IP: '10000',
      COLLAB_IDLE_TIMEOUT_SECONDS: String(IDLE_TIMEOUT_SECONDS),
      COLLAB_SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
      COLLAB_KAFKA_SESSION_TIMEOUT_MS: String(KAFKA_SESSION_MS),
      COLLAB_KAFKA_HEARTBEAT_MS: String(KAFKA_SESSION_MS / 5),
    });
    const containers = [
      ...COMMAND_INSTANCES.map((instance) =>
        service(instance, images.commandService, COMMAND_PORT, commandEnv(instance)),
      ),
      service('projection', images.projectionService, 9465, {}),
      service('snapshot', images.snapshotService, 9466, {}),
    ];
    const roles = [...COMMAND_INSTANCES, 'projection', 'snapshot'];
    const ports: Record<string, number> = {};
    const results = await Promise.allSettled(
      containers.map(async (container, i) => {
        const t0 = Date.now();
        const running = await container.start();
        ports[roles[i]!] = running.getMappedPort(container.port);
        logger.info({ service: roles[i], ms: Date.now() - t0 }, 'ready');
      }),
    );
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected'
        ? [`  ${roles[i]}: ${errorMessage(r.reason)}\n${containers[i]!.logTail().replace(/^/gm, '    | ')}`]
        : [],
    );
    if (failed.length > 0) throw new Error(`services did not start:\n${failed.join('\n')}`);

    const config = haproxyConfig({
      backends: COMMAND_INSTANCES.map((name) => ({ name, host: clusterContainerName(name), port: COMMAND_PORT })),
      port: LB_PORT,
      statsPort: LB_STATS_PORT,
      serverIdleTimeoutSeconds: IDLE_TIMEOUT_SECONDS,
      checkIntervalMs: CHECK_INTERVAL_MS,
    });
    const lb = new LoopbackContainer(images.lb, LB_PORT, options.port === 0 ? undefined : options.port)
      .withName(clusterContainerName('lb'))
      .withNetworkMode(network)
      .withLabels(labels)
      .withCopyContentToContainer([{ content: config, target: '/etc/haproxy/haproxy.cfg', mode: 0o644 }])
      .withWaitStrategy(Wait.forLogMessage(/New worker .* forked|Loading success/))
      .withStartupTimeout(startupTimeoutMs);
    const lbRunning = await lb.start().catch((err: unknown) => {
      throw new Error(`the load balancer did not start: ${errorMessage(err)}\n${lb.logTail()}`);
    });
    ports.lb = lbRunning.getMappedPort(LB_PORT);
    const baseUrl = `http://localhost:${ports.lb}`;
    await untilReadyBehindBalancer(baseUrl, started + startupTimeoutMs);

    const minted = await runJob({
      image: images.cli,
      name: clusterContainerName('token'),
      network,
      labels,
      args: ['token', '--user', 'editor', '--name', 'Editor', '--expires', '12h'],
      env: { COLLAB_JWT_SECRET: jwtSecret },
      timeoutMs: 60_000,
    });
    const token = minted.output.trim().split('\n').pop() ?? '';
    if (minted.exitCode !== 0 || !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) {
      throw new Error(`collab token exited ${minted.exitCode}:\n${minted.output}`);
    }
    logger.info({ ms: Date.now() - started }, 'cluster ready');
    return {
      runId,
      network,
      baseUrl,
      jwtSecret,
      token,
      editorUrl: `${baseUrl}/?doc=welcome&name=Editor&token=${token}`,
      ports,
      containers: Object.fromEntries([...roles, 'lb'].map((role) => [role, clusterContainerName(role)])),
    };
  } catch (err) {
    await stopCluster(logger).catch((cleanup: unknown) =>
      logger.error({ err: errorMessage(cleanup) }, 'cleanup after a failed start failed; run npm run stack:down'),
    );
    throw err;
  }
}

/** `/readyz` through the balancer answers 200: an instance is ready and HAProxy's checks have seen it. */
async function untilReadyBehindBalancer(baseUrl: string, deadline: number): Promise<void> {
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = errorMessage(err);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${baseUrl}/readyz did not answer 200 before the start-up deadline (last: ${last})`);
}

export interface StoppedCluster {
  /** Exit code of each service after SIGTERM (0: stopped cleanly). */
  exitCodes: Record<string, number>;
  removed: string[];
}

/**
 * SIGTERM to the balancer and the services (in parallel: each drains on its own), waiting for their exit codes,
 * then removal of everything labelled with the cluster's run (storage included, data is not kept).
 */
export async function stopCluster(logger: Logger): Promise<StoppedCluster> {
  const client = await getContainerRuntimeClient();
  const docker = client.container.dockerode;
  const running = (await clusterContainers()).filter((c) => c.State === 'running');
  const graceful = running.filter((c) =>
    [...COMMAND_INSTANCES, 'projection', 'snapshot', 'lb'].some(
      (role) => c.Names[0] === `/${clusterContainerName(role)}`,
    ),
  );
  const exitCodes: Record<string, number> = {};
  await Promise.all(
    graceful.map(async (c) => {
      const container = docker.getContainer(c.Id);
      await container.stop({ t: STOP_GRACE_SECONDS }).catch(() => undefined);
      const state = (await container.inspect()).State;
      exitCodes[c.Names[0]!.replace(/^\//, '')] = state.ExitCode;
    }),
  );
  if (Object.keys(exitCodes).length > 0) logger.info({ exitCodes }, 'services stopped');
  const removed = await removeHarnessResources(CLUSTER_RUN_ID);
  return { exitCodes, removed: removed.containers };
}

/**
 * For fault tests: SIGKILL one member of the cluster (`command-1`, `projection`, ...) — no drain, no clean leave
 * of the consumer group, like a crash — and start the same container again (same name, network and environment;
 * the balancer re-resolves its address).
 */
export async function killClusterMember(role: string): Promise<void> {
  const client = await getContainerRuntimeClient();
  await client.container.dockerode.getContainer(clusterContainerName(role)).kill({ signal: 'SIGKILL' });
}

export async function restartClusterMember(role: string, timeoutMs = 120_000): Promise<void> {
  const client = await getContainerRuntimeClient();
  const container = client.container.dockerode.getContainer(clusterContainerName(role));
  const since = Math.floor(Date.now() / 1000);
  await container.start();
  // Ready again when its new ready line appears (the log keeps the first run's lines: only look past `since`).
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const logs = (await container.logs({ stdout: true, stderr: false, since })).toString('utf8');
    if (logs.includes('{"ready":true')) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${clusterContainerName(role)} printed no ready line within ${timeoutMs} ms of its restart`);
}
