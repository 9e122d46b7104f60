import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { isNotFound, toCollabError } from './errors.js';

/**
 * Create the bucket unless it exists. Idempotent and safe to run from several provisioning jobs at once (the
 * loser of a creation race sees BucketAlreadyOwnedByYou, which counts as success). For provisioning and tests:
 * the snapshot store itself never creates buckets, so a typo in its configuration fails loudly instead.
 */
export async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch (err) {
    if (!isNotFound(err)) throw toCollabError(err, `HeadBucket ${bucket}`, await endpointOf(client));
  }
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    if ((err as { name?: string }).name === 'BucketAlreadyOwnedByYou') return;
    throw toCollabError(err, `CreateBucket ${bucket}`, await endpointOf(client));
  }
}

/** A printable endpoint of a client, for error messages. */
export async function endpointOf(client: S3Client): Promise<string> {
  try {
    const e = await client.config.endpoint?.();
    if (e !== undefined) return `${e.protocol}//${e.hostname}${e.port === undefined ? '' : `:${e.port}`}`;
    return `region ${await client.config.region()}`;
  } catch {
    return 'unknown endpoint';
  }
}
