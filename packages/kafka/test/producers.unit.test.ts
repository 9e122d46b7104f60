/**
 * The transaction-coordinator cache: one lookup per transactional id per second, other lookups untouched, and a
 * failed lookup or a dropped connection never served from the cache.
 */
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import {
  cacheTransactionCoordinator,
  COORDINATOR_TTL_MS,
  createEpochProducer,
  createTransactionalProducer,
} from '../src/producers.js';

interface FakeBroker {
  id: number;
  connected: boolean;
  isConnected(): boolean;
}

function fakeCluster() {
  const lookups: { groupId: string; coordinatorType?: number }[] = [];
  let nextId = 1;
  let fail = false;
  const cluster = {
    findGroupCoordinator(args: { groupId: string; coordinatorType?: number }): Promise<FakeBroker> {
      lookups.push(args);
      if (fail) return Promise.reject(new Error('coordinator not available'));
      const broker: FakeBroker = { id: nextId++, connected: true, isConnected: () => broker.connected };
      return Promise.resolve(broker);
    },
  };
  return { cluster, lookups, failNext: (f: boolean) => (fail = f) };
}

describe('transaction coordinator cache', () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => (clock = 1_000_000));

  it('given repeated transaction lookups within the TTL, then the broker is asked once', async () => {
    const { cluster, lookups } = fakeCluster();
    cacheTransactionCoordinator(cluster, now);
    const a = await cluster.findGroupCoordinator({ groupId: 'ops-p0', coordinatorType: 1 });
    clock += COORDINATOR_TTL_MS - 1;
    const b = await cluster.findGroupCoordinator({ groupId: 'ops-p0', coordinatorType: 1 });
    assert.equal(a, b);
    assert.equal(lookups.length, 1);
    clock += 1;
    const c = await cluster.findGroupCoordinator({ groupId: 'ops-p0', coordinatorType: 1 });
    assert.notEqual(c, a, 'after the TTL it looks again');
    assert.equal(lookups.length, 2);
  });

  it('keeps transactional ids apart and leaves consumer-group lookups alone', async () => {
    const { cluster, lookups } = fakeCluster();
    cacheTransactionCoordinator(cluster, now);
    await cluster.findGroupCoordinator({ groupId: 'ops-p0', coordinatorType: 1 });
    await cluster.findGroupCoordinator({ groupId: 'ops-p1', coordinatorType: 1 });
    await cluster.findGroupCoordinator({ groupId: 'projection' });
    await cluster.findGroupCoordinator({ groupId: 'projection' });
    assert.deepEqual(
      lookups.map((l) => l.groupId),
      ['ops-p0', 'ops-p1', 'projection', 'projection'],
    );
  });

  it('never serves a failed lookup or a broker whose connection dropped', async () => {
    const { cluster, lookups, failNext } = fakeCluster();
    cacheTransactionCoordinator(cluster, now);
    failNext(true);
    await assert.rejects(cluster.findGroupCoordinator({ groupId: 'ops-p0', coordinatorType: 1 }));
    failNext(false);
    const broker = await cluster.findGroupCoordinator({ groupId: 'ops-p0', coordinatorType: 1 });
    assert.equal(lookups.length, 2, 'the failure was not cached');
    broker.connected = false;
    const again = await cluster.findGroupCoordinator({ groupId: 'ops-p0', coordinatorType: 1 });
    assert.notEqual(again, broker);
    assert.equal(lookups.length, 3);
  });

  // The producer reaches kafkajs's private `createCluster` (no public hook exists). Were a kafkajs upgrade to
  // rename it or change what the cluster offers, the producer would silently lose both savings: this fails instead.
  // No broker is needed: kafkajs builds the cluster when the producer is created and connects only on connect().
  it("finds kafkajs's private createCluster, wraps the coordinator lookup and reaches the partition offsets", () => {
    const kafka = new Kafka({ clientId: 'private-api-check', brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
    const ownBefore = Object.getOwnPropertySymbols(kafka).length;
    const { lastStableOffset } = createTransactionalProducer(kafka, { transactionalId: 'check', idempotent: true });
    assert.equal(typeof lastStableOffset, 'function', "kafkajs's cluster (and its fetchTopicsOffset) was not found");
    assert.equal(Object.getOwnPropertySymbols(kafka).length, ownBefore, 'the client is left as it was');
  });

  // The epoch producer's InitProducerId must go to the transactional id's coordinator, or the writer could not be
  // fenced: without kafkajs's private hooks it is not created at all. A fake coordinator shows where the call goes.
  it("an epoch producer asks the transactional id's coordinator for its producer id, naming the id", async () => {
    const kafka = new Kafka({ clientId: 'epoch-check', brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
    const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
    assert.ok(symbol, "kafkajs's createCluster was not found");
    const client = kafka as unknown as Record<symbol, (...args: unknown[]) => Record<string, unknown>>;
    const original = client[symbol]!;
    const asked: unknown[] = [];
    let cluster: Record<string, unknown> | undefined;
    client[symbol] = (...args: unknown[]) => {
      cluster = original.apply(kafka, args);
      cluster.findGroupCoordinator = async (lookup: unknown) => {
        asked.push(lookup);
        return { isConnected: () => true, initProducerId: async (args: unknown) => (asked.push(args), {}) };
      };
      return cluster;
    };
    try {
      assert.ok(createEpochProducer(kafka, 'ops-writer-p3', {}), 'created');
      const controller = (await (cluster!.findControllerBroker as () => Promise<Record<string, unknown>>)()) as {
        initProducerId(args: object): Promise<unknown>;
      };
      await controller.initProducerId({ transactionTimeout: 1000 });
      assert.deepEqual(asked, [
        { groupId: 'ops-writer-p3', coordinatorType: 1 },
        { transactionTimeout: 1000, transactionalId: 'ops-writer-p3' },
      ]);
    } finally {
      client[symbol] = original;
    }
  });
});
