/**
 * Comment threads and events as wire messages (docs/protocol.md, "Comments"). The threads sent after every open
 * go in parts of whole threads, each part within the frame limit unless one thread alone is larger.
 */
import type { CommentEvent, CommentsState, CommentThread } from '@collab/core';
import type { ServerMessage, WireThread } from '@collab/protocol';

export const toWireThread = (thread: CommentThread): WireThread => ({
  threadId: thread.threadId,
  anchor: thread.anchor,
  createdBy: thread.createdBy,
  createdAt: thread.createdAt,
  resolved: thread.resolved,
  messages: thread.messages.map((m) => ({ ...m })),
});

export const commentEventMessage = (event: CommentEvent): ServerMessage => ({
  t: 'comment',
  docId: event.docId,
  version: event.version,
  userId: event.userId,
  timestamp: event.timestamp,
  body: event.body,
});

/** Bytes of a part's message around its threads (ids, version, brackets): generous. */
const ENVELOPE_BYTES = 600;

export function commentsFrames(docId: string, comments: CommentsState, maxFrameBytes: number): ServerMessage[] {
  const parts: WireThread[][] = [[]];
  let bytes = ENVELOPE_BYTES;
  for (const thread of comments.threads.values()) {
    const wire = toWireThread(thread);
    const size = Buffer.byteLength(JSON.stringify(wire)) + 1;
    const current = parts[parts.length - 1]!;
    if (current.length > 0 && bytes + size > maxFrameBytes) {
      parts.push([wire]);
      bytes = ENVELOPE_BYTES + size;
    } else {
      current.push(wire);
      bytes += size;
    }
  }
  return parts.map((threads, part) => ({
    t: 'comments',
    docId,
    version: comments.version,
    part,
    parts: parts.length,
    threads,
  }));
}
