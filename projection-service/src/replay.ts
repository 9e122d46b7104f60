/**
 * replay(): project a range of the op log (ops and comment events) into a read-model store as fast as the store takes it — the engine of
 * a rebuild (and of the rebuild benchmark). Ports only: any OpLog, any ReadModelStore.
 *
 * Per partition, records are read with OpLog.read() in large batches and written in order with at most one
 * batch in flight, so the next read overlaps the current write. Partitions run in parallel, and within a batch
 * the documents are cut into chunks written concurrently (disjoint documents, so no two writes race on a head).
 * Everything is idempotent, so a replay that fails half-way can simply be run again.
 */
import { bestEffort, isOpCommitted } from '@collab/core';
import type { Offset, OpLog, ReadModelStore } from '@collab/core';
import { chunkByDocument, commentEventsOf, isRetriable, runConcurrently } from './projector.js';

const MAX_READ_ATTEMPTS = 10;

export interface ReplayOptions {
  log: OpLog;
  store: ReadModelStore;
  /** First offset per partition (index = partition); missing entries start at 0. */
  from?: readonly (Offset | undefined)[];
  /** Records per read batch. Default 10,000. */
  readBatchSize?: number;
  /** Partitions replayed at the same time. Default all. */
  partitionConcurrency?: number;
  /** Ops per writeOps call (whole documents). Default 2,000. */
  maxOpsPerWrite?: number;
  /** writeOps calls in flight per partition. Default 4. */
  chunkConcurrency?: number;
  onProgress?: (progress: ReplayProgress) => void;
  /** A partition's read failed with a retriable error and resumes at `offset`. */
  onRetry?: (partition: number, offset: Offset, err: unknown) => void;
}

export interface ReplayProgress {
  /** Offsets covered so far, summed over partitions (includes transaction markers, like `total`). */
  done: bigint;
  total: bigint;
  ops: number;
}

export interface ReplayResult {
  ops: number;
  documents: number;
  elapsedMs: number;
  opsPerSecond: number;
  /** Where each partition's replay started and the end it aimed for (the end offset when replay began). */
  ranges: { partition: number; from: Offset; end: Offset }[];
}

export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const { log, store } = options;
  const readBatchSize = options.readBatchSize ?? 10_000;
  const maxOpsPerWrite = options.maxOpsPerWrite ?? 2_000;
  const chunkConcurrency = options.chunkConcurrency ?? 4;
  const started = performance.now();
  const ends = await log.endOffsets();
  const ranges = ends.map((end, partition) => {
    const from = options.from?.[partition] ?? 0n;
    return { partition, from, end };
  });
  const total = ranges.reduce((sum, r) => sum + (r.end > r.from ? r.end - r.from : 0n), 0n);
  const covered = ranges.map(() => 0n);
  const documents = new Set<string>();
  let ops = 0;
  const report = () => options.onProgress?.({ done: covered.reduce((a, b) => a + b, 0n), total: total, ops });

  const replayPartition = async ({ partition, from, end }: (typeof ranges)[number]) => {
    // The next offset not yet durably written. A read can die under us: the reader's throwaway consumer does not
    // heartbeat while it waits for us to take its records, so writes slower than the session timeout get it
    // evicted ("stuck" / ERR_TIMEOUT). Then we resume from here with a new read; re-writing is idempotent.
    let next = from;
    for (let attempt = 1; next < end; attempt++) {
      let inFlight: Promise<void> = Promise.resolve();
      try {
        for await (const batch of log.read(partition, next, { batchSize: readBatchSize })) {
          await inFlight;
          const last = batch.at(-1);
          if (last === undefined) continue;
          const values = batch.map((r) => r.value).filter(isOpCommitted);
          const events = commentEventsOf(batch);
          inFlight = Promise.all([
            events.length === 0 ? undefined : store.writeCommentEvents(events),
            runConcurrently(chunkByDocument(values, maxOpsPerWrite), chunkConcurrency, (chunk) =>
              store.writeOps(chunk),
            ),
          ]).then(() => {
            for (const v of values) documents.add(v.docId);
            ops += values.length;
            next = last.offset + 1n;
            covered[partition] = next - from;
            report();
          });
          // Observed by the next iteration's await; this keeps a failure from being an unhandled rejection meanwhile.
          inFlight.catch(() => {});
        }
        await inFlight;
        break;
      } catch (err) {
        await bestEffort(inFlight);
        if (attempt >= MAX_READ_ATTEMPTS || !isRetriable(err)) throw err;
        options.onRetry?.(partition, next, err);
      }
    }
    // The read ends at the end offset as of its start; past the last record there are only markers.
    covered[partition] = end - from;
    report();
  };

  await runConcurrently(ranges, options.partitionConcurrency ?? ranges.length, replayPartition);
  const elapsedMs = performance.now() - started;
  return {
    ops,
    documents: documents.size,
    elapsedMs,
    opsPerSecond: elapsedMs > 0 ? (ops * 1000) / elapsedMs : 0,
    ranges,
  };
}
