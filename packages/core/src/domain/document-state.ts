/**
 * What the sequencer (the single writer of a document) holds in memory: the current text as a rope, its version,
 * and a window of the most recent committed ops — enough to transform incoming ops from a recent base version,
 * to answer resubmissions, and to serve catch-up without touching storage — and the document's comment threads at
 * that version, whose anchors move with every op folded in.
 */
import type { Doc } from '@collab/ot-text';
import { type } from '@collab/ot-text';
import type { OpCommitted } from '../records.js';
import type { CommentEvent, CommentsState } from './comments.js';
import { emptyComments, evolveComments, moveAnchors } from './comments.js';

export interface DocumentState {
  readonly docId: string;
  readonly version: number;
  readonly doc: Doc;
  /** The last committed ops, oldest first; `recent[i].version === version - recent.length + 1 + i`. */
  readonly recent: readonly OpCommitted[];
  /** The comment threads at `version` (comments.ts). */
  readonly comments: CommentsState;
}

export function initialState(docId: string, doc: Doc = type.create(''), version = 0): DocumentState {
  return { docId, version, doc, recent: [], comments: emptyComments(version) };
}

/**
 * Fold a committed op into the state (the "evolve" of a decider). Used both after our own appends and when
 * rebuilding a document from snapshot + log. Throws if the op is not the next version: the log must be gapless.
 */
export function evolve(state: DocumentState, record: OpCommitted, window: number): DocumentState {
  if (record.docId !== state.docId) {
    throw new Error(`op for ${record.docId} folded into ${state.docId}`);
  }
  if (record.version !== state.version + 1) {
    throw new Error(`${state.docId}: expected version ${state.version + 1}, got ${record.version}`);
  }
  const recent =
    state.recent.length >= window ? state.recent.slice(state.recent.length - window + 1) : [...state.recent];
  if (window > 0) recent.push(record);
  // No threads (most documents): nothing to move, no map to copy.
  const comments =
    state.comments.threads.size === 0
      ? { version: record.version, threads: state.comments.threads }
      : moveAnchors(state.comments, record.op, record.version);
  return { docId: state.docId, version: record.version, doc: type.apply(state.doc, record.op), recent, comments };
}

/** Fold a committed comment event into the state: it must be at the state's version (comments.ts). */
export function evolveComment(state: DocumentState, event: CommentEvent): DocumentState {
  if (event.docId !== state.docId) throw new Error(`comment event of ${event.docId} folded into ${state.docId}`);
  return { ...state, comments: evolveComments(state.comments, event) };
}

/** The committed ops with version > `since`, if the window still holds all of them. */
export function opsSince(state: DocumentState, since: number): readonly OpCommitted[] | undefined {
  const missing = state.version - since;
  if (missing < 0) return undefined;
  if (missing > state.recent.length) return undefined;
  return state.recent.slice(state.recent.length - missing);
}
