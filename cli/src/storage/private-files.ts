/**
 * The data folder holds every document and the token-signing secret: it is created readable by its owner only
 * (0700), and so is every file we create in it (0600). SQLite gives its -wal and -shm files the mode of the
 * database file, so creating the database file ourselves, before SQLite does, covers those too.
 *
 * An existing folder is never chmod-ed (it may be a home directory, or /tmp given by mistake); one that others can
 * read is reported, so the operator can tighten it.
 */
import { closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Create `dir` (and missing parents) 0700. Returns a warning when it already existed open to group or others. */
export function ensurePrivateDir(dir: string): string | undefined {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    return undefined;
  }
  const mode = statSync(dir).mode & 0o777;
  return (mode & 0o077) === 0
    ? undefined
    : `the data folder ${dir} is open to other users (mode ${mode.toString(8)}): chmod 700 it`;
}

/** Create `path` empty and 0600 unless it exists (then it is left as it is). */
export function ensurePrivateFile(path: string): void {
  try {
    closeSync(openSync(path, 'wx', PRIVATE_FILE_MODE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
