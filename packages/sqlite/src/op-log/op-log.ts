/**
 * OpLog on SQLite: the embedded mode's ops "topic". One table of records keyed by (partition, offset), a row per
 * partition holding its writer epoch (fencing, see writer.ts) and its next offset, committed consumer positions
 * per (group, partition) (see group-member.ts), and in-process group membership (group-coordinator.ts).
 *
 * The partition count is fixed when the file is created and stored in it: documents are placed by
 * hash mod count, so reopening with another count would look for a document's ops in the wrong partition.
 */
import { CollabError, type ConsumeOptions, type Consumer, type LogRecord, type Offset, type OpLog } from '@collab/core';
import type { SqliteDatabase } from '../database.js';
import { guard } from '../errors.js';
import type { Logger } from '@collab/core';
import { AppendSignal } from './append-signal.js';
import { checkPartition, endOffsets, run, type LogContext } from './context.js';
import { GroupCommit } from './group-commit.js';
import { GroupCoordinator } from './group-coordinator.js';
import { createPartitionFor } from './partitioner.js';
import { decodeRecord } from './records.js';
import { prepareLogStatements, type LogStatements } from './statements.js';
import { openPartitionWriter } from './writer.js';

export interface SqliteOpLogOptions {
  db: SqliteDatabase;
  endpoint: string;
  partitionCount: number;
  logger: Logger;
  pollIntervalMs: number;
  batchSize: number;
  /** Called once when the log closes (the storage releases the database when its last adapter is closed). */
  onClose?: () => void;
}

export interface SqliteOpLog extends OpLog {
  /** The signal appends through this log raise; exposed for tests and for wiring other in-process listeners. */
  readonly appendSignal: AppendSignal;
  /**
   * The next offset consumer group `groupId` would read in `partition` (what it has committed), undefined when it
   * has committed none: how far the records it consumed are known to be handled, as with Kafka's committed offsets.
   */
  committedOffset(groupId: string, partition: number): Promise<Offset | undefined>;
}

const PARTITION_COUNT_KEY = 'partition_count';

/** Store the partition count on first use, refuse a different one later, and make sure every partition has its row. */
function initialisePartitions(db: SqliteDatabase, sql: LogStatements, partitionCount: number, endpoint: string): void {
  db.transaction(() => {
    const stored = sql.readConfig.get(PARTITION_COUNT_KEY);
    if (stored === undefined) sql.writeConfig.run(PARTITION_COUNT_KEY, String(partitionCount));
    else if (Number(stored.value) !== partitionCount) {
      throw new CollabError(
        'ERR_INVALID_ARGUMENT',
        `${endpoint} was created with ${stored.value} partitions, not ${partitionCount}: documents would be looked for in the wrong partitions`,
        { retriable: false },
      );
    }
    for (let p = 0; p < partitionCount; p++) sql.addPartition.run(p);
  }).immediate();
}

export function createSqliteOpLog(options: SqliteOpLogOptions): SqliteOpLog {
  const { db, endpoint, partitionCount } = options;
  if (!Number.isInteger(partitionCount) || partitionCount < 1) {
    throw new CollabError('ERR_INVALID_ARGUMENT', `partitionCount must be a positive integer, got ${partitionCount}`);
  }
  const sql = guard('prepare the op log', endpoint, () => prepareLogStatements(db));
  guard('initialise the op log', endpoint, () => initialisePartitions(db, sql, partitionCount, endpoint));

  let closed: Promise<void> | undefined;
  const signal = new AppendSignal();
  const ctx: LogContext = {
    db,
    endpoint,
    sql,
    partitionCount,
    partitionFor: createPartitionFor(partitionCount),
    signal,
    logger: options.logger,
    pollIntervalMs: options.pollIntervalMs,
    batchSize: options.batchSize,
    isClosed: () => closed !== undefined,
  };
  const coordinator = new GroupCoordinator(ctx);
  const commits = new GroupCommit(ctx);

  return {
    partitionCount,
    appendSignal: signal,
    partitionFor: ctx.partitionFor,

    async openWriter(partition: number) {
      return run(ctx, 'open a writer', () => openPartitionWriter(ctx, commits, partition));
    },

    async *read(partition: number, from: Offset, readOptions?: { batchSize?: number }): AsyncIterable<LogRecord[]> {
      checkPartition(ctx, partition);
      if (typeof from !== 'bigint' || from < 0n) {
        throw new CollabError('ERR_INVALID_ARGUMENT', `read needs a non-negative bigint offset, got ${String(from)}`);
      }
      const batchSize = readOptions?.batchSize ?? ctx.batchSize;
      if (!Number.isInteger(batchSize) || batchSize < 1) {
        throw new CollabError('ERR_INVALID_ARGUMENT', `batchSize must be a positive integer, got ${batchSize}`);
      }
      // "Up to its end at call time": records appended while the caller iterates are not included.
      const end = run(ctx, 'read', () => endOffsets(ctx)[partition]!);
      let position = from;
      while (position < end) {
        const rows = run(ctx, `read partition ${partition}`, () =>
          sql.readRange.all(partition, position, end, batchSize),
        );
        if (rows.length === 0) return;
        const batch = rows.map(decodeRecord);
        position = batch[batch.length - 1]!.offset + 1n;
        yield batch;
      }
    },

    async endOffsets() {
      return run(ctx, 'read end offsets', () => endOffsets(ctx));
    },

    async committedOffset(groupId: string, partition: number) {
      checkPartition(ctx, partition);
      const row = run(ctx, 'read committed offsets', () =>
        sql.committedOffsets.all(groupId).find((r) => r.partition_id === partition),
      );
      return row === undefined ? undefined : BigInt(row.next_offset);
    },

    async offsetsForTime(time: number) {
      if (!Number.isFinite(time)) {
        throw new CollabError('ERR_INVALID_ARGUMENT', `offsetsForTime needs a time in ms, got ${String(time)}`);
      }
      return run(ctx, 'find offsets by time', () => {
        const offsets = endOffsets(ctx);
        for (const row of sql.firstOffsetsAtOrAfter.all(time)) offsets[row.partition_id] = BigInt(row.first_offset);
        return offsets;
      });
    },

    async consume(consumeOptions: ConsumeOptions): Promise<Consumer> {
      run(ctx, 'consume', () => undefined);
      return coordinator.join(consumeOptions);
    },

    close() {
      closed ??= (async () => {
        // Consumers commit their last checkpoints while the database is still open.
        await coordinator.stopAll();
        options.onClose?.();
      })();
      return closed;
    },
  };
}
