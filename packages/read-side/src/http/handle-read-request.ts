/**
 * The read API as one pure async function: GET /v1/docs/:docId (current, ?version=V, ?at=T),
 * GET /v1/docs/:docId/history (?limit, ?cursor) and GET /v1/docs/:docId/comments (?version=V: the threads then). Order of checks: route and method, then authentication and
 * authorization (so nothing about a document leaks to someone who may not read it), then parameters, then the
 * read. Every failure is a JSON {code, message}.
 */
import { isCollabError } from '@collab/core';
import { ReadsBusy } from '../limited-reader.js';
import { BadRequest, parseCursor, parseLimit, parseQuery, parseTime, parseVersion } from './params.js';
import { decodeDocId, failure, invalidDocId, json, refusalOf, retryAfter } from './request-parts.js';
import type { CommentsReader, DocumentBody, HistoryBody, ReadHandlerDeps, ReadRequest, ReadResponse } from './types.js';

const ROUTE = /^\/v1\/docs\/([^/]+)(\/history|\/comments)?\/?$/;
export async function handleReadRequest(request: ReadRequest, deps: ReadHandlerDeps): Promise<ReadResponse> {
  const match = ROUTE.exec(request.path);
  if (match === null) return failure(404, 'ERR_NOT_FOUND', `no such route: ${request.path}`);
  if (request.method !== 'GET') {
    return failure(405, 'ERR_METHOD_NOT_ALLOWED', `${request.method} is not allowed here; use GET`, { allow: 'GET' });
  }
  const docId = decodeDocId(match[1]!);
  if (docId === undefined) return invalidDocId();
  const isHistory = match[2] === '/history';
  const isComments = match[2] === '/comments';
  if (isComments && deps.comments === undefined) {
    return failure(404, 'ERR_NOT_FOUND', 'this server keeps no comment threads');
  }

  try {
    const refusal = await refusalOf(request.authorization, (token) => deps.authorize(token, docId, 'read'));
    if (refusal !== undefined) return refusal;
  } catch (err) {
    return internalError(err, request, deps);
  }

  try {
    if (isComments) return await comments(docId, request, deps.comments!);
    return isHistory ? await history(docId, request, deps) : await document(docId, request, deps);
  } catch (err) {
    if (err instanceof BadRequest) return failure(400, err.code, err.message);
    if (isCollabError(err, 'ERR_NOT_FOUND')) return failure(404, 'ERR_NOT_FOUND', err.message);
    // The store refused an argument we passed through (a cursor that decodes to nonsense).
    if (isCollabError(err, 'ERR_INVALID_ARGUMENT')) return failure(400, 'ERR_INVALID_CURSOR', err.message);
    // Too many reads in progress on this instance: shed the load, say when to come back.
    if (err instanceof ReadsBusy) return failure(503, 'ERR_UNAVAILABLE', err.message, retryAfter(err));
    if (isCollabError(err) && err.retriable) {
      deps.onError?.(err, request);
      // A gap the projection has not filled yet, or a store that is down: worth retrying shortly.
      const code = err.code === 'ERR_CORRUPT' ? 'ERR_HISTORY_INCOMPLETE' : 'ERR_UNAVAILABLE';
      return failure(503, code, 'the document cannot be read right now; retry shortly', { 'retry-after': '1' });
    }
    return internalError(err, request, deps);
  }
}

async function document(docId: string, request: ReadRequest, { reader }: ReadHandlerDeps): Promise<ReadResponse> {
  const params = parseQuery(request.query, ['version', 'at']);
  const version = params.get('version');
  const at = params.get('at');
  if (version !== undefined && at !== undefined) {
    throw new BadRequest('ERR_INVALID_PARAMETER', 'give either version or at, not both');
  }
  let body: DocumentBody;
  if (version !== undefined) {
    body = await reader.atVersion(docId, parseVersion(version));
    // A version's text never changes: clients and caches may keep it (private: it needed authorization).
    return json(200, body, { 'cache-control': 'private, max-age=31536000, immutable' });
  }
  if (at !== undefined) {
    const result = await reader.atTime(docId, parseTime(at));
    body = { docId, version: result.version, text: result.text, at: new Date(result.at).toISOString() };
  } else {
    body = await reader.current(docId);
  }
  return json(200, body, { 'cache-control': 'no-store' });
}

async function comments(docId: string, request: ReadRequest, read: CommentsReader): Promise<ReadResponse> {
  const params = parseQuery(request.query, ['version']);
  const version = params.get('version');
  const body = await read(docId, version === undefined ? undefined : parseVersion(version));
  // Not cacheable even at a version: events decided at the head's version join that version's threads later.
  return json(200, body, { 'cache-control': 'no-store' });
}

async function history(docId: string, request: ReadRequest, { reader }: ReadHandlerDeps): Promise<ReadResponse> {
  const params = parseQuery(request.query, ['limit', 'cursor']);
  const limit = parseLimit(params.get('limit'));
  const cursor = parseCursor(params.get('cursor'));
  const page = await reader.history(docId, cursor === undefined ? { limit } : { limit, cursor });
  const body: HistoryBody = {
    items: page.items.map(({ version, userId, clientId, timestamp }) => ({ version, userId, clientId, timestamp })),
    ...(page.next === undefined ? {} : { next: page.next }),
  };
  return json(200, body, { 'cache-control': 'no-store' });
}

function internalError(err: unknown, request: ReadRequest, deps: ReadHandlerDeps): ReadResponse {
  deps.onError?.(err, request);
  return failure(500, 'ERR_INTERNAL', 'internal error');
}
