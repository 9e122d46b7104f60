/**
 * Where the hub gets a document's committed history from: its state when it loads (first open, a takeover, a
 * reload after a failed append) and the ops a reconnecting client misses that are older than the in-memory window.
 * This file is the contract; the parts are beside it:
 *
 * - `log-source.ts` (`createLogSource`): the op log alone. A load scans the document's partition from offset 0 —
 *   correct, but it grows with the partition. Used when no read side is configured (the distributed mode without
 *   Cassandra, tests).
 * - `read-side-source.ts` (`createReadSideSource`): the read API's load path, for the owner — the latest snapshot,
 *   the read-model ops after it, and the document's records in Kafka from the offset the projection has committed
 *   for the partition, not from 0. When anything on the read side fails or does not add up, it falls back to the
 *   whole log. Why that is exactly the log's truth is explained there.
 * - `history-fold.ts`: the pure part both use — folding ops from overlapping sources into a state, collecting a
 *   gapless range, the snapshot bound.
 * - `projection-offsets.ts`: the projection group's committed offsets (cached), guarded by the keyspace's claim.
 *
 * The window: the channel keeps the last `window` ops for transforms and catch-up, so a load starts from a
 * snapshot at or below (last version − window) and folds the ops after it, which leaves those ops in `recent`.
 */
import type { DocumentState, Offset, OpCommitted } from '@collab/core';

export interface DocumentSource {
  /** The document exactly as the log has it: every committed op, with the last `window` ops in `recent`. */
  load(docId: string): Promise<DocumentState>;
  /**
   * The committed ops with from <= version <= to, gapless and in version order; undefined when they cannot all be
   * found (the caller then resyncs its client with the whole text).
   */
  opsBetween(docId: string, from: number, to: number): Promise<OpCommitted[] | undefined>;
  /**
   * The document as it was at `version` — its text and its comment threads with their anchors then (time travel:
   * GET /v1/docs/:id/comments?version=N) —, or fewer versions when it has fewer (the caller says ERR_NOT_FOUND).
   */
  loadAt(docId: string, version: number): Promise<DocumentState>;
}

/** What a load or a catch-up read, for logs and tests. */
export type SourceEvent =
  | {
      kind: 'load';
      docId: string;
      /** 'read-side': snapshot + read models + Kafka tail; 'log': the whole partition from offset 0. */
      source: 'read-side' | 'log';
      /** Why the read side was not used (source 'log' only). */
      fallback?: string;
      version: number;
      snapshotVersion: number | undefined;
      /** Ops folded from the read models. */
      readModelOps: number;
      /** Where the Kafka read started and how many records of the partition it went through (-1: not counted). */
      logFrom: Offset;
      logRecordsScanned: number;
      /** Ops folded from the Kafka read. */
      logOps: number;
      ms: number;
    }
  | {
      kind: 'catchup';
      docId: string;
      from: number;
      to: number;
      readModelOps: number;
      /** Undefined when the read models had every op asked for (Kafka was not read). */
      logFrom: Offset | undefined;
      logRecordsScanned: number;
      logOps: number;
      complete: boolean;
      ms: number;
    };
