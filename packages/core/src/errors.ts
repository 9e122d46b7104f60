/**
 * One error class for everything that can go wrong outside the OT math, in the kafkajs / ShareDB tradition: a
 * stable code a program can switch on, a sentence a person can read, whether retrying can help, and the cause.
 */
export type ErrorCode =
  // Infrastructure: a dependency is down, slow or refused us. Always retriable and names the endpoint.
  | 'ERR_UNAVAILABLE'
  | 'ERR_TIMEOUT'
  // A server refused our credentials or client certificate, or its certificate failed our checks. Not
  // retriable: the configuration (or the server's) must change.
  | 'ERR_UNAUTHENTICATED'
  // The event log: a newer writer owns the partition (one writer per document).
  | 'ERR_FENCED'
  // Conditional writes lost a race (snapshot already written, head moved).
  | 'ERR_CONFLICT'
  | 'ERR_NOT_FOUND'
  // Stored data that cannot be decoded (unknown schema id, corrupt frame, checksum mismatch).
  | 'ERR_CORRUPT'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_CLOSED';

export interface CollabErrorOptions {
  retriable?: boolean;
  cause?: unknown;
  /** Where the failure happened, e.g. "kafka 127.0.0.1:9092" — shown to operators. */
  endpoint?: string;
  retryAfterMs?: number;
}

const RETRIABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set(['ERR_UNAVAILABLE', 'ERR_TIMEOUT']);

export class CollabError extends Error {
  override readonly name = 'CollabError';
  readonly retriable: boolean;
  readonly endpoint: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: CollabErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retriable = options.retriable ?? RETRIABLE_BY_DEFAULT.has(code);
    this.endpoint = options.endpoint;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export const isCollabError = (err: unknown, code?: ErrorCode): err is CollabError =>
  err instanceof CollabError && (code === undefined || err.code === code);
