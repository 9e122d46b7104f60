/**
 * A document's comment threads as the SDK folds them — the same rules as the server's (@collab/core's
 * evolveComments / moveAnchors; the SDK does not bundle the core): a comment event applies to the threads at its
 * version; every op moves every anchor (@collab/ot-text's transformAnchor). Pure.
 */
import type { TextOp } from '@collab/ot-text';
import { transformAnchorThrough } from '@collab/ot-text';
import type { CommentEventBody, WireThread } from '@collab/protocol';

export interface ThreadsAt {
  version: number;
  threads: ReadonlyMap<string, WireThread>;
}

export interface ThreadEvent {
  version: number;
  userId: string;
  timestamp: number;
  body: CommentEventBody;
}

export const noThreads = (version: number): ThreadsAt => ({ version, threads: new Map() });

export function threadsFrom(version: number, list: readonly WireThread[]): ThreadsAt {
  return { version, threads: new Map(list.map((t) => [t.threadId, t])) };
}

/** The threads after an event at their version. Folding one twice changes nothing, as on the server. */
export function foldThreadEvent(state: ThreadsAt, event: ThreadEvent): ThreadsAt {
  const threads = new Map(state.threads);
  const { body, userId, timestamp } = event;
  const thread = threads.get(body.threadId);
  switch (body.kind) {
    case 'created':
      if (thread !== undefined) break;
      threads.set(body.threadId, {
        threadId: body.threadId,
        anchor: body.anchor,
        createdBy: userId,
        createdAt: timestamp,
        resolved: false,
        messages: [{ messageId: body.messageId, authorId: userId, text: body.text, at: timestamp }],
      });
      break;
    case 'replied':
      if (thread !== undefined && !thread.messages.some((m) => m.messageId === body.messageId)) {
        const message = { messageId: body.messageId, authorId: userId, text: body.text, at: timestamp };
        threads.set(body.threadId, { ...thread, messages: [...thread.messages, message] });
      }
      break;
    case 'edited':
      if (thread !== undefined) {
        const messages = thread.messages.map((m) =>
          m.messageId === body.messageId ? { ...m, text: body.text, editedAt: timestamp } : m,
        );
        threads.set(body.threadId, { ...thread, messages });
      }
      break;
    case 'resolved':
    case 'reopened':
      if (thread !== undefined) threads.set(body.threadId, { ...thread, resolved: body.kind === 'resolved' });
      break;
    case 'deleted':
      threads.delete(body.threadId);
      break;
  }
  return { version: state.version, threads };
}

/** The threads with every anchor moved through `ops` (applied in order to the text they refer to). */
export function moveThreads(state: ThreadsAt, ops: readonly TextOp[], version: number): ThreadsAt {
  if (state.threads.size === 0 || ops.length === 0) return { version, threads: state.threads };
  const threads = new Map<string, WireThread>();
  for (const [id, thread] of state.threads) {
    threads.set(id, { ...thread, anchor: transformAnchorThrough(thread.anchor, ops) });
  }
  return { version, threads };
}
