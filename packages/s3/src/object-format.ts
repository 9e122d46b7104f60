/**
 * What a snapshot object holds. The body is the document's text, UTF-8, nothing else, so the object can be served
 * as is (a CDN, a range read, `aws s3 cp` for a support engineer) and the LIST `Size` is the text's byte length.
 * Everything else travels as user metadata (x-amz-meta-*), written atomically with the body:
 *
 *   collab-format      "1"               bumped if this layout ever changes; readers reject formats they don't know
 *   collab-doc-id      encoded docId     S3 metadata is ASCII only, so the same encoding as the key
 *   collab-version     decimal
 *   collab-created-at  ms since epoch
 *   collab-bytes       UTF-8 byte length of the text
 *   collab-sha256      hex SHA-256 of the body; checked on every read, a mismatch is ERR_CORRUPT
 */
import { createHash } from 'node:crypto';
import { CollabError, type SnapshotData } from '@collab/core';
import { encodeDocId } from './keys.js';

export const FORMAT_VERSION = '1';

export interface EncodedSnapshot {
  body: Buffer;
  metadata: Record<string, string>;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export function encodeSnapshot(snapshot: SnapshotData): EncodedSnapshot {
  const body = Buffer.from(snapshot.text, 'utf8');
  return {
    body,
    metadata: {
      'collab-format': FORMAT_VERSION,
      'collab-doc-id': encodeDocId(snapshot.docId),
      'collab-version': String(snapshot.version),
      'collab-created-at': String(snapshot.createdAt),
      'collab-bytes': String(body.byteLength),
      'collab-sha256': sha256(body),
    },
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decode and verify an object read back for (docId, version). `where` names the object in error messages.
 * Throws ERR_CORRUPT when anything disagrees: unknown format, metadata for another document or version, wrong
 * length, wrong checksum.
 */
export function decodeSnapshot(
  docId: string,
  version: number,
  body: Uint8Array,
  metadata: Record<string, string> | undefined,
  where: string,
): SnapshotData {
  const corrupt = (why: string): CollabError =>
    new CollabError('ERR_CORRUPT', `snapshot ${where} is corrupt: ${why}`, { retriable: false });
  const meta = metadata ?? {};
  if (meta['collab-format'] !== FORMAT_VERSION) {
    throw corrupt(`unknown format ${JSON.stringify(meta['collab-format'] ?? null)}`);
  }
  if (meta['collab-doc-id'] !== encodeDocId(docId) || meta['collab-version'] !== String(version)) {
    throw corrupt(`metadata names ${meta['collab-doc-id']}@${meta['collab-version']}`);
  }
  if (meta['collab-bytes'] !== String(body.byteLength)) {
    throw corrupt(`expected ${meta['collab-bytes']} bytes, read ${body.byteLength}`);
  }
  if (meta['collab-sha256'] !== sha256(body)) throw corrupt('SHA-256 checksum mismatch');
  const createdAt = Number(meta['collab-created-at']);
  if (!Number.isFinite(createdAt)) throw corrupt('bad collab-created-at');
  let text: string;
  try {
    text = utf8.decode(body);
  } catch (cause) {
    throw new CollabError('ERR_CORRUPT', `snapshot ${where} is corrupt: not UTF-8`, { retriable: false, cause });
  }
  return { docId, version, text, createdAt };
}

/** createdAt from the metadata of a HEAD, for `list`. */
export function createdAtOf(metadata: Record<string, string> | undefined, where: string): number {
  const createdAt = Number(metadata?.['collab-created-at']);
  if (!Number.isFinite(createdAt)) {
    throw new CollabError('ERR_CORRUPT', `snapshot ${where} is corrupt: bad collab-created-at`, { retriable: false });
  }
  return createdAt;
}
