/**
 * A fresh bucket per test run on the integration stack's S3 server, and the code to empty and remove it. Objects
 * and unfinished multipart uploads both have to go before DeleteBucket succeeds.
 */
import { randomUUID } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { useStack } from '@collab/infra';
import { createS3Client, ensureBucket, type S3EndpointConfig } from '../src/index.js';

export interface TestBucket {
  config: S3EndpointConfig & { endpoint: string };
  client: S3Client;
  bucket: string;
  remove(): Promise<void>;
}

export async function createTestBucket(): Promise<TestBucket> {
  const { s3 } = await useStack();
  const config = {
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  };
  const client = createS3Client(config);
  const bucket = `collab-test-${randomUUID().slice(0, 13)}`;
  await ensureBucket(client, bucket);
  return {
    config,
    client,
    bucket,
    async remove() {
      await emptyBucket(client, bucket);
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
      client.destroy();
    },
  };
}

async function emptyBucket(client: S3Client, Bucket: string): Promise<void> {
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket, ContinuationToken: token }));
    for (const { Key } of page.Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket, Key }));
    token = page.NextContinuationToken;
  } while (token !== undefined);
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket }));
  for (const { Key, UploadId } of uploads.Uploads ?? []) {
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
  }
}
