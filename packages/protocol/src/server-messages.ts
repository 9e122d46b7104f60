/**
 * What the server sends. The server builds these objects with the inferred types (the compiler checks every
 * field); it does not parse its own output at run time. The schemas say exactly what a server of this protocol
 * version may send: the round-trip test parses the server's real output with them. Clients should ignore fields
 * they do not know (the SDK does), so that adding an optional field stays backwards compatible.
 */
import { z } from 'zod';
import { PROTOCOL_ERROR_CODES } from './errors.js';
import { cursor, docId, textOp, version } from './fields.js';
import { CommentServerMessage } from './comment-messages.js';

const count = z.number().int().nonnegative().safe();
const seq = z.number().int().positive().safe();

/** What the server tells a client about its limits in `welcome`. */
export const WireLimits = z
  .object({
    /** Largest frame either way; larger snapshots and catch-ups come in parts. */
    maxFrameBytes: count,
    /**
     * Most code points of text one op may carry (inserted, or named by its deletes). The SDK splits longer pastes
     * into several ops and sends deletes as counts.
     */
    maxOpInsertLength: count,
    maxDocuments: count,
    maxUnacked: count,
    opsPerSecond: z.number().positive(),
    // The three below came later in protocol 1: a client must expect servers that do not send them.
    /** `open` messages per second per connection (bursts up to `maxDocuments`, so a reconnect re-opens at once). */
    opensPerSecond: z.number().positive().optional(),
    /** Longest document, in code points: an op that would make it longer gets ERR_DOC_TOO_LARGE. */
    maxDocumentLength: count.optional(),
    /** Most components one op may have. */
    maxOpComponents: count.optional(),
    // Comment threads (docs/protocol.md, "Comments"), later still: absent from servers without them.
    /** Most code points in one comment message. */
    maxCommentLength: count.optional(),
    /** Most threads a document may have. */
    maxThreadsPerDocument: count.optional(),
    /** Most messages in one thread. */
    maxMessagesPerThread: count.optional(),
  })
  .strict();
export type WireLimits = z.infer<typeof WireLimits>;

/** A committed op as the server sends it (broadcast, and inside catch-ups). `op` applies to `version - 1`. */
export const WireOp = z
  .object({
    version,
    op: textOp,
    clientId: z.string(),
    seq,
    userId: z.string(),
    timestamp: z.number(),
  })
  .strict();
export type WireOp = z.infer<typeof WireOp>;

/** Someone in a document as the server sends them: positions are code points in the text at `version`. */
export const PresenceUser = z
  .object({
    /** The session (connection) this presence belongs to: one user may be present in several tabs. */
    sessionId: z.string(),
    userId: z.string(),
    name: z.string(),
    color: z.string(),
    /** Absent when the user has no cursor in the text (or it was too old to move to this version). */
    cursor: cursor.optional(),
    version,
  })
  .strict();
export type PresenceUser = z.infer<typeof PresenceUser>;

export const PresenceServerMessage = z.union([
  /** On open: everyone else present. */
  z.object({ t: z.literal('presence'), docId, users: z.array(PresenceUser) }).strict(),
  /** Someone joined or moved. */
  z.object({ t: z.literal('presence'), docId, update: PresenceUser }).strict(),
  /** Someone left (closed the document, disconnected, or went silent for longer than the TTL). */
  z.object({ t: z.literal('presence-leave'), docId, sessionId: z.string() }).strict(),
]);
export type PresenceServerMessage = z.infer<typeof PresenceServerMessage>;

/**
 * A snapshot or catch-up too large for one frame (`limits.maxFrameBytes`), in parts sent back to back: part
 * `part` of `parts` (0-based). The text is the parts' texts joined; the ops are the parts' ops in order.
 */
const parts = { docId, version, part: count, parts: count };
export const SnapshotPart = z.object({ t: z.literal('snapshot-part'), ...parts, text: z.string() }).strict();
export type SnapshotPart = z.infer<typeof SnapshotPart>;
export const CatchupPart = z.object({ t: z.literal('catchup-part'), ...parts, ops: z.array(WireOp) }).strict();
export type CatchupPart = z.infer<typeof CatchupPart>;

export const ErrorMessage = z
  .object({
    t: z.literal('error'),
    code: z.enum(PROTOCOL_ERROR_CODES),
    /** A sentence for people; programs switch on `code`. */
    message: z.string(),
    /** Whether the same request again can succeed (the error table, errors.ts). */
    retriable: z.boolean(),
    retryAfterMs: z.number().nonnegative().optional(),
    /** Which request failed, when there is one. */
    docId: z.string().optional(),
    seq: z.number().optional(),
    /** Which comment command failed: its `ref`. */
    ref: z.string().optional(),
    /** Refines the code, e.g. the OT error code of ERR_OP_INVALID. */
    detail: z.string().optional(),
  })
  .strict();
export type ErrorMessage = z.infer<typeof ErrorMessage>;

export const ServerMessage = z.union([
  z
    .object({
      t: z.literal('welcome'),
      protocol: z.number().int(),
      userId: z.string(),
      sessionId: z.string(),
      limits: WireLimits,
      heartbeatMs: z.number().nonnegative(),
    })
    .strict(),
  /** Fresh open: the whole text at `version`. */
  z.object({ t: z.literal('snapshot'), docId, version, text: z.string() }).strict(),
  /** Catch-up open: the ops after the version the client holds, up to `version`. */
  z.object({ t: z.literal('catchup'), docId, version, ops: z.array(WireOp) }).strict(),
  SnapshotPart,
  CatchupPart,
  z.object({ t: z.literal('ack'), docId, seq, version }).strict(),
  WireOp.extend({ t: z.literal('op'), docId }).strict(),
  /** Every N versions: a hash of the text at `version`; a client whose text hashes differently must resync. */
  z.object({ t: z.literal('hash'), docId, version, hash: z.string() }).strict(),
  /** The client must reload the document (its version is too old, or its state cannot be trusted). */
  z.object({ t: z.literal('resync'), docId, reason: z.string() }).strict(),
  /**
   * The answer to `close`; or, with a reason, the server closed the document: ERR_FORBIDDEN (an `auth` whose token
   * may not read it), ERR_TOKEN_EXPIRED, or the code of a failed `auth`. Nothing more is sent for it.
   */
  z
    .object({
      t: z.literal('closed'),
      docId,
      reason: z.enum(PROTOCOL_ERROR_CODES).optional(),
      message: z.string().optional(),
    })
    .strict(),
  z.object({ t: z.literal('pong'), id: z.union([z.string(), z.number()]).optional() }).strict(),
  ...PresenceServerMessage.options,
  ...CommentServerMessage.options,
  ErrorMessage,
]);
export type ServerMessage = z.infer<typeof ServerMessage>;
