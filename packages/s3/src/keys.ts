/**
 * The object key layout. One object per snapshot:
 *
 *   {prefix}docs/{encoded docId}/snapshots/{16-digit (MAX_SAFE_INTEGER - version)}-v{version}
 *
 * Why the inverted, zero-padded version: ListObjectsV2 returns keys in ascending UTF-8 order, and a prefix listing
 * cannot run backwards. With the version inverted, the *newest* snapshot of a document is its first key, so
 * `latest(docId)` is one LIST with MaxKeys=1, and `latest(docId, maxVersion)` is the same LIST with
 * `StartAfter = key(docId, maxVersion + 1)`: every key after that one has a smaller version. Both cost one request
 * however many snapshots the document has. The fixed width makes string order equal number order; the `-v{version}`
 * tail only makes keys readable to an operator (it sorts after the fixed-width part, so it never changes order).
 *
 * The docId is percent-encoded with everything but [A-Za-z0-9_-] escaped: a '/' in an id cannot fake a deeper
 * folder, ids that are prefixes of each other stay apart (the encoded id is followed by '/'), and '.'/'..' cannot
 * be read as path segments by filesystem-backed S3 servers.
 *
 * Beside the snapshots, one pointer object per document ({prefix}docs/{encoded docId}/latest, see
 * latestPointerKey) names the newest version put, so that the common `latest(docId)` needs no LIST at all.
 */
import { CollabError } from '@collab/core';

const WIDTH = 16; // digits of Number.MAX_SAFE_INTEGER
const MAX = Number.MAX_SAFE_INTEGER;

export function encodeDocId(docId: string): string {
  if (docId.length === 0) throw new CollabError('ERR_INVALID_ARGUMENT', 'docId must not be empty');
  return encodeURIComponent(docId).replace(
    /[!'()*.~]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

export function checkVersion(version: number): void {
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new CollabError('ERR_INVALID_ARGUMENT', `version must be a non-negative safe integer, got ${version}`);
  }
}

/** Everything of one document, ending in '/'. */
export const docPrefix = (prefix: string, docId: string): string => `${prefix}docs/${encodeDocId(docId)}/snapshots/`;

/**
 * The document's "latest" pointer: a small object naming the newest snapshot version put so far, so that
 * `latest(docId)` is two GETs instead of a LIST (whose cost on some servers, S3Proxy's filesystem backend among
 * them, grows with the number of snapshots under the prefix). Outside `docPrefix`, so listings never see it.
 */
export const latestPointerKey = (prefix: string, docId: string): string => `${prefix}docs/${encodeDocId(docId)}/latest`;

export function snapshotKey(prefix: string, docId: string, version: number): string {
  checkVersion(version);
  return `${docPrefix(prefix, docId)}${String(MAX - version).padStart(WIDTH, '0')}-v${version}`;
}

/** The version a key under `docPrefix` names, or undefined for a key this layout did not write. */
export function versionOfKey(keyPrefix: string, key: string): number | undefined {
  if (!key.startsWith(keyPrefix)) return undefined;
  const match = /^(\d{16})-v(\d+)$/.exec(key.slice(keyPrefix.length));
  if (match === null) return undefined;
  const version = Number(match[2]);
  return Number.isSafeInteger(version) && MAX - version === Number(match[1]) ? version : undefined;
}
