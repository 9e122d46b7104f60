/** What the op log's parts share: the connection, its statements, the partitioning and the append signal. */
import { CollabError } from '@collab/core';
import type { SqliteDatabase } from '../database.js';
import { guard } from '../errors.js';
import type { Logger } from '@collab/core';
import type { AppendSignal } from './append-signal.js';
import type { LogStatements } from './statements.js';

export interface LogContext {
  db: SqliteDatabase;
  endpoint: string;
  sql: LogStatements;
  partitionCount: number;
  partitionFor(docId: string): number;
  signal: AppendSignal;
  logger: Logger;
  /** Wait at most this long for an append signal before looking at the file again (appends by other processes). */
  pollIntervalMs: number;
  /** Records per consumer batch. */
  batchSize: number;
  isClosed(): boolean;
}

export function checkOpen(ctx: LogContext): void {
  if (ctx.isClosed()) throw new CollabError('ERR_CLOSED', `the SQLite op log is closed (${ctx.endpoint})`);
}

export function checkPartition(ctx: LogContext, partition: number): void {
  if (!Number.isInteger(partition) || partition < 0 || partition >= ctx.partitionCount) {
    throw new CollabError('ERR_INVALID_ARGUMENT', `partition ${partition} is not in 0..${ctx.partitionCount - 1}`);
  }
}

/** Run `fn` against the database unless the log is closed, translating SQLite's errors. */
export function run<T>(ctx: LogContext, operation: string, fn: () => T): T {
  checkOpen(ctx);
  return guard(operation, ctx.endpoint, fn);
}

export function endOffsets(ctx: LogContext): bigint[] {
  return ctx.sql.endOffsets.all().map((row) => BigInt(row.next_offset));
}
