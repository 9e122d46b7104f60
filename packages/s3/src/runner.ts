import type { S3Client } from '@aws-sdk/client-s3';
import { CollabError } from '@collab/core';
import { endpointOf } from './bucket.js';
import { toCollabError } from './errors.js';

/**
 * The runner of a store's S3 calls: refuses once the store is closed, and turns what a call throws into a
 * CollabError naming the operation and the endpoint (`endpointLabel` when the store was given one).
 */
export function s3Runner(
  client: S3Client,
  what: string,
  endpointLabel: string | undefined,
  isClosed: () => boolean,
): <T>(operation: string, fn: () => Promise<T>) => Promise<T> {
  return async (operation, fn) => {
    if (isClosed()) throw new CollabError('ERR_CLOSED', `the S3 ${what} is closed`);
    try {
      return await fn();
    } catch (err) {
      throw toCollabError(err, operation, endpointLabel ?? (await endpointOf(client)));
    }
  };
}
