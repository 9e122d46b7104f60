/**
 * A document's comment threads as they were at a version (docs/comments.md: every event with version ≤ N folded
 * in log order, anchors moved through the ops up to N), for the read API's GET /v1/docs/:docId/comments?version=N.
 * Read through the document source: with a read side, the snapshot, the read models (ops and comment events) and
 * the log's tail after the projection's committed offset; without one (or when it does not add up), the log.
 */
import { CollabError } from '@collab/core';
import type { CommentsBody } from '@collab/read-side';
import { toWireThread } from './comment-frames.js';
import type { DocumentSource } from './document-source.js';

/** `version` undefined: the latest threads. ERR_NOT_FOUND for a version the document has not reached. */
export async function commentsAtVersion(
  source: Pick<DocumentSource, 'load' | 'loadAt'>,
  docId: string,
  version: number | undefined,
): Promise<CommentsBody> {
  const state = version === undefined ? await source.load(docId) : await source.loadAt(docId, version);
  if (version !== undefined && state.version < version) {
    throw new CollabError('ERR_NOT_FOUND', `document ${docId} has no version ${version} (it is at ${state.version})`);
  }
  return { docId, version: state.version, threads: [...state.comments.threads.values()].map(toWireThread) };
}
