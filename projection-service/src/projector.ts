/**
 * The projector: the "lambda" of the projection-service. It gets one batch of records of one partition (offset
 * order), writes their ops and comment events to the read-model store and only then checkpoints the batch's last offset. It never
 * commits offsets itself; the consumer commits up to the checkpoint on its own schedule.
 *
 * Failure: if the store fails, nothing is checkpointed and the error is thrown after a few bounded retries, so
 * the consumer gets the whole batch again (kafkajs retries the fetch, then restarts the consumer). That is safe
 * because writeOps is idempotent by (docId, version), writeCommentEvents by (docId, version, offset), and the head only moves forward: rows written before the
 * failure are rewritten with identical values (invariant 4).
 *
 * A record the store refuses as invalid (a non-retriable error) is not skipped: skipping would leave a hole in
 * the read model that nothing ever repairs. The partition stops, loudly, until someone fixes the cause.
 */
import type { BatchHandler, LogRecord, Logger, OpCommitted, ReadModelStore, StoredCommentEvent } from '@collab/core';
import { isCommentEvent, isOpCommitted } from '@collab/core';
import pRetry from 'p-retry';

export interface RetryPolicy {
  /** Retries of one writeOps call before the error is surfaced to the consumer. */
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
}

/**
 * Kept short on purpose: kafkajs does not heartbeat while a batch is in the handler, so a handler that retries
 * for longer than the session timeout (30 s) would be thrown out of the group. Longer outages are the
 * consumer's business (it redelivers and restarts with its own backoff).
 */
export const DEFAULT_RETRY: RetryPolicy = { retries: 4, minTimeoutMs: 200, maxTimeoutMs: 3_000 };

export interface ProjectorOptions {
  store: ReadModelStore;
  logger: Logger;
  retry?: RetryPolicy;
  /**
   * Most ops per writeOps call. A batch is cut only between documents, so each document's run in the batch is
   * one call, and its head moves with one compare-and-set. Default 5,000.
   */
  maxOpsPerWrite?: number;
  /** How many of those calls run at once; their documents are disjoint, so they never race on a head. */
  writeConcurrency?: number;
  /** Called after a batch was written and checkpointed (lag metrics hang off this). */
  onProjected?: (partition: number, last: LogRecord, count: number) => void;
}

/** True for errors that retrying can fix: CollabError's retriable flag (unavailable, timeout, head conflict). */
export const isRetriable = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;

/** The comment events of a batch of records, with the offsets that key them in the read models. */
export function commentEventsOf(records: readonly LogRecord[]): StoredCommentEvent[] {
  const events: StoredCommentEvent[] = [];
  for (const record of records) {
    if (isCommentEvent(record.value)) events.push({ offset: record.offset, event: record.value });
  }
  return events;
}

/** Groups a batch per document (first-seen order kept), then packs whole documents into chunks. */
export function chunkByDocument(ops: readonly OpCommitted[], maxOpsPerWrite: number): OpCommitted[][] {
  const byDoc = new Map<string, OpCommitted[]>();
  for (const op of ops) {
    const list = byDoc.get(op.docId);
    if (list === undefined) byDoc.set(op.docId, [op]);
    else list.push(op);
  }
  const chunks: OpCommitted[][] = [];
  let current: OpCommitted[] = [];
  for (const docOps of byDoc.values()) {
    if (current.length > 0 && current.length + docOps.length > maxOpsPerWrite) {
      chunks.push(current);
      current = [];
    }
    // A single document with more ops than the limit still goes in one call: its head moves once.
    current = current.concat(docOps);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export function createProjector(options: ProjectorOptions): BatchHandler {
  const { store, logger } = options;
  const retry = options.retry ?? DEFAULT_RETRY;
  const maxOpsPerWrite = options.maxOpsPerWrite ?? 5_000;
  const writeConcurrency = options.writeConcurrency ?? 4;

  const write = (what: string, count: number, partition: number, fn: () => Promise<void>) =>
    pRetry(fn, {
      retries: retry.retries,
      minTimeout: retry.minTimeoutMs,
      maxTimeout: retry.maxTimeoutMs,
      randomize: true,
      shouldRetry: (err) => isRetriable(err),
      onFailedAttempt: (err) => {
        logger.warn(
          { err, partition, [what]: count, attempt: err.attemptNumber, retriesLeft: err.retriesLeft },
          'projection write failed',
        );
      },
    });

  return async (records, context) => {
    const last = records.at(-1);
    if (last === undefined) return;
    const chunks = chunkByDocument(records.map((r) => r.value).filter(isOpCommitted), maxOpsPerWrite);
    const events = commentEventsOf(records);
    try {
      // Events and ops alike are in the read models before the checkpoint: a load trusts that everything below
      // the committed offset is there (docs/comments.md, "Loading").
      if (events.length > 0) {
        await write('events', events.length, context.partition, () => store.writeCommentEvents(events));
      }
      await runConcurrently(chunks, writeConcurrency, (chunk) =>
        write('ops', chunk.length, context.partition, () => store.writeOps(chunk)),
      );
    } catch (err) {
      // No checkpoint: the consumer redelivers the batch from the last checkpoint.
      logger.error(
        { err, partition: context.partition, from: records[0]?.offset, to: last.offset },
        'projection batch failed; it will be redelivered',
      );
      throw err;
    }
    context.checkpoint(last.offset);
    options.onProjected?.(context.partition, last, records.length);
    logger.debug({ partition: context.partition, ops: records.length, offset: last.offset }, 'projected');
  };
}

/** Runs `fn` over items with at most `limit` in flight; rejects with the first error once all have settled. */
export async function runConcurrently<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.err;
}
