/**
 * Comment threads from the read side on the real stack (Kafka, the real projection-service, Cassandra, S3):
 * comment events appended to the log reach Cassandra's comment_events table with their offsets; a document loads
 * from snapshot + read models (ops and comment events) + the Kafka tail after the projection's committed offset —
 * never a scan from offset 0 — and its text and threads equal a fold of the whole log, at its head and at every
 * version (time travel); a snapshot taken after the first comment is passed over (it holds the text only), one
 * before it is used. A projection restarted from offset 0 re-delivers every event and changes nothing.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createPartitionFor } from '@collab/adapter-kafka';
import type { CommentEvent, DocumentState, LogValue, OpLog, StoredCommentEvent } from '@collab/core';
import { isCommentEvent } from '@collab/core';
import { generateHistory, rng, type GeneratedDoc } from '@collab/read-side/testing';
import pino from 'pino';
import { commentsAtVersion } from '../src/documents/comments-at.js';
import { loadFromLog } from '../src/documents/document-loader.js';
import type { SourceEvent } from '../src/documents/document-source.js';
import { createLogSource } from '../src/documents/log-source.js';
import { projectionOffsets } from '../src/documents/projection-offsets.js';
import { createReadSideSource } from '../src/documents/read-side-source.js';
import { committedOffset, freshReadSide, startProjection, type TestReadSide } from './support/read-side.js';
import { until } from './support/processes.js';
import type { TestTopic } from './support/service.js';
import { freshTopic, openLog } from './support/service.js';

const WINDOW = 20;
const OPS = 300;
const PARTITION = 0;
const silent = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Two document ids of partition `partition`. */
function docsIn(t: TestTopic, partition: number): [string, string] {
  const partitionFor = createPartitionFor(t.topic, t.partitions);
  const out: string[] = [];
  while (out.length < 2) {
    const docId = `doc-${randomUUID().slice(0, 8)}`;
    if (partitionFor(docId) === partition) out.push(docId);
  }
  return [out[0]!, out[1]!];
}

/**
 * The log of two interleaved documents, with comment events on both from version 100 on: threads created on the
 * text of their version, replied to, resolved, deleted — several events at one version, in a fixed order.
 */
function historyOf(docs: readonly GeneratedDoc[], random: () => number): LogValue[] {
  const values: LogValue[] = [];
  for (let v = 1; v <= OPS; v++) {
    for (const d of docs) {
      values.push(d.ops[v - 1]!);
      if (v < 100 || v % 7 !== 0) continue;
      const length = [...d.texts[v]!].length;
      const start = Math.floor(random() * length);
      const end = Math.min(length, start + 1 + Math.floor(random() * 5));
      const at = (body: CommentEvent['body']): CommentEvent => ({
        docId: d.docId,
        version: v,
        userId: 'u',
        timestamp: 1_000 + v,
        body,
      });
      const id = `t${v}`;
      values.push(at({ kind: 'created', threadId: id, messageId: `${id}m1`, anchor: { start, end }, text: `on ${v}` }));
      values.push(at({ kind: 'replied', threadId: id, messageId: `${id}m2`, text: 'a reply' }));
      if (v % 3 === 0) values.push(at({ kind: 'resolved', threadId: `t${v - 7}` }));
      if (v % 5 === 0) values.push(at({ kind: 'deleted', threadId: `t${v - 14}` }));
    }
  }
  return values;
}

const threadsOf = (state: DocumentState) => [...state.comments.threads.values()];

async function eventsInLog(log: OpLog, docId: string): Promise<StoredCommentEvent[]> {
  const out: StoredCommentEvent[] = [];
  for await (const batch of log.read(log.partitionFor(docId), 0n)) {
    for (const r of batch)
      if (r.value.docId === docId && isCommentEvent(r.value)) out.push({ offset: r.offset, event: r.value });
  }
  return out;
}

describe('comment threads from the read side (real Kafka, projection, Cassandra, S3)', function () {
  this.timeout(300_000);
  const seed = Number(process.env.COMMENTS_TEST_SEED ?? Date.now() % 1_000_000);
  let t: TestTopic;
  let rs: TestReadSide;
  let log: OpLog;
  let doc: string;
  let noise: string;
  let committed: bigint;
  const group = `projection-${randomUUID().slice(0, 8)}`;

  const readSide = (events: SourceEvent[] = []) =>
    createReadSideSource({
      log,
      readModels: rs.readModels,
      snapshots: rs.snapshots,
      committedOffset: projectionOffsets(rs.admin, group, t.topic, 0),
      window: WINDOW,
      logger: silent,
      onEvent: (e) => events.push(e),
      comments: true,
    });

  /** Wait until Cassandra holds every comment event of `docId` that is in the log. */
  const eventsProjected = (docId: string, count: number) =>
    until(`${count} comment events of ${docId} in Cassandra`, async () =>
      (await rs.readModels.getCommentEvents(docId)).length >= count ? true : undefined,
    );

  before(async () => {
    t = await freshTopic(2);
    rs = await freshReadSide();
    log = await openLog(t);
    [doc, noise] = docsIn(t, PARTITION);
    const random = rng(seed);
    const values = historyOf([generateHistory(doc, OPS, random), generateHistory(noise, OPS, random)], random);
    const cut = values.findIndex((v) => v.docId === doc && !isCommentEvent(v) && v.version === 220);

    const writerLog = await openLog(t);
    const writer = await writerLog.openWriter(PARTITION);
    const append = async (part: LogValue[]) => {
      for (let i = 0; i < part.length; i += 25) await writer.append(part.slice(i, i + 25).map((value) => ({ value })));
    };
    // The projection runs over the first part (ops and events up to version 219 of `doc`) and stops.
    await append(values.slice(0, cut));
    const projection = await startProjection(t, rs.readModels, group);
    const inFirstPart = values.slice(0, cut).filter((v) => v.docId === doc && isCommentEvent(v)).length;
    await eventsProjected(doc, inFirstPart);
    await until('the projection to commit past the first part', async () => {
      const c = await committedOffset(rs.admin, group, t.topic, PARTITION);
      return c !== undefined && c >= BigInt(cut) ? true : undefined;
    });
    await projection.stop();
    committed = (await committedOffset(rs.admin, group, t.topic, PARTITION))!;
    // Then the log moves on without it: the rest is the tail a load reads from Kafka.
    await append(values.slice(cut));
    await writer.close();
    await writerLog.close();
  });

  after(async () => {
    await log?.close();
    await rs?.close();
  });

  it('Cassandra holds each comment event of the projected part once, with its offset, in log order', async () => {
    const inLog = (await eventsInLog(log, doc)).filter((e) => e.offset < committed);
    assert.ok(inLog.length > 20, `${inLog.length} events below the committed offset`);
    const stored = (await rs.readModels.getCommentEvents(doc)).filter((e) => e.offset < committed);
    assert.deepEqual(stored, inLog);
  });

  it('loads text and threads equal to the whole log, reading Kafka only after the committed offset', async () => {
    // A snapshot before the first comment (version 100) is used; one after it is passed over.
    const before = await loadFromLog(log, doc, WINDOW, 90);
    const after = await loadFromLog(log, doc, WINDOW, 250);
    await rs.snapshots.put({ docId: doc, version: 90, text: before.doc.toString(), createdAt: Date.now() });
    await rs.snapshots.put({ docId: doc, version: 250, text: after.doc.toString(), createdAt: Date.now() });
    const events: SourceEvent[] = [];
    const loaded = await readSide(events).load(doc);
    const expected = await loadFromLog(log, doc, WINDOW);
    assert.equal(loaded.version, OPS);
    assert.equal(loaded.doc.toString(), expected.doc.toString());
    assert.ok(threadsOf(expected).length > 5, 'the document has threads');
    assert.deepEqual(threadsOf(loaded), threadsOf(expected));
    assert.deepEqual(
      loaded.recent.map((r) => r.version),
      expected.recent.map((r) => r.version),
    );
    const load = events.find((e) => e.kind === 'load');
    assert.ok(load?.kind === 'load');
    assert.equal(load.source, 'read-side');
    assert.equal(load.snapshotVersion, 90);
    assert.equal(load.logFrom, committed);
    assert.ok(
      load.readModelOps > 0 && load.logOps > 0,
      JSON.stringify(load, (_, v) => (typeof v === 'bigint' ? `${v}` : v)),
    );
  });

  it('time travel: the threads at every version equal the log fold at that version', async () => {
    const fromLog = createLogSource({ log, window: WINDOW });
    const source = readSide();
    for (let v = 95; v <= OPS; v += 3) {
      assert.deepEqual(
        await commentsAtVersion(source, doc, v),
        await commentsAtVersion(fromLog, doc, v),
        `version ${v}`,
      );
    }
  });

  it('a projection restarted from offset 0 re-delivers every event and changes nothing', async () => {
    const beforeRestart = await rs.readModels.getCommentEvents(doc);
    await rs.admin.resetOffsets({ groupId: group, topic: t.topic, earliest: true });
    const projection = await startProjection(t, rs.readModels, group);
    try {
      const all = await eventsInLog(log, doc);
      await eventsProjected(doc, all.length);
      await until('the projection to commit to the end again', async () => {
        const c = await committedOffset(rs.admin, group, t.topic, PARTITION);
        return c !== undefined && c > all.at(-1)!.offset ? true : undefined;
      });
      const stored = await rs.readModels.getCommentEvents(doc);
      assert.deepEqual(stored, all, 'each event once, as in the log');
      assert.deepEqual(
        stored.filter((e) => e.offset < committed),
        beforeRestart.filter((e) => e.offset < committed),
      );
      const loaded = await readSide().load(doc);
      assert.deepEqual(threadsOf(loaded), threadsOf(await loadFromLog(log, doc, WINDOW)));
    } finally {
      await projection.stop();
    }
  });
});
