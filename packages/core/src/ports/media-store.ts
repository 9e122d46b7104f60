/**
 * The media port: uploaded images, stored by content (the id is the SHA-256 of the bytes, see @collab/protocol's
 * media.ts), with a record of which documents each was uploaded to. S3 in the distributed mode, the data folder
 * in the embedded one. A document's text holds only references (`![alt](media:ID)`); the bytes live here.
 *
 * Why the links: ids are hashes anyone can compute from a public image, so knowing an id must not be enough to
 * read it. A blob is served for document D only if it was uploaded to D (by someone who could write D), and the
 * reader may read D.
 */

export interface MediaStoreEntry {
  id: string;
  /** How many documents the blob was uploaded to (links); 0 for a blob whose upload stopped before its link. */
  links: number;
  /** The newest upload of these bytes (to any document), ms since epoch: garbage collection spares recent ones. */
  lastUploadAt: number;
}

export interface MediaStore {
  /**
   * Store `bytes` under `id` (the caller computed the hash and checked the type) and link it to `docId`.
   * Idempotent: the same upload again rewrites the same content and refreshes the upload time. The blob is
   * durable before the link is written, so a link never names bytes that are not there.
   */
  put(docId: string, id: string, bytes: Uint8Array): Promise<void>;
  /** The bytes of `id` if it was uploaded to `docId`; undefined if it is unknown or only linked to other documents. */
  get(docId: string, id: string): Promise<Uint8Array | undefined>;
  /** Every stored blob (for garbage collection), in no particular order. */
  list(): Promise<MediaStoreEntry[]>;
  /** Remove the blob and all its links; nothing if it is not there. */
  delete(id: string): Promise<void>;
  close(): Promise<void>;
}
