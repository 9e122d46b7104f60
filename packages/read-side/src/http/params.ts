/**
 * Validation of the read API's query parameters. Each parser either returns a value or throws a BadRequest
 * naming the parameter and the rule it broke, so a client always learns exactly what to fix.
 */

export class BadRequest extends Error {
  constructor(
    readonly code:
      'ERR_INVALID_PARAMETER' | 'ERR_INVALID_VERSION' | 'ERR_INVALID_TIME' | 'ERR_INVALID_LIMIT' | 'ERR_INVALID_CURSOR',
    message: string,
  ) {
    super(message);
  }
}

export const MAX_HISTORY_LIMIT = 1000;
export const DEFAULT_HISTORY_LIMIT = 50;
const MAX_CURSOR_LENGTH = 256;

/** Parse a raw query string (or an already split one) and refuse repeated or unknown parameters. */
export function parseQuery(
  query: string | Readonly<Record<string, string | undefined>> | undefined,
  allowed: readonly string[],
): Map<string, string> {
  const pairs: [string, string][] =
    query === undefined
      ? []
      : typeof query === 'string'
        ? [...new URLSearchParams(query.startsWith('?') ? query.slice(1) : query)]
        : Object.entries(query).flatMap(([k, v]) => (v === undefined ? [] : [[k, v] as [string, string]]));
  const params = new Map<string, string>();
  for (const [key, value] of pairs) {
    if (!allowed.includes(key)) {
      const expected = allowed.length === 0 ? 'none' : allowed.join(', ');
      throw new BadRequest('ERR_INVALID_PARAMETER', `unknown query parameter "${key}" (allowed: ${expected})`);
    }
    if (params.has(key)) throw new BadRequest('ERR_INVALID_PARAMETER', `query parameter "${key}" is repeated`);
    params.set(key, value);
  }
  return params;
}

/** A version: decimal digits only (no sign, exponent or fraction), a safe integer. */
export function parseVersion(raw: string): number {
  const value = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value)) {
    throw new BadRequest('ERR_INVALID_VERSION', `version must be a non-negative integer, got ${quote(raw)}`);
  }
  return value;
}

/**
 * A point in time: milliseconds since the epoch (digits), or an ISO-8601 date-time *with* a zone ("Z" or
 * "+02:00"). A zone-less date-time is refused: Date.parse would read it in the server's local zone.
 */
export function parseTime(raw: string): number {
  let value = NaN;
  if (/^\d{1,15}$/.test(raw)) value = Number(raw);
  else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i.test(raw))
    value = Date.parse(raw);
  if (!Number.isFinite(value) || value < 0 || value > 8.64e15) {
    throw new BadRequest(
      'ERR_INVALID_TIME',
      `at must be milliseconds since the epoch or an ISO-8601 date-time with a zone (e.g. 2024-05-01T12:00:00Z), got ${quote(raw)}`,
    );
  }
  return value;
}

export function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_HISTORY_LIMIT;
  const value = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= 1 && value <= MAX_HISTORY_LIMIT)) {
    throw new BadRequest(
      'ERR_INVALID_LIMIT',
      `limit must be an integer from 1 to ${MAX_HISTORY_LIMIT}, got ${quote(raw)}`,
    );
  }
  return value;
}

/** Cursors are opaque base64url tokens handed out by a previous page; the store checks their content. */
export function parseCursor(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (raw.length === 0 || raw.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(raw)) {
    throw new BadRequest('ERR_INVALID_CURSOR', `cursor is not one this API returned: ${quote(raw)}`);
  }
  return raw;
}

const quote = (raw: string): string => JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
