/** What the media garbage-collection tests of both modes share: op records, test images, and a history. */
import { createHash } from 'node:crypto';
import { imageBytes } from '@collab/contracts';
import type { OpCommitted } from '@collab/core';
import type { TextOp } from '@collab/ot-text';

export const sha = (s: string | Uint8Array): string => createHash('sha256').update(s).digest('hex');

export function opRecord(docId: string, version: number, op: TextOp): OpCommitted {
  return { docId, version, op, baseVersion: version - 1, clientId: 'c', seq: version, userId: 'u', timestamp: 1 };
}

export function testBlob(type: Parameters<typeof imageBytes>[0]): { bytes: Uint8Array; id: string } {
  const bytes = imageBytes(type);
  return { bytes, id: sha(bytes) };
}

/**
 * A history in which `typed`'s reference is typed in two pieces (and stays), and `removed`'s is inserted and later
 * deleted (an earlier version still holds it): both must be kept.
 */
export function referencingOps(typed: string, removed: string): TextOp[] {
  const typedRef = `![t](media:${typed})`;
  const removedRef = `![r](media:${removed})`;
  return [
    [typedRef.slice(0, 30)],
    [30, typedRef.slice(30)],
    [typedRef.length, removedRef],
    [typedRef.length, { d: removedRef.length }],
  ];
}
