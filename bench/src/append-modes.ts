/**
 * `npm run bench:append -- [--appends 300] [--partitions 6] [--runs 2]`
 *
 * What one op costs Kafka and its client when every op is an append of its own (the distributed mode at light
 * load), for the write modes a design could choose between — measured side by side on the same broker:
 *
 * - `writer`: the ops writer as deployed (packages/kafka writer.ts): the partition claimed once, then one
 *   idempotent produce (acks=all) per append under the claim's producer epoch;
 * - `transaction per append`: the peer, what the writer did before 2026-12-08 — a kafkajs transactional producer
 *   per partition, one transaction per append (AddPartitionsToTxn, Produce, EndTxn), then ListOffsets until the
 *   commit marker makes it readable;
 * - `idempotent produce`: the floor — a plain idempotent producer, nothing fenced.
 *
 * Every mode runs a relay consumer (the command-service always does), so its fetches are counted in all three.
 * One writer per partition, one append in flight each, `--appends` per partition after a warm-up pass. CPU:
 * the broker container's cgroup and this process's own (`process.cpuUsage`), per op. Endpoints come from the
 * integration harness (KAFKA_BROKERS, or containers it starts).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createKafkaOpLog, ensureOpsTopic } from '@collab/adapter-kafka';
import type { OpCommitted, OpLog } from '@collab/core';
import { stopStack, useStack } from '@collab/infra';
import { encodeOpCommitted } from '@collab/schemas';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { containerCpuSeconds, containerIds, stackContainers } from './resources.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: {
    appends: { type: 'string', default: '300' },
    partitions: { type: 'string', default: '6' },
    runs: { type: 'string', default: '2' },
  },
});
const APPENDS = Number(values.appends);
const PARTITIONS = Number(values.partitions);
const RUNS = Number(values.runs);
for (const [name, n] of Object.entries({ appends: APPENDS, partitions: PARTITIONS, runs: RUNS })) {
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
}

type Mode = 'writer' | 'transaction per append' | 'idempotent produce';
const MODES: Mode[] = ['writer', 'transaction per append', 'idempotent produce'];
/** What the other modes are divided by. */
const PEER: Mode = 'transaction per append';

interface Writers {
  /** Appends `APPENDS` ops to every partition, one in flight per partition. */
  pass(): Promise<void>;
  close(): Promise<void>;
}

const stack = await useStack();
const brokers = stack.kafka.brokers;
const [brokerContainer] = await containerIds(await stackContainers([brokers[0]]));
if (brokerContainer === undefined) throw new Error(`no container found for the broker at ${brokers[0]}`);
const kafka = new Kafka({ clientId: 'bench-append', brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();

let version = 0;
const op = (docId: string): OpCommitted => {
  version++;
  return {
    docId,
    version,
    op: ['x'],
    baseVersion: version - 1,
    clientId: 'c',
    seq: version,
    userId: 'u',
    timestamp: Date.now(),
  };
};

/** The command-service's relay: a read_committed consumer of every partition, started at the end. */
async function startRelay(log: OpLog): Promise<{ stop(): Promise<void> }> {
  let assigned!: () => void;
  const ready = new Promise<void>((resolve) => (assigned = resolve));
  const relay = await log.consume({
    groupId: `bench-append-relay-${randomUUID()}`,
    commitOffsets: false,
    onAssigned: () => assigned(),
    handler: async () => {},
  });
  await ready;
  return relay;
}

async function open(mode: Mode, topic: string): Promise<Writers> {
  const log = await createKafkaOpLog({ brokers, topic, partitionCount: PARTITIONS, clientId: 'bench-append' });
  const relay = await startRelay(log);
  const closeLog = async () => {
    await relay.stop();
    await log.close();
  };
  const docs = Array.from({ length: PARTITIONS }, (_, p) => {
    for (let i = 0; ; i++) if (log.partitionFor(`doc-${p}-${i}`) === p) return `doc-${p}-${i}`;
  });
  /** One kafkajs producer per partition, `send` once per append. */
  const perPartition = async (
    create: (partition: number) => Producer,
    send: (producer: Producer, partition: number) => Promise<void>,
  ): Promise<Writers> => {
    const producers = docs.map((_, p) => create(p));
    await Promise.all(producers.map((producer) => producer.connect()));
    return {
      pass: async () => {
        await Promise.all(
          producers.map(async (producer, p) => {
            for (let i = 0; i < APPENDS; i++) await send(producer, p);
          }),
        );
      },
      close: async () => {
        await Promise.all(producers.map((producer) => producer.disconnect()));
        await closeLog();
      },
    };
  };
  const message = (partition: number) => ({
    partition,
    key: docs[partition]!,
    value: encodeOpCommitted(op(docs[partition]!)),
  });
  if (mode === 'idempotent produce') {
    return perPartition(
      () => kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false }),
      async (producer, p) => void (await producer.send({ topic, acks: -1, messages: [message(p)] })),
    );
  }
  if (mode === 'transaction per append') {
    return perPartition(
      (p) =>
        kafka.producer({
          transactionalId: `${topic}-txn-p${p}`,
          idempotent: true,
          maxInFlightRequests: 1,
          allowAutoTopicCreation: false,
        }),
      async (producer, p) => {
        const transaction = await producer.transaction();
        const [sent] = await transaction.send({ topic, acks: -1, messages: [message(p)] });
        await transaction.commit();
        // Readable once the last stable offset has passed it (the commit marker lands a moment after EndTxn).
        const offset = BigInt(sent!.baseOffset!);
        while ((await log.endOffsets())[p]! <= offset) await new Promise((resolve) => setTimeout(resolve, 2));
      },
    );
  }
  const writers = await Promise.all(docs.map((_, p) => log.openWriter(p)));
  return {
    pass: async () => {
      await Promise.all(
        writers.map(async (writer, p) => {
          for (let i = 0; i < APPENDS; i++) await writer.append([{ value: op(docs[p]!) }]);
        }),
      );
    },
    close: async () => {
      await Promise.all(writers.map((w) => w.close()));
      await closeLog();
    },
  };
}

const rows: { mode: Mode; run: number; opsPerSecond: number; brokerMs: number; clientMs: number }[] = [];
for (let run = 1; run <= RUNS; run++) {
  // Each run starts with another mode: the broker finishes deleting the previous topic in the background, which
  // would otherwise always land in the same mode's figures.
  const order = MODES.map((_, i) => MODES[(i + run - 1) % MODES.length]!);
  for (const mode of order) {
    const topic = `bench.append.${randomUUID().slice(0, 8)}`;
    await ensureOpsTopic(admin, { topic, partitions: PARTITIONS, replicationFactor: 1 });
    const writers = await open(mode, topic);
    try {
      await writers.pass(); // warm-up: connections, metadata, the JIT
      const broker0 = containerCpuSeconds(brokerContainer.id);
      const client0 = process.cpuUsage();
      const started = performance.now();
      await writers.pass();
      const seconds = (performance.now() - started) / 1000;
      const client = process.cpuUsage(client0);
      const broker1 = containerCpuSeconds(brokerContainer.id);
      const ops = APPENDS * PARTITIONS;
      if (broker0 === undefined || broker1 === undefined)
        throw new Error("the broker container's cgroup is not readable");
      rows.push({
        mode,
        run,
        opsPerSecond: ops / seconds,
        brokerMs: ((broker1 - broker0) * 1000) / ops,
        clientMs: (client.user + client.system) / 1000 / ops,
      });
      console.log(`  run ${run}, ${mode}: ${ops} appends in ${seconds.toFixed(1)} s`);
    } finally {
      await writers.close();
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    }
  }
}
await admin.disconnect();
await stopStack();

const of = (mode: Mode, key: 'opsPerSecond' | 'brokerMs' | 'clientMs') =>
  median(rows.filter((r) => r.mode === mode).map((r) => r[key]));
console.log(
  `\n# bench:append — ${PARTITIONS} partitions, ${APPENDS} single-op appends each, one in flight per partition; medians of ${RUNS} run(s)\n`,
);
console.log(`| mode | appends/s | broker CPU per op | client CPU per op | broker ÷ ${PEER} | client ÷ ${PEER} |`);
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const mode of MODES) {
  console.log(
    `| ${mode} | ${of(mode, 'opsPerSecond').toFixed(0)} | ${of(mode, 'brokerMs').toFixed(3)} ms | ${of(mode, 'clientMs').toFixed(3)} ms | ${(of(mode, 'brokerMs') / of(PEER, 'brokerMs')).toFixed(2)}× | ${(of(mode, 'clientMs') / of(PEER, 'clientMs')).toFixed(2)}× |`,
  );
}
