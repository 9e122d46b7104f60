/**
 * `collab media gc --mode distributed` on the real stack: the ops topic on Kafka, the images in an S3 bucket. Images
 * referenced by any version (typed in pieces; inserted then deleted) stay, the unreferenced one goes. (The grace
 * period is tested on a data folder, media-gc.unit: S3 cannot age an object.)
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DeleteBucketCommand } from '@aws-sdk/client-s3';
import { createS3Client, createS3MediaStore, ensureBucket } from '@collab/adapter-s3';
import { createKafkaOpLog, ensureOpsTopic } from '@collab/adapter-kafka';
import { bestEffort, type MediaStore } from '@collab/core';
import { s3ClientConfig, useStack } from '@collab/infra';
import { Kafka, logLevel } from 'kafkajs';
import { cleanEnv, runCli } from './support/cli.js';
import { opRecord, referencingOps, testBlob } from './support/media-gc.js';

describe('collab media gc on Kafka and S3', function () {
  this.timeout(300_000);
  const suffix = randomBytes(4).toString('hex');
  const topic = `test.media-gc.${suffix}`;
  const bucket = `collab-test-media-gc-${suffix}`;
  let store: MediaStore;
  let cleanup: () => Promise<void>;

  before(async () => {
    const stack = await useStack();
    const kafka = new Kafka({ clientId: 'media-gc-test', brokers: stack.kafka.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await ensureOpsTopic(admin, { topic, partitions: 2, replicationFactor: 1 });
    const s3 = s3ClientConfig(stack.s3);
    const client = createS3Client(s3);
    await ensureBucket(client, bucket);
    store = createS3MediaStore({ ...s3, bucket, prefix: 'p/' });
    cleanup = async () => {
      for (const { id } of await store.list()) await store.delete(id);
      await store.close();
      await bestEffort(client.send(new DeleteBucketCommand({ Bucket: bucket })));
      client.destroy();
      await bestEffort(admin.deleteTopics({ topics: [topic] }));
      await admin.disconnect();
    };
  });
  after(async () => {
    await cleanup?.();
  });

  it('keeps every image a version references and deletes the others', async () => {
    const stack = await useStack();
    const [typed, removed, orphan] = [testBlob('image/png'), testBlob('image/gif'), testBlob('image/jpeg')];
    for (const blob of [typed, removed, orphan]) await store.put('doc', blob.id, blob.bytes);
    const log = await createKafkaOpLog({ brokers: stack.kafka.brokers, topic, partitionCount: 2, clientId: 't' });
    try {
      const writer = await log.openWriter(log.partitionFor('doc'));
      const ops = referencingOps(typed.id, removed.id);
      await writer.append(ops.map((op, i) => ({ value: opRecord('doc', i + 1, op) })));
      await writer.close();
    } finally {
      await log.close();
    }
    const env = cleanEnv({
      COLLAB_MODE: 'distributed',
      KAFKA_BROKERS: stack.kafka.brokers.join(','),
      COLLAB_OPS_TOPIC: topic,
      COLLAB_OPS_PARTITIONS: '2',
      S3_ENDPOINT: stack.s3.endpoint,
      S3_REGION: stack.s3.region,
      S3_ACCESS_KEY_ID: stack.s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: stack.s3.secretAccessKey,
      S3_BUCKET: 'collab-snapshots-unused',
      COLLAB_MEDIA_BUCKET: bucket,
      S3_PREFIX: 'p/',
    });
    const dry = await runCli(['media', 'gc', '--dry-run', '--grace-hours', '0'], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`^would delete ${orphan.id}\n3 image\\(s\\): 2 referenced, `));
    assert.equal((await store.list()).length, 3);

    const run = await runCli(['media', 'gc', '--grace-hours', '0'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual((await store.list()).map((e) => e.id).sort(), [typed.id, removed.id].sort());
    assert.equal(await store.get('doc', orphan.id), undefined);
  });
});
