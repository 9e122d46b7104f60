/**
 * Writing a file so that, after a crash at any moment, it is either absent (or its old content) or whole: the bytes
 * go to a temporary name, are synced, the temporary file is renamed over the final name, and the folder is synced
 * so the rename itself is on disk.
 */
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * `tmp`: the temporary name (default `${path}.tmp`; give a unique one when writers of one path may race); `mode`:
 * the new file's permissions (default 0666 less the umask).
 */
export async function writeDurably(
  path: string,
  bytes: Uint8Array,
  options: { tmp?: string; mode?: number } = {},
): Promise<void> {
  const tmp = options.tmp ?? `${path}.tmp`;
  const file = await open(tmp, 'w', options.mode ?? 0o666);
  try {
    await file.write(bytes);
    await file.sync();
  } catch (err) {
    await file.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await file.close();
  await rename(tmp, path);
  await syncFolder(dirname(path));
}

/** Make the folder's entries (a rename, a new file, a removal) durable. */
export async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
