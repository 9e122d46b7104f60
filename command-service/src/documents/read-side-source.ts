/**
 * The document source for an owner with a read side: the latest snapshot, the read-model ops after it, and the
 * document's records in Kafka from the offset the projection has committed for the partition, not from 0. When
 * anything on the read side fails or does not add up, it falls back to the whole log (log-source.ts).
 *
 * Why that is exactly the log's truth: the projection writes a record's op to the read models before it
 * checkpoints the record's offset, so once the group's committed offset for a partition is C, every op of that
 * partition at an offset below C is in the read models. We fetch C *before* reading the read models (which only
 * grow), so what we read includes every op below C; every op at or above C is in the Kafka tail we read from C
 * to the end (taken after this instance's writer fenced the previous owner, so nothing committed can come later
 * from anyone else). Read models ahead of C (written, offset not committed yet) overlap the tail: ops are folded
 * by version and a version already held is skipped. A snapshot is the text at its version, derived from the log;
 * one newer than the read models' head is fine (every op after it is at or above C, so in the tail). Whatever
 * does not fold into one gapless sequence — a hole the tail does not cover, a head above the last op found —
 * makes the load fall back to the full scan. What this cannot detect is a read model missing a document's *last*
 * ops below C with nothing of the document at or after C: the committed offsets must be those of the group that
 * writes the read models read here (COLLAB_PROJECTION_GROUP for CASSANDRA_KEYSPACE, see docs/operations.md).
 *
 * Comment events (with comments on) follow the same argument: the projection writes them, keyed by offset, before
 * it checkpoints, so those below C are in the read models and the rest in the tail; the two overlap by offset.
 * They are folded between the ops in log order (an event at version v after op v, before op v + 1), and the fold
 * starts at a snapshot no newer than the document's first event: a snapshot holds the text, not the threads.
 */
import type {
  DocumentState,
  Logger,
  Offset,
  OpCommitted,
  OpLog,
  ReadModelStore,
  SnapshotData,
  SnapshotStore,
} from '@collab/core';
import { initialState } from '@collab/core';
import { Doc } from '@collab/ot-text';
import type { DocumentSource, SourceEvent } from './document-source.js';
import { loadFromLog } from './document-loader.js';
import type { FoldResult } from './history-fold.js';
import { collectRange, contiguousFrom, foldNewOps, PendingCommentEvents, snapshotBound } from './history-fold.js';
import { loadWholeLog, readDocumentTail } from './log-source.js';

export interface ReadSideSourceOptions {
  log: OpLog;
  readModels: ReadModelStore;
  /** Optional: without snapshots a load folds the read-model ops from version 1. */
  snapshots?: SnapshotStore;
  /**
   * The offset the projection group has committed for a partition (the next offset it would read), or undefined
   * when it has committed none. A stale (lower) value is safe, only slower; see `projectionOffsets`.
   */
  committedOffset: (partition: number) => Promise<Offset | undefined>;
  window: number;
  /** Ops per read-model request. Default 2,000. */
  pageSize?: number;
  logger: Logger;
  onEvent?: (event: SourceEvent) => void;
  /**
   * Comment threads are on: a load folds the document's comment events too, from the read models' comment events
   * and the log tail, starting at a snapshot no newer than the first event. Catch-ups are of ops only.
   */
  comments?: boolean;
}

export function createReadSideSource(options: ReadSideSourceOptions): DocumentSource {
  const { log, readModels, snapshots, window } = options;
  const pageSize = options.pageSize ?? 2_000;

  async function snapshotAtOrBelow(docId: string, maxVersion: number): Promise<SnapshotData | undefined> {
    if (snapshots === undefined || maxVersion <= 0) return undefined;
    try {
      const snapshot = await snapshots.latest(docId, maxVersion);
      // Belt and braces, as in the read API: never start from another document's or a too-new text.
      if (snapshot === undefined || snapshot.docId !== docId || snapshot.version > maxVersion) return undefined;
      return snapshot;
    } catch (err) {
      options.logger.warn({ err, docId }, 'snapshot unreadable; loading from the read-model ops');
      return undefined;
    }
  }

  /** Read-model ops folded into `state` up to version `to` (inclusive), page by page, stopping at a hole. */
  async function foldReadModel(state: DocumentState, to: number, events?: PendingCommentEvents): Promise<FoldResult> {
    let current = state;
    let folded = 0;
    while (current.version < to) {
      const from = current.version + 1;
      const end = to === Infinity ? undefined : Math.min(to + 1, from + pageSize);
      const ops = await readModels.getOps(state.docId, from, end, pageSize);
      const result = foldNewOps(current, ops, window, events);
      folded += result.folded;
      current = result.state;
      if (result.gap !== undefined || result.folded === 0 || ops.length < pageSize) break;
    }
    return { state: current, folded };
  }

  interface ReadSideLoad {
    state: DocumentState;
    snapshot: SnapshotData | undefined;
    readModelOps: number;
    committed: Offset;
    logRecordsScanned: number;
    logOps: number;
    commentEvents: number;
  }

  /**
   * The state at `until` (default: the end), or why the read side cannot be trusted for this document right now.
   * With comments on, the comment events come from the same two places as the ops — the read models below the
   * committed offset, the tail at and above it — and are folded between the ops in log order; the fold starts at
   * a snapshot no newer than the first event, because a snapshot holds the text only (docs/comments.md).
   */
  async function loadFromReadSide(docId: string, until = Infinity): Promise<ReadSideLoad | string> {
    const partition = log.partitionFor(docId);
    // First the committed offset, then the read models: see the header for why the order matters.
    const committed = await options.committedOffset(partition);
    if (committed === undefined) return 'the projection has committed no offset for this partition';
    const [head, tail, storedEvents] = await Promise.all([
      readModels.getHead(docId),
      readDocumentTail(log, partition, docId, committed, until + 1),
      options.comments === true
        ? readModels.getCommentEvents(docId, 0, until === Infinity ? undefined : until)
        : Promise.resolve([]),
    ]);
    const tailOps = tail.ops.filter((op) => op.version <= until);
    const events =
      options.comments === true
        ? new PendingCommentEvents([storedEvents, tail.events.filter(({ event }) => event.version <= until)])
        : undefined;
    const headVersion = Math.min(head?.version ?? 0, until);
    const firstTail = tailOps[0]?.version;
    const lastKnown = Math.max(headVersion, tailOps.at(-1)?.version ?? 0);
    const snapshot = await snapshotAtOrBelow(
      docId,
      Math.min(snapshotBound(lastKnown, window), events?.firstVersion ?? Infinity),
    );
    let state =
      snapshot === undefined
        ? initialState(docId)
        : initialState(docId, Doc.fromString(snapshot.text), snapshot.version);
    // The read models are needed only below the first op of the tail (or up to their end when the tail is empty).
    const rm = await foldReadModel(state, firstTail === undefined ? until : firstTail - 1, events);
    state = rm.state;
    const fromLog = foldNewOps(state, tailOps, window, events);
    if (fromLog.gap !== undefined) {
      return `history gap between the read models and the log tail: at version ${fromLog.state.version}, the tail goes on with ${fromLog.gap.got}`;
    }
    state = fromLog.state;
    if (state.version < headVersion)
      return `the read models' head is ${headVersion} but their ops stop at ${state.version}`;
    if (events !== undefined && events.remaining > 0) {
      return `comment events after the last op found (${state.version}): ops are missing`;
    }
    return {
      state,
      snapshot,
      readModelOps: rm.folded,
      committed,
      logRecordsScanned: tail.scanned,
      logOps: fromLog.folded,
      commentEvents: storedEvents.length + tail.events.length,
    };
  }

  return {
    async load(docId) {
      const started = performance.now();
      let reason: string;
      try {
        const result = await loadFromReadSide(docId);
        if (typeof result !== 'string') {
          const { state, snapshot, committed } = result;
          options.onEvent?.({
            kind: 'load',
            docId,
            source: 'read-side',
            version: state.version,
            snapshotVersion: snapshot?.version,
            readModelOps: result.readModelOps,
            logFrom: committed,
            logRecordsScanned: result.logRecordsScanned,
            logOps: result.logOps,
            ms: performance.now() - started,
          });
          options.logger.info(
            {
              docId,
              version: state.version,
              snapshot: snapshot?.version,
              readModelOps: result.readModelOps,
              commentEvents: result.commentEvents,
              logFrom: committed.toString(),
              logRecordsScanned: result.logRecordsScanned,
              logOps: result.logOps,
              ms: Math.round(performance.now() - started),
            },
            'document loaded from snapshot + read models + log tail',
          );
          return state;
        }
        reason = result;
      } catch (err) {
        reason = `read side unavailable: ${(err as Error).message}`;
      }
      options.logger.warn({ docId, reason }, 'loading the document from the whole log instead');
      return loadWholeLog(log, docId, window, reason, started, options.onEvent);
    },

    async loadAt(docId, version) {
      let reason: string;
      try {
        const result = await loadFromReadSide(docId, version);
        if (typeof result !== 'string') return result.state;
        reason = result;
      } catch (err) {
        reason = `read side unavailable: ${(err as Error).message}`;
      }
      options.logger.warn({ docId, version, reason }, 'reading the document at a version from the whole log instead');
      return loadFromLog(log, docId, window, version);
    },

    async opsBetween(docId, from, to) {
      const started = performance.now();
      const partition = log.partitionFor(docId);
      // Committed offset first, then the read models (as for a load): every op below it is in what we read.
      let committed: Offset | undefined;
      let fromReadModels: OpCommitted[] = [];
      try {
        committed = await options.committedOffset(partition);
        for (let next = from; next <= to;) {
          const page = contiguousFrom(
            next,
            await readModels.getOps(docId, next, Math.min(to + 1, next + pageSize), pageSize),
          );
          if (page.length === 0) break;
          fromReadModels = fromReadModels.concat(page);
          next = page.at(-1)!.version + 1;
          if (page.length < pageSize) break; // a hole or the read models' end: the rest comes from the log
        }
      } catch (err) {
        options.logger.warn({ err, docId }, 'read models unavailable for a catch-up; reading the log');
        committed = undefined; // without the read models, the ops below the committed offset are not covered
        fromReadModels = [];
      }
      let ops = collectRange(from, to, [fromReadModels]);
      let logFrom: Offset | undefined;
      let tail: { ops: OpCommitted[]; scanned: number } = { ops: [], scanned: 0 };
      if (ops === undefined) {
        logFrom = committed ?? 0n;
        tail = await readDocumentTail(log, partition, docId, logFrom, to);
        ops = collectRange(from, to, [fromReadModels, tail.ops]);
        if (ops === undefined && logFrom > 0n) {
          // Not even with the tail: the read models lack ops below the committed offset. Read it all.
          options.logger.warn({ docId, from, to }, 'catch-up: ops missing below the committed offset; reading the log');
          logFrom = 0n;
          tail = await readDocumentTail(log, partition, docId, 0n, to);
          ops = collectRange(from, to, [tail.ops]);
        }
      }
      options.onEvent?.({
        kind: 'catchup',
        docId,
        from,
        to,
        readModelOps: fromReadModels.length,
        logFrom,
        logRecordsScanned: tail.scanned,
        logOps: ops === undefined ? 0 : ops.length - fromReadModels.length,
        complete: ops !== undefined,
        ms: performance.now() - started,
      });
      return ops;
    },
  };
}
