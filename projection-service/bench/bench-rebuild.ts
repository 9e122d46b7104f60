/**
 * `npm run bench:rebuild -- [--ops 200000] [--documents 2000] [--partitions 12] [--runs 3] [--batch-size 10000]
 *   [--concurrency 128] [--chunk-concurrency 4] [--max-ops-per-write 2000] [--partition-concurrency 6]
 *   [--head-mode rebuild|live]`
 *
 * Appends N realistic ops across many documents to a fresh ops topic (through the Kafka OpLog, as the
 * command-service does), then rebuilds them `runs` times, each into a fresh keyspace, and prints ops/s per run
 * and the median; each run is then checked, untimed (every op stored, every head right). Reading the topic
 * alone is timed first: the floor of any rebuild.
 * Endpoints come from the integration harness (KAFKA_BROKERS, CASSANDRA_CONTACT_POINTS, ... or containers).
 */
import { parseArgs } from 'node:util';
import { stopStack } from '@collab/infra';
import { countOps, readHeads } from '../src/consistency.js';
import { rebuildKeyspace } from '../src/rebuild.js';
import { generateOps } from '../test/support/ops.js';
import {
  appendOps,
  connectCassandra,
  deleteTopic,
  dropKeyspace,
  freshKeyspaceName,
  freshTopic,
  openLog,
  TEST_REPLICATION,
} from '../test/support/stack.js';
import { bestEffort } from '@collab/core';

const { values } = parseArgs({
  options: {
    ops: { type: 'string', default: '200000' },
    documents: { type: 'string', default: '2000' },
    partitions: { type: 'string', default: '12' },
    runs: { type: 'string', default: '3' },
    'batch-size': { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '128' },
    'chunk-concurrency': { type: 'string', default: '4' },
    'max-ops-per-write': { type: 'string', default: '2000' },
    'partition-concurrency': { type: 'string', default: '6' },
    'head-mode': { type: 'string', default: 'rebuild' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(
    'usage: npm run bench:rebuild -- [--ops N] [--documents D] [--partitions P] [--runs R] [--batch-size B] [--concurrency C] [--chunk-concurrency K] [--max-ops-per-write W] [--partition-concurrency N] [--head-mode rebuild|live]',
  );
  process.exit(0);
}
const OPS = Number(values.ops);
const RUNS = Number(values.runs);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

async function main() {
  const { client, contactPoints, localDataCenter } = await connectCassandra();
  const topic = await freshTopic(Number(values.partitions));
  const keyspaces: string[] = [];
  try {
    const { ops, heads } = generateOps({ documents: Number(values.documents), ops: OPS, seed: 7 });
    const log = await openLog(topic);
    let t = performance.now();
    await appendOps(log, ops, 2_000);
    const appendS = (performance.now() - t) / 1000;
    console.log(
      `appended ${OPS} ops to ${topic.topic} in ${appendS.toFixed(1)} s (${Math.round(OPS / appendS)} ops/s)`,
    );

    // Reading alone: the floor of any rebuild (one group join per partition, Avro decode).
    t = performance.now();
    let read = 0;
    await Promise.all(
      Array.from({ length: topic.partitions }, async (_, p) => {
        for await (const batch of log.read(p, 0n, { batchSize: Number(values['batch-size']) })) read += batch.length;
      }),
    );
    const readS = (performance.now() - t) / 1000;
    console.log(`read alone: ${read} records in ${readS.toFixed(1)} s (${Math.round(read / readS)} ops/s)`);
    await log.close();

    console.log(`head mode: ${values['head-mode']}`);
    const rates: number[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const keyspace = freshKeyspaceName('bench_rebuild');
      keyspaces.push(keyspace);
      const started = performance.now();
      const result = await rebuildKeyspace({
        kafka: { brokers: topic.brokers, topic: topic.topic, partitions: topic.partitions },
        cassandra: { contactPoints, localDataCenter, keyspace, replication: TEST_REPLICATION },
        readBatchSize: Number(values['batch-size']),
        storeWriteConcurrency: Number(values.concurrency),
        chunkConcurrency: Number(values['chunk-concurrency']),
        maxOpsPerWrite: Number(values['max-ops-per-write']),
        partitionConcurrency: Number(values['partition-concurrency']),
        headMode: values['head-mode'] === 'live' ? 'live' : 'rebuild',
      });
      const totalS = (performance.now() - started) / 1000;
      rates.push(result.replay.opsPerSecond);
      console.log(
        `run ${run}: ${result.replay.ops} ops in ${(result.replay.elapsedMs / 1000).toFixed(1)} s = ${Math.round(result.replay.opsPerSecond)} ops/s (replay; ${totalS.toFixed(1)} s with migration)`,
      );
      // Not timed: the rebuilt keyspace must hold every op and every head, or the figure means nothing.
      const stored = [...(await countOps(client, keyspace)).values()].reduce((a, b) => a + b, 0);
      const rebuiltHeads = await readHeads(client, keyspace);
      const wrongHeads = [...heads].filter(([docId, h]) => {
        const r = rebuiltHeads.get(docId);
        return r?.version !== h.version || r.length !== h.length;
      }).length;
      if (stored !== OPS || wrongHeads > 0 || rebuiltHeads.size !== heads.size) {
        throw new Error(`run ${run} is wrong: ${stored} of ${OPS} ops stored, ${wrongHeads} heads differ`);
      }
      console.log(`        verified: ${stored} ops stored, ${rebuiltHeads.size} heads equal to the log's`);
      await dropKeyspace(client, keyspace);
    }
    console.log(`median of ${RUNS}: ${Math.round(median(rates))} ops/s (target 50,000 ops/s)`);
  } finally {
    for (const k of keyspaces) await bestEffort(dropKeyspace(client, k));
    await deleteTopic(topic);
    await client.shutdown();
    await stopStack();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
