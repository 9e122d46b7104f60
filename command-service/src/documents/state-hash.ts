/**
 * The periodic state hash clients use to detect divergence: SHA-256 of the document text encoded as UTF-8, the
 * first 16 hex digits. Cheap enough every N versions, strong enough that a mismatch means real divergence.
 */
import { createHash } from 'node:crypto';
import type { Doc } from '@collab/ot-text';

export function stateHash(doc: Doc): string {
  return createHash('sha256').update(doc.toString(), 'utf8').digest('hex').slice(0, 16);
}
