/**
 * The wire protocol, version 1, as the client sees it. These are type declarations only, kept in step by hand
 * with command-service/src/protocol/messages.ts and errors.ts: the SDK must not import the server (it pulls in
 * zod, the sequencer and Node modules), and a browser bundle wants nothing but these shapes.
 */
import type { TextOp } from '@collab/ot-text';

export const PROTOCOL_VERSION = 1;

/** A committed op as the server sends it (broadcast, and inside catch-up). `op` applies to `version - 1`. */
export interface WireOp {
  version: number;
  op: TextOp;
  clientId: string;
  seq: number;
  userId: string;
  timestamp: number;
}

export interface WireLimits {
  /** Largest frame either way; larger snapshots and catch-ups come in parts. */
  maxFrameBytes: number;
  /**
   * Most code points of text one op may carry (inserted, or named by its deletes). Longer pastes are split into
   * several ops; deletes go out as counts.
   */
  maxOpInsertLength: number;
  maxDocuments: number;
  maxUnacked: number;
  opsPerSecond: number;
  /** `open` messages per second (bursts up to `maxDocuments`); absent from older servers. */
  opensPerSecond?: number;
  /** Longest document in code points (ERR_DOC_TOO_LARGE beyond); absent from older servers. */
  maxDocumentLength?: number;
  /** Most components one op may have; absent from older servers. */
  maxOpComponents?: number;
}

export type ResyncCause = 'hash_mismatch' | 'inconsistent' | 'reload';

export type ClientMessage =
  | { t: 'auth'; token: string; protocol: number }
  /** `resync`: why a client reloads a document it holds (the server counts them; hash_mismatch is a divergence). */
  | { t: 'open'; docId: string; version?: number; resync?: ResyncCause }
  | { t: 'submit'; docId: string; clientId: string; seq: number; baseVersion: number; op: TextOp }
  | { t: 'close'; docId: string }
  | { t: 'ping'; id?: string | number }
  /** Our cursor/selection in code points of the confirmed text at `version`; no cursor: present but not in the text. */
  | {
      t: 'presence';
      docId: string;
      version: number;
      cursor?: { anchor: number; head: number };
      name?: string;
      color?: string;
    };

export type SubmitMessage = Extract<ClientMessage, { t: 'submit' }>;

export type ServerMessage =
  | { t: 'welcome'; protocol: number; userId: string; sessionId: string; limits: WireLimits; heartbeatMs: number }
  | { t: 'snapshot'; docId: string; version: number; text: string }
  | { t: 'catchup'; docId: string; version: number; ops: WireOp[] }
  /** A snapshot or catch-up larger than a frame, in parts sent back to back (part is 0-based); see parts.ts. */
  | SnapshotPart
  | CatchupPart
  | { t: 'ack'; docId: string; seq: number; version: number }
  | ({ t: 'op'; docId: string } & WireOp)
  | { t: 'hash'; docId: string; version: number; hash: string }
  | { t: 'resync'; docId: string; reason: string }
  /**
   * The document is closed on this connection: the answer to our `close`, or, with `reason` (an error code and a
   * sentence), closed by the server — ERR_FORBIDDEN after an `auth` whose token may not read it, ERR_TOKEN_EXPIRED
   * or the code of a failed `auth` when the connection's token stopped being valid. Nothing more arrives for it.
   */
  | { t: 'closed'; docId: string; reason?: string; message?: string }
  | { t: 'pong'; id?: string | number }
  | { t: 'presence'; docId: string; users: PresenceUser[] }
  | { t: 'presence'; docId: string; update: PresenceUser }
  | { t: 'presence-leave'; docId: string; sessionId: string }
  | ErrorMessage;

export interface SnapshotPart {
  t: 'snapshot-part';
  docId: string;
  version: number;
  part: number;
  parts: number;
  text: string;
}

export interface CatchupPart {
  t: 'catchup-part';
  docId: string;
  version: number;
  part: number;
  parts: number;
  ops: WireOp[];
}

/** Someone in a document as the server sends them: positions are code points in the text at `version`. */
export interface PresenceUser {
  sessionId: string;
  userId: string;
  name: string;
  color: string;
  cursor?: { anchor: number; head: number };
  version: number;
}

export interface ErrorMessage {
  t: 'error';
  code: string;
  message: string;
  retriable: boolean;
  retryAfterMs?: number;
  docId?: string;
  seq?: number;
  detail?: string;
}

/**
 * The server refused an op because another user's ops carry its clientId (ids are public: every op broadcast shows
 * them). Not retriable as it is; the SDK sends it again under a new clientId.
 */
export const CLIENT_ID_TAKEN = 'ERR_CLIENT_ID_TAKEN';

/**
 * Errors after which sending the same op again (same seq) can succeed: the server dedupes by (user, clientId, seq), so a
 * retry never commits twice. Mirrors `isRetriable` in the server's errors.ts; the `retriable` flag on the wire
 * says the same, and the client trusts either.
 */
export const RETRIABLE_CODES: ReadonlySet<string> = new Set([
  'ERR_RATE_LIMITED',
  'ERR_TOO_MANY_UNACKED',
  // Connection-level: the socket closes after them and the client reconnects with backoff.
  'ERR_AUTH_TIMEOUT',
  'ERR_SERVER_FULL',
  'ERR_TOO_MANY_CONNECTIONS',
  'ERR_NOT_OWNER',
  'ERR_UNAVAILABLE',
]);

/** Errors that mean this connection's credentials are no good: get a fresh token and reconnect. */
export const AUTH_CODES: ReadonlySet<string> = new Set([
  'ERR_UNAUTHENTICATED',
  'ERR_TOKEN_INVALID',
  'ERR_TOKEN_EXPIRED',
]);

/** Parse a frame from the server. Anything that is not an object with a string `t` is dropped by the caller. */
export function parseServerMessage(data: unknown): ServerMessage | undefined {
  if (typeof data !== 'string') return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || typeof (raw as { t?: unknown }).t !== 'string') return undefined;
  return raw as ServerMessage;
}
