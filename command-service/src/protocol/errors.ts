/**
 * Every rejection a client can receive, with a stable code, whether retrying can succeed, and the sentence.
 * Documented in docs/protocol.md; the SDK switches on these codes.
 */
import type { SubmitRejectionCode } from '@collab/core';

export type ProtocolErrorCode =
  | SubmitRejectionCode
  // Framing and shape
  | 'ERR_BAD_FRAME'
  | 'ERR_FRAME_TOO_LARGE'
  | 'ERR_UNKNOWN_TYPE'
  | 'ERR_INVALID_MESSAGE'
  | 'ERR_PROTOCOL_VERSION'
  // Who you are and what you may do
  | 'ERR_UNAUTHENTICATED'
  | 'ERR_TOKEN_INVALID'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_FORBIDDEN'
  // Limits
  | 'ERR_RATE_LIMITED'
  | 'ERR_TOO_MANY_DOCUMENTS'
  | 'ERR_TOO_MANY_UNACKED'
  // The connection itself (an `error` message, then the socket is closed with the code as its reason)
  | 'ERR_AUTH_TIMEOUT'
  | 'ERR_SERVER_FULL'
  | 'ERR_TOO_MANY_CONNECTIONS'
  // Refused before any WebSocket or route (HTTP 403 with {code, message}): the Host or Origin header
  | 'ERR_HOST_NOT_ALLOWED'
  | 'ERR_ORIGIN_NOT_ALLOWED'
  // Document lifecycle
  | 'ERR_DOC_NOT_OPEN'
  | 'ERR_NOT_OWNER'
  | 'ERR_UNAVAILABLE'
  | 'ERR_INTERNAL';

const RETRIABLE: ReadonlySet<ProtocolErrorCode> = new Set<ProtocolErrorCode>([
  'ERR_RATE_LIMITED',
  'ERR_TOO_MANY_UNACKED',
  'ERR_AUTH_TIMEOUT',
  'ERR_SERVER_FULL',
  'ERR_TOO_MANY_CONNECTIONS',
  'ERR_NOT_OWNER',
  'ERR_UNAVAILABLE',
]);

export const isRetriable = (code: ProtocolErrorCode): boolean => RETRIABLE.has(code);

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly retriable: boolean;
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
    readonly options: { retryAfterMs?: number; docId?: string; seq?: number; detail?: string } = {},
  ) {
    super(message);
    this.retriable = isRetriable(code);
  }

  /** When retrying may succeed (as CollabError has it, for code that handles both). */
  get retryAfterMs(): number | undefined {
    return this.options.retryAfterMs;
  }
}
