/**
 * Time travel on the real stores: atVersion and atTime return exactly the text obtained by replaying the op
 * history (the ops as appended, folded with the OT type) to that version, for many random versions, with
 * snapshots in S3 and without any. Fresh keyspace and bucket per run.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createCassandraReadModelStore, migrate } from '@collab/adapter-cassandra';
import { createS3Client, createS3SnapshotStore, ensureBucket } from '@collab/adapter-s3';
import { DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { ReadModelStore, SnapshotStore } from '@collab/core';
import { bestEffort } from '@collab/core';
import { useStack } from '@collab/infra';
import cassandra from 'cassandra-driver';
import { createDocumentReader } from '../src/index.js';
import { generateHistory, rng, type GeneratedDoc } from '../src/testing/random-history.js';

describe('read-side time travel (Cassandra + S3)', function () {
  this.timeout(180_000);
  const seed = Number(process.env.READ_SIDE_TEST_SEED ?? Date.now() % 1_000_000);
  const cleanups: (() => Promise<unknown>)[] = [];
  let readModels: ReadModelStore;
  let withSnapshots: SnapshotStore;
  let empty: SnapshotStore;
  let docs: GeneratedDoc[];

  before(async () => {
    const stack = await useStack();
    const client = new cassandra.Client({
      contactPoints: stack.cassandra.contactPoints,
      localDataCenter: stack.cassandra.localDataCenter,
      socketOptions: { connectTimeout: 10_000, readTimeout: 60_000 },
    });
    await client.connect();
    const keyspace = `read_side_${randomBytes(5).toString('hex')}`;
    cleanups.push(async () => {
      await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
      await client.shutdown();
    });
    await migrate(client, { keyspace, replication: { class: 'SimpleStrategy', replicationFactor: 1 } });
    readModels = await createCassandraReadModelStore({ client, keyspace, bucketSize: 256 });
    const s3 = {
      endpoint: stack.s3.endpoint,
      region: stack.s3.region,
      credentials: { accessKeyId: stack.s3.accessKeyId, secretAccessKey: stack.s3.secretAccessKey },
    };
    const s3Client = createS3Client(s3);
    const bucket = `collab-test-rs-${randomBytes(5).toString('hex')}`;
    await ensureBucket(s3Client, bucket);
    cleanups.push(async () => {
      const page = await s3Client.send(new ListObjectsV2Command({ Bucket: bucket }));
      await Promise.all(
        (page.Contents ?? []).map(({ Key }) => s3Client.send(new DeleteObjectCommand({ Bucket: bucket, Key }))),
      );
      await s3Client.send(new DeleteBucketCommand({ Bucket: bucket }));
      s3Client.destroy();
    });
    withSnapshots = createS3SnapshotStore({ ...s3, bucket, prefix: 'with/' });
    empty = createS3SnapshotStore({ ...s3, bucket, prefix: 'none/' });
    cleanups.push(
      () => withSnapshots.close(),
      () => empty.close(),
      () => readModels.close(),
    );

    const random = rng(seed);
    docs = [generateHistory('tt-a', 1200, random, 1_700_000_000_000, 1000), generateHistory('tt-b 😀', 700, random)];
    for (const d of docs) {
      await readModels.writeOps(d.ops);
      for (let v = 150; v < d.ops.length; v += 150) {
        await withSnapshots.put({ docId: d.docId, version: v, text: d.texts[v]!, createdAt: Date.now() });
      }
    }
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await bestEffort(cleanup());
  });

  for (const variant of ['with snapshots', 'without snapshots'] as const) {
    it(`atVersion and atTime equal the replay for many random versions, ${variant} (seed ${seed})`, async () => {
      const reader = createDocumentReader({
        readModels,
        snapshots: variant === 'with snapshots' ? withSnapshots : empty,
        pageSize: 300,
      });
      const random = rng(seed + 1);
      for (const d of docs) {
        const last = d.ops.length;
        const versions = [
          0,
          1,
          150,
          151,
          299,
          last,
          ...Array.from({ length: 40 }, () => Math.floor(random() * (last + 1))),
        ];
        for (const v of versions) {
          assert.equal((await reader.atVersion(d.docId, v)).text, d.texts[v], `${d.docId}@${v} (seed ${seed})`);
        }
        for (let i = 0; i < 15; i++) {
          const v = 1 + Math.floor(random() * last);
          // Any instant in [commit of v, commit of v+1) is "as of version v".
          const at = d.ops[v - 1]!.timestamp + Math.floor(random() * 1000);
          const result = await reader.atTime(d.docId, at);
          assert.deepEqual([result.version, result.text], [v, d.texts[v]], `${d.docId} at ${at} (seed ${seed})`);
        }
        assert.deepEqual(await reader.current(d.docId), { docId: d.docId, version: last, text: d.texts[last] });
      }
    });
  }
});
