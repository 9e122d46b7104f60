/**
 * MediaStore (@collab/core's media port) over S3, content-addressed:
 *
 *   {prefix}media/blobs/{id}                       the bytes (id = their SHA-256), Content-Type set
 *   {prefix}media/links/{id}/{sha256 of docId}     empty; "id was uploaded to that document"
 *
 * Links are grouped by id so that deleting a blob lists one prefix, and `get` for (docId, id) is one HEAD (the
 * link) and one GET (the blob). The document id is hashed in the key: the server only asks "is (docId, id)
 * linked", and a hash keeps odd or long ids out of keys. The blob is written before its link, so a link never
 * names missing bytes; a crash between the two leaves a blob with no link, which `collab media gc` collects.
 * An upload of bytes already stored rewrites the same content (PUT is atomic per key in S3): idempotent.
 */
import { createHash } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { MediaStore, MediaStoreEntry } from '@collab/core';
import { sniffMediaType } from '@collab/protocol';
import { createS3Client, type S3EndpointConfig } from './client.js';
import { isNotFound } from './errors.js';
import { s3Runner } from './runner.js';

export type S3MediaStoreOptions = ({ client: S3Client } | ({ client?: undefined } & S3EndpointConfig)) & {
  bucket: string;
  /** Prepended to every key, as the snapshot store's (the two share a bucket and a prefix without overlap). */
  prefix?: string;
};

const docKey = (docId: string): string => createHash('sha256').update(docId, 'utf8').digest('hex');

export function createS3MediaStore(options: S3MediaStoreOptions): MediaStore {
  const ownsClient = options.client === undefined;
  const client = options.client ?? createS3Client(options as S3EndpointConfig);
  const Bucket = options.bucket;
  const root = `${options.prefix ?? ''}media/`;
  const blobKey = (id: string): string => `${root}blobs/${id}`;
  const linkPrefix = (id: string): string => `${root}links/${id}/`;
  let closed = false;

  const s3 = s3Runner(client, 'media store', options.client === undefined ? options.endpoint : undefined, () => closed);

  /** Every key under `prefix` with its LastModified, all pages. */
  async function listKeys(prefix: string): Promise<Array<{ key: string; modified: number }>> {
    const keys: Array<{ key: string; modified: number }> = [];
    let token: string | undefined;
    do {
      const page = await s3(`ListObjectsV2 ${prefix}`, () =>
        client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: token })),
      );
      for (const { Key, LastModified } of page.Contents ?? []) {
        if (Key !== undefined) keys.push({ key: Key, modified: LastModified?.getTime() ?? 0 });
      }
      token = page.NextContinuationToken;
    } while (token !== undefined);
    return keys;
  }

  return {
    async put(docId, id, bytes) {
      const type = sniffMediaType(bytes);
      await s3(`PutObject ${blobKey(id)}`, () =>
        client.send(
          new PutObjectCommand({
            Bucket,
            Key: blobKey(id),
            Body: bytes,
            ...(type === undefined ? {} : { ContentType: type }),
          }),
        ),
      );
      await s3(`PutObject link ${id}`, () =>
        client.send(
          new PutObjectCommand({ Bucket, Key: `${linkPrefix(id)}${docKey(docId)}`, Body: new Uint8Array(0) }),
        ),
      );
    },

    async get(docId, id) {
      try {
        await client.send(new HeadObjectCommand({ Bucket, Key: `${linkPrefix(id)}${docKey(docId)}` }));
        const object = await client.send(new GetObjectCommand({ Bucket, Key: blobKey(id) }));
        return object.Body === undefined ? new Uint8Array(0) : await object.Body.transformToByteArray();
      } catch (err) {
        if (isNotFound(err)) return undefined;
        return s3(`GetObject ${blobKey(id)}`, () => Promise.reject(err));
      }
    },

    async list() {
      const links = new Map<string, { count: number; newest: number }>();
      for (const { key, modified } of await listKeys(`${root}links/`)) {
        const id = key.slice(`${root}links/`.length).split('/')[0] ?? '';
        const seen = links.get(id) ?? { count: 0, newest: 0 };
        links.set(id, { count: seen.count + 1, newest: Math.max(seen.newest, modified) });
      }
      const entries: MediaStoreEntry[] = [];
      for (const { key, modified } of await listKeys(`${root}blobs/`)) {
        const id = key.slice(`${root}blobs/`.length);
        const link = links.get(id);
        entries.push({ id, links: link?.count ?? 0, lastUploadAt: Math.max(modified, link?.newest ?? 0) });
      }
      return entries;
    },

    async delete(id) {
      // The links first: a blob without links is invisible, a link without its blob would be a broken promise.
      for (const { key } of await listKeys(linkPrefix(id))) {
        await s3(`DeleteObject ${key}`, () => client.send(new DeleteObjectCommand({ Bucket, Key: key })));
      }
      await s3(`DeleteObject ${blobKey(id)}`, () => client.send(new DeleteObjectCommand({ Bucket, Key: blobKey(id) })));
    },

    close: async () => {
      if (closed) return;
      closed = true;
      if (ownsClient) client.destroy();
    },
  };
}
