/**
 * The SDK's own errors: a stable code (switch on it, never on the message), whether trying again can help, and a
 * cause. Errors the server sends keep the server's code (see protocol.ts).
 */
export type ClientErrorCode =
  /** The document is not loaded yet (its first snapshot has not arrived). */
  | 'ERR_NOT_LOADED'
  /** The document was closed. */
  | 'ERR_CLOSED'
  /** Too many local edits are waiting to be sent: the document takes no more until it is reloaded. */
  | 'ERR_PENDING_LIMIT'
  /** The edit does not fit the document (position or length out of range). */
  | 'ERR_RANGE'
  /** The connection was closed for good (`client.close()`). */
  | 'ERR_CLIENT_CLOSED'
  /** Any code the server sends (ERR_FORBIDDEN, ERR_TOO_MANY_DOCUMENTS, ...). */
  | (string & {});

export class CollabClientError extends Error {
  override readonly name = 'CollabClientError';
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    readonly retriable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
