/**
 * Writing one large snapshot with a multipart upload, conditionally. The create-only guarantee sits on the last
 * step: CompleteMultipartUpload carries `If-None-Match: *`, so the object appears only if the key is free, exactly
 * like a conditional PutObject (AWS S3 since 2024-11; S3Proxy ≥ 4.0, verified by the integration tests). The
 * parts of a losing upload are never visible: the upload is aborted, whatever happened.
 *
 * Parts must be at least 5 MiB except the last (AWS and S3Proxy both enforce it: EntityTooSmall).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CollabError } from '@collab/core';
import { isConditionalConflict, isPreconditionFailed } from './errors.js';
import type { Logger } from '@collab/core';
import type { EncodedSnapshot } from './object-format.js';

export interface MultipartTarget {
  client: S3Client;
  bucket: string;
  key: string;
  partSizeBytes: number;
  /** Parts in flight at once. */
  concurrency: number;
  logger: Logger;
}

export async function putMultipartIfAbsent(
  t: MultipartTarget,
  snapshot: EncodedSnapshot,
): Promise<'created' | 'exists'> {
  const { client, bucket: Bucket, key: Key } = t;
  const created = await client.send(
    new CreateMultipartUploadCommand({
      Bucket,
      Key,
      Metadata: snapshot.metadata,
      ContentType: 'text/plain; charset=utf-8',
    }),
  );
  const UploadId = created.UploadId;
  if (UploadId === undefined) throw new CollabError('ERR_UNAVAILABLE', `no UploadId for ${Key}`);
  let completed = false;
  try {
    const parts = await uploadParts(t, UploadId, snapshot.body);
    try {
      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: parts },
          IfNoneMatch: '*',
        }),
      );
      completed = true;
      return 'created';
    } catch (err) {
      if (isPreconditionFailed(err)) return 'exists';
      if (isConditionalConflict(err)) {
        // Another conditional write to the same key was in flight. Its outcome decides; the caller re-checks.
        throw new CollabError('ERR_CONFLICT', `concurrent conditional write to ${Key}`, {
          cause: err,
          retriable: true,
        });
      }
      throw err;
    }
  } finally {
    if (!completed) {
      // Unfinished uploads keep their parts (and cost storage) until aborted; a lifecycle rule
      // (AbortIncompleteMultipartUpload) is the backstop for a process that dies right here.
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch((cause: unknown) => {
        t.logger.warn({ err: cause, key: Key, uploadId: UploadId }, 'could not abort multipart upload');
      });
    }
  }
}

async function uploadParts(
  t: MultipartTarget,
  UploadId: string,
  body: Buffer,
): Promise<{ ETag: string; PartNumber: number }[]> {
  const count = Math.max(1, Math.ceil(body.byteLength / t.partSizeBytes));
  const parts: { ETag: string; PartNumber: number }[] = new Array(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      const start = index * t.partSizeBytes;
      const result = await t.client.send(
        new UploadPartCommand({
          Bucket: t.bucket,
          Key: t.key,
          UploadId,
          PartNumber: index + 1,
          Body: body.subarray(start, Math.min(start + t.partSizeBytes, body.byteLength)),
        }),
      );
      if (result.ETag === undefined) throw new CollabError('ERR_UNAVAILABLE', `no ETag for part ${index + 1}`);
      parts[index] = { ETag: result.ETag, PartNumber: index + 1 };
    }
  };
  await Promise.all(Array.from({ length: Math.min(t.concurrency, count) }, worker));
  return parts;
}
