/**
 * The ops writer's two kafkajs producers (writer.ts), each with round trips kafkajs alone would spend saved.
 *
 * - createEpochProducer: the producer every append goes through. Idempotent, with the producer id and epoch of
 *   the partition's transactional id, so that the partition's leader fences it once a newer owner has claimed
 *   the partition; no transaction per append.
 * - createTransactionalProducer: the producer of a claim (one aborted transaction when a writer opens), with
 *   the partition's last stable offset asked of its leader and the producer id and epoch the claim registered.
 *
 * Both look the transaction coordinator up once a second at most. kafkajs 2.2.4 sends FindCoordinator before
 * AddPartitionsToTxn and again before EndTxn, in every transaction (measured: 1,204 FindCoordinator requests for
 * 600 transactions). The coordinator of a transactional id only moves when the broker owning its
 * __transaction_state partition changes, so a lookup a second old is as good as a new one; when it has moved, the
 * request fails with NOT_COORDINATOR and kafkajs retries with backoff (100 ms, 200 ms, …), which outlasts the
 * cache, so the retry looks it up afresh.
 *
 * The last stable offset of one partition is one ListOffsets over the producer's own connection; kafkajs's
 * admin.fetchTopicOffsets sends two (the high and the low offsets of every partition) through one admin client.
 *
 * kafkajs offers no hook for any of this: a producer's cluster is created through a private method of the
 * client, wrapped here for the one call. If a future kafkajs lacks that method, createTransactionalProducer
 * creates a plain producer (only the savings are lost) and createEpochProducer returns undefined (the writer
 * cannot be fenced without it, so it refuses to open) — producers.unit.test.ts turns both into failures.
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

/** A producer id and epoch, as InitProducerId gave them. */
export interface ProducerIdentity {
  producerId: number;
  producerEpoch: number;
}

export interface TransactionalProducer {
  producer: Producer;
  /** The partition's last stable offset, asked of its leader; absent when kafkajs's internals were not found. */
  lastStableOffset?: (topic: string, partition: number) => Promise<bigint>;
  /** The producer id and epoch its transactional id was last registered with (InitProducerId), once it was. */
  registered(): ProducerIdentity | undefined;
}

export function createTransactionalProducer(
  kafka: Kafka,
  config: ProducerConfig,
  now = Date.now,
): TransactionalProducer {
  let cluster: (ClusterLike & Partial<OffsetsCluster>) | undefined;
  let identity: ProducerIdentity | undefined;
  const producer = withClusterOf(
    kafka,
    (created) => {
      cluster = cacheTransactionCoordinator(created, now);
      const lookup = cluster.findGroupCoordinator.bind(cluster);
      const watched = new WeakSet<object>();
      // Note the identity each registration gets, on the coordinator broker of this producer's own cluster.
      cluster.findGroupCoordinator = async (args: CoordinatorLookup) => {
        const broker = (await lookup(args)) as BrokerLike & Partial<TransactionBroker>;
        const init = broker.initProducerId;
        if (args.coordinatorType === TRANSACTION_COORDINATOR && typeof init === 'function' && !watched.has(broker)) {
          watched.add(broker);
          broker.initProducerId = async (request) => {
            const answer = await init.call(broker, request);
            identity = { producerId: answer.producerId, producerEpoch: answer.producerEpoch };
            return answer;
          };
        }
        return broker;
      };
      return cluster;
    },
    () => kafka.producer(config),
  );
  const registered = () => identity;
  const offsets = cluster;
  if (offsets?.fetchTopicsOffset === undefined) return { producer, registered };
  const fetchTopicsOffset = offsets.fetchTopicsOffset.bind(offsets);
  return {
    producer,
    registered,
    async lastStableOffset(topic, partition) {
      const [answer] = await fetchTopicsOffset([{ topic, partitions: [{ partition }], fromBeginning: false }]);
      const offset = answer?.partitions.find((p) => p.partition === partition)?.offset;
      if (offset === undefined) throw new Error(`no offset for ${topic} partition ${partition} in the answer`);
      return BigInt(offset);
    },
  };
}

/** The appending producer of a writer, and how it keeps its claim alive without taking a newer one. */
export interface EpochProducer {
  producer: Producer;
  /**
   * Renews the claim on `partition` without raising the epoch: an empty transaction of the producer id and
   * epoch the producer holds (AddPartitionsToTxn, EndTxn abort), which refreshes the id at its coordinator and,
   * through the abort marker, the producer id at the partition's leader. A producer a newer claim has fenced is
   * refused (INVALID_PRODUCER_EPOCH) and takes nothing back — which raising the epoch again would do.
   */
  renew(topic: string, partition: number): Promise<void>;
  /** The producer id and epoch its appends carry, once connected. */
  registered(): ProducerIdentity | undefined;
}

/**
 * An idempotent producer (no transactions) whose producer id and epoch are those of `transactionalId`: its one
 * InitProducerId goes to that id's transaction coordinator, which bumps the id's epoch. Every batch it sends
 * carries that epoch, and a partition's leader refuses a batch whose epoch is below the highest it has appended
 * for the producer id (INVALID_PRODUCER_EPOCH): whoever initialised the id last is the only one whose batches
 * land, once it has appended one (writer.ts, the claim). kafkajs initialises an idempotent producer once, at
 * connect(), and never again on its own, so a fenced producer cannot take a newer epoch behind our back.
 *
 * Returns undefined when kafkajs's internals were not found (producers.unit.test.ts fails then).
 */
export function createEpochProducer(
  kafka: Kafka,
  transactionalId: string,
  config: Omit<ProducerConfig, 'transactionalId' | 'idempotent'>,
  now = Date.now,
): EpochProducer | undefined {
  let coordinator: (() => Promise<BrokerLike & Partial<TransactionBroker>>) | undefined;
  let held: ProducerIdentity | undefined;
  const producer = withClusterOf(
    kafka,
    (created) => {
      const cluster = cacheTransactionCoordinator(created, now);
      const epochCluster = cluster as ClusterLike & Partial<EpochCluster>;
      if (typeof epochCluster.findControllerBroker !== 'function') return cluster;
      const find = () =>
        cluster.findGroupCoordinator({
          groupId: transactionalId,
          coordinatorType: TRANSACTION_COORDINATOR,
        }) as Promise<BrokerLike & Partial<TransactionBroker>>;
      coordinator = find;
      // kafkajs asks the controller for a producer id without a transactional id; ask the id's coordinator
      // with it instead. Nothing else a producer does uses the controller.
      epochCluster.findControllerBroker = async () => {
        const broker = await find();
        const init = broker.initProducerId;
        if (typeof init !== 'function') throw new Error('kafkajs broker has no initProducerId');
        return {
          initProducerId: async (args: { transactionTimeout?: number }) => {
            const answer = await init.call(broker, { ...args, transactionalId });
            held = { producerId: answer.producerId, producerEpoch: answer.producerEpoch };
            return answer;
          },
        };
      };
      return cluster;
    },
    () => kafka.producer({ ...config, idempotent: true, maxInFlightRequests: 1 }),
  );
  const find = coordinator;
  if (find === undefined) return undefined;
  return {
    producer,
    registered: () => held,
    async renew(topic, partition) {
      if (held === undefined) throw new Error('the producer has no producer id yet (connect it first)');
      const broker = await find();
      if (typeof broker.addPartitionsToTxn !== 'function' || typeof broker.endTxn !== 'function') {
        throw new Error('kafkajs broker has no addPartitionsToTxn/endTxn');
      }
      const ids = { transactionalId, ...held };
      await broker.addPartitionsToTxn({ ...ids, topics: [{ topic, partitions: [partition] }] });
      await broker.endTxn({ ...ids, transactionResult: false });
    },
  };
}

interface EpochCluster {
  findControllerBroker(): Promise<unknown>;
}
/** What kafkajs's Broker offers for transactions (public methods of an internal class). */
interface TransactionBroker {
  initProducerId(args: {
    transactionalId?: string;
    transactionTimeout?: number;
  }): Promise<{ producerId: number; producerEpoch: number }>;
  addPartitionsToTxn(args: {
    transactionalId: string;
    producerId: number;
    producerEpoch: number;
    topics: { topic: string; partitions: number[] }[];
  }): Promise<unknown>;
  endTxn(args: {
    transactionalId: string;
    producerId: number;
    producerEpoch: number;
    transactionResult: boolean;
  }): Promise<unknown>;
}

/**
 * Runs `make` (which creates one kafkajs client: a producer) with kafkajs's private cluster factory wrapped by
 * `wrap`, so that the client's cluster is the wrapped one; the factory is restored afterwards. kafkajs offers no
 * hook for this. Without the factory, `make` runs as usual and `wrap` is never called.
 */
function withClusterOf<T>(kafka: Kafka, wrap: (cluster: ClusterLike) => ClusterLike, make: () => T): T {
  const client = kafka as unknown as Record<symbol, unknown>;
  const createCluster = Object.getOwnPropertySymbols(Object.getPrototypeOf(kafka) as object)
    .concat(Object.getOwnPropertySymbols(kafka))
    .find((s) => s.description === 'private:Kafka:createCluster' && typeof client[s] === 'function');
  if (createCluster === undefined) return make();
  const original = client[createCluster] as (...args: unknown[]) => ClusterLike;
  client[createCluster] = (...args: unknown[]) => wrap(original.apply(kafka, args));
  try {
    return make();
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
