/**
 * Media in the distributed mode: a real command-service process (Kafka from the stack; S3_* pointing at the
 * stack's S3 server and a fresh bucket) against the media API contract. What the contract sees stored is read
 * back from the bucket by a second S3 media store on the same prefix.
 */
import { createS3MediaStore } from '@collab/adapter-s3';
import { MEDIA_API_TEST_MAX_BYTES, mediaApiContract } from '@collab/contracts';
import type { MediaStore } from '@collab/core';
import { s3ClientConfig, useStack } from '@collab/infra';
import { signDevToken } from '../src/index.js';
import { freshTopics, Instance } from './support/processes.js';
import { freshReadSide, type TestReadSide } from './support/read-side.js';
import { SECRET } from './support/service.js';

describe('media in the distributed mode (command-service process, S3)', function () {
  let instance: Instance | undefined;
  let store: MediaStore | undefined;
  let readSide: TestReadSide | undefined;

  after(async function () {
    instance?.kill('SIGTERM');
    await instance?.exited;
    await store?.close();
    await readSide?.close();
  });

  mediaApiContract('command-service on Kafka and S3', async () => {
    const { s3 } = await useStack();
    readSide = await freshReadSide();
    const prefix = 'tenant-a/';
    const view = createS3MediaStore({ ...s3ClientConfig(s3), bucket: readSide.bucket, prefix });
    store = view;
    // Only the S3 settings: the media routes need no read models.
    const s3Env = Object.fromEntries(Object.entries(readSide.env).filter(([key]) => key.startsWith('S3_')));
    instance = await Instance.start(await freshTopics(2), 'media', {
      ...s3Env,
      S3_PREFIX: prefix,
      COLLAB_MEDIA_MAX_BYTES: String(MEDIA_API_TEST_MAX_BYTES),
    });
    return {
      url: `http://127.0.0.1:${instance.port}`,
      token: (userId, docs) => signDevToken({ secret: SECRET, userId, docs }),
      storedIds: async () => (await view.list()).map((e) => e.id),
    };
  });
});
