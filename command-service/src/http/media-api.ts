/**
 * The media routes (docs/protocol.md, "Media"), beside the read API and with the same tokens:
 *
 *   POST /v1/docs/:docId/media      body = the image, Content-Type = its type → 201 {"id": sha256 hex}
 *   GET  /v1/docs/:docId/media/:id  → the image
 *
 * Uploading needs `write` on the document: an upload exists to be referenced from the text, which only a writer
 * can insert (a `comment`-only token cannot put a reference anywhere). Fetching needs `read`, and the blob must have
 * been uploaded to this document: ids are hashes anyone can compute from a public image, so knowing one is not a
 * grant (MediaStore's links).
 *
 * Order of checks: route and method, document id, the token, the permission, then the input (id, type, bytes),
 * so nothing about a document's media leaks to someone who may not read it. An upload's checks up to its declared
 * type run before its body is read (the route's `admit`): a refused one costs no memory. A body above the cap is
 * answered 413 by the transport as it arrives (bodyLimit); every refusal stores nothing.
 */
import { createHash } from 'node:crypto';
import type { MediaStore } from '@collab/core';
import { isMediaId, isMediaType, MEDIA_TYPES, sniffMediaType } from '@collab/protocol';
import { decodeDocId, failure, invalidDocId, json, refusalOf } from '@collab/read-side';
import type { Logger } from 'pino';
import type { Permission, TokenVerifier } from '../auth/tokens.js';
import { can } from '../auth/tokens.js';
import { ProtocolError } from '../protocol/errors.js';
import type { HttpRequest, HttpResponse, HttpRoute } from '../transport/http-routes.js';
import { INTERNAL_ERROR } from '../transport/http-routes.js';

/** The default upload cap: 10 MiB. */
export const DEFAULT_MEDIA_MAX_BYTES = 10 * 1024 * 1024;

/** A year, the longest lifetime caches honour: an id names one content forever. */
const IMMUTABLE = 'private, max-age=31536000, immutable';

export interface MediaApiOptions {
  /** The largest upload, in bytes. */
  maxBytes: number;
}

const UPLOAD = /^\/v1\/docs\/([^/]+)\/media$/;
const DOWNLOAD = /^\/v1\/docs\/([^/]+)\/media\/([^/]+)$/;

export function mediaApiRoutes(
  store: MediaStore,
  verifier: TokenVerifier,
  logger: Logger,
  options: MediaApiOptions,
): HttpRoute[] {
  const authorize = (authorization: string | undefined, docId: string, permission: Permission) =>
    refusalOf(authorization, async (token) => {
      const principal = await verifier.verify(token);
      if (!can(principal, permission, docId)) {
        throw new ProtocolError('ERR_FORBIDDEN', `You may not ${permission} document ${docId}.`);
      }
    });
  const guarded =
    (handle: (request: HttpRequest) => Promise<HttpResponse>) =>
    async (request: HttpRequest): Promise<HttpResponse> => {
      try {
        return await handle(request);
      } catch (err) {
        logger.error({ err, path: request.path }, 'media request failed');
        return (err as { retriable?: unknown }).retriable === true
          ? failure(503, 'ERR_UNAVAILABLE', 'media storage is unavailable; retry shortly', { 'retry-after': '1' })
          : INTERNAL_ERROR;
      }
    };

  /** What an upload's request line and headers decide: the document, or the refusal (before any byte is kept). */
  const admitUpload = async (
    request: Omit<HttpRequest, 'body'>,
  ): Promise<{ docId: string; declared: string } | { refusal: HttpResponse }> => {
    const match = UPLOAD.exec(request.path);
    if (match === null) return { refusal: failure(404, 'ERR_NOT_FOUND', `no such route: ${request.path}`) };
    if (request.method !== 'POST') return { refusal: notAllowed(request.method, 'POST') };
    const docId = decodeDocId(match[1]!);
    if (docId === undefined) return { refusal: invalidDocId() };
    const refusal = await authorize(request.headers.authorization, docId, 'write');
    if (refusal !== undefined) return { refusal };
    const declared = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!isMediaType(declared)) {
      return {
        refusal: failure(
          415,
          'ERR_MEDIA_TYPE',
          `Content-Type ${JSON.stringify(declared)} is not accepted; send one of ${MEDIA_TYPES.join(', ')}`,
        ),
      };
    }
    return { docId, declared };
  };

  const upload = async (request: HttpRequest): Promise<HttpResponse> => {
    const admitted = await admitUpload(request);
    if ('refusal' in admitted) return admitted.refusal;
    const { docId, declared } = admitted;
    if (request.body.length === 0) return failure(400, 'ERR_MEDIA_EMPTY', 'the request body (the image) is empty');
    const actual = sniffMediaType(request.body);
    if (actual !== declared) {
      return failure(
        415,
        'ERR_MEDIA_CONTENT',
        `the bytes are not ${declared}${actual === undefined ? '' : ` (they look like ${actual})`}`,
      );
    }
    const id = createHash('sha256').update(request.body).digest('hex');
    await store.put(docId, id, request.body);
    return json(201, { id }, { 'cache-control': 'no-store' });
  };

  const download = async (request: HttpRequest): Promise<HttpResponse> => {
    const match = DOWNLOAD.exec(request.path);
    if (match === null) return failure(404, 'ERR_NOT_FOUND', `no such route: ${request.path}`);
    if (request.method !== 'GET' && request.method !== 'HEAD') return notAllowed(request.method, 'GET');
    const docId = decodeDocId(match[1]!);
    if (docId === undefined) return invalidDocId();
    const refusal = await authorize(request.headers.authorization, docId, 'read');
    if (refusal !== undefined) return refusal;
    const id = match[2]!;
    if (!isMediaId(id)) return failure(400, 'ERR_INVALID_MEDIA_ID', 'a media id is 64 lower-case hex digits');
    const bytes = await store.get(docId, id);
    if (bytes === undefined) return failure(404, 'ERR_NOT_FOUND', `document ${docId} has no media ${id}`);
    const etag = `"${id}"`;
    const cached = { etag, 'cache-control': IMMUTABLE };
    if ((request.headers['if-none-match'] ?? '').split(/\s*,\s*/).includes(etag)) {
      return { status: 304, headers: cached, body: '' };
    }
    return {
      status: 200,
      headers: {
        // Stored bytes passed the type check, so their magic numbers name their type.
        'content-type': sniffMediaType(bytes) ?? 'application/octet-stream',
        'x-content-type-options': 'nosniff',
        ...cached,
      },
      body: request.method === 'HEAD' ? '' : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    };
  };

  return [
    {
      method: 'any',
      pattern: '/v1/docs/:docId/media',
      handle: guarded(upload),
      // Who may upload, and what type, is known from the headers: a refused upload is answered before its body.
      admit: async (request) => {
        const admitted = await admitUpload(request);
        return 'refusal' in admitted ? admitted.refusal : undefined;
      },
      bodyLimit: {
        maxBytes: options.maxBytes,
        tooLarge: failure(413, 'ERR_MEDIA_TOO_LARGE', `an upload may be at most ${options.maxBytes} bytes`),
      },
    },
    { method: 'any', pattern: '/v1/docs/:docId/media/:id', handle: guarded(download) },
  ];
}

const notAllowed = (method: string, allow: string): HttpResponse =>
  failure(405, 'ERR_METHOD_NOT_ALLOWED', `${method} is not allowed here; use ${allow}`, { allow });
