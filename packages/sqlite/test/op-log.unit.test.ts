/**
 * What the SQLite op log does beyond the contract: Kafka's partitioner, dense offsets, the partition count kept in
 * the file, fencing between two storages on one file, in-process wake-ups vs. the fallback poll, redelivery after
 * a failing handler, checkpoints that survive a restart (and what a group has committed), and refusing checkpoints
 * past what was delivered.
 */
import assert from 'node:assert/strict';
import { isCollabError, type Consumer, type LogRecord } from '@collab/core';
import { createPartitionFor, createSqliteStorage, murmur2, type SqliteStorage } from '../src/index.js';
import { docIn, input } from './support/ops.js';
import { useTempDir } from './support/temp-dir.js';

/** Resolves with the first `count` records a consumer collects (bounded, so a broken adapter fails, not hangs). */
function collector(count: number, timeoutMs = 10_000) {
  const records: LogRecord[] = [];
  let resolve!: (records: LogRecord[]) => void;
  const done = new Promise<LogRecord[]>((r) => (resolve = r));
  const timer = setTimeout(() => resolve(records), timeoutMs);
  return {
    records,
    done,
    push(batch: readonly LogRecord[]) {
      records.push(...batch);
      if (records.length >= count) {
        clearTimeout(timer);
        resolve(records);
      }
    },
  };
}

describe('SQLite op log', function () {
  const temp = useTempDir('op-log');
  const open: SqliteStorage[] = [];
  const consumers: Consumer[] = [];
  const storage = async (path = temp.path('log'), pollIntervalMs = 50, partitionCount = 4) => {
    const s = await createSqliteStorage({ path, partitionCount, pollIntervalMs });
    open.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.stop()));
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  it("partitionFor is Kafka's murmur2: the Java client's test vectors, positive, modulo the count", () => {
    const vectors: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, hash] of vectors) assert.equal(murmur2(new TextEncoder().encode(key)), hash, key);
    const partitionFor = createPartitionFor(7);
    assert.equal(partitionFor('foobar'), (-790332482 & 0x7fffffff) % 7);
  });

  it('gives dense offsets 0, 1, 2, ... per partition across appends and writers', async () => {
    const s = await storage();
    const doc = docIn(s.opLog, 2);
    const w1 = await s.opLog.openWriter(2);
    assert.deepEqual(await w1.append([input(doc, 1), input(doc, 2)]), [0n, 1n]);
    const w2 = await s.opLog.openWriter(2);
    assert.deepEqual(await w2.append([input(doc, 3)]), [2n]);
    await assert.rejects(w1.append([input(doc, 4)]), (err) => isCollabError(err, 'ERR_FENCED'));
    assert.deepEqual(await w2.append([input(doc, 4)]), [3n], 'the fenced append took no offset');
    assert.deepEqual(await s.opLog.endOffsets(), [0n, 0n, 4n, 0n]);
  });

  it('keeps the partition count in the file and refuses to reopen it with another', async () => {
    const path = temp.path('count');
    await (await storage(path, 50, 4)).close();
    await assert.rejects(createSqliteStorage({ path, partitionCount: 6 }), (err) =>
      isCollabError(err, 'ERR_INVALID_ARGUMENT'),
    );
    const again = await storage(path, 50, 4);
    assert.equal(again.opLog.partitionCount, 4);
  });

  it('fences across two storages on one file: the older writer appends nothing more', async () => {
    const path = temp.path('fence');
    const [a, b] = [await storage(path), await storage(path)];
    const doc = docIn(a.opLog, 1);
    const writerA = await a.opLog.openWriter(1);
    await writerA.append([input(doc, 1)]);
    const writerB = await b.opLog.openWriter(1);
    await assert.rejects(writerA.append([input(doc, 2, { from: 'a' })]), (err) => isCollabError(err, 'ERR_FENCED'));
    await writerB.append([input(doc, 2, { from: 'b' })]);
    const read: LogRecord[] = [];
    for await (const batch of a.opLog.read(1, 0n)) read.push(...batch);
    assert.deepEqual(
      read.map((r) => [r.offset, r.value.version, r.headers.from]),
      [
        [0n, 1, undefined],
        [1n, 2, 'b'],
      ],
    );
  });

  it('appends of one turn commit together, each all-or-none: a fenced one among them is refused alone', async () => {
    const s = await storage(temp.path('group'));
    const [doc0, doc1] = [docIn(s.opLog, 0), docIn(s.opLog, 1)];
    const w0 = await s.opLog.openWriter(0);
    const stale = await s.opLog.openWriter(1);
    const fresh = await s.opLog.openWriter(1); // fences `stale`
    // One turn: three appends, the middle one by the fenced writer.
    const results = await Promise.allSettled([
      w0.append([input(doc0, 1), input(doc0, 2)]),
      stale.append([input(doc1, 1, { from: 'stale' })]),
      fresh.append([input(doc1, 1, { from: 'fresh' }), input(doc1, 2, { from: 'fresh' })]),
    ]);
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as { code: string }).code)),
      [[0n, 1n], 'ERR_FENCED', [0n, 1n]],
    );
    const read = async (partition: number) => {
      const out: LogRecord[] = [];
      for await (const batch of s.opLog.read(partition, 0n)) out.push(...batch);
      return out.map((r) => [r.offset, r.value.version, r.headers.from]);
    };
    assert.deepEqual(await read(0), [
      [0n, 1, undefined],
      [1n, 2, undefined],
    ]);
    assert.deepEqual(await read(1), [
      [0n, 1, 'fresh'],
      [1n, 2, 'fresh'],
    ]);
  });

  it('wakes a consumer on an append in the same storage, without waiting for the poll', async () => {
    // A poll of a minute: if the append signal did not work, the collector would time out with nothing.
    const s = await storage(temp.path('signal'), 60_000);
    const got = collector(1);
    consumers.push(await s.opLog.consume({ groupId: 'g', handler: async (records) => got.push(records) }));
    const doc = docIn(s.opLog, 3);
    const writer = await s.opLog.openWriter(3);
    await writer.append([input(doc, 1)]);
    assert.deepEqual(
      (await got.done).map((r) => r.value.docId),
      [doc],
    );
  });

  it('with batchWaitMs, records that arrive within the wait come in one batch (as a Kafka fetch wait)', async () => {
    const s = await storage(temp.path('batch-wait'), 60_000);
    const batches: number[] = [];
    const got = collector(3);
    consumers.push(
      await s.opLog.consume({
        groupId: 'g',
        batchWaitMs: 400,
        handler: async (records) => {
          batches.push(records.length);
          got.push(records);
        },
      }),
    );
    const doc = docIn(s.opLog, 1);
    const writer = await s.opLog.openWriter(1);
    await writer.append([input(doc, 1)]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await writer.append([input(doc, 2), input(doc, 3)]);
    assert.deepEqual(
      (await got.done).map((r) => r.value.version),
      [1, 2, 3],
    );
    assert.deepEqual(batches, [3], 'the second append came within the wait: one batch');
  });

  it('delivers appends made through another storage on the same file, by the fallback poll', async () => {
    const path = temp.path('poll');
    const [consuming, appending] = [await storage(path, 50), await storage(path, 50)];
    const got = collector(2);
    consumers.push(
      await consuming.opLog.consume({ groupId: 'g', fromBeginning: true, handler: async (r) => got.push(r) }),
    );
    const doc = docIn(appending.opLog, 0);
    const writer = await appending.opLog.openWriter(0);
    await writer.append([input(doc, 1), input(doc, 2)]);
    assert.deepEqual(
      (await got.done).map((r) => r.value.version),
      [1, 2],
    );
  });

  it('redelivers a batch whose handler threw, and commits the checkpoints made before the throw', async () => {
    const s = await storage();
    const doc = docIn(s.opLog, 0);
    const writer = await s.opLog.openWriter(0);
    await writer.append([1, 2, 3].map((v) => input(doc, v)));
    const deliveries: number[][] = [];
    const got = collector(6);
    const consumer = await s.opLog.consume({
      groupId: 'retry',
      fromBeginning: true,
      handler: async (records, context) => {
        deliveries.push(records.map((r) => r.value.version));
        got.push(records);
        context.checkpoint(records[0]!.offset);
        if (deliveries.length === 1) throw new Error('the first attempt fails');
      },
    });
    await got.done;
    await consumer.stop();
    assert.deepEqual(deliveries, [
      [1, 2, 3],
      [1, 2, 3],
    ]);
    const row = s.database
      .prepare('SELECT next_offset FROM log_group_offsets WHERE group_id = ? AND partition_id = 0')
      .get('retry') as { next_offset: number };
    assert.equal(row.next_offset, 1, 'committed up to the checkpoint, not the whole batch');
  });

  it("committedOffset: a group's committed next offset per partition, undefined before it commits any", async () => {
    const s = await storage();
    const doc = docIn(s.opLog, 2);
    const writer = await s.opLog.openWriter(2);
    await writer.append([1, 2, 3].map((v) => input(doc, v)));
    assert.equal(await s.opLog.committedOffset('g', 2), undefined);
    const got = collector(3);
    const consumer = await s.opLog.consume({
      groupId: 'g',
      fromBeginning: true,
      handler: async (records, context) => {
        got.push(records);
        context.checkpoint(records[1]!.offset);
      },
    });
    await got.done;
    await consumer.stop();
    assert.equal(await s.opLog.committedOffset('g', 2), 2n, 'the checkpoint + 1');
    assert.equal(await s.opLog.committedOffset('g', 0), undefined, 'nothing consumed there');
    assert.equal(await s.opLog.committedOffset('other', 2), undefined);
    await assert.rejects(s.opLog.committedOffset('g', 9), (err) => isCollabError(err, 'ERR_INVALID_ARGUMENT'));
  });

  it('refuses a checkpoint past the last delivered offset', async () => {
    const s = await storage();
    const doc = docIn(s.opLog, 0);
    await (await s.opLog.openWriter(0)).append([input(doc, 1)]);
    let refusal: unknown;
    const got = collector(1);
    consumers.push(
      await s.opLog.consume({
        groupId: 'g',
        fromBeginning: true,
        handler: async (records, context) => {
          try {
            context.checkpoint(records[0]!.offset + 1n);
          } catch (err) {
            refusal = err;
          }
          got.push(records);
        },
      }),
    );
    await got.done;
    assert.ok(isCollabError(refusal, 'ERR_INVALID_ARGUMENT'), String(refusal));
  });

  it('resumes after the last checkpoint when the file is reopened, and commits a checkpoint made late', async () => {
    const path = temp.path('resume');
    const first = await storage(path);
    const doc = docIn(first.opLog, 1);
    await (await first.opLog.openWriter(1)).append([1, 2, 3, 4].map((v) => input(doc, v)));
    const got = collector(4);
    let late: (() => void) | undefined;
    consumers.push(
      await first.opLog.consume({
        groupId: 'projection',
        fromBeginning: true,
        handler: async (records, context) => {
          got.push(records);
          // The effect of version 2 becomes durable after the handler returned (a write-behind buffer, say).
          const second = records.find((r) => r.value.version === 2);
          if (second !== undefined) late = () => context.checkpoint(second.offset);
        },
      }),
    );
    await got.done;
    late?.();
    await first.close(); // stops the consumer: the late checkpoint is committed, not lost
    open.splice(open.indexOf(first), 1);
    consumers.splice(0);

    const second = await storage(path);
    const again = collector(2);
    consumers.push(
      await second.opLog.consume({ groupId: 'projection', fromBeginning: true, handler: async (r) => again.push(r) }),
    );
    assert.deepEqual(
      (await again.done).map((r) => r.value.version),
      [3, 4],
    );
  });

  it('calls onAssigned before the first batch of a partition and onRevoked when the member stops', async () => {
    const s = await storage();
    const doc = docIn(s.opLog, 2);
    await (await s.opLog.openWriter(2)).append([input(doc, 1)]);
    const events: string[] = [];
    const got = collector(1);
    const consumer = await s.opLog.consume({
      groupId: 'g',
      fromBeginning: true,
      onAssigned: (ps) => void events.push(`assigned ${ps.join(',')}`),
      onRevoked: (ps) => void events.push(`revoked ${ps.join(',')}`),
      handler: async (records) => {
        events.push(`batch ${records[0]!.partition}`);
        got.push(records);
      },
    });
    await got.done;
    await consumer.stop();
    assert.deepEqual(events, ['assigned 0,1,2,3', 'batch 2', 'revoked 0,1,2,3']);
  });

  it('fails with ERR_CLOSED after close, and close is idempotent', async () => {
    const s = await storage();
    const writer = await s.opLog.openWriter(0);
    await Promise.all([s.close(), s.close()]);
    await assert.rejects(s.opLog.endOffsets(), (err) => isCollabError(err, 'ERR_CLOSED'));
    await assert.rejects(writer.append([input(docIn(s.opLog, 0), 1)]), (err) => isCollabError(err, 'ERR_CLOSED'));
    await assert.rejects(s.opLog.openWriter(0), (err) => isCollabError(err, 'ERR_CLOSED'));
  });
});
