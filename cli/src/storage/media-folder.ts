/**
 * The embedded mode's MediaStore (@collab/core's media port): blobs in the data folder.
 *
 *   {dir}/blobs/{id}                      the bytes, named by their SHA-256
 *   {dir}/links/{id}/{sha256 of docId}    empty; "id was uploaded to that document", its mtime the upload time
 *
 * The document id is hashed for the link's file name: ids may be 256 characters with any character in them, too
 * long or too odd for a file name; the server only ever asks "is (docId, id) linked", which the hash answers.
 * Each file is written under a unique temporary name, synced and renamed (durable-file.ts), the blob before its
 * link, so a crash leaves at worst a blob with no link (invisible to readers, collected by `collab media gc`).
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { MediaStore, MediaStoreEntry } from '@collab/core';
import { isMediaId } from '@collab/protocol';
import { syncFolder, writeDurably } from './durable-file.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './private-files.js';

/** The folder's name under the data folder. */
export const MEDIA_FOLDER = 'media';

const docKey = (docId: string): string => createHash('sha256').update(docId, 'utf8').digest('hex');

const isMissing = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ENOENT';

export function createFolderMediaStore(dir: string): MediaStore {
  const blobs = join(dir, 'blobs');
  const links = join(dir, 'links');
  const blobPath = (id: string): string => join(blobs, checked(id));
  const linkDir = (id: string): string => join(links, checked(id));
  const tmp = (path: string): string => `${path}.${randomUUID()}.tmp`;
  const mkdirs = (path: string) => mkdir(path, { recursive: true, mode: PRIVATE_DIR_MODE });

  return {
    async put(docId, id, bytes) {
      await mkdirs(blobs);
      const blob = blobPath(id);
      await writeDurably(blob, bytes, { tmp: tmp(blob), mode: PRIVATE_FILE_MODE });
      await mkdirs(linkDir(id));
      await syncFolder(links); // the link folder's own entry, before a link inside it counts
      const link = join(linkDir(id), docKey(docId));
      await writeDurably(link, new Uint8Array(0), { tmp: tmp(link), mode: PRIVATE_FILE_MODE });
    },

    async get(docId, id) {
      try {
        await stat(join(linkDir(id), docKey(docId)));
        return new Uint8Array(await readFile(blobPath(id)));
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },

    async list() {
      const ids = await readdir(blobs).catch((err: unknown) => (isMissing(err) ? [] : Promise.reject(err)));
      const entries: MediaStoreEntry[] = [];
      for (const id of ids.filter(isMediaId)) {
        const blobStat = await stat(blobPath(id));
        const names = await readdir(linkDir(id)).catch((err: unknown) => (isMissing(err) ? [] : Promise.reject(err)));
        const linkTimes = await Promise.all(
          names.filter((n) => !n.endsWith('.tmp')).map(async (n) => (await stat(join(linkDir(id), n))).mtimeMs),
        );
        entries.push({ id, links: linkTimes.length, lastUploadAt: Math.max(blobStat.mtimeMs, ...linkTimes) });
      }
      return entries;
    },

    async delete(id) {
      // The links first: a blob without links is invisible, a link without its blob would be a broken promise.
      await rm(linkDir(id), { recursive: true, force: true });
      await rm(blobPath(id), { force: true });
    },

    close: async () => {},
  };
}

/** Ids become file names: only a well-formed id ever reaches the file system. */
function checked(id: string): string {
  if (!isMediaId(id)) throw new Error(`not a media id: ${JSON.stringify(id)}`);
  return id;
}
