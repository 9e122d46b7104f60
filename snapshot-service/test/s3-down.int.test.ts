/**
 * S3 down: the snapshot store points at an S3Proxy we stop mid-test. Snapshot writes fail and are retried with
 * backoff while consumption goes on (the worker's state keeps up with the log) and document loads keep working
 * from Cassandra (the reader replays read-model ops when no snapshot can be read). When S3 is back, the
 * snapshot of the newest version is written.
 */
import assert from 'node:assert/strict';
import { createDocumentReader } from '@collab/read-side';
import { generateHistory, rng } from '@collab/read-side/testing';
import type { SnapshotStore } from '@collab/core';
import { bestEffort } from '@collab/core';
import {
  appendOps,
  eventually,
  freshBucket,
  freshKeyspace,
  freshTopic,
  type TestBucket,
  type TestKeyspace,
  type TestTopic,
} from './support/stack.js';
import { startOwnS3Proxy, type OwnS3Proxy } from './support/own-s3proxy.js';
import { startWorker } from './support/worker.js';

describe('snapshot-service: S3 down', function () {
  this.timeout(240_000);
  let topic: TestTopic;
  let keyspace: TestKeyspace;
  let s3proxy: OwnS3Proxy;
  let bucket: TestBucket;
  let snapshots: SnapshotStore;

  before(async () => {
    [topic, keyspace, s3proxy] = await Promise.all([freshTopic(1), freshKeyspace(), startOwnS3Proxy()]);
    // S3Proxy takes a few seconds to listen; creating the bucket is the readiness probe.
    bucket = await eventually('our S3Proxy to answer', () => freshBucket(s3proxy.endpoint), 90_000, 500);
    // Short SDK timeouts and one SDK attempt: the worker's own backoff is what is under test.
    snapshots = bucket.store('', { maxAttempts: 1, timeouts: { connectMs: 500, requestMs: 2_000 } });
  });
  after(async () => {
    await Promise.allSettled([topic?.cleanup(), keyspace?.cleanup()]);
    await bestEffort(bucket?.cleanup());
    await s3proxy?.remove();
  });

  it('retries snapshot writes with backoff while loads keep working, and catches up when S3 is back', async () => {
    const doc = generateHistory('outage 📄', 900, rng(5));
    const log = await topic.open('outage-writer');
    const publish = async (from: number, to: number) => {
      const ops = doc.ops.slice(from, to);
      await appendOps(log, ops);
      await keyspace.readModels.writeOps(ops);
    };
    const worker = await startWorker(
      topic,
      { readModels: keyspace.readModels, snapshots, groupId: `${topic.topic}-snap` },
      { retry: { retries: 100, minDelayMs: 100, maxDelayMs: 1_000 } },
    );
    try {
      await publish(0, 300);
      await eventually('snapshot at 300', async () =>
        (await snapshots.latest(doc.docId))?.version === 300 ? true : undefined,
      );

      await s3proxy.stop();
      await publish(300, 900);
      // Consumption is not blocked by S3: the worker's state reaches the head...
      await eventually('the worker to fold every op', async () =>
        [...worker.worker.documents()].find((d) => d.docId === doc.docId)?.state?.version === 900 ? true : undefined,
      );
      // ...its writes fail and are retried...
      await eventually('failed write attempts', async () => (worker.failedAttempts >= 3 ? true : undefined));
      // ...and a document load still works, from the read models alone.
      const snapshotErrors: unknown[] = [];
      const reader = createDocumentReader({
        readModels: keyspace.readModels,
        snapshots,
        onSnapshotError: (err) => snapshotErrors.push(err),
      });
      assert.deepEqual(await reader.current(doc.docId), { docId: doc.docId, version: 900, text: doc.texts[900] });
      assert.equal((await reader.atVersion(doc.docId, 450)).text, doc.texts[450]);
      assert.ok(snapshotErrors.length >= 2, 'the snapshot store was down for those loads');

      const failedWhileDown = worker.failedAttempts;
      await s3proxy.start();
      const latest = await eventually(
        'snapshot at 900 after S3 is back',
        async () => {
          const s = await snapshots.latest(doc.docId);
          return s?.version === 900 ? s : undefined;
        },
        90_000,
      );
      assert.equal(latest.text, doc.texts[900]);
      assert.ok(failedWhileDown >= 3);
      // Not one write per op or per failure: the retries coalesced into the newest version.
      assert.ok(worker.events.filter((e) => e.outcome === 'created').length <= 5, JSON.stringify(worker.events));
    } finally {
      await worker.stop();
    }
  });
});
