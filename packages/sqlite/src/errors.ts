/**
 * SQLite failures as CollabErrors. better-sqlite3 throws `SqliteError` with SQLite's extended result code as
 * `code` (SQLITE_BUSY, SQLITE_IOERR_FSYNC, ...): the infrastructure ones become retriable ERR_TIMEOUT /
 * ERR_UNAVAILABLE naming the file, a damaged file becomes ERR_CORRUPT. Anything else (a constraint we did not
 * expect, a SQL mistake) is a programming error and is rethrown untouched: retrying cannot help.
 */
import { CollabError } from '@collab/core';

const codeOf = (err: unknown): string | undefined => {
  const code: unknown = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
};

export function toCollabError(err: unknown, operation: string, endpoint: string): unknown {
  if (err instanceof CollabError) return err;
  const code = codeOf(err);
  if (code === undefined || !code.startsWith('SQLITE_')) return err;
  const where = { cause: err, endpoint };
  // Another connection (another process on the same file) held the write lock for longer than busy_timeout.
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new CollabError('ERR_TIMEOUT', `${operation}: the database stayed locked (${endpoint})`, where);
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new CollabError('ERR_CORRUPT', `${operation}: the database file is damaged (${endpoint})`, {
      ...where,
      retriable: false,
    });
  }
  if (
    code.startsWith('SQLITE_IOERR') ||
    code.startsWith('SQLITE_CANTOPEN') ||
    code === 'SQLITE_FULL' ||
    code.startsWith('SQLITE_READONLY') ||
    code === 'SQLITE_PROTOCOL'
  ) {
    return new CollabError('ERR_UNAVAILABLE', `${operation}: cannot use the database (${endpoint}): ${code}`, where);
  }
  return err;
}

/** Run a synchronous database call, translating what it throws. */
export function guard<T>(operation: string, endpoint: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toCollabError(err, operation, endpoint);
  }
}
