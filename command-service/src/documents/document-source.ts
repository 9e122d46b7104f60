/**
 * Where the hub gets a document's committed history from: its state when it loads (first open, a takeover, a
 * reload after a failed append) and the ops a reconnecting client misses that are older than the in-memory window.
 *
 * Two sources:
 *
 * - `createLogSource`: the op log alone. A load scans the document's partition from offset 0 — correct, but it
 *   grows with the partition. Used when no read side is configured (embedded mode, tests without Cassandra/S3).
 * - `createReadSideSource`: the read API's load path, for the owner — the latest snapshot, the read-model ops
 *   after it, and the document's records in Kafka from the offset the projection has committed for the partition,
 *   not from 0. When anything on the read side fails or does not add up, it falls back to the whole log.
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
 * The window: the channel keeps the last `window` ops for transforms and catch-up, so a load starts from a
 * snapshot at or below (last version − window) and folds the ops after it, which leaves those ops in `recent`.
 */
import type {
  DocumentState,
  LogRecord,
  Offset,
  OpCommitted,
  OpLog,
  ReadModelStore,
  SnapshotData,
  SnapshotStore,
} from '@collab/core';
import { CollabError, evolve, initialState } from '@collab/core';
import { Doc } from '@collab/ot-text';
import { loadFromLog } from './document-loader.js';

export interface DocumentSource {
  /** The document exactly as the log has it: every committed op, with the last `window` ops in `recent`. */
  load(docId: string): Promise<DocumentState>;
  /**
   * The committed ops with from <= version <= to, gapless and in version order; undefined when they cannot all be
   * found (the caller then resyncs its client with the whole text).
   */
  opsBetween(docId: string, from: number, to: number): Promise<OpCommitted[] | undefined>;
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

interface SourceLogger {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

// ---- pure merge logic ------------------------------------------------------------------------------------------

export interface FoldResult {
  state: DocumentState;
  /** Ops actually folded (versions already held are skipped). */
  folded: number;
  /** Set when an op was not the next version: the fold stopped before it. */
  gap?: { expected: number; got: number };
}

/**
 * Fold `ops` (version order, any overlap with what `state` holds) into `state`: versions at or below the state's
 * are skipped — the same op read from two sources —, the next version is folded, anything further is a gap and
 * stops the fold. Ops of other documents are ignored.
 */
export function foldNewOps(state: DocumentState, ops: Iterable<OpCommitted>, window: number): FoldResult {
  let current = state;
  let folded = 0;
  for (const op of ops) {
    if (op.docId !== state.docId || op.version <= current.version) continue;
    if (op.version !== current.version + 1) {
      return { state: current, folded, gap: { expected: current.version + 1, got: op.version } };
    }
    current = evolve(current, op, window);
    folded++;
  }
  return { state: current, folded };
}

/**
 * The ops with from <= version <= to out of several sources (each in version order; they may overlap or each
 * hold only part), gapless and in version order; undefined if any version in the range is in none of them.
 */
export function collectRange(
  from: number,
  to: number,
  sources: readonly (readonly OpCommitted[])[],
): OpCommitted[] | undefined {
  if (to < from) return [];
  const byVersion = new Map<number, OpCommitted>();
  for (const source of sources) {
    for (const op of source) {
      if (op.version >= from && op.version <= to && !byVersion.has(op.version)) byVersion.set(op.version, op);
    }
  }
  const out: OpCommitted[] = [];
  for (let v = from; v <= to; v++) {
    const op = byVersion.get(v);
    if (op === undefined) return undefined;
    out.push(op);
  }
  return out;
}

/** The leading run of `ops` (version order) that goes up from version `from` without a gap. */
export function contiguousFrom(from: number, ops: readonly OpCommitted[]): OpCommitted[] {
  const out: OpCommitted[] = [];
  for (const op of ops) {
    if (op.version < from + out.length) continue; // a duplicate, or before the range
    if (op.version !== from + out.length) break;
    out.push(op);
  }
  return out;
}

/**
 * The highest snapshot version a load may start from so that the ops folded after it fill the window: the last
 * version known (the read models' head or the tail's last op, whichever is higher) minus the window.
 */
export function snapshotBound(lastKnown: number, window: number): number {
  return Math.max(0, lastKnown - window);
}

// ---- the log alone -----------------------------------------------------------------------------------------------

/** Records of `docId` in `partition` from `from` to the end, with how many records of the partition were read. */
async function readDocumentTail(
  log: OpLog,
  partition: number,
  docId: string,
  from: Offset,
  stopAfterVersion = Infinity,
): Promise<{ ops: OpCommitted[]; scanned: number }> {
  const ops: OpCommitted[] = [];
  let scanned = 0;
  outer: for await (const batch of log.read(partition, from)) {
    for (const record of batch as LogRecord[]) {
      scanned++;
      if (record.value.docId !== docId) continue;
      ops.push(record.value);
      if (record.value.version >= stopAfterVersion) break outer;
    }
  }
  return { ops, scanned };
}

/** The whole-partition load (no read side, or it did not add up), reported as a 'log' load. */
async function loadWholeLog(
  log: OpLog,
  docId: string,
  window: number,
  fallback: string,
  started: number,
  onEvent: ((event: SourceEvent) => void) | undefined,
): Promise<DocumentState> {
  const state = await loadFromLog(log, docId, window);
  onEvent?.({
    kind: 'load',
    docId,
    source: 'log',
    fallback,
    version: state.version,
    snapshotVersion: undefined,
    readModelOps: 0,
    logFrom: 0n,
    logRecordsScanned: -1,
    logOps: state.version,
    ms: performance.now() - started,
  });
  return state;
}

export interface LogSourceOptions {
  log: OpLog;
  window: number;
  onEvent?: (event: SourceEvent) => void;
}

export function createLogSource(options: LogSourceOptions): DocumentSource {
  const { log, window } = options;
  return {
    async load(docId) {
      return loadWholeLog(log, docId, window, 'no read side configured', performance.now(), options.onEvent);
    },
    async opsBetween(docId, from, to) {
      const started = performance.now();
      const tail = await readDocumentTail(log, log.partitionFor(docId), docId, 0n, to);
      const ops = collectRange(from, to, [tail.ops]);
      options.onEvent?.({
        kind: 'catchup',
        docId,
        from,
        to,
        readModelOps: 0,
        logFrom: 0n,
        logRecordsScanned: tail.scanned,
        logOps: ops?.length ?? 0,
        complete: ops !== undefined,
        ms: performance.now() - started,
      });
      return ops;
    },
  };
}

// ---- snapshot + read models + Kafka tail -------------------------------------------------------------------------

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
  logger: SourceLogger;
  onEvent?: (event: SourceEvent) => void;
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
  async function foldReadModel(state: DocumentState, to: number): Promise<FoldResult> {
    let current = state;
    let folded = 0;
    while (current.version < to) {
      const from = current.version + 1;
      const end = to === Infinity ? undefined : Math.min(to + 1, from + pageSize);
      const ops = await readModels.getOps(state.docId, from, end, pageSize);
      const result = foldNewOps(current, ops, window);
      folded += result.folded;
      current = result.state;
      if (result.gap !== undefined || result.folded === 0 || ops.length < pageSize) break;
    }
    return { state: current, folded };
  }

  /** The loaded state, or why the read side cannot be trusted for this document right now. */
  async function loadFromReadSide(docId: string, started: number): Promise<DocumentState | string> {
    const partition = log.partitionFor(docId);
    // First the committed offset, then the read models: see the header for why the order matters.
    const committed = await options.committedOffset(partition);
    if (committed === undefined) return 'the projection has committed no offset for this partition';
    const [head, tail] = await Promise.all([
      readModels.getHead(docId),
      readDocumentTail(log, partition, docId, committed),
    ]);
    const headVersion = head?.version ?? 0;
    const firstTail = tail.ops[0]?.version;
    const lastKnown = Math.max(headVersion, tail.ops.at(-1)?.version ?? 0);
    const snapshot = await snapshotAtOrBelow(docId, snapshotBound(lastKnown, window));
    let state =
      snapshot === undefined
        ? initialState(docId)
        : initialState(docId, Doc.fromString(snapshot.text), snapshot.version);
    // The read models are needed only below the first op of the tail (or up to their end when the tail is empty).
    const rm = await foldReadModel(state, firstTail === undefined ? Infinity : firstTail - 1);
    state = rm.state;
    const fromLog = foldNewOps(state, tail.ops, window);
    if (fromLog.gap !== undefined) {
      return `history gap between the read models and the log tail: at version ${fromLog.state.version}, the tail goes on with ${fromLog.gap.got}`;
    }
    state = fromLog.state;
    if (state.version < headVersion)
      return `the read models' head is ${headVersion} but their ops stop at ${state.version}`;
    options.onEvent?.({
      kind: 'load',
      docId,
      source: 'read-side',
      version: state.version,
      snapshotVersion: snapshot?.version,
      readModelOps: rm.folded,
      logFrom: committed,
      logRecordsScanned: tail.scanned,
      logOps: fromLog.folded,
      ms: performance.now() - started,
    });
    options.logger.info(
      {
        docId,
        version: state.version,
        snapshot: snapshot?.version,
        readModelOps: rm.folded,
        logFrom: committed.toString(),
        logRecordsScanned: tail.scanned,
        logOps: fromLog.folded,
        ms: Math.round(performance.now() - started),
      },
      'document loaded from snapshot + read models + log tail',
    );
    return state;
  }

  return {
    async load(docId) {
      const started = performance.now();
      let reason: string;
      try {
        const result = await loadFromReadSide(docId, started);
        if (typeof result !== 'string') return result;
        reason = result;
      } catch (err) {
        reason = `read side unavailable: ${(err as Error).message}`;
      }
      options.logger.warn({ docId, reason }, 'loading the document from the whole log instead');
      return loadWholeLog(log, docId, window, reason, started, options.onEvent);
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
      let tail = { ops: [] as OpCommitted[], scanned: 0 };
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

// ---- the projection's committed offsets --------------------------------------------------------------------------

/** The one kafkajs admin call used (so tests and callers can hand in any admin client). */
export interface OffsetsAdmin {
  fetchOffsets(options: {
    groupId: string;
    topics: string[];
  }): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
}

/**
 * The committed offsets of the projection group on the ops topic, per partition (undefined: none committed).
 * Concurrent lookups share one request, and an answer is reused for `maxAgeMs` (default 1 s): many documents of
 * one partition reload at once on a takeover. A reused answer can only be lower than the current one, which
 * makes a load read a longer tail, never miss an op.
 */
export function projectionOffsets(
  admin: OffsetsAdmin,
  groupId: string,
  topic: string,
  maxAgeMs = 1_000,
  now: () => number = Date.now,
): (partition: number) => Promise<Offset | undefined> {
  let cached: { at: number; offsets: Promise<Map<number, Offset>> } | undefined;
  const fetchAll = async (): Promise<Map<number, Offset>> => {
    const result = new Map<number, Offset>();
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    for (const { partition, offset } of entry?.partitions ?? []) {
      if (offset !== '-1' && offset !== '') result.set(partition, BigInt(offset));
    }
    return result;
  };
  return async (partition) => {
    const t = now();
    if (cached === undefined || t - cached.at > maxAgeMs) {
      const offsets = fetchAll();
      const entry = { at: t, offsets };
      cached = entry;
      offsets.catch(() => {
        if (cached === entry) cached = undefined; // do not keep a failure
      });
    }
    return (await cached.offsets).get(partition);
  };
}

/**
 * `offsets` (the projection group's committed offsets) guarded by the keyspace's projection source: the group
 * that claimed the read models' keyspace (migration 0004). Only when it is `groupId` do the group's offsets
 * describe the read models. Unclaimed (no projection-service of this release has run on the keyspace): no
 * committed offset, so loads use the whole log. Another group: ERR_CONFLICT, so loads use the whole log and say
 * why. Once confirmed, the claim cannot change (it is never overwritten), so it is not asked again; otherwise it
 * is asked again after `recheckMs`.
 */
export function guardedByProjectionSource(
  source: () => Promise<string | undefined>,
  groupId: string,
  offsets: (partition: number) => Promise<Offset | undefined>,
  options: {
    /** The caller has already seen the keyspace claimed by `groupId` (at start-up): no need to ask again. */
    confirmed?: boolean;
    recheckMs?: number;
    now?: () => number;
  } = {},
): (partition: number) => Promise<Offset | undefined> {
  const { recheckMs = 5_000, now = Date.now } = options;
  let confirmed = options.confirmed ?? false;
  let last: { at: number; answer: Promise<string | undefined> } | undefined;
  return async (partition) => {
    if (!confirmed) {
      const t = now();
      if (last === undefined || t - last.at > recheckMs) {
        const entry = { at: t, answer: source() };
        last = entry;
        entry.answer.catch(() => {
          if (last === entry) last = undefined; // do not keep a failure
        });
      }
      const holder = await last.answer;
      if (holder === undefined) return undefined;
      if (holder !== groupId) {
        throw new CollabError(
          'ERR_CONFLICT',
          `the read models are projected by consumer group ${holder}, not COLLAB_PROJECTION_GROUP=${groupId}`,
        );
      }
      confirmed = true;
    }
    return offsets(partition);
  };
}
