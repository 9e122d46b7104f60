/**
 * A transactional producer for the ops writer, with two round trips less per append than kafkajs gives alone.
 *
 * 1. The transaction coordinator is looked up once a second, not twice per transaction.
 *
 * kafkajs 2.2.4 sends FindCoordinator before AddPartitionsToTxn and again before EndTxn, in every transaction:
 * six round trips per append instead of four (measured: 1,204 FindCoordinator requests for 600 appends). Under
 * load each round trip waits for a busy broker, so those two are a third of an append's latency. The coordinator
 * of a transactional id only moves when the broker owning its __transaction_state partition changes, so a
 * lookup a second old is as good as a new one; when it has moved, the request fails with NOT_COORDINATOR and
 * kafkajs retries with backoff (100 ms, 200 ms, …), which outlasts the cache, so the retry looks it up afresh.
 *
 * 2. The writer's "visible yet?" check (see writer.ts) asks the partition's leader for the last stable offset of
 *    that one partition over the producer's own connection: one ListOffsets request. kafkajs's
 *    admin.fetchTopicOffsets sends two (the high and the low offsets of every partition) through one admin
 *    client shared by every writer of the process.
 *
 * kafkajs offers no hook for this: the producer's cluster is created through a private method of the client,
 * wrapped here for the one call. If a future kafkajs lacks that method, the producer is created as usual and
 * only the savings are lost (the writer then asks the admin client) — which transactional-producer.unit.test.ts
 * turns into a failure, so an upgrade cannot lose them unnoticed.
 */
import type { Kafka, Producer, ProducerConfig } from 'kafkajs';

/** kafkajs's COORDINATOR_TYPES.TRANSACTION (GROUP is 0). */
const TRANSACTION_COORDINATOR = 1;
export const COORDINATOR_TTL_MS = 1_000;

interface CoordinatorLookup {
  groupId: string;
  coordinatorType?: number;
}
interface BrokerLike {
  isConnected?: () => boolean;
}
interface ClusterLike {
  findGroupCoordinator(args: CoordinatorLookup): Promise<BrokerLike>;
}
/** What kafkajs's Cluster offers for offsets (ListOffsets with READ_COMMITTED, replica -1, by default). */
interface OffsetsCluster {
  fetchTopicsOffset(
    topics: { topic: string; partitions: { partition: number }[]; fromBeginning: boolean }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

export interface TransactionalProducer {
  producer: Producer;
  /** The partition's last stable offset, asked of its leader; absent when kafkajs's internals were not found. */
  lastStableOffset?: (topic: string, partition: number) => Promise<bigint>;
}

export function createTransactionalProducer(
  kafka: Kafka,
  config: ProducerConfig,
  now = Date.now,
): TransactionalProducer {
  const client = kafka as unknown as Record<symbol, unknown>;
  const createCluster = Object.getOwnPropertySymbols(Object.getPrototypeOf(kafka) as object)
    .concat(Object.getOwnPropertySymbols(kafka))
    .find((s) => s.description === 'private:Kafka:createCluster' && typeof client[s] === 'function');
  if (createCluster === undefined) return { producer: kafka.producer(config) };
  const original = client[createCluster] as (...args: unknown[]) => ClusterLike;
  let cluster: (ClusterLike & Partial<OffsetsCluster>) | undefined;
  client[createCluster] = (...args: unknown[]) =>
    (cluster = cacheTransactionCoordinator(original.apply(kafka, args), now));
  try {
    const producer = kafka.producer(config);
    const offsets = cluster;
    if (offsets?.fetchTopicsOffset === undefined) return { producer };
    const fetchTopicsOffset = offsets.fetchTopicsOffset.bind(offsets);
    return {
      producer,
      async lastStableOffset(topic, partition) {
        const [answer] = await fetchTopicsOffset([{ topic, partitions: [{ partition }], fromBeginning: false }]);
        const offset = answer?.partitions.find((p) => p.partition === partition)?.offset;
        if (offset === undefined) throw new Error(`no offset for ${topic} partition ${partition} in the answer`);
        return BigInt(offset);
      },
    };
  } finally {
    delete client[createCluster]; // back to the prototype's method, or…
    if (client[createCluster] !== original) client[createCluster] = original; // …the instance's own
  }
}

/** Wraps one cluster's coordinator lookup; exported for its unit test. */
export function cacheTransactionCoordinator<C extends ClusterLike>(cluster: C, now: () => number): C {
  const lookup = cluster.findGroupCoordinator.bind(cluster);
  const cache = new Map<string, { broker: Promise<BrokerLike>; at: number }>();
  cluster.findGroupCoordinator = async (args: CoordinatorLookup) => {
    if (args.coordinatorType !== TRANSACTION_COORDINATOR) return lookup(args);
    const hit = cache.get(args.groupId);
    if (hit !== undefined && now() - hit.at < COORDINATOR_TTL_MS) {
      const broker = await hit.broker.catch(() => undefined);
      if (broker !== undefined && broker.isConnected?.() !== false) return broker;
    }
    const broker = lookup(args);
    cache.set(args.groupId, { broker, at: now() });
    broker.catch(() => cache.delete(args.groupId));
    return broker;
  };
  return cluster;
}
