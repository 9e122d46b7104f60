/**
 * Group commit for one partition. A Kafka transactional producer runs one transaction at a time, so every append
 * to a partition goes through here: records that arrive while a transaction is in flight wait and go out together
 * in the next one. Throughput grows with load instead of being capped at one transaction per op.
 *
 * Documents append without waiting for their previous append to land (see DocumentChannel), so this is also the
 * last guard before the log against a gap: per document it knows the version the next record must carry. After a
 * failed append it refuses that document's later records until its channel reloads from the log and resumes —
 * records sequenced on top of an op that never landed must never land either.
 *
 * A failed append that was not fenced (a timeout, a broker that went away) leaves the producer in doubt: kafkajs
 * gives up on it and its transaction's outcome is unknown. Before anything else is appended or loaded, the
 * committer opens a new writer with the same transactional id; that fences the old producer and makes the
 * broker finish (commit or abort) whatever it had open, so a reload after it reads the truth. A fenced writer is
 * never reopened: someone else owns the partition now.
 */
import {
  CollabError,
  isCollabError,
  isCommentEvent,
  type AppendInput,
  type PartitionWriter,
  bestEffort,
} from '@collab/core';
import { instruments, secondsSince } from '../telemetry.js';

interface Waiting {
  records: readonly AppendInput[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** After a failed append, until the document's channel reloads: its next version is unknown. */
const UNKNOWN = 'unknown';

export class PartitionCommitter {
  private queue: Waiting[] = [];
  private flushing = false;
  /** Per document sequenced here: the version its next record must have. */
  private readonly next = new Map<string, number | typeof UNKNOWN>();
  /** Per document: records handed to append() and not settled yet. */
  private readonly unsettled = new Map<string, number>();

  /** Set after a failed append of unknown outcome: the writer to replace before the next append or load. */
  private doubtful = false;
  private reopening: Promise<void> | undefined;
  private closed = false;
  /** An append was fenced: another instance owns the partition now, and nothing more is appended through here. */
  private fencedByNewerOwner = false;

  constructor(
    private current: PartitionWriter,
    /** Opens a new writer of the partition (fencing the previous one); absent: a failed writer stays failed. */
    private readonly reopen?: () => Promise<PartitionWriter>,
  ) {}

  get writer(): PartitionWriter {
    return this.current;
  }

  /**
   * An append was fenced by a newer writer of the partition: this instance no longer owns it, whatever its group
   * membership says yet. Channels loaded from now on are replicas (their submits go to the owner), and a later
   * assignment of the partition opens a new writer instead of keeping this one.
   */
  get fenced(): boolean {
    return this.fencedByNewerOwner;
  }

  /**
   * Resolves once the writer can be trusted: after a failure of unknown outcome, once a new writer has fenced
   * the old one (the broker has then settled the old transaction, so the log can be read for the truth). Rejects
   * when that reopen fails (Kafka still unreachable); the next call tries again.
   */
  ready(): Promise<void> {
    if (!this.doubtful || this.closed || this.reopen === undefined) return Promise.resolve();
    const open = this.reopen;
    this.reopening ??= (async () => {
      try {
        const fresh = await open();
        if (this.closed) {
          await fresh.close();
          return;
        }
        const old = this.current;
        this.current = fresh;
        this.doubtful = false;
        void bestEffort(old.close());
      } finally {
        this.reopening = undefined;
      }
    })();
    return this.reopening;
  }

  /** Ownership of the partition is gone: close the writer (after its transaction in flight) for good. */
  async close(): Promise<void> {
    this.closed = true;
    await bestEffort(this.reopening);
    await this.current.close();
  }

  /** A channel starts sequencing `docId` on a state loaded at `version`: its next record is version + 1. */
  resume(docId: string, version: number): void {
    // A load that ran while an append of the document was still in flight may have missed it: sequencing on it
    // would give a second record the same version. The hub waits for a retired channel's appends; this checks it.
    if ((this.unsettled.get(docId) ?? 0) > 0) {
      throw new CollabError(
        'ERR_CONFLICT',
        `document ${docId} resumed at ${version} while an append of it is in flight`,
      );
    }
    this.next.set(docId, version + 1);
  }

  /** The document's channel is gone (nobody has it open): stop tracking it. */
  forget(docId: string): void {
    this.next.delete(docId);
  }

  /**
   * Resolves once `records` are durable in the log, or rejects with none of them appended (or, after a timeout,
   * with their outcome unknown). Records of one document must continue its versions without a gap: an op has the
   * next version, a comment event the current one (it follows the op of that version: docs/comments.md).
   */
  append(records: readonly AppendInput[]): Promise<void> {
    if (this.fencedByNewerOwner) {
      return Promise.reject(new CollabError('ERR_FENCED', 'a newer writer owns this partition; this one is fenced'));
    }
    const expected = new Map<string, number>();
    for (const { value } of records) {
      const want = expected.get(value.docId) ?? this.next.get(value.docId);
      if (want === UNKNOWN) {
        return Promise.reject(
          new CollabError(
            'ERR_UNAVAILABLE',
            `an earlier append of document ${value.docId} failed; it must be reloaded from the log first`,
          ),
        );
      }
      const event = isCommentEvent(value);
      if (want !== undefined && value.version !== (event ? want - 1 : want)) {
        return Promise.reject(
          new CollabError(
            'ERR_CONFLICT',
            `document ${value.docId}: ${event ? 'comment event' : 'record'} version ${value.version} where ${event ? want - 1 : want} was expected (refused: it would leave a gap)`,
          ),
        );
      }
      expected.set(value.docId, event ? (want ?? value.version + 1) : value.version + 1);
    }
    for (const [docId, version] of expected) this.next.set(docId, version);
    this.count(records, +1);
    const appended = new Promise<void>((resolve, reject) => {
      this.queue.push({ records, resolve, reject });
      if (!this.flushing) void this.flush();
    });
    const settle = () => this.count(records, -1);
    appended.then(settle, settle);
    return appended;
  }

  private count(records: readonly AppendInput[], delta: number): void {
    for (const { value } of records) {
      const n = (this.unsettled.get(value.docId) ?? 0) + delta;
      if (n === 0) this.unsettled.delete(value.docId);
      else this.unsettled.set(value.docId, n);
    }
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      const records = batch.flatMap((w) => w.records);
      try {
        await this.ready();
        const started = performance.now();
        await this.current.append(records);
        instruments.appendLatency.record(secondsSince(started));
        instruments.appendBatch.record(records.length);
        for (const w of batch) w.resolve();
      } catch (err) {
        // The transaction is all-or-none, but after a timeout its outcome is unknown: callers must treat their
        // records as "maybe committed" and reload the document from the log before sequencing more ops. What
        // waited behind it may build on it (a document's next versions), so it fails too, untried.
        const failed = [...batch, ...this.queue];
        this.queue = [];
        if (isCollabError(err, 'ERR_FENCED')) this.fencedByNewerOwner = true;
        else this.doubtful = true;
        for (const w of failed) for (const { value } of w.records) this.next.set(value.docId, UNKNOWN);
        for (const w of failed) w.reject(err);
      }
    }
    this.flushing = false;
  }
}
