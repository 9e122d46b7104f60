/**
 * A transactional producer that looks its transaction coordinator up once a second, not twice per transaction.
 *
 * kafkajs 2.2.4 sends FindCoordinator before AddPartitionsToTxn and again before EndTxn, in every transaction:
 * six round trips per append instead of four (measured: 1,204 FindCoordinator requests for 600 appends). Under
 * load each round trip waits for a busy broker, so those two are a third of an append's latency. The coordinator
 * of a transactional id only moves when the broker owning its __transaction_state partition changes, so a
 * lookup a second old is as good as a new one; when it has moved, the request fails with NOT_COORDINATOR and
 * kafkajs retries with backoff (100 ms, 200 ms, …), which outlasts the cache, so the retry looks it up afresh.
 *
 * kafkajs offers no hook for this: the producer's cluster is created through a private method of the client,
 * wrapped here for the one call. If a future kafkajs lacks that method, the producer is created as usual and
 * only the saving is lost.
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

export function createTransactionalProducer(kafka: Kafka, config: ProducerConfig, now = Date.now): Producer {
  const client = kafka as unknown as Record<symbol, unknown>;
  const createCluster = Object.getOwnPropertySymbols(Object.getPrototypeOf(kafka) as object)
    .concat(Object.getOwnPropertySymbols(kafka))
    .find((s) => s.description === 'private:Kafka:createCluster' && typeof client[s] === 'function');
  if (createCluster === undefined) return kafka.producer(config);
  const original = client[createCluster] as (...args: unknown[]) => ClusterLike;
  client[createCluster] = (...args: unknown[]) => cacheTransactionCoordinator(original.apply(kafka, args), now);
  try {
    return kafka.producer(config);
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
