/**
 * The snapshot worker: consumes the ops topic in its own consumer group, keeps each recently active document's
 * text as a rope, and writes snapshots by policy (policy.ts) without ever blocking consumption on S3.
 *
 * - A document seen for the first time (or after eviction / a rebalance / a restart) is loaded lazily at the
 *   version just before its first record, from the latest snapshot + read-model ops (@collab/read-side, which
 *   verifies every version and replays from 0 when S3 is down). Until then its records wait; a failed load is
 *   retried on the tick with backoff.
 * - Records at or below the known version are replays: skipped. A record that is not the next version means
 *   our state is wrong: it is dropped and the document reloaded.
 * - Snapshots are only taken of a state built that way, so the text is exact for its version.
 * - Checkpoints: see checkpoints.ts. Snapshot writes run in the background with bounded retries; meanwhile
 *   consumption continues and the checkpoint simply waits.
 */
import type { ConsumerContext, LogRecord, OpLog, SnapshotStore, Consumer } from '@collab/core';
import type { RetentionPolicy } from '@collab/core';
import type { DocumentReader } from '@collab/read-side';
import { type } from '@collab/ot-text';
import { PartitionProgress } from './checkpoints.js';
import { isCommentEvent, silentLogger, type Logger } from '@collab/core';
import { DEFAULT_POLICY, snapshotDue, type SnapshotPolicy, type SnapshotReason } from './policy.js';
import { DEFAULT_RETRY, retain, writeSnapshot, type RetrySettings, type WriteOutcome } from './snapshot-writer.js';
import {
  activityOf,
  firstNeededOffset,
  markSnapshotted,
  newTrackedDocument,
  type TrackedDocument,
} from './tracked-document.js';

/** See SnapshotWorkerOptions.batchWaitMs. */
export const DEFAULT_SNAPSHOT_BATCH_WAIT_MS = 1000;

export interface SnapshotEvent {
  docId: string;
  version: number;
  reason: SnapshotReason | 'shutdown';
  outcome: WriteOutcome;
}

export interface SnapshotWorkerOptions {
  log: OpLog;
  groupId: string;
  reader: DocumentReader;
  snapshots: SnapshotStore;
  policy?: Partial<SnapshotPolicy>;
  retry?: Partial<RetrySettings>;
  retention?: RetentionPolicy;
  /**
   * How long a fetch may gather records before they are handed over (ConsumeOptions.batchWaitMs). Snapshots are
   * taken by policy seconds apart, so the worker has no use for each record the moment it lands; without a wait
   * its consumer woke the broker once per committed transaction (in bench:load at 48 ops/s: 42 of the 270 Kafka
   * requests a second). Default DEFAULT_SNAPSHOT_BATCH_WAIT_MS; 0: each record as soon as it is fetched.
   */
  batchWaitMs?: number;
  /** How often policies, failed loads, checkpoints and evictions are looked at. Default 1000 ms. */
  tickMs?: number;
  /** A clean document quiet this long is dropped from memory. Default 2 × idleMs. */
  evictAfterMs?: number;
  /** On shutdown, how long to try snapshotting dirty documents before stopping anyway. Default 10 s. */
  drainMs?: number;
  logger?: Logger;
  now?: () => number;
  onSnapshot?: (event: SnapshotEvent) => void;
  onWriteAttemptFailed?: (err: unknown, docId: string) => void;
}

export interface SnapshotWorker {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The documents in memory, for metrics. */
  documents(): Iterable<TrackedDocument>;
}

export function createSnapshotWorker(options: SnapshotWorkerOptions): SnapshotWorker {
  const policy: SnapshotPolicy = { ...DEFAULT_POLICY, ...options.policy };
  const retry: RetrySettings = { ...DEFAULT_RETRY, ...options.retry };
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const tickMs = options.tickMs ?? 1000;
  const evictAfterMs = options.evictAfterMs ?? 2 * policy.idleMs;
  const docs = new Map<string, TrackedDocument>();
  const contexts = new Map<number, ConsumerContext>();
  const progress = new PartitionProgress();
  const abort = new AbortController();
  let consumer: Consumer | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;
  let stopped: Promise<void> | undefined;

  const writerOptions = {
    snapshots: options.snapshots,
    retry,
    retention: options.retention,
    logger,
    now,
    signal: abort.signal,
    onAttemptFailed: (err: unknown, docId: string) => options.onWriteAttemptFailed?.(err, docId),
  };

  function fold(doc: TrackedDocument, record: LogRecord): void {
    const state = doc.state!;
    const value = record.value;
    if (isCommentEvent(value)) return; // never queued (handle skips them); here for the type
    const { version } = value;
    if (version <= state.version) return; // a replay: we already have it
    if (version !== state.version + 1) {
      logger.warn({ docId: doc.docId, have: state.version, got: version }, 'version gap in the log; reloading');
      doc.state = undefined;
      doc.uncovered = [];
      doc.waiting.push(record);
      return;
    }
    state.doc = type.apply(state.doc, value.op);
    state.version = version;
    doc.uncovered.push({ version, offset: record.offset });
    doc.rate.record(value.timestamp);
    doc.lastOpAt = now();
    doc.firstDirtyAt ??= doc.lastOpAt;
  }

  /** Load the state just below the first waiting record, then fold the waiting records. Never throws. */
  function load(doc: TrackedDocument): Promise<void> {
    doc.loading ??= (async () => {
      const first = doc.waiting[0];
      if (first === undefined) return;
      try {
        const base = first.value.version - 1;
        const loaded = await options.reader.stateAt(doc.docId, base);
        doc.state = { version: loaded.version, doc: loaded.doc };
        doc.snapshotVersion = loaded.snapshot?.version ?? 0;
        doc.snapshotCreatedAt = loaded.snapshot?.createdAt;
        doc.loadFailures = 0;
        const waiting = doc.waiting;
        doc.waiting = [];
        for (const record of waiting) {
          if (doc.state === undefined) doc.waiting.push(record);
          else fold(doc, record);
        }
      } catch (err) {
        // Typically the projection has not written the ops below our first record yet, or Cassandra is down.
        doc.loadFailures++;
        doc.nextLoadAt = now() + Math.min(30_000, 250 * 2 ** Math.min(doc.loadFailures, 7));
        logger.warn({ err, docId: doc.docId, failures: doc.loadFailures }, 'document load failed; will retry');
      } finally {
        doc.loading = undefined;
      }
    })();
    return doc.loading;
  }

  async function handle(records: readonly LogRecord[], context: ConsumerContext): Promise<void> {
    if (stopping) return; // not checkpointed: redelivered to whoever owns the partition next
    contexts.set(context.partition, context);
    const toLoad = new Set<TrackedDocument>();
    for (const record of records) {
      if (isCommentEvent(record.value)) {
        // Snapshots hold the text; comment threads are rebuilt from the log (docs/comments.md).
        progress.handled(record.partition, record.offset);
        continue;
      }
      const { docId } = record.value;
      let doc = docs.get(docId);
      if (doc === undefined) {
        doc = newTrackedDocument(docId, record.partition, policy);
        docs.set(docId, doc);
      }
      if (doc.state === undefined) {
        doc.waiting.push(record);
        if (doc.loadFailures === 0) toLoad.add(doc);
      } else {
        fold(doc, record);
        if (doc.state === undefined) toLoad.add(doc);
      }
      progress.handled(record.partition, record.offset);
    }
    // Loads read Cassandra (and S3, with a fallback): awaited, so memory stays bounded by what we can load.
    await Promise.all([...toLoad].map(load));
    const touched = new Set(records.map((r) => r.value.docId));
    for (const docId of touched) {
      const doc = docs.get(docId);
      if (doc !== undefined) void considerSnapshot(doc);
    }
    checkpoint(context.partition);
  }

  function considerSnapshot(doc: TrackedDocument, forced?: 'shutdown'): Promise<void> | undefined {
    if (doc.writing !== undefined) return doc.writing;
    const activity = activityOf(doc);
    if (activity === undefined) return undefined;
    const reason = forced ?? snapshotDue(policy, activity, now());
    if (reason === undefined || (forced === undefined && now() < doc.nextWriteAt)) return undefined;
    if (reason === 'shutdown' && activity.version <= activity.snapshotVersion) return undefined;
    doc.writing = (async () => {
      try {
        const written = await writeSnapshot(writerOptions, () => {
          const state = doc.state;
          if (state === undefined || state.version <= doc.snapshotVersion) return undefined;
          return { docId: doc.docId, version: state.version, text: state.doc.toString() };
        });
        if (written === undefined) return;
        markSnapshotted(doc, written.version, written.createdAt, now());
        options.onSnapshot?.({ docId: doc.docId, version: written.version, reason, outcome: written.outcome });
        checkpoint(doc.partition);
        if (written.outcome === 'created') await retain(writerOptions, doc.docId);
      } catch (err) {
        // The job gave up (bounded retries): the document stays dirty and is tried again after a pause.
        doc.nextWriteAt = now() + retry.maxDelayMs;
        logger.error({ err, docId: doc.docId }, 'snapshot write gave up; the document will be retried');
      } finally {
        doc.writing = undefined;
      }
    })();
    return doc.writing;
  }

  function checkpoint(partition: number): void {
    const context = contexts.get(partition);
    if (context === undefined) return;
    let needed: bigint | undefined;
    for (const doc of docs.values()) {
      if (doc.partition !== partition) continue;
      const offset = firstNeededOffset(doc);
      if (offset !== undefined && (needed === undefined || offset < needed)) needed = offset;
    }
    const offset = progress.advance(partition, needed);
    if (offset !== undefined) context.checkpoint(offset);
  }

  function tick(): void {
    const t = now();
    for (const doc of docs.values()) {
      if (doc.state === undefined) {
        if (doc.loading === undefined && doc.waiting.length > 0 && t >= doc.nextLoadAt) {
          void load(doc).then(() => considerSnapshot(doc));
        }
        continue;
      }
      void considerSnapshot(doc);
      const clean = doc.state.version <= doc.snapshotVersion && doc.waiting.length === 0;
      if (clean && doc.writing === undefined && t - doc.lastOpAt >= evictAfterMs) docs.delete(doc.docId);
    }
    for (const partition of progress.partitions()) checkpoint(partition);
  }

  function revoke(partitions: number[]): void {
    for (const partition of partitions) {
      contexts.delete(partition);
      progress.forget(partition);
      // In-flight writes finish on their own (conditional puts: harmless); the next owner reloads from storage.
      for (const doc of docs.values()) if (doc.partition === partition) docs.delete(doc.docId);
    }
  }

  return {
    async start() {
      consumer = await options.log.consume({
        groupId: options.groupId,
        fromBeginning: true,
        batchWaitMs: options.batchWaitMs ?? DEFAULT_SNAPSHOT_BATCH_WAIT_MS,
        handler: handle,
        onRevoked: revoke,
      });
      timer = setInterval(tick, tickMs);
      timer.unref();
    },

    stop() {
      stopped ??= (async () => {
        stopping = true;
        if (timer !== undefined) clearInterval(timer);
        // Snapshot what is dirty, so the checkpoints committed by consumer.stop() below can move past it.
        const drain = Promise.all([...docs.values()].map((doc) => considerSnapshot(doc, 'shutdown')));
        let timeout: NodeJS.Timeout | undefined;
        await Promise.race([
          drain,
          new Promise((resolve) => (timeout = setTimeout(resolve, options.drainMs ?? 10_000))),
        ]);
        clearTimeout(timeout);
        abort.abort();
        for (const partition of progress.partitions()) checkpoint(partition);
        await consumer?.stop();
      })();
      return stopped;
    },

    documents: () => docs.values(),
  };
}
