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
  maxFrameBytes: number;
  /** Most code points one op may insert. Longer pastes are split into several ops. */
  maxOpInsertLength: number;
  maxDocuments: number;
  maxUnacked: number;
  opsPerSecond: number;
}

export type ClientMessage =
  | { t: 'auth'; token: string; protocol: number }
  | { t: 'open'; docId: string; version?: number }
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
  | { t: 'ack'; docId: string; seq: number; version: number }
  | ({ t: 'op'; docId: string } & WireOp)
  | { t: 'hash'; docId: string; version: number; hash: string }
  | { t: 'resync'; docId: string; reason: string }
  | { t: 'closed'; docId: string }
  | { t: 'pong'; id?: string | number }
  | { t: 'presence'; docId: string; users: PresenceUser[] }
  | { t: 'presence'; docId: string; update: PresenceUser }
  | { t: 'presence-leave'; docId: string; sessionId: string }
  | ErrorMessage;

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
 * Errors after which sending the same op again (same seq) can succeed: the server dedupes by (clientId, seq), so a
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
