/**
 * The read API (GET /v1/docs/:docId, ?version=, ?at=, /history, /comments) mounted beside the WebSocket endpoint, with the
 * same tokens and permissions as the WebSocket. The handling itself lives in @collab/read-side.
 *
 * A read can replay thousands of ops for a request of a few hundred bytes, on the event loop that also serves
 * every WebSocket. So: each principal has a request rate (429 beyond it), at most `concurrentReads` replays run
 * at once with `queuedReads` waiting (503 beyond), and the reader given here must yield between pages of a
 * replay (createDocumentReader does; READ_API_PAGE_SIZE keeps each page short).
 */
import type { CommentsReader, DocumentReader } from '@collab/read-side';
import { concurrencyLimiter, handleReadRequest, limitConcurrency } from '@collab/read-side';
import type { Logger } from 'pino';
import type { TokenVerifier } from '../auth/tokens.js';
import { can } from '../auth/tokens.js';
import { ProtocolError } from '../protocol/errors.js';
import { TokenBuckets } from '@collab/core';
import type { HttpRoute } from '../transport/http-routes.js';

export interface ReadApiLimits {
  /** Requests per second per principal (the token's subject), bursts of twice that. */
  readsPerSecond: number;
  /** Document reads (replays) running at once on this instance. */
  concurrentReads: number;
  /** Reads waiting for a turn; more are refused with 503 and Retry-After. */
  queuedReads: number;
}

export const DEFAULT_READ_API_LIMITS: ReadApiLimits = { readsPerSecond: 10, concurrentReads: 2, queuedReads: 64 };

/** Ops per page of a replay for the read API: one page is what a replay does in one turn of the event loop. */
export const READ_API_PAGE_SIZE = 500;

export function readApiRoutes(
  reader: DocumentReader,
  verifier: TokenVerifier,
  logger: Logger,
  limits: ReadApiLimits = DEFAULT_READ_API_LIMITS,
  now: () => number = Date.now,
  /** The threads at a version (comments-at.ts), when this server keeps comment threads; else /comments is 404. */
  comments?: CommentsReader,
): HttpRoute[] {
  const rates = new TokenBuckets(limits.readsPerSecond, limits.readsPerSecond * 2, now);
  // One budget for every read that replays history: texts and threads.
  const run = concurrencyLimiter({ concurrent: limits.concurrentReads, queued: limits.queuedReads });
  const limited = limitConcurrency(reader, run);
  const limitedComments: CommentsReader | undefined =
    comments === undefined ? undefined : (docId, version) => run(() => comments(docId, version));
  const authorize = async (token: string, docId: string): Promise<{ userId: string }> => {
    const principal = await verifier.verify(token);
    if (!can(principal, 'read', docId)) throw new ProtocolError('ERR_FORBIDDEN', `You may not read document ${docId}.`);
    const wait = rates.take(principal.userId);
    if (wait > 0) {
      throw new ProtocolError('ERR_RATE_LIMITED', `Too many read requests; retry in ${wait} ms.`, {
        retryAfterMs: wait,
      });
    }
    return { userId: principal.userId };
  };
  return [
    {
      method: 'any',
      pattern: '/v1/docs/*',
      handle: (request) =>
        handleReadRequest(
          {
            method: request.method,
            path: request.path,
            query: request.query.toString(),
            ...(request.headers.authorization === undefined ? {} : { authorization: request.headers.authorization }),
          },
          {
            reader: limited,
            ...(limitedComments === undefined ? {} : { comments: limitedComments }),
            authorize,
            onError: (err, req) => logger.error({ err, path: req.path }, 'read API failed'),
          },
        ),
    },
  ];
}
