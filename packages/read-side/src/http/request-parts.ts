/**
 * What every HTTP route on documents shares (the read API here, the media routes of the command-service): JSON
 * bodies and `{code, message}` failures, the document id in the path, and the bearer token's check with the
 * status each refusal gets.
 */
import type { ReadResponse } from './types.js';

export const MAX_DOC_ID_LENGTH = 512;

const AUTH_STATUS: Readonly<Record<string, number>> = {
  ERR_UNAUTHENTICATED: 401,
  ERR_TOKEN_INVALID: 401,
  ERR_TOKEN_EXPIRED: 401,
  ERR_FORBIDDEN: 403,
  // The principal's request rate (checked with its identity, so in authorize).
  ERR_RATE_LIMITED: 429,
};

/** Retry-After in whole seconds (at least 1) from an error's retryAfterMs, when it has one. */
export function retryAfter(err: unknown): Record<string, string> {
  const ms = (err as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof ms === 'number' && ms > 0 ? { 'retry-after': String(Math.ceil(ms / 1000)) } : {};
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): ReadResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

/** A failure's JSON `{code, message}`, never cached. */
export const failure = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
  json(status, { code, message }, { 'cache-control': 'no-store', ...headers });

export const invalidDocId = (): ReadResponse =>
  failure(400, 'ERR_INVALID_DOC_ID', `the document id must be 1-${MAX_DOC_ID_LENGTH} printable characters`);

/** The document id of a path segment (percent-decoded), or undefined when it is not a valid id. */
export function decodeDocId(raw: string): string | undefined {
  let docId: string;
  try {
    docId = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  // eslint-disable-next-line no-control-regex
  if (docId.length === 0 || docId.length > MAX_DOC_ID_LENGTH || /[\u0000-\u001f\u007f]/.test(docId)) return undefined;
  return docId;
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer +([^\s]+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Run `check` on the request's bearer token: undefined when it passes, else the refusal (401 without a token or
 * with a bad one, 403 ERR_FORBIDDEN, 429 with Retry-After). An error without one of those codes is thrown on.
 */
export async function refusalOf(
  authorization: string | undefined,
  check: (token: string) => Promise<unknown>,
): Promise<ReadResponse | undefined> {
  const token = bearerToken(authorization);
  if (token === undefined) {
    return failure(401, 'ERR_UNAUTHENTICATED', 'send "Authorization: Bearer <token>"', {
      'www-authenticate': 'Bearer',
    });
  }
  try {
    await check(token);
    return undefined;
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    const status = typeof code === 'string' ? AUTH_STATUS[code] : undefined;
    if (status === undefined) throw err;
    const message = err instanceof Error ? err.message : String(err);
    const headers = status === 401 ? { 'www-authenticate': 'Bearer' } : status === 429 ? retryAfter(err) : {};
    return failure(status, code as string, message, headers);
  }
}
