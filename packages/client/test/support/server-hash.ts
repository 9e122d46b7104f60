import { createHash } from 'node:crypto';
import { stateHashFromDigest } from '@collab/protocol';

/**
 * The state hash as the real server computes it (node:crypto, cut as @collab/protocol defines): the SDK's tests
 * give it to the simulated server so that the SDK's own SHA-256 is checked against an independent one.
 */
export const serverHash = (text: string): string =>
  stateHashFromDigest(createHash('sha256').update(text, 'utf8').digest('hex'));
