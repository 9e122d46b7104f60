/**
 * Broker failures on a three-broker cluster (replication factor 3, min.insync.replicas=2), while SDK clients type
 * into several documents through a command-service: the test kills (SIGKILL) the broker leading the busiest ops
 * partition, starts it again, then kills the transaction coordinator's broker. At the end the acked-op checker
 * reads the log (read_committed) and holds the clients to it: every op a client saw acked is in the log exactly
 * once at its acked version, versions are gapless, every client's text equals the log's replay.
 *
 * The cluster is this test's own (startKafkaCluster: its own network, containers and run id), so killing brokers
 * touches nothing else. It never skips: if the cluster cannot start, the test fails with the reason. Typing is
 * seeded (TEST_SEED to replay a run's choices); recovery times are printed, not asserted.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createKafkaOpLog, ensureOpsTopic } from '@collab/adapter-kafka';
import type { ClientDocument } from '@collab/client';
import { CollabClient } from '@collab/client';
import type { OpCommitted, OpLog } from '@collab/core';
import { bestEffort, isOpCommitted, seededRandom } from '@collab/core';
import type { StandaloneKafkaCluster } from '@collab/infra';
import { startKafkaCluster } from '@collab/infra';
import { Kafka } from 'kafkajs';
import WebSocket from 'ws';
import { AckRecorder, checkAckedOps } from '@collab/chaos';
import { until } from './support/processes.js';
import type { RunningService, TestTopic } from './support/service.js';
import { startService, token } from './support/service.js';

const PARTITIONS = 3;
const DOCS = 4;
const CLIENTS = 3;
/** Each client keeps at most this many edits unacknowledged per document, so typing never outruns the limits. */
const MAX_PENDING = 8;

/** The ops topic as production has it: three replicas, two in sync for a write (ownAllPartitions: no command bus). */
async function provisionOpsTopic(t: TestTopic): Promise<void> {
  const admin = new Kafka({ clientId: 'broker-faults-admin', brokers: t.brokers, logLevel: 0 }).admin();
  await admin.connect();
  try {
    const config = { minInsyncReplicas: 2 };
    await ensureOpsTopic(admin, { topic: t.topic, partitions: t.partitions, replicationFactor: 3, config });
  } finally {
    await admin.disconnect();
  }
}

async function readLog(log: OpLog, docIds: readonly string[]): Promise<Map<string, OpCommitted[]>> {
  const out = new Map<string, OpCommitted[]>(docIds.map((d) => [d, []]));
  for (const p of new Set(docIds.map((d) => log.partitionFor(d)))) {
    for await (const batch of log.read(p, 0n))
      for (const r of batch) if (isOpCommitted(r.value)) out.get(r.value.docId)?.push(r.value);
  }
  return out;
}

describe('command-service on a three-broker Kafka cluster: broker killed, restarted, coordinator killed', function () {
  this.timeout(300_000);
  const seed = Number(process.env.TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
  let cluster: StandaloneKafkaCluster | undefined;
  let topic: TestTopic;
  let log: OpLog;
  let svc: RunningService;
  const clients: CollabClient[] = [];
  let typing = false;
  let typist: Promise<void> | undefined;

  before(async () => {
    cluster = await startKafkaCluster();
    topic = { topic: `faults.ops.${randomUUID().slice(0, 8)}`, partitions: PARTITIONS, brokers: cluster.brokers };
    await provisionOpsTopic(topic);
    await cluster.awaitTopic(topic.topic);
    log = await createKafkaOpLog({
      brokers: topic.brokers,
      topic: topic.topic,
      partitionCount: topic.partitions,
      clientId: `faults-${randomUUID().slice(0, 6)}`,
      // Short enough that a request to a dead leader fails in seconds and the writer moves on.
      timeouts: { appendMs: 10_000, requestMs: 5_000, connectionMs: 2_000, operationMs: 30_000 },
    });
    svc = await startService(topic, { log });
  });

  after(async () => {
    typing = false;
    await bestEffort(typist ?? Promise.resolve());
    for (const c of clients) c.close();
    await bestEffort(svc?.stop() ?? Promise.resolve());
    await bestEffort(log?.close() ?? Promise.resolve());
    await cluster?.stop();
  });

  it(`loses and duplicates no acked op (seed ${seed})`, async () => {
    console.log(`      seed ${seed} (TEST_SEED=${seed} replays the typing)`);
    const random = seededRandom(seed);
    const recorder = new AckRecorder();
    const docIds = Array.from({ length: DOCS }, (_, i) => `faults-${i}-${randomUUID()}`);
    const docs: ClientDocument[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const client = new CollabClient({
        url: svc.url,
        token: () => token(`typist${i}`),
        WebSocket: WebSocket as never,
      });
      clients.push(client);
      for (const docId of docIds) {
        const doc = await client.openDocument(docId);
        recorder.watch(client, doc);
        docs.push(doc);
      }
    }

    // Every ~20 ms one seeded edit in one document, as long as that document is not too far ahead of its acks.
    typing = true;
    typist = (async () => {
      while (typing) {
        const doc = docs[Math.floor(random() * docs.length)]!;
        if (doc.pendingCount < MAX_PENDING) {
          if (doc.length > 20 && random() < 0.3) doc.delete(Math.floor(random() * (doc.length - 3)), 3);
          else doc.insert(Math.floor(random() * (doc.length + 1)), String.fromCharCode(97 + Math.floor(random() * 26)));
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    const figures: string[] = [];
    const faults: Array<{ fault: string; at: number }> = [];
    /** Kill-to-ack times: the first ack anywhere, and the first on the partition the fault hit. */
    const recovery = async (fault: string, at: number, partition: number) => {
      const any = await recorder.nextAck(at, 120_000);
      const onPartition = await recorder.nextAck(at, 120_000, (a) => log.partitionFor(a.docId) === partition);
      faults.push({ fault, at });
      figures.push(
        `${fault}: first ack ${any.atMs - at} ms after, first on partition ${partition} ${onPartition.atMs - at} ms after`,
      );
    };
    /** The fault took: another broker took over what the killed one led. */
    const movedAway = (what: string, killed: number, leaderNow: () => Promise<number | undefined>) =>
      until(`${what} led by a broker other than ${killed}`, async () => {
        const now = await leaderNow().catch(() => undefined); // metadata may still name the dead broker: ask again
        return now !== undefined && now !== killed ? now : undefined;
      });

    await recorder.more(60, 60_000);

    // (a) The leader of the busiest ops partition (most acks so far).
    const perPartition = new Map<number, number>();
    for (const a of recorder.acks) {
      const p = log.partitionFor(a.docId);
      perPartition.set(p, (perPartition.get(p) ?? 0) + 1);
    }
    const busiest = [...perPartition].sort((x, y) => y[1] - x[1])[0]![0];
    const leader = await cluster!.leaderOf(topic.topic, busiest);
    assert.ok(leader !== undefined, `partition ${busiest} has a leader`);
    const killedAt = Date.now();
    await cluster!.kill(leader);
    await recovery(`kill of broker ${leader} (leader of busiest partition ${busiest})`, killedAt, busiest);
    await movedAway(`partition ${busiest}`, leader, () => cluster!.leaderOf(topic.topic, busiest));
    await recorder.more(40, 120_000);

    // (b) The same broker back, and every replica in sync before the next fault (else losing one more broker
    // could leave a partition below min.insync.replicas: refused writes, not the fault under test).
    const restartedAt = Date.now();
    await cluster!.restart(leader);
    await cluster!.awaitInSync([topic.topic]);
    figures.push(`restart of broker ${leader}: back and in sync ${Date.now() - restartedAt} ms after docker start`);
    faults.push({ fault: `restart of broker ${leader}`, at: restartedAt });
    await recorder.more(40, 120_000);

    // (c) The transaction coordinator: the leader of __transaction_state partition 0 (the cluster has one).
    const coordinator = await until(
      'a transaction coordinator',
      () => cluster!.transactionCoordinator().catch(() => undefined),
      30_000,
    );
    const coordinatorKilledAt = Date.now();
    await cluster!.kill(coordinator);
    await recovery(`kill of broker ${coordinator} (transaction coordinator)`, coordinatorKilledAt, busiest);
    await movedAway('__transaction_state partition 0', coordinator, () => cluster!.transactionCoordinator());
    await recorder.more(40, 120_000);

    typing = false;
    await typist;
    await until(
      'every client idle at the same version of every document',
      () => {
        if (recorder.pending() > 0) return undefined;
        const byDoc = new Map<string, Set<number>>();
        for (const f of recorder.finals()) byDoc.set(f.docId, (byDoc.get(f.docId) ?? new Set()).add(f.version));
        return [...byDoc.values()].every((v) => v.size === 1) ? true : undefined;
      },
      120_000,
    );

    // Each fault's window ends at the next one (or after 30 s), so that no pause is counted twice.
    faults.forEach(({ fault, at }, i) => {
      const windowMs = Math.min(30_000, (faults[i + 1]?.at ?? Infinity) - at);
      figures.push(`${fault}: longest pause in acks until the next fault ${recorder.longestPause(at, windowMs)} ms`);
    });
    const result = checkAckedOps(await readLog(log, docIds), recorder.acks, recorder.finals());
    console.log(
      `      ${result.opsInLog} ops in the log, ${result.acksChecked} acks checked, ` +
        `${recorder.unsent} edits given back (refused), ${recorder.errors.length} server errors\n` +
        figures.map((f) => `      ${f}`).join('\n'),
    );
    if (recorder.errors.length > 0)
      console.log(`      errors (first 5):\n        ${recorder.errors.slice(0, 5).join('\n        ')}`);
    assert.deepEqual(result.violations, [], `seed ${seed}`);
    assert.ok(result.acksChecked >= 180, 'the run acked ops through every fault');
  });
});
