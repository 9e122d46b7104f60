/**
 * A partition's writer. Opening one bumps the partition's writer epoch (fencing every earlier writer, in this
 * process or another one on the same file); each append then checks, in its own savepoint of an IMMEDIATE
 * transaction (group-commit.ts: the appends of one event-loop turn share it), that the epoch is still its own
 * while it reserves the offsets, and inserts the records in that same savepoint. A
 * fenced append therefore rolls back having written nothing, and two writers can never interleave records: the
 * write lock orders them, and the epoch check rejects the older one.
 *
 * Offsets are dense per partition (0, 1, 2, ... with no gaps): the partition row holds the next one, so reserving
 * n offsets is one UPDATE, and a rolled-back transaction gives its reservation back.
 */
import { CollabError, type AppendInput, type Offset, type PartitionWriter } from '@collab/core';
import { checkPartition, run, type LogContext } from './context.js';
import type { GroupCommit } from './group-commit.js';
import { encodeRecord } from './records.js';

export function openPartitionWriter(ctx: LogContext, commits: GroupCommit, partition: number): PartitionWriter {
  checkPartition(ctx, partition);
  const epoch = run(ctx, `open the writer of partition ${partition}`, () => {
    const row = ctx.db.transaction(() => ctx.sql.bumpEpoch.get(partition)).immediate();
    if (row === undefined) throw new Error(`partition ${partition} has no row: the log was not initialised`);
    return row.writer_epoch;
  });
  ctx.logger.debug({ partition, epoch }, 'sqlite op log: writer opened');

  let closed = false;

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
      return commits.append(partition, epoch, records.map(encodeRecord));
    },
    async close(): Promise<void> {
      // Nothing to release: the epoch stays until the next openWriter bumps it.
      closed = true;
    },
  };
}
