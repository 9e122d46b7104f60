/**
 * Comment threads, decided and folded like ops — pure: no I/O, no clock, no randomness (issue 17's data model).
 *
 * A document's threads are a separate model from its text, anchored to it: each thread has a range of the text
 * (@collab/ot-text's Anchor) that moves through every committed op (`moveAnchors`), and messages. Commands are
 * decided against the current state (`decideComment`): refused with a stable code, recognised as a retry of
 * something already committed (the same ids from the same user: answered without a second event), or turned into
 * the event to append to the log. Only once the event is durable is it folded into the state (`evolveComments`),
 * exactly as `decideSubmit`/`evolve` do for ops, so a replay of the log (ops and comment events in log order)
 * rebuilds the same threads and anchors at every version.
 *
 * Who may do what: writing needs the token's `comment` permission and reading `read` (checked by the caller, which
 * holds the token); here, what depends on the thread: only a message's author edits it, only a thread's author
 * deletes it, anyone who may comment replies, resolves and reopens.
 */
import type { Anchor, TextOp } from '@collab/ot-text';
import { checkAnchor, codePointLength, OtError, transformAnchorThrough } from '@collab/ot-text';

export interface CommentMessage {
  messageId: string;
  authorId: string;
  text: string;
  /** Milliseconds since the epoch (server clock at commit). */
  at: number;
  editedAt?: number;
}

export interface CommentThread {
  threadId: string;
  /** In the document's text at the state's version. `detached`: its text was deleted; the thread is kept. */
  anchor: Anchor;
  createdBy: string;
  createdAt: number;
  resolved: boolean;
  messages: CommentMessage[];
}

/** A document's threads at one version of its text (deleted threads are gone). */
export interface CommentsState {
  version: number;
  threads: ReadonlyMap<string, CommentThread>;
}

export const emptyComments = (version = 0): CommentsState => ({ version, threads: new Map() });

export interface CommentLimits {
  /** Most threads a document may have (deleted ones do not count). */
  maxThreadsPerDocument: number;
  /** Most messages in one thread. */
  maxMessagesPerThread: number;
  /** Most code points in one message. */
  maxCommentLength: number;
}

export const DEFAULT_COMMENT_LIMITS: CommentLimits = {
  maxThreadsPerDocument: 1000,
  maxMessagesPerThread: 500,
  maxCommentLength: 10_000,
};

/** What a client asks for. Ids are the client's (random), so a retry after a lost answer is recognised. */
export type CommentCommand =
  | {
      kind: 'create';
      threadId: string;
      messageId: string;
      /** The range in the text at `version` (the version the client's text was at). */
      anchor: Anchor;
      version: number;
      text: string;
    }
  | { kind: 'reply'; threadId: string; messageId: string; text: string }
  | { kind: 'edit'; threadId: string; messageId: string; text: string }
  | { kind: 'resolve' | 'reopen' | 'delete'; threadId: string };

/** What the log holds: the command as decided (a create's anchor moved to the current version), who, when. */
export type CommentEventBody =
  | { kind: 'created'; threadId: string; messageId: string; anchor: Anchor; text: string }
  | { kind: 'replied'; threadId: string; messageId: string; text: string }
  | { kind: 'edited'; threadId: string; messageId: string; text: string }
  | { kind: 'resolved' | 'reopened' | 'deleted'; threadId: string };

export interface CommentEvent {
  docId: string;
  /** The document's version when it was committed: it applies after op `version` and before op `version + 1`. */
  version: number;
  userId: string;
  timestamp: number;
  body: CommentEventBody;
}

export type CommentRejectionCode =
  | 'ERR_COMMENT_INVALID'
  | 'ERR_COMMENT_TOO_LONG'
  | 'ERR_COMMENT_LIMIT'
  | 'ERR_COMMENT_NOT_FOUND'
  | 'ERR_COMMENT_NOT_AUTHOR'
  | 'ERR_COMMENT_ID_TAKEN'
  | 'ERR_ANCHOR_INVALID'
  | 'ERR_BASE_VERSION_INVALID';

export type CommentDecision =
  | { kind: 'reject'; code: CommentRejectionCode; message: string }
  | { kind: 'duplicate' }
  | { kind: 'commit'; event: CommentEvent };

/** What deciding needs besides the threads: the text's history since a create's version, and the limits. */
export interface CommentContext {
  docId: string;
  userId: string;
  now: number;
  /** The document's current version and length (code points). */
  version: number;
  length: number;
  /** The committed ops after `version` (oldest first), or undefined when they are no longer at hand. */
  opsSince(version: number): readonly TextOp[] | undefined;
  limits: CommentLimits;
}

const reject = (code: CommentRejectionCode, message: string): CommentDecision => ({ kind: 'reject', code, message });

/** Code-point length change an op makes: what it inserts minus what it deletes. */
function lengthChange(op: TextOp): number {
  let change = 0;
  for (const c of op) {
    if (typeof c === 'string') change += codePointLength(c);
    else if (typeof c === 'object') change -= typeof c.d === 'number' ? c.d : codePointLength(c.d);
  }
  return change;
}

function checkText(text: string, limits: CommentLimits): CommentDecision | undefined {
  if (typeof text !== 'string' || text.trim().length === 0) {
    return reject('ERR_COMMENT_INVALID', 'A comment needs some text.');
  }
  if (codePointLength(text) > limits.maxCommentLength) {
    return reject('ERR_COMMENT_TOO_LONG', `A comment has at most ${limits.maxCommentLength} characters.`);
  }
  return undefined;
}

export function decideComment(state: CommentsState, command: CommentCommand, ctx: CommentContext): CommentDecision {
  const commit = (body: CommentEventBody): CommentDecision => ({
    kind: 'commit',
    event: { docId: ctx.docId, version: ctx.version, userId: ctx.userId, timestamp: ctx.now, body },
  });
  const thread = state.threads.get(command.threadId);
  switch (command.kind) {
    case 'create': {
      if (thread !== undefined) {
        // The same thread from the same person: a retry whose answer was lost.
        const first = thread.messages[0];
        return thread.createdBy === ctx.userId && first?.messageId === command.messageId && first.text === command.text
          ? { kind: 'duplicate' }
          : reject('ERR_COMMENT_ID_TAKEN', `Thread ${command.threadId} exists already.`);
      }
      const badText = checkText(command.text, ctx.limits);
      if (badText !== undefined) return badText;
      if (state.threads.size >= ctx.limits.maxThreadsPerDocument) {
        return reject('ERR_COMMENT_LIMIT', `A document has at most ${ctx.limits.maxThreadsPerDocument} threads.`);
      }
      if (!Number.isSafeInteger(command.version) || command.version < 0 || command.version > ctx.version) {
        return reject('ERR_BASE_VERSION_INVALID', `Version ${command.version} is not a version of this document.`);
      }
      const ops = ctx.opsSince(command.version);
      if (ops === undefined) {
        return reject('ERR_BASE_VERSION_INVALID', `Version ${command.version} is too old to anchor a comment to.`);
      }
      try {
        checkAnchor(command.anchor);
        const lengthThen = ctx.length - ops.reduce((sum, op) => sum + lengthChange(op), 0);
        if (command.anchor.end > lengthThen) throw new OtError('ERR_ANCHOR_INVALID', 'past the end of the text');
      } catch (err) {
        return reject(
          'ERR_ANCHOR_INVALID',
          `The range does not fit the text at version ${command.version}: ${(err as Error).message}.`,
        );
      }
      // Only what the client sent: a client cannot create a thread that is detached already.
      const anchor = transformAnchorThrough({ start: command.anchor.start, end: command.anchor.end }, ops);
      return commit({
        kind: 'created',
        threadId: command.threadId,
        messageId: command.messageId,
        anchor,
        text: command.text,
      });
    }
    case 'reply': {
      if (thread === undefined) return reject('ERR_COMMENT_NOT_FOUND', `No thread ${command.threadId}.`);
      const existing = thread.messages.find((m) => m.messageId === command.messageId);
      if (existing !== undefined) {
        return existing.authorId === ctx.userId && existing.text === command.text
          ? { kind: 'duplicate' }
          : reject('ERR_COMMENT_ID_TAKEN', `Message ${command.messageId} exists already.`);
      }
      const badText = checkText(command.text, ctx.limits);
      if (badText !== undefined) return badText;
      if (thread.messages.length >= ctx.limits.maxMessagesPerThread) {
        return reject('ERR_COMMENT_LIMIT', `A thread has at most ${ctx.limits.maxMessagesPerThread} messages.`);
      }
      return commit({ kind: 'replied', threadId: command.threadId, messageId: command.messageId, text: command.text });
    }
    case 'edit': {
      const message = thread?.messages.find((m) => m.messageId === command.messageId);
      if (message === undefined) {
        return reject('ERR_COMMENT_NOT_FOUND', `No message ${command.messageId} in thread ${command.threadId}.`);
      }
      if (message.authorId !== ctx.userId) return reject('ERR_COMMENT_NOT_AUTHOR', 'Only its author edits a message.');
      const badText = checkText(command.text, ctx.limits);
      if (badText !== undefined) return badText;
      if (message.text === command.text) return { kind: 'duplicate' };
      return commit({ kind: 'edited', threadId: command.threadId, messageId: command.messageId, text: command.text });
    }
    case 'resolve':
    case 'reopen': {
      if (thread === undefined) return reject('ERR_COMMENT_NOT_FOUND', `No thread ${command.threadId}.`);
      // Already so: nothing to record (a retry, or two people clicking at once).
      if (thread.resolved === (command.kind === 'resolve')) return { kind: 'duplicate' };
      return commit({ kind: command.kind === 'resolve' ? 'resolved' : 'reopened', threadId: command.threadId });
    }
    case 'delete': {
      // Gone already: a retry of the delete that removed it, or someone else's.
      if (thread === undefined) return { kind: 'duplicate' };
      if (thread.createdBy !== ctx.userId) return reject('ERR_COMMENT_NOT_AUTHOR', 'Only its author deletes a thread.');
      return commit({ kind: 'deleted', threadId: command.threadId });
    }
  }
}

/**
 * The threads after a committed comment event (events come at the state's version: anchors are current). Folding
 * an event a second time changes nothing (a thread or message already there is kept as it is), so a redelivered
 * event is harmless.
 */
export function evolveComments(state: CommentsState, event: CommentEvent): CommentsState {
  if (event.version !== state.version) {
    throw new Error(`comment event at version ${event.version} folded into comments at version ${state.version}`);
  }
  const threads = new Map(state.threads);
  const { body } = event;
  const thread = threads.get(body.threadId);
  switch (body.kind) {
    case 'created':
      if (thread !== undefined) break;
      threads.set(body.threadId, {
        threadId: body.threadId,
        anchor: body.anchor,
        createdBy: event.userId,
        createdAt: event.timestamp,
        resolved: false,
        messages: [{ messageId: body.messageId, authorId: event.userId, text: body.text, at: event.timestamp }],
      });
      break;
    case 'replied':
      if (thread !== undefined && !thread.messages.some((m) => m.messageId === body.messageId)) {
        const message = { messageId: body.messageId, authorId: event.userId, text: body.text, at: event.timestamp };
        threads.set(body.threadId, { ...thread, messages: [...thread.messages, message] });
      }
      break;
    case 'edited':
      if (thread !== undefined) {
        const messages = thread.messages.map((m) =>
          m.messageId === body.messageId ? { ...m, text: body.text, editedAt: event.timestamp } : m,
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

/** The threads after the document's next committed op (version + 1): every anchor moves through it. */
export function moveAnchors(state: CommentsState, op: TextOp, version: number): CommentsState {
  if (version !== state.version + 1) {
    throw new Error(`op of version ${version} moved the anchors of comments at version ${state.version}`);
  }
  const threads = new Map<string, CommentThread>();
  for (const [id, thread] of state.threads) {
    threads.set(id, { ...thread, anchor: transformAnchorThrough(thread.anchor, [op]) });
  }
  return { version, threads };
}
