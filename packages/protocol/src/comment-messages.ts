/**
 * Comment threads on the wire (issue 17; docs/protocol.md, "Comments"). A thread is anchored to a range of the
 * text in code points and moves with it; the server decides each command against the document's head, appends
 * the event to the document's log behind its ops, and sends it to every subscriber in log order. The shapes here
 * mirror @collab/core's CommentCommand and CommentEventBody (a type test keeps them in step).
 */
import { z } from 'zod';
import { docId, position, version } from './fields.js';
import { hasLoneSurrogate, UNPAIRED_SURROGATE } from './well-formed.js';

/** Thread and message ids: the client's (random), so a retry after a lost answer is recognised as one. */
export const commentId = z
  .string()
  .min(1)
  .max(128)
  .refine((s) => !hasLoneSurrogate(s), UNPAIRED_SURROGATE);

/** A request id of the client's, echoed in the `comment-ack` or `error` that answers the command. */
export const commentRef = z.string().min(1).max(64);

/**
 * Comment text. The length in code points (`limits.maxCommentLength`) is checked by the server with its own code
 * (ERR_COMMENT_TOO_LONG); this bound only keeps a frame's JSON small enough to look at.
 */
const commentText = z.string().refine((s) => !hasLoneSurrogate(s), UNPAIRED_SURROGATE);

/** A range [start, end) of code points; `detached`: its text was wholly deleted and it is a point for good. */
export const WireAnchor = z.object({ start: position, end: position, detached: z.boolean().optional() }).strict();
export type WireAnchor = z.infer<typeof WireAnchor>;

export const CommentCommand = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('create'),
      threadId: commentId,
      messageId: commentId,
      /** In the text at `version` (the version the client's text was at). */
      anchor: z.object({ start: position, end: position }).strict(),
      version,
      text: commentText,
    })
    .strict(),
  z.object({ kind: z.literal('reply'), threadId: commentId, messageId: commentId, text: commentText }).strict(),
  z.object({ kind: z.literal('edit'), threadId: commentId, messageId: commentId, text: commentText }).strict(),
  z.object({ kind: z.enum(['resolve', 'reopen', 'delete']), threadId: commentId }).strict(),
]);
export type CommentCommand = z.infer<typeof CommentCommand>;

/** `{t:"comment", docId, ref, command}`: needs the token's `comment` permission and the document open. */
export const CommentClientMessage = z
  .object({ t: z.literal('comment'), docId, ref: commentRef, command: CommentCommand })
  .strict();
export type CommentClientMessage = z.infer<typeof CommentClientMessage>;

export const CommentEventBody = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('created'),
      threadId: z.string(),
      messageId: z.string(),
      anchor: WireAnchor,
      text: z.string(),
    })
    .strict(),
  z.object({ kind: z.literal('replied'), threadId: z.string(), messageId: z.string(), text: z.string() }).strict(),
  z.object({ kind: z.literal('edited'), threadId: z.string(), messageId: z.string(), text: z.string() }).strict(),
  z.object({ kind: z.enum(['resolved', 'reopened', 'deleted']), threadId: z.string() }).strict(),
]);
export type CommentEventBody = z.infer<typeof CommentEventBody>;

export const WireCommentMessage = z
  .object({
    messageId: z.string(),
    authorId: z.string(),
    text: z.string(),
    at: z.number(),
    editedAt: z.number().optional(),
  })
  .strict();
export type WireCommentMessage = z.infer<typeof WireCommentMessage>;

/** A thread as the server sends it on open: its anchor is in the text at the message's `version`. */
export const WireThread = z
  .object({
    threadId: z.string(),
    anchor: WireAnchor,
    createdBy: z.string(),
    createdAt: z.number(),
    resolved: z.boolean(),
    messages: z.array(WireCommentMessage),
  })
  .strict();
export type WireThread = z.infer<typeof WireThread>;

const count = z.number().int().nonnegative().safe();

export const CommentServerMessage = z.union([
  /**
   * A committed comment event, to every subscriber in log order with the ops: it applies to the text at `version`
   * (after op `version`, before op `version + 1`).
   */
  z
    .object({
      t: z.literal('comment'),
      docId,
      version,
      userId: z.string(),
      timestamp: z.number(),
      body: CommentEventBody,
    })
    .strict(),
  /** To the sender, after the event: its command `ref` is durable (or was already: `duplicate`). */
  z.object({ t: z.literal('comment-ack'), docId, ref: commentRef, duplicate: z.boolean() }).strict(),
  /**
   * Right after the answer to every `open` (snapshot or catch-up up to `version`): the document's threads at
   * `version`, which replace whatever the client held. In parts `part` of `parts` (0-based) when they do not fit
   * one frame; each part holds whole threads.
   */
  z
    .object({ t: z.literal('comments'), docId, version, part: count, parts: count, threads: z.array(WireThread) })
    .strict(),
]);
export type CommentServerMessage = z.infer<typeof CommentServerMessage>;
