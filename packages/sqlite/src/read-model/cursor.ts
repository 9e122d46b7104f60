/**
 * The history cursor: opaque to callers, here "continue below version V", versioned and base64url encoded so its
 * format can change without old cursors being misread. Versions are dense and unique per document, so no entry
 * can be skipped or repeated between pages. The same format as the Cassandra store's, so a cursor survives a
 * switch of mode.
 */
import { CollabError } from '@collab/core';

const PREFIX = 'h1:';

export const encodeHistoryCursor = (belowVersion: number): string =>
  Buffer.from(`${PREFIX}${belowVersion}`, 'utf8').toString('base64url');

export function decodeHistoryCursor(cursor: string): number {
  const text = typeof cursor === 'string' ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const below = text.startsWith(PREFIX) ? Number(text.slice(PREFIX.length)) : NaN;
  if (!Number.isSafeInteger(below) || below < 1) {
    throw new CollabError(
      'ERR_INVALID_ARGUMENT',
      `Not a history cursor: ${JSON.stringify(String(cursor).slice(0, 40))}`,
    );
  }
  return below;
}
