/**
 * What the checker compares at the end of a run, read straight from the servers:
 *  - the ops topic, read_committed, by a consumer of its own with kafkajs (no code of ours on the read path but
 *    the Avro codec): every record kept, duplicates included (the checker must see them, not a reader that
 *    dedupes). The read ends when the group's committed offsets reach every partition's high watermark, or stay
 *    put below it for a while (a tail of claims only), so a transaction still open (a claimer killed) is waited
 *    for, not cut off;
 *  - the read models (Cassandra, through the store) and the newest snapshot of each document (S3).
 */
import { randomUUID } from 'node:crypto';
import { createCassandraReadModelStore } from '@collab/adapter-cassandra';
import { createS3SnapshotStore } from '@collab/adapter-s3';
import { isCommentEvent, type OpCommitted } from '@collab/core';
import { createRegistryLogValueCodec } from '@collab/schemas';
import { Kafka, logLevel } from 'kafkajs';
import type { Violation } from './acked-ops.js';
import { replayText, type OpComponent } from './text-replay.js';
import type { System } from './system.js';
import { BUCKET, KEYSPACE, OPS_TOPIC } from './system.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** How long a partition's committed offset and end must stay put to count as read to its end (see below). */
const STILL_MS = 10_000;

export async function readWholeLog(system: System, timeoutMs = 240_000): Promise<Map<string, OpCommitted[]>> {
  const registry = system.stack.endpoints.schemaRegistry?.url;
  if (registry === undefined) throw new Error('the chaos stack has no schema registry');
  const codec = await createRegistryLogValueCodec({ url: registry, topic: OPS_TOPIC });
  const kafka = new Kafka({ clientId: 'chaos-checker', brokers: system.cluster.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const groupId = `chaos-checker-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, sessionTimeout: 10_000 });
  const byDoc = new Map<string, OpCommitted[]>();
  await admin.connect();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: OPS_TOPIC, fromBeginning: true });
    await consumer.run({
      autoCommitInterval: 200,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          if (message.value === null) continue;
          await codec.prepare(message.value);
          const op = codec.decode(message.value);
          if (isCommentEvent(op)) continue; // the checker compares texts: comment events are not ops
          byDoc.set(op.docId, [...(byDoc.get(op.docId) ?? []), op]);
        }
      },
    });
    const deadline = Date.now() + timeoutMs;
    // Per partition, the last (committed, high) seen and since when: a writer's claims and claim renewals are
    // aborted records and markers that kafkajs hands no batch for, so a partition whose tail is only those never
    // gets a committed offset at its end. The typing has stopped: a partition whose position and end have not
    // moved for STILL_MS is read to its end. (A reader cut off early would report ops lost: a failure, never a
    // false pass.)
    const seen = new Map<number, { at: string; since: number }>();
    for (;;) {
      const high = await admin.fetchTopicOffsets(OPS_TOPIC);
      const committed = (await admin.fetchOffsets({ groupId, topics: [OPS_TOPIC] }))[0]?.partitions ?? [];
      const now = Date.now();
      const behind = high.filter((h) => {
        const position = Number(committed.find((c) => c.partition === h.partition)?.offset ?? -1);
        const at = `${position}/${h.high}`;
        const last = seen.get(h.partition);
        if (last?.at !== at) seen.set(h.partition, { at, since: now });
        const still = last?.at === at && now - last.since >= STILL_MS;
        // An empty partition has nothing to commit: high 0 and no committed offset (-1) count as read.
        return position < Number(h.high) && Number(h.high) !== 0 && !still;
      });
      if (behind.length === 0) break;
      if (Date.now() > deadline) {
        throw new Error(
          `the checker's read of ${OPS_TOPIC} did not reach the end in ${timeoutMs} ms: ` +
            behind.map((h) => `partition ${h.partition} high ${h.high}`).join(', '),
        );
      }
      await sleep(500);
    }
  } finally {
    await consumer.disconnect().catch(() => {});
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
  for (const ops of byDoc.values()) ops.sort((a, b) => a.version - b.version);
  return byDoc;
}

export interface ReadSideCheck {
  violations: Violation[];
  /** Documents whose newest snapshot was checked, and the snapshots' versions. */
  snapshotsChecked: number;
}

/**
 * Waits (bounded) until the read models and the snapshots have caught up with the log, then holds them to it:
 * each document's head and ops in the read models equal the log's (same versions, clients, seqs and ops), and
 * its newest snapshot's text equals the log's replay at the snapshot's version.
 */
export async function checkReadSide(
  system: System,
  log: ReadonlyMap<string, readonly OpCommitted[]>,
  timeoutMs = 180_000,
): Promise<ReadSideCheck> {
  const e = system.stack.endpoints;
  const readModels = await createCassandraReadModelStore({
    contactPoints: e.cassandra.contactPoints,
    localDataCenter: e.cassandra.localDataCenter,
    keyspace: KEYSPACE,
  });
  const snapshots = createS3SnapshotStore({
    endpoint: e.s3.endpoint,
    region: e.s3.region,
    credentials: { accessKeyId: e.s3.accessKeyId, secretAccessKey: e.s3.secretAccessKey },
    bucket: BUCKET,
  });
  const violations: Violation[] = [];
  let snapshotsChecked = 0;
  try {
    const deadline = Date.now() + timeoutMs;
    const lagging = async () => {
      const late: string[] = [];
      for (const [docId, ops] of log) {
        const head = await readModels.getHead(docId).catch(() => undefined);
        const snapshot = await snapshots.latest(docId).catch(() => undefined);
        if ((head?.version ?? 0) < ops.length || (snapshot?.version ?? 0) < ops.length) late.push(docId);
      }
      return late;
    };
    let late = await lagging();
    while (late.length > 0 && Date.now() < deadline) {
      await sleep(1_000);
      late = await lagging();
    }
    for (const [docId, ops] of log) {
      const head = await readModels.getHead(docId);
      if (head?.version !== ops.length) {
        violations.push({
          docId,
          versions: [head?.version ?? 0, ops.length],
          message: `${docId}: the read models' head is v${head?.version ?? 0}, the log's v${ops.length}`,
        });
      }
      const modelled = await readModels.getOps(docId, 1, ops.length + 1, ops.length + 1);
      const same = (a: OpCommitted, b: OpCommitted | undefined) =>
        b !== undefined &&
        a.version === b.version &&
        a.clientId === b.clientId &&
        a.seq === b.seq &&
        JSON.stringify(a.op) === JSON.stringify(b.op);
      const first = ops.findIndex((op, i) => !same(op, modelled[i]));
      if (first >= 0 || modelled.length !== ops.length) {
        const at = first >= 0 ? first + 1 : Math.min(modelled.length, ops.length) + 1;
        violations.push({
          docId,
          versions: [at],
          message: `${docId}: the read models' ops differ from the log's from v${at}`,
        });
      }
      const snapshot = await snapshots.latest(docId);
      if (snapshot === undefined) {
        if (ops.length > 0) violations.push({ docId, versions: [], message: `${docId}: no snapshot at all` });
        continue;
      }
      snapshotsChecked++;
      const replay = replayText(
        ops.map((o) => ({ version: o.version, op: o.op as OpComponent[] })),
        new Set([snapshot.version]),
      ).at.get(snapshot.version);
      if (replay === undefined) {
        violations.push({
          docId,
          versions: [snapshot.version],
          message: `${docId}: a snapshot at v${snapshot.version}, beyond the log's v${ops.length}`,
        });
      } else if (replay !== snapshot.text) {
        violations.push({
          docId,
          versions: [snapshot.version],
          message: `${docId}: the snapshot at v${snapshot.version} differs from the log's replay`,
        });
      } else if (snapshot.version < ops.length) {
        violations.push({
          docId,
          versions: [snapshot.version, ops.length],
          message: `${docId}: the newest snapshot is v${snapshot.version}, ${timeoutMs} ms after the end the log is at v${ops.length}`,
        });
      }
    }
  } finally {
    await readModels.close().catch(() => {});
    await snapshots.close().catch(() => {});
  }
  return { violations, snapshotsChecked };
}
