/**
 * The OpLog contract: what every event-log adapter (Kafka, embedded SQLite) must do, as mocha tests. The factory
 * gives a fresh, empty log with at least two partitions for each test, and `cleanup` closes and removes it.
 * Nothing here knows about Kafka: offsets are compared, never computed (Kafka's commit markers take offsets, so
 * an adapter may leave gaps), and consumers are waited for with a bounded deadline, never a sleep.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  isCollabError,
  type AppendInput,
  type CommentEvent,
  type Consumer,
  type LogRecord,
  type OpCommitted,
  type OpLog,
  type Offset,
} from '@collab/core';

export interface OpLogFixture {
  log: OpLog;
  cleanup(): Promise<void>;
}

/** Generous: a group rebalance on a loaded CI machine takes seconds. A passing test never waits it out. */
const DEADLINE_MS = 45_000;

async function until(condition: () => boolean, what: string, timeoutMs = DEADLINE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const rejectsWith = (code: string) => (err: unknown) => {
  assert.ok(isCollabError(err), `expected a CollabError ${code}, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  return true;
};

/** `count` distinct document ids that the log puts in `partition`. */
function docsIn(log: OpLog, partition: number, count: number): string[] {
  const docs: string[] = [];
  const run = randomUUID().slice(0, 8);
  for (let i = 0; docs.length < count; i++) {
    if (i > 100_000) throw new Error(`partitionFor never gives partition ${partition}`);
    const docId = `doc-${run}-${i}`;
    if (log.partitionFor(docId) === partition) docs.push(docId);
  }
  return docs;
}

/** The op that takes the document from version - 1 to version: appends one character (an emoji every third). */
function opRecord(docId: string, version: number, headers?: Record<string, string>): AppendInput {
  const text = version % 3 === 0 ? '👋🏽' : 'x';
  const value: OpCommitted = {
    docId,
    version,
    op: version === 1 ? [text] : [version - 1, text],
    baseVersion: version - 1,
    clientId: `client-${docId}`,
    seq: version,
    userId: 'user-1',
    timestamp: 1_764_230_400_000 + version,
  };
  return headers === undefined ? { value } : { value, headers };
}

/** A comment event of the document at `version` (docs/comments.md): every body kind over `n`. */
function commentRecord(docId: string, version: number, n: number): AppendInput {
  const bodies: CommentEvent['body'][] = [
    { kind: 'created', threadId: 't1', messageId: 'm1', anchor: { start: 0, end: 1 }, text: 'look 👀' },
    { kind: 'replied', threadId: 't1', messageId: 'm2', text: 'ok' },
    { kind: 'edited', threadId: 't1', messageId: 'm1', text: 'look' },
    { kind: 'created', threadId: 't2', messageId: 'm3', anchor: { start: 0, end: 0, detached: true }, text: 'gone' },
    { kind: 'resolved', threadId: 't1' },
  ];
  const value: CommentEvent = {
    docId,
    version,
    userId: 'user-2',
    timestamp: 1_764_230_500_000 + n,
    body: bodies[n % bodies.length]!,
  };
  return { value };
}

async function readAll(log: OpLog, partition: number, from: Offset = 0n): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const batch of log.read(partition, from, { batchSize: 2 })) {
    for (const record of batch) {
      assert.equal(record.partition, partition);
      out.push(record);
    }
  }
  return out;
}

const values = (records: readonly LogRecord[]) => records.map((r) => r.value);
const increasing = (offsets: readonly Offset[]) => offsets.every((o, i) => i === 0 || o > offsets[i - 1]!);

export function opLogContract(name: string, factory: () => Promise<OpLogFixture>): void {
  describe(`OpLog contract: ${name}`, function () {
    this.timeout(120_000);
    let fixture: OpLogFixture | undefined;
    const log = (): OpLog => {
      if (fixture === undefined) throw new Error('no fixture');
      return fixture.log;
    };
    const stopLater: Consumer[] = [];

    beforeEach(async () => {
      fixture = await factory();
      assert.ok(fixture.log.partitionCount >= 2, 'the contract needs a log with at least two partitions');
    });
    afterEach(async () => {
      await Promise.allSettled(stopLater.splice(0).map((c) => c.stop()));
      await fixture?.cleanup();
      fixture = undefined;
    });

    it('partitionFor is stable and in range, and spreads documents over every partition', () => {
      const seen = new Set<number>();
      for (let i = 0; i < 200; i++) {
        const p = log().partitionFor(`doc-${i}`);
        assert.ok(Number.isInteger(p) && p >= 0 && p < log().partitionCount, `partition ${p} out of range`);
        assert.equal(log().partitionFor(`doc-${i}`), p);
        seen.add(p);
      }
      assert.equal(seen.size, log().partitionCount);
    });

    it('reads back what was appended, in order, with values and headers intact', async () => {
      const [doc] = docsIn(log(), 1, 1) as [string];
      const writer = await log().openWriter(1);
      const records = [1, 2, 3].map((v) =>
        opRecord(doc, v, { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(15)}${v}-01` }),
      );
      records.push({ value: { ...opRecord(doc, 4).value, op: [3, { d: '👋🏽' }, 'é'] } });
      const offsets = await writer.append(records);
      assert.equal(offsets.length, 4);
      assert.ok(increasing(offsets), `offsets ${offsets.join(',')} must increase`);
      const read = await readAll(log(), 1);
      assert.deepEqual(
        values(read),
        records.map((r) => r.value),
      );
      assert.deepEqual(
        read.map((r) => r.headers),
        records.map((r) => r.headers ?? {}),
      );
      assert.deepEqual(
        read.map((r) => r.offset),
        offsets,
      );
      await writer.close();
    });

    it('gives increasing offsets across appends, and reads from an offset in the middle', async () => {
      const [doc] = docsIn(log(), 0, 1) as [string];
      const writer = await log().openWriter(0);
      const offsets: Offset[] = [];
      for (let v = 1; v <= 5; v++) offsets.push(...(await writer.append([opRecord(doc, v)])));
      assert.ok(increasing(offsets), `offsets ${offsets.join(',')} must increase`);
      const tail = await readAll(log(), 0, offsets[2]);
      assert.deepEqual(
        tail.map((r) => r.value.version),
        [3, 4, 5],
      );
      assert.deepEqual(await readAll(log(), 0, (await log().endOffsets())[0]), []);
      await writer.close();
    });

    it("keeps a document's records in its partition, in version order, beside other documents", async () => {
      const [a, b] = docsIn(log(), 0, 2) as [string, string];
      const [c] = docsIn(log(), 1, 1) as [string];
      const w0 = await log().openWriter(0);
      const w1 = await log().openWriter(1);
      for (let v = 1; v <= 4; v++) {
        await w0.append([opRecord(a, v), opRecord(b, v)]);
        await w1.append([opRecord(c, v)]);
      }
      const p0 = values(await readAll(log(), 0));
      assert.deepEqual(
        p0.filter((r) => r.docId === a).map((r) => r.version),
        [1, 2, 3, 4],
      );
      assert.deepEqual(
        p0.filter((r) => r.docId === b).map((r) => r.version),
        [1, 2, 3, 4],
      );
      assert.ok(!p0.some((r) => r.docId === c));
      assert.deepEqual(
        values(await readAll(log(), 1)).map((r) => [r.docId, r.version]),
        [1, 2, 3, 4].map((v) => [c, v]),
      );
      await Promise.all([w0.close(), w1.close()]);
    });

    it('appends all or none: a batch with a record of another partition appends nothing', async () => {
      const [mine] = docsIn(log(), 0, 1) as [string];
      const [other] = docsIn(log(), 1, 1) as [string];
      const writer = await log().openWriter(0);
      await assert.rejects(writer.append([opRecord(mine, 1), opRecord(other, 1)]), rejectsWith('ERR_INVALID_ARGUMENT'));
      assert.deepEqual(await readAll(log(), 0), []);
      assert.deepEqual(await readAll(log(), 1), []);
      // The writer is still usable after a refused batch.
      await writer.append([opRecord(mine, 1)]);
      assert.deepEqual(
        values(await readAll(log(), 0)).map((r) => r.version),
        [1],
      );
      await writer.close();
    });

    it('comment events: appended between ops in one batch, read back in log order, fenced like ops', async () => {
      const [doc] = docsIn(log(), 1, 1) as [string];
      const a = await log().openWriter(1);
      const records = [
        opRecord(doc, 1),
        commentRecord(doc, 1, 0),
        commentRecord(doc, 1, 1),
        opRecord(doc, 2),
        commentRecord(doc, 2, 2),
        commentRecord(doc, 2, 3),
        commentRecord(doc, 2, 4),
      ];
      await a.append(records.slice(0, 4));
      await a.append(records.slice(4));
      assert.deepEqual(
        values(await readAll(log(), 1)),
        records.map((r) => r.value),
      );
      const b = await log().openWriter(1);
      await assert.rejects(a.append([commentRecord(doc, 2, 0)]), rejectsWith('ERR_FENCED'));
      assert.equal((await readAll(log(), 1)).length, records.length, 'the fenced writer appended nothing');
      await Promise.all([a.close(), b.close()]);
    });

    it('fencing: a newer writer of the partition makes the older one fail with ERR_FENCED and append nothing', async () => {
      const [doc] = docsIn(log(), 1, 1) as [string];
      const a = await log().openWriter(1);
      await a.append([opRecord(doc, 1)]);
      const b = await log().openWriter(1);
      await assert.rejects(a.append([opRecord(doc, 2, { writer: 'a' })]), (err: unknown) => {
        rejectsWith('ERR_FENCED')(err);
        assert.equal((err as { retriable: boolean }).retriable, false);
        return true;
      });
      // Still fenced on a second try: a stale owner never gets back in.
      await assert.rejects(a.append([opRecord(doc, 2, { writer: 'a' })]), rejectsWith('ERR_FENCED'));
      await b.append([opRecord(doc, 2, { writer: 'b' })]);
      const read = await readAll(log(), 1);
      assert.deepEqual(
        read.map((r) => [r.value.version, r.headers.writer]),
        [
          [1, undefined],
          [2, 'b'],
        ],
      );
      await Promise.all([a.close(), b.close()]);
    });

    it('endOffsets: past every appended record, and not past the next append', async () => {
      const before = await log().endOffsets();
      assert.equal(before.length, log().partitionCount);
      const [doc] = docsIn(log(), 1, 1) as [string];
      const writer = await log().openWriter(1);
      const offsets = await writer.append([opRecord(doc, 1), opRecord(doc, 2)]);
      assert.ok(offsets[0]! >= before[1]!, `first offset ${offsets[0]} is before the end ${before[1]}`);
      const after = await log().endOffsets();
      assert.ok(after[1]! > offsets[1]!, `end ${after[1]} must be past the last offset ${offsets[1]}`);
      assert.equal(after[0], before[0], 'the other partition did not move');
      const [next] = await writer.append([opRecord(doc, 3)]);
      assert.ok(next! >= after[1]!, `the next append's offset ${next} is before the end ${after[1]}`);
      await writer.close();
    });

    it('offsetsForTime: no record before it committed at or after the time; the end offset when none is', async () => {
      const [doc] = docsIn(log(), 1, 1) as [string];
      const writer = await log().openWriter(1);
      // Version v stamped at T0 + v, after the writer opened: a log may keep entries of its own that no reader is
      // handed, stamped with their own time (Kafka: the writer's claim, made when it opened).
      const T0 = Date.now() + 60_000;
      const offsets = await writer.append(
        [1, 2, 3, 4].map((v) => {
          const record = opRecord(doc, v);
          return { ...record, value: { ...record.value, timestamp: T0 + v } };
        }),
      );
      const ends = await log().endOffsets();
      assert.deepEqual(
        await log().offsetsForTime(T0),
        [...ends.keys()].map((p) => (p === 1 ? offsets[0] : ends[p])),
      );
      // Never past the first record stamped at or after the time, never at or before one stamped earlier (Kafka
      // may answer an entry between: a commit marker, stamped by the broker).
      const atThird = (await log().offsetsForTime(T0 + 3))[1]!;
      assert.ok(atThird > offsets[1]! && atThird <= offsets[2]!, `offset ${atThird} for version 3 at ${offsets[2]}`);
      const afterAll = (await log().offsetsForTime(T0 + 5))[1]!;
      assert.ok(afterAll > offsets[3]! && afterAll <= ends[1]!, `offset ${afterAll} after every record`);
      const fromThird = (await readAll(log(), 1, atThird)).filter((r) => r.value.timestamp >= T0 + 3);
      assert.deepEqual(
        fromThird.map((r) => r.value.version),
        [3, 4],
      );
      await writer.close();
    });

    it('a closed writer fails with ERR_CLOSED', async () => {
      const [doc] = docsIn(log(), 0, 1) as [string];
      const writer = await log().openWriter(0);
      await writer.close();
      await assert.rejects(writer.append([opRecord(doc, 1)]), rejectsWith('ERR_CLOSED'));
      assert.deepEqual(await readAll(log(), 0), []);
    });

    it('consume: a new member of the group resumes after the last checkpoint, redelivering the rest', async () => {
      const [doc] = docsIn(log(), 0, 1) as [string];
      const writer = await log().openWriter(0);
      const offsets = await writer.append([1, 2, 3, 4, 5, 6].map((v) => opRecord(doc, v)));
      const groupId = `contract-${randomUUID()}`;

      const first: LogRecord[] = [];
      const c1 = await log().consume({
        groupId,
        fromBeginning: true,
        handler: async (records, context) => {
          first.push(...records);
          // Only the first three are "durable": checkpoint the third, whatever batches we get.
          const durable = records.filter((r) => r.offset <= offsets[2]!);
          if (durable.length > 0) context.checkpoint(durable[durable.length - 1]!.offset);
        },
      });
      stopLater.push(c1);
      await until(() => first.some((r) => r.offset === offsets[5]), 'the first consumer to see all six records');
      await c1.stop();
      assert.deepEqual(
        first.filter((r) => r.partition === 0).map((r) => r.value.version),
        [1, 2, 3, 4, 5, 6],
      );

      const second: LogRecord[] = [];
      const c2 = await log().consume({
        groupId,
        fromBeginning: true,
        handler: async (records) => {
          second.push(...records);
        },
      });
      stopLater.push(c2);
      await until(() => second.some((r) => r.offset === offsets[5]), 'the second consumer to reach the last record');
      assert.deepEqual(
        second.map((r) => r.value.version),
        [4, 5, 6],
        'resumes right after the checkpoint: nothing skipped, nothing checkpointed redelivered',
      );
      await writer.close();
    });

    it('consume: two members of a group split the partitions, each record going to its owner', async () => {
      const groupId = `contract-${randomUUID()}`;
      const owned = [new Set<number>(), new Set<number>()];
      const got: LogRecord[][] = [[], []];
      const member = (i: 0 | 1) =>
        log().consume({
          groupId,
          fromBeginning: true,
          onAssigned: (ps) => ps.forEach((p) => owned[i]!.add(p)),
          onRevoked: (ps) => ps.forEach((p) => owned[i]!.delete(p)),
          handler: async (records, context) => {
            got[i]!.push(...records);
            context.checkpoint(records[records.length - 1]!.offset);
          },
        });
      const m0 = await member(0);
      stopLater.push(m0);
      const m1 = await member(1);
      stopLater.push(m1);
      const all = Array.from({ length: log().partitionCount }, (_, p) => p);
      const split = () =>
        owned[0]!.size > 0 && owned[1]!.size > 0 && all.every((p) => owned[0]!.has(p) !== owned[1]!.has(p));
      await until(split, 'both members to own disjoint, non-empty sets of partitions covering all');

      const docs = all.map((p) => docsIn(log(), p, 1)[0]!);
      for (const [p, doc] of docs.entries()) {
        const writer = await log().openWriter(p);
        await writer.append([opRecord(doc, 1)]);
        await writer.close();
      }
      await until(() => got[0]!.length + got[1]!.length >= all.length, 'every partition to be delivered');
      for (const i of [0, 1] as const) {
        for (const r of got[i]!) assert.ok(owned[i]!.has(r.partition), `member ${i} got partition ${r.partition}`);
      }
      assert.deepEqual([...got[0]!, ...got[1]!].map((r) => r.value.docId).sort(), [...docs].sort());
    });
  });
}
