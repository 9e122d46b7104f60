/**
 * A partition's writer. Opening one bumps the partition's writer epoch (fencing every earlier writer, in this
 * process or another one on the same file); each append then checks, in its own IMMEDIATE transaction, that the
 * epoch is still its own while it reserves the offsets, and inserts the records in that same transaction. A
 * fenced append therefore rolls back having written nothing, and two writers can never interleave records: the
 * write lock orders them, and the epoch check rejects the older one.
 *
 * Offsets are dense per partition (0, 1, 2, ... with no gaps): the partition row holds the next one, so reserving
 * n offsets is one UPDATE, and a rolled-back transaction gives its reservation back.
 */
import { CollabError, type AppendInput, type Offset, type PartitionWriter } from '@collab/core';
import { checkPartition, run, type LogContext } from './context.js';
import { encodeRecord } from './records.js';

export function openPartitionWriter(ctx: LogContext, partition: number): PartitionWriter {
  checkPartition(ctx, partition);
  const epoch = run(ctx, `open the writer of partition ${partition}`, () => {
    const row = ctx.db.transaction(() => ctx.sql.bumpEpoch.get(partition)).immediate();
    if (row === undefined) throw new Error(`partition ${partition} has no row: the log was not initialised`);
    return row.writer_epoch;
  });
  ctx.logger.debug({ partition, epoch }, 'sqlite op log: writer opened');

  let closed = false;
  const append = ctx.db.transaction((encoded: ReturnType<typeof encodeRecord>[]): Offset[] => {
    const reserved = ctx.sql.reserveOffsets.get(BigInt(encoded.length), partition, epoch);
    if (reserved === undefined) {
      // Thrown inside the transaction: better-sqlite3 rolls it back, so nothing of this batch is written.
      throw new CollabError(
        'ERR_FENCED',
        `partition ${partition} has a newer writer: this one (epoch ${epoch}) is fenced`,
        {
          retriable: false,
        },
      );
    }
    const first = BigInt(reserved.next_offset) - BigInt(encoded.length);
    return encoded.map((record, i) => {
      const offset = first + BigInt(i);
      ctx.sql.insertRecord.run(partition, offset, record.docId, record.version, record.value, record.headers);
      return offset;
    });
  });

  return {
    partition,
    async append(records: readonly AppendInput[]): Promise<Offset[]> {
      if (closed) throw new CollabError('ERR_CLOSED', `the writer of partition ${partition} is closed`);
      for (const record of records) {
        const docPartition = ctx.partitionFor(record.value.docId);
        if (docPartition !== partition) {
          throw new CollabError(
            'ERR_INVALID_ARGUMENT',
            `document ${record.value.docId} belongs to partition ${docPartition}, not ${partition}: nothing appended`,
          );
        }
      }
      if (records.length === 0) return [];
      const encoded = records.map(encodeRecord);
      const offsets = run(ctx, `append to partition ${partition}`, () => append.immediate(encoded));
      // After the commit (and its fsync): consumers in this process see the records as soon as they wake.
      ctx.signal.notify();
      return offsets;
    },
    async close(): Promise<void> {
      // Nothing to release: the epoch stays until the next openWriter bumps it.
      closed = true;
    },
  };
}
