/**
 * A new owner loads a document from the read side (real Kafka, Cassandra, S3, and the real projection-service):
 * the latest snapshot at or below (head − window), the read-model ops after it, and only the records of the
 * partition past the projection group's committed offset — never a scan from offset 0 —, and the result equals a
 * replay of the whole log (text, version, the window of recent ops). Then it sequences on from there without a
 * gap or a duplicate. Also: read models ahead of the committed offset, a snapshot newer than the read models, a
 * document never projected, and the fallbacks to the whole log (read models down, no committed offset) or to the
 * read-model ops alone (S3 down).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createPartitionFor } from '@collab/adapter-kafka';
import { createS3SnapshotStore } from '@collab/adapter-s3';
import type { DocumentState, OpCommitted, OpLog, PartitionWriter, ReadModelStore } from '@collab/core';
import { isOpCommitted } from '@collab/core';
import { generateHistory, rng, type GeneratedDoc } from '@collab/read-side/testing';
import pino from 'pino';
import { loadFromLog } from '../src/documents/document-loader.js';
import type { DocumentSource, SourceEvent } from '../src/documents/document-source.js';
import { projectionOffsets } from '../src/documents/projection-offsets.js';
import { createReadSideSource } from '../src/documents/read-side-source.js';
import { committedOffset, freshReadSide, projected, startProjection, type TestReadSide } from './support/read-side.js';
import { ofType, RawClient } from './support/raw-client.js';
import type { RunningService, TestTopic } from './support/service.js';
import { freshTopic, openLog, startService, token } from './support/service.js';

const WINDOW = 200;
const silent = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** `count` document ids that all land in partition `partition`. */
function docsIn(t: TestTopic, partition: number, count: number): string[] {
  const partitionFor = createPartitionFor(t.topic, t.partitions);
  const out: string[] = [];
  while (out.length < count) {
    const docId = `doc-${randomUUID().slice(0, 8)}`;
    if (partitionFor(docId) === partition) out.push(docId);
  }
  return out;
}

/** Append the docs' ops from..to (inclusive, 1-based versions) interleaved, `perTransaction` records at a time. */
async function appendInterleaved(
  writer: PartitionWriter,
  docs: readonly GeneratedDoc[],
  from: number,
  to: number,
  perTransaction = 60,
) {
  const records: OpCommitted[] = [];
  for (let v = from; v <= to; v++) for (const d of docs) if (d.ops[v - 1] !== undefined) records.push(d.ops[v - 1]!);
  for (let i = 0; i < records.length; i += perTransaction) {
    await writer.append(records.slice(i, i + perTransaction).map((value) => ({ value })));
  }
}

async function readWholeDoc(log: OpLog, docId: string): Promise<OpCommitted[]> {
  const out: OpCommitted[] = [];
  for await (const batch of log.read(log.partitionFor(docId), 0n)) {
    for (const r of batch) if (r.value.docId === docId && isOpCommitted(r.value)) out.push(r.value);
  }
  return out;
}

function assertSameState(actual: DocumentState, expected: DocumentState, what: string): void {
  assert.equal(actual.version, expected.version, `${what}: version`);
  assert.equal(actual.doc.toString(), expected.doc.toString(), `${what}: text`);
  assert.deepEqual(
    actual.recent.map((r) => [r.version, r.clientId, r.seq]),
    expected.recent.map((r) => [r.version, r.clientId, r.seq]),
    `${what}: the window of recent ops`,
  );
}

describe('command-service takeover: load from snapshot + read models + the Kafka tail (real stack)', function () {
  this.timeout(300_000);
  const seed = Number(process.env.TAKEOVER_TEST_SEED ?? Date.now() % 1_000_000);
  let t: TestTopic;
  let rs: TestReadSide;
  let log: OpLog;
  const group = `projection-${randomUUID().slice(0, 8)}`;
  const PARTITION = 1;
  let long: GeneratedDoc; // 1,500 ops: 1..1,000 projected, then the projection stops; snapshot at 800
  let noise: GeneratedDoc; // another document of the same partition, interleaved
  let late: GeneratedDoc; // never projected: all its records are past the committed offset
  let committed: bigint;
  let partitionRecords = 0;

  const sourceWith = (events: SourceEvent[], readModels: ReadModelStore = rs.readModels, groupId = group) =>
    createReadSideSource({
      log,
      readModels,
      snapshots: rs.snapshots,
      committedOffset: projectionOffsets(rs.admin, groupId, t.topic),
      window: WINDOW,
      logger: silent,
      onEvent: (e) => events.push(e),
    });

  before(async () => {
    t = await freshTopic(2);
    rs = await freshReadSide();
    log = await openLog(t);
    const [a, b, c] = docsIn(t, PARTITION, 3);
    const random = rng(seed);
    long = generateHistory(a!, 1500, random);
    noise = generateHistory(b!, 1500, random);
    late = generateHistory(c!, 300, random);

    const writerLog = await openLog(t);
    const writer = await writerLog.openWriter(PARTITION);
    await appendInterleaved(writer, [long, noise], 1, 1000);
    // The projection runs until it has everything so far, and stops (committing its offsets).
    const projection = await startProjection(t, rs.readModels, group);
    await projected(rs.readModels, { [long.docId]: 1000, [noise.docId]: 1000 });
    await projection.stop();
    committed = (await committedOffset(rs.admin, group, t.topic, PARTITION))!;
    assert.ok(committed !== undefined && committed > 0n, 'the projection committed an offset');
    await rs.snapshots.put({ docId: long.docId, version: 800, text: long.texts[800]!, createdAt: Date.now() });
    // Then the log moves on without the projection.
    await appendInterleaved(writer, [long, noise, late], 1001, 1500);
    await appendInterleaved(writer, [late], 1, 300);
    await writer.close();
    await writerLog.close();
    partitionRecords = 3000 + 300;
  });

  after(async () => {
    await log?.close();
    await rs?.close();
  });

  it('the new owner reads snapshot + read-model ops + only the tail after the committed offset, equal to a full replay; then sequences on with no gap and no duplicate', async () => {
    const events: SourceEvent[] = [];
    let svc: RunningService | undefined;
    let client: RawClient | undefined;
    try {
      // A new owner of every partition: opening its writers fences the writer above, then documents load.
      svc = await startService(t, { window: WINDOW, catchupLimit: 1000, documents: sourceWith(events) });
      client = await RawClient.connect(svc.url);
      client.send({ t: 'auth', token: await token('alice'), protocol: 1 });
      await client.next(ofType('welcome'));
      client.send({ t: 'open', docId: long.docId });
      const snapshot = await client.next(ofType('snapshot'), 60_000);
      assert.equal(snapshot.version, 1500);
      assert.equal(snapshot.text, long.texts[1500]);

      const load = events.find((e) => e.kind === 'load' && e.docId === long.docId);
      assert.ok(load?.kind === 'load', 'the document was loaded through the read side');
      assert.equal(
        load.source,
        'read-side',
        JSON.stringify(load, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
      );
      assert.equal(load.snapshotVersion, 800, 'the newest snapshot at or below 1500 - window');
      assert.equal(load.readModelOps, 200, 'versions 801..1000 from Cassandra');
      assert.equal(load.logFrom, committed, 'Kafka read from the projection’s committed offset');
      assert.equal(load.logOps, 500, 'versions 1001..1500 from the Kafka tail');
      assert.ok(
        load.logRecordsScanned > 0 && load.logRecordsScanned <= partitionRecords - 2000,
        `only the tail was scanned: ${load.logRecordsScanned} of ${partitionRecords} records`,
      );
      console.log(
        `      takeover load: snapshot ${load.snapshotVersion}, ${load.readModelOps} read-model ops, ` +
          `${load.logOps} ops from ${load.logRecordsScanned} of ${partitionRecords} records after offset ${load.logFrom}, ${load.ms.toFixed(0)} ms`,
      );

      // Exactly what a replay of the whole log gives, window included.
      const held = await svc.service.hub.peek(long.docId);
      const scanStarted = performance.now();
      const replayed = await loadFromLog(log, long.docId, WINDOW);
      console.log(
        `      the same document by a scan of the whole partition: ${(performance.now() - scanStarted).toFixed(0)} ms`,
      );
      assertSameState(held!, replayed, 'loaded vs replayed');

      // And it sequences on: versions 1501.., each once.
      const length = [...long.texts[1500]!].length;
      for (let i = 0; i < 3; i++) {
        client.send({
          t: 'submit',
          docId: long.docId,
          clientId: 'after-takeover',
          seq: i + 1,
          baseVersion: 1500 + i,
          op: [length + i, '!'],
        });
        assert.equal((await client.next(ofType('ack'))).version, 1501 + i);
      }
      // A resubmission of the last one is recognised, not committed again.
      client.send({
        t: 'submit',
        docId: long.docId,
        clientId: 'after-takeover',
        seq: 3,
        baseVersion: 1502,
        op: [length + 2, '!'],
      });
      assert.equal((await client.next(ofType('ack'))).version, 1503);
      const all = await readWholeDoc(log, long.docId);
      assert.deepEqual(
        all.map((r) => r.version),
        Array.from({ length: 1503 }, (_, i) => i + 1),
        'the log: versions 1..1503, no gap, no duplicate',
      );
      assert.equal((await svc.service.hub.peek(long.docId))!.doc.toString(), `${long.texts[1500]}!!!`);
    } finally {
      client?.close();
      await svc?.stop();
    }
  });

  it('read models ahead of the committed offset (written, not yet committed): the overlap is folded once', async () => {
    // The projection wrote 1,001..1,300 but crashed before committing their offsets.
    await rs.readModels.writeOps(long.ops.slice(1000, 1300));
    const events: SourceEvent[] = [];
    const state = await sourceWith(events).load(long.docId);
    assertSameState(state, await loadFromLog(log, long.docId, WINDOW), 'read models ahead');
    const load = events[0]!;
    assert.ok(load.kind === 'load' && load.source === 'read-side');
    assert.equal(load.logFrom, committed);
    assert.equal(load.snapshotVersion, 800);
    assert.equal(load.readModelOps, 200, 'the read models up to the first op of the tail, not beyond');
  });

  it('a snapshot newer than the read models: the load starts from it', async () => {
    // The snapshot-service is ahead of the projection (it reads the log itself).
    await rs.snapshots.put({ docId: noise.docId, version: 1250, text: noise.texts[1250]!, createdAt: Date.now() });
    const events: SourceEvent[] = [];
    const state = await sourceWith(events).load(noise.docId);
    assertSameState(state, await loadFromLog(log, noise.docId, WINDOW), 'snapshot ahead');
    const load = events[0]!;
    assert.ok(load.kind === 'load' && load.source === 'read-side');
    assert.equal(load.snapshotVersion, 1250);
    assert.equal(load.readModelOps, 0);
    assert.equal(load.logOps, 250);
  });

  it('a document never projected loads from the Kafka tail alone', async () => {
    const events: SourceEvent[] = [];
    const state = await sourceWith(events).load(late.docId);
    assertSameState(state, await loadFromLog(log, late.docId, WINDOW), 'never projected');
    const load = events[0]!;
    assert.ok(load.kind === 'load' && load.source === 'read-side');
    assert.equal(load.readModelOps, 0);
    assert.equal(load.logOps, 300);
  });

  it('S3 down: the snapshot is skipped and the read-model ops fill in; Cassandra down or no committed offset: the whole log', async () => {
    const events: SourceEvent[] = [];
    const expected = await loadFromLog(log, long.docId, WINDOW);
    const deadS3: DocumentSource = createReadSideSource({
      log,
      readModels: rs.readModels,
      snapshots: createS3SnapshotStore({
        endpoint: 'http://127.0.0.1:1',
        region: 'us-east-1',
        bucket: rs.bucket,
        credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      }),
      committedOffset: projectionOffsets(rs.admin, group, t.topic),
      window: WINDOW,
      logger: silent,
      onEvent: (e) => events.push(e),
    });
    assertSameState(await deadS3.load(long.docId), expected, 'S3 down');
    assert.ok(
      events[0]?.kind === 'load' && events[0].source === 'read-side' && events[0].snapshotVersion === undefined,
    );

    // Cassandra unreachable: a store whose client has been shut down.
    const closed = await (
      await import('@collab/adapter-cassandra')
    ).createCassandraReadModelStore({
      contactPoints: rs.env.CASSANDRA_CONTACT_POINTS!.split(','),
      localDataCenter: rs.env.CASSANDRA_LOCAL_DC!,
      keyspace: rs.keyspace,
    });
    await closed.close();
    assertSameState(await sourceWith(events, closed).load(long.docId), expected, 'Cassandra down');
    const down = events.at(-1)!;
    assert.ok(down.kind === 'load' && down.source === 'log', JSON.stringify(down.kind === 'load' && down.fallback));

    // A group that never committed (a projection that never ran, or another group's name).
    assertSameState(await sourceWith(events, rs.readModels, 'no-such-group').load(long.docId), expected, 'no offsets');
    const none = events.at(-1)!;
    assert.ok(none.kind === 'load' && none.source === 'log');
    assert.match(none.fallback ?? '', /committed no offset/);
  });
});
