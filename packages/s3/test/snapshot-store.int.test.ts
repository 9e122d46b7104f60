import { randomUUID } from 'node:crypto';
import { mediaStoreContract, snapshotStoreContract } from '@collab/contracts';
import { createS3MediaStore, createS3SnapshotStore } from '../src/index.js';
import { createTestBucket, type TestBucket } from './test-bucket.js';

describe('@collab/adapter-s3 against the stack S3 server', function () {
  let testBucket: TestBucket;
  before(async function () {
    testBucket = await createTestBucket();
  });
  after(async function () {
    await testBucket?.remove();
  });

  // A store that builds its own client from endpoint + credentials (the production path).
  snapshotStoreContract('S3 (own client)', () =>
    createS3SnapshotStore({ ...testBucket.config, bucket: testBucket.bucket, prefix: `run-${randomUUID()}/` }),
  );
  // A store on a client the caller owns (close must not destroy it: the bucket cleanup still uses it).
  snapshotStoreContract('S3 (shared client)', () =>
    createS3SnapshotStore({ client: testBucket.client, bucket: testBucket.bucket, prefix: `shared-${randomUUID()}/` }),
  );

  // Media beside the snapshots, as the command-service keeps them (keys under {prefix}media/).
  mediaStoreContract('S3 media', () =>
    createS3MediaStore({ ...testBucket.config, bucket: testBucket.bucket, prefix: `media-${randomUUID()}/` }),
  );
});
