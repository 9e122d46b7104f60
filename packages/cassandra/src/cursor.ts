/**
 * The history cursor: opaque to callers, here simply "continue below version V", versioned and base64url
 * encoded so its format can change without old cursors being misread. Pages are by version, which is dense and
 * unique per document, so no entry can be skipped or repeated between pages.
 */
import { CollabError } from '@collab/core';

const PREFIX = 'h1:';

export const encodeHistoryCursor = (belowVersion: number): string =>
  Buffer.from(`${PREFIX}${belowVersion}`, 'utf8').toString('base64url');

export function decodeHistoryCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const below = text.startsWith(PREFIX) ? Number(text.slice(PREFIX.length)) : NaN;
  if (!Number.isSafeInteger(below) || below < 1) {
    throw new CollabError('ERR_INVALID_ARGUMENT', `Not a history cursor: ${JSON.stringify(cursor.slice(0, 40))}`);
  }
  return below;
}
