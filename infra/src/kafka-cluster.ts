/**
 * A three-node KRaft Kafka cluster in containers, and the faults a test injects into it: kill a broker
 * (SIGKILL, as `docker kill`), start it again, find which broker leads a partition or coordinates transactions,
 * and wait until every replica is back in sync.
 *
 * Two ways in: the harness starts one on its run's network (COLLAB_STACK_KAFKA=cluster, see harness.ts), and a
 * fault test starts its own with `startKafkaCluster()` (own-kafka-cluster.ts) — a cluster of its own to kill
 * brokers in, never the shared stack's. Both are removed by label (cleanup.ts) with their network.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { bestEffort } from '@collab/core';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';
import { getContainerRuntimeClient } from 'testcontainers';
import type { ContainerContext, KafkaClusterNode, LoopbackContainer } from './containers.js';
import { kafkaClusterContainer, kafkaNodeName } from './containers.js';
import { freePort } from './ports.js';
import { errorMessage, probeKafka } from './probes.js';

export const KAFKA_CLUSTER_SIZE = 3;

/** The topics whose replicas a broker must be back in before the next fault: the cluster's own and the test's. */
export const KAFKA_INTERNAL_TOPICS = ['__consumer_offsets', '__transaction_state'] as const;

export interface KafkaClusterNodeHandle extends KafkaClusterNode {
  containerName: string;
  /** host:port for clients on this machine. */
  address: string;
}

export interface KafkaCluster {
  /** Every node's 127.0.0.1 address: the bootstrap list for clients. */
  brokers: string[];
  nodes: KafkaClusterNodeHandle[];
  /** SIGKILL, as `docker kill`: no clean shutdown, no leadership handed over. */
  kill(nodeId: number): Promise<void>;
  /** `docker start` of a killed node, resolved once the cluster lists it as a live broker again. */
  restart(nodeId: number, timeoutMs?: number): Promise<void>;
  /** The node leading a partition now (metadata from a live broker), or undefined while none leads. */
  leaderOf(topic: string, partition: number): Promise<number | undefined>;
  /**
   * Resolves once every live node, asked alone, knows a leader for each partition of `topic`: right after a
   * topic is created a node may not have it yet, and a client bootstrapping from that node would be told it
   * does not exist.
   */
  awaitTopic(topic: string, timeoutMs?: number): Promise<void>;
  /** The transaction coordinator's node: the leader of __transaction_state partition 0 (one partition here). */
  transactionCoordinator(): Promise<number | undefined>;
  /**
   * Resolves once every partition of `topics` and of the internal topics that exist yet has all its replicas in
   * sync: before the next fault, so that losing another broker cannot take a partition below min.insync.replicas.
   */
  awaitInSync(topics: readonly string[], timeoutMs?: number): Promise<void>;
}

/**
 * A KRaft cluster id: 16 random bytes, base64url without padding (what `kafka-storage random-uuid` prints). Never
 * one that starts with '-': `kafka-storage format -t -abc…` reads it as an option and every node exits with
 * status 1 (seen here once in about 20 starts); Kafka's own Uuid.randomUuid() skips those for the same reason.
 */
export function newKafkaClusterId(): string {
  for (;;) {
    const id = Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * Starts the nodes in parallel (a controller quorum forms only once a majority is up, so one at a time would
 * never finish) on an existing network, each published on a free 127.0.0.1 port chosen beforehand.
 */
export async function startKafkaNodes(
  image: string,
  ctx: ContainerContext,
  size: number = KAFKA_CLUSTER_SIZE,
): Promise<KafkaCluster> {
  const nodes: KafkaClusterNode[] = [];
  for (let nodeId = 1; nodeId <= size; nodeId++) nodes.push({ nodeId, hostPort: await freePort() });
  const cluster = { clusterId: newKafkaClusterId(), nodes };
  const containers: LoopbackContainer[] = nodes.map((node) => kafkaClusterContainer(image, ctx, node, cluster));
  const results = await Promise.allSettled(containers.map((c) => c.start()));
  const failures = await Promise.all(
    results.flatMap((r, i) =>
      r.status === 'rejected'
        ? [
            (async () =>
              `  node ${i + 1}: ${errorMessage(r.reason)} (${await exitState(kafkaNodeName(ctx.runId, i + 1))})\n` +
              `    last log lines:\n${containers[i]!.logTail()}`)(),
          ]
        : [],
    ),
  );
  if (failures.length > 0) throw new Error(`Kafka cluster nodes did not start:\n${failures.join('\n')}`);
  const handles = nodes.map((n) => ({
    ...n,
    containerName: kafkaNodeName(ctx.runId, n.nodeId),
    address: `127.0.0.1:${n.hostPort}`,
  }));
  const brokers = handles.map((h) => h.address);
  // The log line says each one started; asked one by one, each must also list all of them (a node that has
  // not caught up with the metadata log yet answers "does not host this topic-partition" about new topics).
  for (const broker of brokers) {
    await waitFor(`${broker} to list all ${size} brokers`, ctx.startupTimeoutMs, async () => {
      const detail = await probeKafka([broker], 5_000);
      return detail.endsWith(`${size} broker(s)`) ? true : undefined;
    });
  }
  return clusterHandle(handles);
}

function clusterHandle(nodes: KafkaClusterNodeHandle[]): KafkaCluster {
  const brokers = nodes.map((n) => n.address);
  /** Killed and not started again: the helpers' own clients never bootstrap from these (kafkajs gives up). */
  const down = new Set<number>();
  const live = (): string[] => nodes.filter((n) => !down.has(n.nodeId)).map((n) => n.address);
  const node = (nodeId: number): KafkaClusterNodeHandle => {
    const found = nodes.find((n) => n.nodeId === nodeId);
    if (found === undefined) throw new Error(`no Kafka node ${nodeId} (nodes: ${nodes.map((n) => n.nodeId)})`);
    return found;
  };
  const container = async (nodeId: number) =>
    (await getContainerRuntimeClient()).container.dockerode.getContainer(node(nodeId).containerName);

  const leaderOf = (topic: string, partition: number): Promise<number | undefined> =>
    withAdmin(live(), async (admin) => {
      // The internal topics exist only once a client needed them (a consumer group, a transactional producer).
      if (!(await admin.listTopics()).includes(topic)) return undefined;
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      const leader = metadata.topics[0]?.partitions.find((p) => p.partitionId === partition)?.leader;
      return leader === undefined || leader < 0 ? undefined : leader;
    });

  return {
    brokers,
    nodes,
    async kill(nodeId) {
      down.add(nodeId);
      await (await container(nodeId)).kill({ signal: 'SIGKILL' });
    },
    async restart(nodeId, timeoutMs = 120_000) {
      // Not "listed by describeCluster": a killed broker stays listed until its session times out (9 s), so
      // that would answer before the JVM even started. The readiness line again, one more time than before.
      const c = await container(nodeId);
      const startsBefore = await countStarts(c);
      await c.start();
      await waitFor(`Kafka node ${nodeId} started again`, timeoutMs, async () =>
        (await countStarts(c)) > startsBefore ? true : undefined,
      );
      down.delete(nodeId);
    },
    leaderOf,
    async awaitTopic(topic, timeoutMs = 60_000) {
      for (const broker of live()) {
        await waitFor(`${broker} to know every partition leader of ${topic}`, timeoutMs, () =>
          withAdmin([broker], async (admin) => {
            const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
            const partitions = metadata.topics[0]?.partitions ?? [];
            return partitions.length > 0 && partitions.every((p) => p.leader >= 0) ? true : undefined;
          }),
        );
      }
    },
    transactionCoordinator: () => leaderOf('__transaction_state', 0),
    async awaitInSync(topics, timeoutMs = 120_000) {
      const wanted = [...KAFKA_INTERNAL_TOPICS, ...topics];
      await waitFor(`every replica of ${wanted.join(', ')} in sync`, timeoutMs, () =>
        withAdmin(live(), async (admin) => {
          const existing = new Set(await admin.listTopics());
          const metadata = await admin.fetchTopicMetadata({ topics: wanted.filter((t) => existing.has(t)) });
          const lagging = metadata.topics.flatMap((t) =>
            t.partitions.filter((p) => p.isr.length < p.replicas.length).map((p) => `${t.name}/${p.partitionId}`),
          );
          return lagging.length === 0 ? true : undefined;
        }),
      );
    },
  };
}

/** How a container ended, for the error message (a JVM killed by the OOM killer logs nothing). */
async function exitState(name: string): Promise<string> {
  try {
    const { State: st } = await (await getContainerRuntimeClient()).container.dockerode.getContainer(name).inspect();
    return `container ${st.Status}, exit code ${st.ExitCode}, OOM-killed ${st.OOMKilled}${st.Error ? `, ${st.Error}` : ''}`;
  } catch (err) {
    return `not inspectable: ${errorMessage(err)}`;
  }
}

const STARTED_LINE = 'Kafka Server started';

/** How often the container's log says the broker started (every start appends to the same log). */
async function countStarts(container: { logs(o: { stdout: true; stderr: true }): Promise<Buffer> }): Promise<number> {
  const log = (await container.logs({ stdout: true, stderr: true })).toString('latin1');
  return log.split(STARTED_LINE).length - 1;
}

/** A short-lived admin client per question: after a broker dies, a cached connection would ask the dead one. */
async function withAdmin<T>(brokers: string[], work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Kafka({
    clientId: 'collab-infra-cluster',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    requestTimeout: 5_000,
    retry: { retries: 2 },
  }).admin();
  try {
    await admin.connect();
    return await work(admin);
  } finally {
    await bestEffort(admin.disconnect());
  }
}

/** Polls `probe` until it answers, bounded; a probe that throws counts as "not yet" (brokers come and go here). */
async function waitFor(what: string, timeoutMs: number, probe: () => Promise<true | undefined>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let last = 'not yet';
    try {
      if ((await probe()) === true) return;
    } catch (err) {
      last = errorMessage(err);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last})`);
    await delay(250);
  }
}
