/**
 * Loading a document as "latest snapshot at or below the wanted version + the ops after it", for the read API
 * (current text, time travel, history) and for the snapshot-service rebuilding a document's state.
 *
 * Sources, in order: the snapshot store (optional speed-up: when it fails or is corrupt we replay from version 0,
 * so S3 being down costs latency, never availability), the read models (ops by version), and an optional tail of
 * ops the projection has not written yet (injected: e.g. the command-service's in-memory window or the log).
 * Every op is checked to be the next version (see replay.ts): a gap is an error, never a wrong text.
 */
import {
  CollabError,
  type HistoryEntry,
  type OpCommitted,
  type Page,
  type ReadModelStore,
  type SnapshotData,
  type SnapshotStore,
} from '@collab/core';
import { Doc } from '@collab/ot-text';
import { fold, historyGap, type DocumentState } from './replay.js';

export type TailSource = (docId: string, afterVersion: number) => Promise<OpCommitted[]>;

export interface DocumentReaderOptions {
  readModels: ReadModelStore;
  snapshots: SnapshotStore;
  /** Ops with version > afterVersion that may not be in the read models yet, in version order. */
  tail?: TailSource;
  /** Ops per read-model request while replaying. Default 5,000. */
  pageSize?: number;
  /**
   * Awaited between pages of a replay. Default: the next turn of the event loop (setImmediate), so a long replay
   * holds the loop for one page at a time (reading and folding `pageSize` ops) and sockets are served between
   * pages. A read API on the event loop passes a small `pageSize` to make those turns short.
   */
  pause?: () => Promise<void>;
  /** Called when a snapshot cannot be read; the reader then replays from an empty document. */
  onSnapshotError?: (err: unknown, docId: string) => void;
}

export interface DocumentText {
  docId: string;
  version: number;
  text: string;
}

export interface LoadedState extends DocumentState {
  /** The snapshot the state was built from, if any. */
  snapshot?: { version: number; createdAt: number };
}

export interface DocumentReader {
  /** The latest known text: the read models' head, plus the tail when one is configured. */
  current(docId: string): Promise<DocumentText>;
  /** The text at exactly `version` (0 = the empty document). ERR_NOT_FOUND beyond the head. */
  atVersion(docId: string, version: number): Promise<DocumentText>;
  /** The text as it was at `time` (ms since epoch): the last version committed at or before it. */
  atTime(docId: string, time: number): Promise<DocumentText & { at: number }>;
  history(docId: string, options?: { limit?: number; cursor?: string }): Promise<Page<HistoryEntry>>;
  /** The rope and version, for callers that keep editing it (the snapshot-service). */
  stateAt(docId: string, version: number): Promise<LoadedState>;
}

export const notFound = (message: string): CollabError => new CollabError('ERR_NOT_FOUND', message);

/** Resolves on the event loop's next turn, after pending I/O: `await nextTurn()` lets sockets be served. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function createDocumentReader(options: DocumentReaderOptions): DocumentReader {
  const { readModels, snapshots, tail } = options;
  const pageSize = options.pageSize ?? 5_000;
  const pause = options.pause ?? nextTurn;

  async function snapshotAtOrBelow(docId: string, maxVersion?: number): Promise<SnapshotData | undefined> {
    try {
      const snapshot = await snapshots.latest(docId, maxVersion);
      // Belt and braces: a store returning the wrong document or version must not poison the text.
      if (snapshot === undefined || snapshot.docId !== docId) return undefined;
      if (maxVersion !== undefined && snapshot.version > maxVersion) return undefined;
      return snapshot;
    } catch (err) {
      options.onSnapshotError?.(err, docId);
      return undefined;
    }
  }

  function fromSnapshot(docId: string, snapshot: SnapshotData | undefined): LoadedState {
    if (snapshot === undefined) return { docId, version: 0, doc: Doc.fromString('') };
    return {
      docId,
      version: snapshot.version,
      doc: Doc.fromString(snapshot.text),
      snapshot: { version: snapshot.version, createdAt: snapshot.createdAt },
    };
  }

  /** Fold read-model ops up to `target`, page by page; stops early when the read model has no more. */
  async function foldReadModel(state: LoadedState, target: number): Promise<LoadedState> {
    let current: LoadedState = state;
    for (let page = 0; current.version < target; page++) {
      if (page > 0) await pause();
      const to = Math.min(target, current.version + pageSize) + 1;
      const ops = await readModels.getOps(current.docId, current.version + 1, to, pageSize);
      if (ops.length === 0) break;
      const next = fold(current, ops, target);
      if (next.version === current.version) break;
      current = { ...current, version: next.version, doc: next.doc };
    }
    return current;
  }

  async function foldTail(state: LoadedState, target: number): Promise<LoadedState> {
    if (tail === undefined || state.version >= target) return state;
    const next = fold(state, await tail(state.docId, state.version), target);
    return { ...state, version: next.version, doc: next.doc };
  }

  /** Build the state at exactly `target` starting from `snapshot`. */
  async function build(docId: string, snapshot: SnapshotData | undefined, target: number): Promise<LoadedState> {
    let state = fromSnapshot(docId, snapshot);
    state = await foldReadModel(state, target);
    state = await foldTail(state, target);
    if (state.version < target) throw historyGap(docId, state.version + 1, undefined, target);
    return state;
  }

  const text = (state: DocumentState): DocumentText => ({
    docId: state.docId,
    version: state.version,
    text: state.doc.toString(),
  });

  async function stateAt(docId: string, version: number): Promise<LoadedState> {
    if (!Number.isSafeInteger(version) || version < 0) {
      throw new CollabError('ERR_INVALID_ARGUMENT', `version must be an integer >= 0, got ${version}`);
    }
    // The head and the snapshot lookup do not depend on each other: one round trip of latency, not two.
    const [head, snapshot] = await Promise.all([readModels.getHead(docId), snapshotAtOrBelow(docId, version)]);
    const headVersion = head?.version ?? 0;
    if (version > headVersion || head === undefined) {
      // Beyond what the read models know: only the tail can prove this version exists.
      const tailOps = tail === undefined ? [] : await tail(docId, headVersion);
      const known = tailOps.at(-1)?.version ?? headVersion;
      if (head === undefined && tailOps.length === 0) throw notFound(`document ${docId} not found`);
      if (version > known) throw notFound(`${docId}: version ${version} is beyond the head (${known})`);
    }
    return build(docId, snapshot, version);
  }

  return {
    stateAt,

    async current(docId) {
      const [head, newest] = await Promise.all([readModels.getHead(docId), snapshotAtOrBelow(docId)]);
      const headVersion = head?.version ?? 0;
      // The snapshot-service may be ahead of the projection: then take the newest snapshot within the head.
      const snapshot =
        newest !== undefined && newest.version > headVersion ? await snapshotAtOrBelow(docId, headVersion) : newest;
      let state = fromSnapshot(docId, snapshot);
      state = await foldReadModel(state, headVersion);
      if (state.version < headVersion) throw historyGap(docId, state.version + 1, undefined, headVersion);
      state = await foldTail(state, Infinity);
      if (head === undefined && state.version === 0) throw notFound(`document ${docId} not found`);
      return text(state);
    },

    async atVersion(docId, version) {
      return text(await stateAt(docId, version));
    },

    async atTime(docId, time) {
      if (!Number.isFinite(time)) throw new CollabError('ERR_INVALID_ARGUMENT', `time must be a number, got ${time}`);
      const [head, version] = await Promise.all([readModels.getHead(docId), readModels.versionAt(docId, time)]);
      if (head === undefined) throw notFound(`document ${docId} not found`);
      return { ...text(await stateAt(docId, Math.min(version, head.version))), at: time };
    },

    async history(docId, options = {}) {
      const [head, page] = await Promise.all([readModels.getHead(docId), readModels.history(docId, options)]);
      if (head === undefined) throw notFound(`document ${docId} not found`);
      return page;
    },
  };
}
