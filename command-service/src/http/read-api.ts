/**
 * The read API (GET /v1/docs/:docId, ?version=, ?at=, /history) mounted beside the WebSocket endpoint, with the
 * same tokens and permissions as the WebSocket. The handling itself lives in @collab/read-side.
 */
import type { DocumentReader } from '@collab/read-side';
import { handleReadRequest } from '@collab/read-side';
import type { Logger } from 'pino';
import type { TokenVerifier } from '../auth/tokens.js';
import { can } from '../auth/tokens.js';
import { ProtocolError } from '../protocol/errors.js';
import type { HttpRoute } from '../transport/http-routes.js';

export function readApiRoutes(reader: DocumentReader, verifier: TokenVerifier, logger: Logger): HttpRoute[] {
  const authorize = async (token: string, docId: string): Promise<{ userId: string }> => {
    const principal = await verifier.verify(token);
    if (!can(principal, 'read', docId)) throw new ProtocolError('ERR_FORBIDDEN', `You may not read document ${docId}.`);
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
            reader,
            authorize,
            onError: (err, req) => logger.error({ err, path: req.path }, 'read API failed'),
          },
        ),
    },
  ];
}
