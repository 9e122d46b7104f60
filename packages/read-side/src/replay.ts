/**
 * Folding ops onto a base text, with every version checked. The read side never returns a text it has not
 * proved: each op must be exactly the next version, and the fold must reach the version that was asked for.
 * A missing op (a gap in the read model, a projection that has not caught up) is an error, never a wrong text.
 */
import { CollabError, type OpCommitted } from '@collab/core';
import { type, type Doc } from '@collab/ot-text';

export interface DocumentState {
  docId: string;
  version: number;
  doc: Doc;
}

/** Thrown when the ops needed to reach a version are not all there. Retriable: a projection may fill the gap. */
export function historyGap(docId: string, expected: number, got: number | undefined, target: number): CollabError {
  const found = got === undefined ? 'no more ops' : `version ${got}`;
  return new CollabError(
    'ERR_CORRUPT',
    `${docId}: history gap: needed version ${expected} (on the way to ${target}), found ${found}`,
    { retriable: true },
  );
}

/**
 * Apply `ops` (version order) to `state`, skipping ops at or below its version (overlapping sources are fine)
 * and stopping at `target`. Throws on a gap. Returns the new state (which may still be below `target`: the
 * caller decides whether more ops are coming).
 */
export function fold(state: DocumentState, ops: readonly OpCommitted[], target: number): DocumentState {
  let { version, doc } = state;
  for (const op of ops) {
    if (op.version <= version) continue;
    if (op.version > target) break;
    if (op.docId !== state.docId) {
      throw new CollabError('ERR_CORRUPT', `${state.docId}: got an op of ${op.docId} while replaying`);
    }
    if (op.version !== version + 1) throw historyGap(state.docId, version + 1, op.version, target);
    doc = type.apply(doc, op.op);
    version = op.version;
  }
  return { docId: state.docId, version, doc };
}
