/**
 * The system under test, as the chaos run starts it: the harness's containers with three Kafka brokers
 * (COLLAB_STACK_KAFKA=cluster: replication factor 3, min.insync.replicas=2), Cassandra, S3, Redis and the schema
 * registry, each on a 127.0.0.1 port kept across a stop and start; `collab migrate --mode distributed`; then two
 * command-service instances (a consumer group sharing the partitions, forwarding through the commands topic,
 * presence on Redis), the projection-service and the snapshot-service as real processes, each started the way an
 * operator starts it (entry point + environment).
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { containerName, createLogger, endpointsToEnv, freePort, startStack, type RunningStack } from '@collab/infra';
import type { KafkaCluster } from '@collab/infra';
import type { Isolation } from './isolation.js';
import { COMMAND_INSTANCES, SERVICES, STORES } from './schedule.js';
import { ServiceProcess, type ServiceSpec } from './service-process.js';

const run = promisify(execFile);

export const JWT_SECRET = 'chaos-run-secret-chaos-run-secret-0123456789';
export const OPS_TOPIC = 'chaos.ops';
export const PARTITIONS = 6;
export const KEYSPACE = 'collab_chaos';
export const BUCKET = 'collab-chaos';

export interface System {
  stack: RunningStack;
  cluster: KafkaCluster;
  services: Map<(typeof SERVICES)[number], ServiceProcess>;
  /** The command-service instances' WebSocket URLs, in COMMAND_INSTANCES order. */
  wsUrls: string[];
  /** Container names of the stores and the brokers (broker-1..3). */
  containers: Record<string, string>;
  /** The brokers' 127.0.0.1 ports (a partition drops packets to these). */
  brokerPorts: number[];
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startSystem(options: {
  repo: string;
  runId: string;
  logDir: string;
  isolation: Isolation;
  say: (line: string) => void;
}): Promise<System> {
  const { repo, runId, logDir, isolation, say } = options;
  mkdirSync(logDir, { recursive: true });
  const t0 = Date.now();
  const stack = await startStack({
    source: 'local',
    purpose: 'test',
    runId,
    startupTimeoutMs: 300_000,
    logger: createLogger('silent'),
    // process.env itself: the harness also sets Testcontainers' variables there (no Ryuk: no registry here).
    env: Object.assign(process.env, { COLLAB_STACK_KAFKA: 'cluster' }),
    fixedHostPorts: true,
  });
  const services = new Map<(typeof SERVICES)[number], ServiceProcess>();
  const stop = async () => {
    for (const s of services.values()) {
      await s.stop(15_000).catch(() => {});
      s.close();
    }
    await stack.stop();
  };
  try {
    const cluster = stack.kafkaCluster;
    if (cluster === undefined) throw new Error('the harness started no Kafka cluster (COLLAB_STACK_KAFKA=cluster)');
    say(`stack: 3 brokers, Cassandra, S3, Redis, schema registry in ${Math.round((Date.now() - t0) / 1000)} s`);
    const env: Record<string, string> = {
      ...endpointsToEnv(stack.endpoints),
      ...(stack.endpoints.schemaRegistry === undefined
        ? {}
        : { COLLAB_SCHEMA_REGISTRY_URL: stack.endpoints.schemaRegistry.url }),
      COLLAB_OPS_TOPIC: OPS_TOPIC,
      COLLAB_OPS_PARTITIONS: String(PARTITIONS),
      COLLAB_COMMANDS_TOPIC: 'chaos.commands',
      COLLAB_REPLIES_TOPIC: 'chaos.replies',
      COLLAB_KAFKA_REPLICATION_FACTOR: '3',
      CASSANDRA_KEYSPACE: KEYSPACE,
      CASSANDRA_REPLICATION_FACTOR: '1',
      S3_BUCKET: BUCKET,
      LOG_LEVEL: 'info',
      COLLAB_METRICS_PORT: '0',
    };
    say(`migrate: ${await migrate(repo, env, say)}`);

    const ports = await Promise.all(COMMAND_INSTANCES.map(() => freePort()));
    const specs: ServiceSpec[] = [
      ...COMMAND_INSTANCES.map((name, i) => ({
        name,
        args: ['command-service/src/main.ts'],
        env: {
          ...env,
          COLLAB_INSTANCE_ID: name,
          COLLAB_HOST: '127.0.0.1',
          COLLAB_PORT: String(ports[i]),
          COLLAB_JWT_SECRET: JWT_SECRET,
          COLLAB_CONSUMER_GROUP: 'chaos-command',
          // A lost instance's partitions move after this long (the broker's minimum is 6 s).
          COLLAB_KAFKA_SESSION_TIMEOUT_MS: '10000',
          COLLAB_KAFKA_HEARTBEAT_MS: '1000',
          COLLAB_SHUTDOWN_DRAIN_MS: '0',
        },
      })),
      {
        name: 'projection',
        args: ['projection-service/src/main.ts'],
        env: { ...env, COLLAB_INSTANCE_ID: 'projection' },
      },
      {
        name: 'snapshot',
        args: ['snapshot-service/src/main.ts'],
        // Snapshots often, so the run checks many of them.
        env: { ...env, COLLAB_INSTANCE_ID: 'snapshot', SNAPSHOT_EVERY_VERSIONS: '50', SNAPSHOT_IDLE_SECONDS: '5' },
      },
    ];
    for (const spec of specs) {
      const name = spec.name as (typeof SERVICES)[number];
      const service: ServiceProcess = new ServiceProcess(spec, repo, join(logDir, `${name}.log`), {
        onSpawn: (pid) => isolation.join(name, pid),
        // A crash is restarted, as Kubernetes would; the report counts them (each one is worth a look).
        onUnexpectedExit: (code, signal) => {
          say(`  ! ${name} exited on its own (${code ?? signal}); restarting it:\n${service.lastLines()}`);
          setTimeout(() => {
            if (!service.running)
              service.startWithRetry(240_000, say).catch((err: Error) => say(`  ! ${name}: ${err.message}`));
          }, 1_000);
        },
      });
      services.set(name, service);
    }
    await Promise.all([...services.values()].map((s) => s.start()));
    say(`services: ${[...services.keys()].join(', ')} ready in ${Math.round((Date.now() - t0) / 1000)} s`);
    const containers: Record<string, string> = {};
    for (const store of STORES) containers[store] = containerName(runId, store);
    for (const node of cluster.nodes) containers[`broker-${node.nodeId}`] = node.containerName;
    return {
      stack,
      cluster,
      services,
      wsUrls: ports.map((p) => `ws://127.0.0.1:${p}/v1/ws`),
      containers,
      brokerPorts: cluster.nodes.map((n) => n.hostPort),
      env,
      stop,
    };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

/**
 * `collab migrate --mode distributed`, again (it is idempotent) while it fails, up to 5 times: right after the
 * cluster starts, a broker that has not caught up with the metadata log answers "This server does not host this
 * topic-partition" about the topic just created (seen once in a few runs; the harness's awaitTopic waits out the
 * same race for its own topics).
 */
async function migrate(repo: string, env: Record<string, string>, say: (line: string) => void): Promise<string> {
  const args = [
    '--conditions=@collab/source',
    '--import',
    'tsx',
    'cli/src/main.ts',
    'migrate',
    '--mode',
    'distributed',
  ];
  const options = { cwd: repo, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env } };
  for (let attempt = 1; ; attempt++) {
    try {
      const { stdout } = await run(process.execPath, args, { ...options, timeout: 180_000 });
      return stdout.trim().split('\n').join('; ');
    } catch (err) {
      if (attempt >= 5) throw err;
      const output = (err as { stdout?: string }).stdout ?? (err as Error).message;
      say(`migrate failed (attempt ${attempt}), again in 3 s: ${output.trim().split('\n').join('; ')}`);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
    }
  }
}
