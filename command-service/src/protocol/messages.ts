/**
 * The WebSocket protocol, version 1: JSON text frames, one message per frame, each with a `t` (type) field.
 * Every client message is validated here before anything acts on it; docs/protocol.md is the prose version.
 */
import { PresenceClientMessage, type PresenceServerMessage } from '@collab/presence-service';
import { z } from 'zod';
import type { ProtocolErrorCode } from './errors.js';
import { hasLoneSurrogate, UNPAIRED_SURROGATE } from './well-formed.js';

export const PROTOCOL_VERSION = 1;

const docId = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\w.:@~-]+$/, 'document ids use letters, digits and . : @ ~ _ -');
const version = z.number().int().nonnegative().safe();
// Stored in the log as UTF-8: a lone surrogate would come back as U+FFFD, a different id (and dedupe key).
const clientId = z
  .string()
  .min(1)
  .max(128)
  .refine((s) => !hasLoneSurrogate(s), UNPAIRED_SURROGATE);

/** Why a client reloads a document it holds (`open.resync`). */
export const RESYNC_CAUSES = ['hash_mismatch', 'inconsistent', 'reload'] as const;

export const ClientMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('auth'), token: z.string().min(1).max(16_384), protocol: z.number().int() }).strict(),
  z
    .object({
      t: z.literal('open'),
      docId,
      version: version.optional(),
      // A client reloading a document it holds says why (counted in collab.client.resyncs): hash_mismatch is a
      // divergence the zero-divergence SLO pages on; inconsistent, an op or ack that did not fit its text.
      resync: z.enum(RESYNC_CAUSES).optional(),
    })
    .strict(),
  z
    .object({
      t: z.literal('submit'),
      docId,
      clientId,
      seq: z.number().int().positive().safe(),
      baseVersion: z.number(),
      // The op's own validation (checkOp, with stable codes) happens in the sequencer.
      op: z.unknown(),
    })
    .strict(),
  z.object({ t: z.literal('close'), docId }).strict(),
  z.object({ t: z.literal('ping'), id: z.union([z.string().max(64), z.number()]).optional() }).strict(),
  // Cursor, selection, name and colour of this session in an open document (presence-service).
  PresenceClientMessage,
]);
export type ClientMessage = z.infer<typeof ClientMessage>;
export const CLIENT_MESSAGE_TYPES = ['auth', 'open', 'submit', 'close', 'ping', 'presence'] as const;

/** What a remote op looks like on the wire. */
export interface WireOp {
  version: number;
  op: unknown[];
  clientId: string;
  seq: number;
  userId: string;
  timestamp: number;
}

export type ServerMessage =
  | {
      t: 'welcome';
      protocol: number;
      userId: string;
      sessionId: string;
      limits: WireLimits;
      heartbeatMs: number;
    }
  /** Fresh open: the whole text at `version`. */
  | { t: 'snapshot'; docId: string; version: number; text: string }
  /** Catch-up open: the ops after the version the client holds, up to `version`. */
  | { t: 'catchup'; docId: string; version: number; ops: WireOp[] }
  /**
   * A snapshot or catch-up too large for one frame (`limits.maxFrameBytes`), in parts sent back to back: part
   * `part` of `parts` (0-based). The text is the parts' texts joined; the ops are the parts' ops in order.
   */
  | { t: 'snapshot-part'; docId: string; version: number; part: number; parts: number; text: string }
  | { t: 'catchup-part'; docId: string; version: number; part: number; parts: number; ops: WireOp[] }
  | { t: 'ack'; docId: string; seq: number; version: number }
  | ({ t: 'op'; docId: string } & WireOp)
  /** Every N versions: a hash of the text at `version`; a client whose text hashes differently must resync. */
  | { t: 'hash'; docId: string; version: number; hash: string }
  /** The client must reload the document (its version is too old, or its state cannot be trusted). */
  | { t: 'resync'; docId: string; reason: string }
  /**
   * The answer to `close`; or, with a reason, the server closed the document: ERR_FORBIDDEN (an `auth` whose token
   * may not read it), ERR_TOKEN_EXPIRED, or the code of a failed `auth`. Nothing more is sent for it.
   */
  | { t: 'closed'; docId: string; reason?: ProtocolErrorCode; message?: string }
  | { t: 'pong'; id?: string | number }
  /** Who is in an open document and where their cursors are (see presence-service). */
  | PresenceServerMessage
  | {
      t: 'error';
      code: string;
      message: string;
      retriable: boolean;
      retryAfterMs?: number;
      docId?: string;
      seq?: number;
      detail?: string;
    };

export interface WireLimits {
  /** Largest frame either way; larger snapshots and catch-ups come in parts. */
  maxFrameBytes: number;
  /** Most code points of text one op may carry (inserted, or named by its deletes). */
  maxOpInsertLength: number;
  /** Most components one op may have. */
  maxOpComponents: number;
  /** Longest document, in code points: an op that would make it longer gets ERR_DOC_TOO_LARGE. */
  maxDocumentLength: number;
  maxDocuments: number;
  maxUnacked: number;
  opsPerSecond: number;
  /** `open` messages per second per connection (bursts up to `maxDocuments`, so a reconnect re-opens at once). */
  opensPerSecond: number;
}

export type ResyncCause = (typeof RESYNC_CAUSES)[number];
