/**
 * The shapes of the read API's handlers, independent of any HTTP server library: the server adapter turns its
 * request into a ReadRequest and writes the ReadResponse back (status, headers, JSON body as a string).
 */
import type { DocumentReader } from '../document-reader.js';

export interface ReadRequest {
  method: string;
  /** The path without the query string, still percent-encoded, e.g. "/v1/docs/team%2Fnotes". */
  path: string;
  /** The raw query string ("version=3", with or without "?"), or parameters already split. */
  query?: string | Readonly<Record<string, string | undefined>>;
  /** The Authorization header, e.g. "Bearer eyJ...". */
  authorization?: string;
}

export interface ReadResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Decides whether the bearer of `token` may read `docId`. Throws an error whose `code` is ERR_UNAUTHENTICATED,
 * ERR_TOKEN_INVALID, ERR_TOKEN_EXPIRED (→ 401), ERR_FORBIDDEN (→ 403) or ERR_RATE_LIMITED (→ 429, with a
 * Retry-After from the error's `retryAfterMs`); anything else is a 500.
 */
export type Authorize = (token: string, docId: string, action: 'read') => Promise<{ userId: string }>;

/**
 * The comment threads of a document as they were at `version` (undefined: the latest), anchors in the text at that
 * version (docs/comments.md). ERR_NOT_FOUND for a version the document has not reached.
 */
export type CommentsReader = (docId: string, version: number | undefined) => Promise<CommentsBody>;

export interface CommentsBody {
  docId: string;
  version: number;
  /** As in the protocol's `comments` message (docs/protocol.md): whole threads, deleted ones gone. */
  threads: unknown[];
}

export interface ReadHandlerDeps {
  reader: DocumentReader;
  authorize: Authorize;
  /** GET /v1/docs/:docId/comments (?version=V); absent: that route answers 404 (no comment threads here). */
  comments?: CommentsReader;
  /** Told about failures that are ours (5xx), with the request; the client only sees a generic message. */
  onError?: (err: unknown, request: ReadRequest) => void;
}

export interface DocumentBody {
  docId: string;
  version: number;
  text: string;
  /** Present for ?at= requests: the time asked for, ISO-8601 UTC. */
  at?: string;
}

export interface HistoryBody {
  items: { version: number; userId: string; clientId: string; timestamp: number }[];
  next?: string;
}

export interface ErrorBody {
  code: string;
  message: string;
}
