/**
 * One container definition per server, for both image sources. Every container:
 *  - joins the run's own user-defined network under a name containing the run id (resolvable by the others),
 *  - maps its client port to 127.0.0.1 only (never to every interface of the machine),
 *  - carries the harness labels, so a crashed run's leftovers can be found and removed (`npm run infra:down`),
 *  - keeps the last lines of its log, for the error message when it does not become ready.
 */
import type { Readable } from 'node:stream';
import type { InspectResult } from 'testcontainers';
import { GenericContainer, Wait, getContainerRuntimeClient } from 'testcontainers';
import type { Service } from './probes.js';

export const LABEL_HARNESS = 'collab.harness';
export const LABEL_RUN = 'collab.harness.run';
export const LABEL_PURPOSE = 'collab.harness.purpose';
/** A test's own Kafka cluster within a run (startKafkaCluster): what its stop() removes. */
export const LABEL_KAFKA_CLUSTER = 'collab.harness.kafka-cluster';

const LOG_TAIL_LINES = 25;

export class LoopbackContainer extends GenericContainer {
  private readonly tail: string[] = [];
  private containerId: string | undefined;
  private startingHook: ((hostPort: number, containerId: string) => Promise<void>) | undefined;

  /**
   * `hostPort`: publish on that 127.0.0.1 port rather than one Docker picks. A container that is killed and
   * started again keeps a fixed port (a picked one may change), which is what a broker's clients need.
   */
  constructor(
    image: string,
    readonly port: number,
    hostPort?: number,
  ) {
    super(image);
    this.withExposedPorts(hostPort === undefined ? port : { container: port, host: hostPort }).withLogConsumer(
      (stream) => this.collect(stream),
    );
  }

  /** Runs after `docker start`, before the wait strategy, with the host port Docker chose. */
  onStarting(hook: (hostPort: number, containerId: string) => Promise<void>): this {
    this.startingHook = hook;
    return this;
  }

  logTail(): string {
    return this.tail.join('\n');
  }

  protected override async beforeContainerCreated(): Promise<void> {
    // testcontainers binds to all interfaces; the network rule says 127.0.0.1 only.
    for (const bindings of Object.values(this.hostConfig.PortBindings ?? {}) as Array<Array<{ HostIp?: string }>>) {
      for (const binding of bindings) binding.HostIp = '127.0.0.1';
    }
  }

  protected override async containerCreated(containerId: string): Promise<void> {
    this.containerId = containerId;
  }

  protected override async containerStarting(inspect: InspectResult): Promise<void> {
    if (this.startingHook === undefined || this.containerId === undefined) return;
    const binding = inspect.ports[`${this.port}/tcp`]?.find((b) => b.hostIp === '127.0.0.1');
    if (binding === undefined) throw new Error(`no 127.0.0.1 binding for port ${this.port}`);
    await this.startingHook(binding.hostPort, this.containerId);
  }

  private collect(stream: Readable): void {
    let partial = '';
    stream.on('data', (chunk: Buffer | string) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      this.tail.push(...lines);
      if (this.tail.length > LOG_TAIL_LINES) this.tail.splice(0, this.tail.length - LOG_TAIL_LINES);
    });
    stream.on('error', () => undefined); // the log stream ends with an error when the container is removed
  }
}

export interface ContainerContext {
  runId: string;
  network: string;
  labels: Record<string, string>;
  startupTimeoutMs: number;
  public: boolean;
  /** Our images' JVMs: C1 only (fast start, tests) or full tiered compilation (benchmarks); see stackJit. */
  jit: 'fast' | 'full';
  /**
   * 127.0.0.1 ports chosen beforehand, per server: a container stopped and started again keeps its port (one
   * Docker picks may change), so its clients find it again (the chaos run restarts Cassandra, Redis and S3).
   */
  hostPorts?: Partial<Record<Service, number>>;
}

/** The JVM flags our Kafka image uses by default (entrypoint.sh), without -XX:TieredStopAtLevel=1. */
const KAFKA_FULL_JIT_OPTS =
  '-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 ' +
  '-XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true';

export const containerName = (runId: string, service: Service | `kafka-${number}`): string =>
  `collab-it-${runId}-${service}`;

function base(
  image: string,
  port: number,
  service: Service | `kafka-${number}`,
  ctx: ContainerContext,
  hostPort?: number,
): LoopbackContainer {
  const fixed = hostPort ?? (service.startsWith('kafka-') ? undefined : ctx.hostPorts?.[service as Service]);
  return new LoopbackContainer(image, port, fixed)
    .withName(containerName(ctx.runId, service))
    .withNetworkMode(ctx.network)
    .withLabels(ctx.labels)
    .withStartupTimeout(ctx.startupTimeoutMs);
}

const ADVERTISE_FILE = '/tmp/advertise.env';

/**
 * A single-node KRaft broker (broker and controller in one, replication factors of one, no topic auto-creation):
 * what every Kafka container of ours runs with; each adds its own listeners.
 */
export const KAFKA_SINGLE_NODE_ENV = {
  KAFKA_NODE_ID: '1',
  KAFKA_PROCESS_ROLES: 'broker,controller',
  KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
  KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
  KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
  KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
  KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
  KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
  KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
} as const;

/**
 * Kafka must advertise the host port Docker picks, which is known only after `docker start`. Both images wait
 * for a file before configuring the broker (ours natively through KAFKA_WAIT_FOR_FILE; apache/kafka through an
 * entrypoint wrapper, as Testcontainers' own KafkaContainer does); we write it once the port is known. The
 * INTERNAL listener advertises the container name, for clients on the run's network.
 */
export function kafkaContainer(image: string, ctx: ContainerContext): LoopbackContainer {
  const name = containerName(ctx.runId, 'kafka');
  const container = base(image, 9092, 'kafka', ctx)
    .withEnvironment({
      // The same KAFKA_* convention works for both images.
      ...KAFKA_SINGLE_NODE_ENV,
      KAFKA_LISTENERS: 'PLAINTEXT://0.0.0.0:9092,INTERNAL://0.0.0.0:19092,CONTROLLER://0.0.0.0:9093',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
      ...(ctx.public ? {} : { KAFKA_WAIT_FOR_FILE: ADVERTISE_FILE }),
      ...(!ctx.public && ctx.jit === 'full' ? { KAFKA_JVM_PERFORMANCE_OPTS: KAFKA_FULL_JIT_OPTS } : {}),
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/));
  if (ctx.public) {
    container.withEntrypoint([
      'sh',
      '-c',
      `while [ ! -f ${ADVERTISE_FILE} ]; do sleep 0.1; done; . ${ADVERTISE_FILE}; exec /etc/kafka/docker/run`,
    ]);
  }
  return container.onStarting(async (hostPort, containerId) => {
    const client = await getContainerRuntimeClient();
    const line = `export KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://127.0.0.1:${hostPort},INTERNAL://${name}:19092`;
    // Written to a temporary name and renamed, so the entrypoint never sources a half-written file.
    const result = await client.container.exec(client.container.getById(containerId), [
      'sh',
      '-c',
      `printf '%s\\n' '${line}' > ${ADVERTISE_FILE}.tmp && mv ${ADVERTISE_FILE}.tmp ${ADVERTISE_FILE}`,
    ]);
    if (result.exitCode !== 0) throw new Error(`writing ${ADVERTISE_FILE} failed: ${result.output}`);
  });
}

/**
 * The settings every node of a three-node KRaft cluster shares: each node is a broker and a controller (a quorum
 * of three survives the loss of one), and everything is replicated three times with two in sync required, so
 * an acknowledged write (acks=all) survives the loss of any one broker and a write is refused rather than
 * accepted by one replica alone. One partition for the transaction state: every transactional id's coordinator
 * is then the leader of __transaction_state partition 0, easy to find (and to kill) in a fault test.
 */
export const KAFKA_CLUSTER_ENV = {
  KAFKA_PROCESS_ROLES: 'broker,controller',
  KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
  KAFKA_LISTENERS: 'PLAINTEXT://0.0.0.0:9092,INTERNAL://0.0.0.0:19092,CONTROLLER://0.0.0.0:9093',
  KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
  KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
  KAFKA_DEFAULT_REPLICATION_FACTOR: '3',
  KAFKA_MIN_INSYNC_REPLICAS: '2',
  KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '3',
  KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '3',
  KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '2',
  KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS: '1',
  KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '3',
  KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '2',
  KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE: 'false',
  KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
  KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
} as const;

export interface KafkaClusterNode {
  /** Kafka's node.id, 1..n: broker and controller id alike. */
  nodeId: number;
  /** The 127.0.0.1 port its PLAINTEXT listener is published on, fixed for the container's life. */
  hostPort: number;
}

export const kafkaNodeName = (runId: string, nodeId: number): string => containerName(runId, `kafka-${nodeId}`);

/**
 * One node of a KRaft cluster on the run's network. The controllers find each other by container name (Docker's
 * DNS on a user-defined network); clients on the host use the fixed published port, so the advertised listener
 * is known before the start and survives a kill and restart.
 */
export function kafkaClusterContainer(
  image: string,
  ctx: ContainerContext,
  node: KafkaClusterNode,
  cluster: { clusterId: string; nodes: readonly KafkaClusterNode[] },
): LoopbackContainer {
  const name = kafkaNodeName(ctx.runId, node.nodeId);
  const voters = cluster.nodes.map((n) => `${n.nodeId}@${kafkaNodeName(ctx.runId, n.nodeId)}:9093`).join(',');
  return base(image, 9092, `kafka-${node.nodeId}`, ctx, node.hostPort)
    .withEnvironment({
      ...KAFKA_CLUSTER_ENV,
      KAFKA_NODE_ID: String(node.nodeId),
      KAFKA_CONTROLLER_QUORUM_VOTERS: voters,
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${node.hostPort},INTERNAL://${name}:19092`,
      // Every node formats its storage with the same cluster id: ours reads KAFKA_CLUSTER_ID, apache/kafka CLUSTER_ID.
      KAFKA_CLUSTER_ID: cluster.clusterId,
      CLUSTER_ID: cluster.clusterId,
      ...(!ctx.public && ctx.jit === 'full' ? { KAFKA_JVM_PERFORMANCE_OPTS: KAFKA_FULL_JIT_OPTS } : {}),
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/));
}

export function cassandraContainer(image: string, ctx: ContainerContext): LoopbackContainer {
  return (
    base(image, 9042, 'cassandra', ctx)
      .withEnvironment({
        // Clients reach the node through 127.0.0.1:<mapped>; the driver must not learn the container IP.
        CASSANDRA_BROADCAST_RPC_ADDRESS: '127.0.0.1',
        // Public image: the same fast single-node start our image does by default.
        MAX_HEAP_SIZE: '1G',
        HEAP_NEWSIZE: '200M',
        CASSANDRA_NUM_TOKENS: '1',
        JVM_EXTRA_OPTS: '-Dcassandra.skip_wait_for_gossip_to_settle=0 -Dcassandra.initial_token=0',
        // Our image (entrypoint.sh): C1 only unless told otherwise.
        CASSANDRA_FAST_JIT: ctx.jit === 'full' ? '0' : '1',
      })
      // Startup complete is logged before the native transport serves queries; the CQL probe closes the gap.
      .withWaitStrategy(Wait.forLogMessage(/Startup complete/))
  );
}

export const S3_CREDENTIALS = { accessKeyId: 'collab', secretAccessKey: 'collab-secret' };

export function s3Container(image: string, ctx: ContainerContext): LoopbackContainer {
  if (ctx.public) {
    // MinIO: the same credentials as our S3Proxy image.
    return base(image, 9000, 's3', ctx)
      .withCommand(['server', '/data'])
      .withEnvironment({
        MINIO_ROOT_USER: S3_CREDENTIALS.accessKeyId,
        MINIO_ROOT_PASSWORD: S3_CREDENTIALS.secretAccessKey,
      })
      .withWaitStrategy(Wait.forLogMessage(/API:/));
  }
  return base(image, 8080, 's3', ctx)
    .withEnvironment({
      S3PROXY_IDENTITY: S3_CREDENTIALS.accessKeyId,
      S3PROXY_CREDENTIAL: S3_CREDENTIALS.secretAccessKey,
    })
    .withWaitStrategy(Wait.forLogMessage(/Server - Started|Started Server/));
}

/** The Confluent-compatible API's root inside both registry images (Apicurio). */
export const SCHEMA_REGISTRY_API_PATH = '/apis/ccompat/v6';

export function schemaRegistryContainer(image: string, ctx: ContainerContext): LoopbackContainer {
  // Both our image and Apicurio's public one are Quarkus apps that log this line once they serve HTTP.
  return base(image, 8080, 'schemaRegistry', ctx).withWaitStrategy(Wait.forLogMessage(/started in .*Listening on/));
}

export function redisContainer(image: string, ctx: ContainerContext): LoopbackContainer {
  const container = base(image, 6379, 'redis', ctx).withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/));
  // Our image's default command already disables persistence and protected mode.
  if (ctx.public) container.withCommand(['redis-server', '--save', '', '--appendonly', 'no']);
  return container;
}
