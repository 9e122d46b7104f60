/**
 * A document's comment threads as they were at a version (docs/comments.md: every event with version ≤ N folded
 * in log order, anchors moved through the ops up to N), for the read API's GET /v1/docs/:docId/comments?version=N.
 * Read from the log, where the events are (there is no read model of threads yet): the document's partition is
 * scanned from offset 0 up to its first op past N — the cost of a document load, bounded by the read API's
 * concurrency limit.
 */
import type { DocumentState, OpLog } from '@collab/core';
import { CollabError, evolve, evolveComment, initialState, isCommentEvent } from '@collab/core';
import type { CommentsBody } from '@collab/read-side';
import { toWireThread } from './comment-frames.js';

/** `version` undefined: the latest threads. ERR_NOT_FOUND for a version the document has not reached. */
export async function commentsAtVersion(log: OpLog, docId: string, version: number | undefined): Promise<CommentsBody> {
  const until = version ?? Infinity;
  let state: DocumentState = initialState(docId);
  scan: for await (const batch of log.read(log.partitionFor(docId), 0n)) {
    for (const record of batch) {
      const value = record.value;
      if (value.docId !== docId) continue;
      if (isCommentEvent(value)) {
        if (value.version === state.version) state = evolveComment(state, value);
        continue;
      }
      if (value.version <= state.version) continue; // a duplicate delivery
      if (value.version > until) break scan; // the events of version N all come before op N + 1
      state = evolve(state, value, 1);
    }
  }
  if (version !== undefined && state.version < version) {
    throw new CollabError('ERR_NOT_FOUND', `document ${docId} has no version ${version} (it is at ${state.version})`);
  }
  return { docId, version: state.version, threads: [...state.comments.threads.values()].map(toWireThread) };
}
