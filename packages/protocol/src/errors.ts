/**
 * Every error code a client can receive, in one table: whether sending the same request again can succeed
 * (`retriable`). The server puts the flag on every `error` message (`isRetriable`), the SDK decides its retries
 * with it, and docs/protocol.md describes each code (a test keeps that table and this one in step).
 *
 * Retriable means "the same request, later": the server dedupes ops by (user, clientId, seq), so a retried op
 * never commits twice. Everything else needs a different request (or none).
 */
export const PROTOCOL_ERRORS = {
  // Framing and shape
  ERR_BAD_FRAME: { retriable: false },
  ERR_FRAME_TOO_LARGE: { retriable: false },
  ERR_UNKNOWN_TYPE: { retriable: false },
  ERR_INVALID_MESSAGE: { retriable: false },
  ERR_PROTOCOL_VERSION: { retriable: false },
  // Who you are and what you may do
  ERR_UNAUTHENTICATED: { retriable: false },
  ERR_TOKEN_INVALID: { retriable: false },
  ERR_TOKEN_EXPIRED: { retriable: false },
  ERR_FORBIDDEN: { retriable: false },
  // Limits
  ERR_RATE_LIMITED: { retriable: true },
  ERR_TOO_MANY_DOCUMENTS: { retriable: false },
  ERR_TOO_MANY_UNACKED: { retriable: true },
  // The connection itself (an `error` message, then the socket is closed with the code as its reason): the SDK
  // reconnects with backoff.
  ERR_AUTH_TIMEOUT: { retriable: true },
  ERR_SERVER_FULL: { retriable: true },
  ERR_TOO_MANY_CONNECTIONS: { retriable: true },
  // Refused before any WebSocket or route (HTTP 403 with {code, message}): the Host or Origin header
  ERR_HOST_NOT_ALLOWED: { retriable: false },
  ERR_ORIGIN_NOT_ALLOWED: { retriable: false },
  // The op, as the sequencer judges it (@collab/core's SubmitRejectionCode)
  ERR_OP_INVALID: { retriable: false },
  ERR_OP_TOO_LARGE: { retriable: false },
  ERR_DOC_TOO_LARGE: { retriable: false },
  ERR_BASE_VERSION_INVALID: { retriable: false },
  ERR_BASE_VERSION_FUTURE: { retriable: false },
  ERR_RESYNC_REQUIRED: { retriable: false },
  // Not retriable as it is: the SDK sends the op again under a new clientId (see CLIENT_ID_TAKEN).
  ERR_CLIENT_ID_TAKEN: { retriable: false },
  // A comment command, as the command-service judges it (@collab/core's CommentRejectionCode; the base version
  // of a `create` is judged with ERR_BASE_VERSION_INVALID above)
  ERR_COMMENT_INVALID: { retriable: false },
  ERR_COMMENT_TOO_LONG: { retriable: false },
  ERR_COMMENT_LIMIT: { retriable: false },
  ERR_COMMENT_NOT_FOUND: { retriable: false },
  ERR_COMMENT_NOT_AUTHOR: { retriable: false },
  ERR_COMMENT_ID_TAKEN: { retriable: false },
  ERR_ANCHOR_INVALID: { retriable: false },
  // This server does not keep comment threads (its log cannot store them yet: the distributed mode, so far).
  ERR_COMMENTS_DISABLED: { retriable: false },
  // Document lifecycle
  ERR_DOC_NOT_OPEN: { retriable: false },
  ERR_NOT_OWNER: { retriable: true },
  ERR_UNAVAILABLE: { retriable: true },
  ERR_INTERNAL: { retriable: false },
} as const satisfies Record<string, { retriable: boolean }>;

export type ProtocolErrorCode = keyof typeof PROTOCOL_ERRORS;

export const PROTOCOL_ERROR_CODES = Object.keys(PROTOCOL_ERRORS) as [ProtocolErrorCode, ...ProtocolErrorCode[]];

const isKnownCode = (code: string): code is ProtocolErrorCode => Object.hasOwn(PROTOCOL_ERRORS, code);

/** Whether retrying the same request can succeed; false for a code this table does not know. */
export const isRetriable = (code: string): boolean => isKnownCode(code) && PROTOCOL_ERRORS[code].retriable;

/** The retriable codes (what `isRetriable` says yes to), for code that wants a set. */
export const RETRIABLE_CODES: ReadonlySet<string> = new Set(PROTOCOL_ERROR_CODES.filter(isRetriable));

/** Errors that mean this connection's credentials are no good: get a fresh token and reconnect. */
export const AUTH_CODES: ReadonlySet<string> = new Set<ProtocolErrorCode>([
  'ERR_UNAUTHENTICATED',
  'ERR_TOKEN_INVALID',
  'ERR_TOKEN_EXPIRED',
]);

/**
 * The server refused an op because another user's ops carry its clientId (ids are public: every op broadcast shows
 * them). Not retriable as it is; the SDK sends it again under a new clientId.
 */
export const CLIENT_ID_TAKEN = 'ERR_CLIENT_ID_TAKEN' satisfies ProtocolErrorCode;
