/**
 * Rebuilds a document's state from the op log: every committed op of the document, in version order, and its
 * comment events in log order between them (each at the version it was decided at: docs/comments.md).
 *
 * This scans the document's partition from its first offset, which is correct but grows with the partition. It is
 * the load without a read side and the fallback of the read-side load (document-source.ts: snapshot + read
 * models + the log after the projection's committed offset) whenever the read side is missing or unavailable.
 */
import type { DocumentState, OpLog } from '@collab/core';
import { evolve, evolveComment, initialState, isCommentEvent } from '@collab/core';

/** The document up to version `until` (default: its end); fewer versions when it has fewer. */
export async function loadFromLog(log: OpLog, docId: string, window: number, until = Infinity): Promise<DocumentState> {
  const partition = log.partitionFor(docId);
  let state = initialState(docId);
  scan: for await (const batch of log.read(partition, 0n)) {
    for (const record of batch) {
      if (record.value.docId !== docId) continue;
      if (isCommentEvent(record.value)) {
        // Folding an event twice is harmless (evolveComments is idempotent by id); one from another version is not.
        if (record.value.version === state.version) state = evolveComment(state, record.value);
        else
          throw new Error(`${docId}: comment event at version ${record.value.version} after version ${state.version}`);
        continue;
      }
      // A version we already folded can only be a duplicate delivery; anything else out of order is corruption.
      if (record.value.version <= state.version) continue;
      if (record.value.version > until) break scan; // the events of version `until` all come before its next op
      state = evolve(state, record.value, window);
    }
  }
  return state;
}
