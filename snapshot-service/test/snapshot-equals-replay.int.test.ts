/**
 * Invariant 3 for snapshots: every snapshot the service writes equals the log replayed to its version. Random
 * ops (emoji, flags, combining sequences) over several documents are appended through the Kafka OpLog and
 * mirrored into the read models (as the projection would); a worker snapshots the first half, is stopped, and
 * a second worker in the same group resumes after the committed offset, rebuilding each document lazily from
 * its snapshot + the read models. Then every snapshot in the bucket is compared with a replay of the topic.
 */
import assert from 'node:assert/strict';
import { generateHistory, rng } from '@collab/read-side/testing';
import type { OpCommitted, SnapshotStore } from '@collab/core';
import {
  appendOps,
  eventually,
  freshBucket,
  freshKeyspace,
  freshTopic,
  replayLog,
  type TestBucket,
  type TestKeyspace,
  type TestTopic,
} from './support/stack.js';
import { startWorker } from './support/worker.js';

describe('snapshot-service: every snapshot equals the replayed log', function () {
  this.timeout(240_000);
  const seed = Number(process.env.SNAPSHOT_TEST_SEED ?? Date.now() % 1_000_000);
  let topic: TestTopic;
  let keyspace: TestKeyspace;
  let bucket: TestBucket;
  let snapshots: SnapshotStore;

  before(async () => {
    [topic, keyspace, bucket] = await Promise.all([freshTopic(3), freshKeyspace(), freshBucket()]);
    snapshots = bucket.store();
  });
  after(async () => {
    await Promise.allSettled([topic?.cleanup(), keyspace?.cleanup(), bucket?.cleanup()]);
  });

  it(`holds for thousands of random ops across documents, across a restart (seed ${seed})`, async () => {
    const random = rng(seed);
    const docs = Array.from({ length: 8 }, (_, i) =>
      generateHistory(`doc-${i}-${seed}`, 300 + Math.floor(random() * 300), random),
    );
    // Below every-N on both halves: only the idle rule can snapshot this one.
    docs.push(generateHistory(`small-${seed}`, 60, random));
    const total = docs.reduce((n, d) => n + d.ops.length, 0);
    assert.ok(total >= 3000, `thousands of ops (${total})`);
    const half = (d: { ops: OpCommitted[] }) => Math.floor(d.ops.length / 2);
    const log = await topic.open('test-writer');
    // The read models first (the projection may well be ahead of us), then the log in slices while the worker
    // runs, so it sees many small batches rather than one backlog (batchWaitMs 0: each slice is handed over as it
    // lands; with the default wait a slice would join the next, and every-N would fire once per batch). Kafka appends are fast,
    // so no document looks idle between slices: the every-N rule is exercised, not only the idle one.
    const publish = async (ops: OpCommitted[]) => {
      await keyspace.readModels.writeOps(ops);
      for (let i = 0; i < ops.length; i += 150) await appendOps(log, ops.slice(i, i + 150));
    };
    const groupId = `${topic.topic}-snapshots`;
    const policy = { everyVersions: 100, idleMs: 2_000, hotEveryVersions: 100 };

    const first = await startWorker(
      topic,
      { readModels: keyspace.readModels, snapshots, groupId },
      { policy, batchWaitMs: 0 },
    );
    await publish(interleave(docs.map((d) => d.ops.slice(0, half(d)))));
    for (const d of docs) {
      await eventually(`${d.docId} snapshotted at ${half(d)}`, async () =>
        (await snapshots.latest(d.docId))?.version === half(d) ? true : undefined,
      );
    }
    await first.stop();
    assert.ok(
      first.events.some((e) => e.reason === 'versions'),
      'every-N-versions snapshots were taken',
    );
    assert.ok(
      first.events.some((e) => e.reason === 'idle'),
      'idle snapshots were taken',
    );

    const second = await startWorker(
      topic,
      { readModels: keyspace.readModels, snapshots, groupId },
      { policy, batchWaitMs: 0 },
    );
    await publish(interleave(docs.map((d) => d.ops.slice(half(d)))));
    try {
      for (const d of docs) {
        await eventually(`${d.docId} snapshotted at ${d.ops.length}`, async () =>
          (await snapshots.latest(d.docId))?.version === d.ops.length ? true : undefined,
        );
      }
    } finally {
      await second.stop();
    }
    // The second worker resumed after the committed offset: it did not redo the first half's snapshots.
    assert.ok(second.events.every((e) => e.version > half(docs.find((d) => d.docId === e.docId)!)));

    const truth = await replayLog(log);
    let compared = 0;
    for (const d of docs) {
      const texts = truth.get(d.docId)!;
      assert.equal(texts.length - 1, d.ops.length);
      for (const meta of await snapshots.list(d.docId)) {
        const snapshot = await snapshots.get(d.docId, meta.version);
        assert.equal(snapshot?.text, texts[meta.version], `${d.docId}@${meta.version} (seed ${seed})`);
        compared++;
      }
    }
    assert.ok(compared >= docs.length * 3, `compared ${compared} snapshots`);
    assert.ok(
      docs.some((d) => d.texts.at(-1)!.includes('😀') || d.texts.at(-1)!.includes('👍🏽')),
      'emoji present',
    );
  });
});

/** Round-robin over the documents, as concurrent editing would order them in the log. */
function interleave(lists: OpCommitted[][]): OpCommitted[] {
  const out: OpCommitted[] = [];
  for (let i = 0; lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
  return out;
}
