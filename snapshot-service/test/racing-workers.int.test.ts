/**
 * Two workers racing on the same documents (two consumer groups, so both snapshot every document at the same
 * versions) never overwrite each other: the S3 put is conditional (If-None-Match: *), so each (docId, version)
 * is created exactly once and the other writer sees 'exists'. And a direct race of many puts of one key with
 * different texts leaves exactly the winner's text.
 */
import assert from 'node:assert/strict';
import { generateHistory, rng } from '@collab/read-side/testing';
import type { SnapshotStore } from '@collab/core';
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

describe('snapshot-service: racing workers', function () {
  this.timeout(180_000);
  let topic: TestTopic;
  let keyspace: TestKeyspace;
  let bucket: TestBucket;
  let snapshots: SnapshotStore;

  before(async () => {
    [topic, keyspace, bucket] = await Promise.all([freshTopic(2), freshKeyspace(), freshBucket()]);
    snapshots = bucket.store();
  });
  after(async () => {
    await Promise.allSettled([topic?.cleanup(), keyspace?.cleanup(), bucket?.cleanup()]);
  });

  it('never overwrite each other: each snapshot is created once and equals the replayed log', async () => {
    const random = rng(99);
    const docs = [generateHistory('race-a', 600, random), generateHistory('race-b', 450, random)];
    const log = await topic.open('race-writer');
    const ops = docs.flatMap((d) => d.ops);
    await appendOps(log, ops);
    await keyspace.readModels.writeOps(ops);
    // Same backlog, same policy: both workers want the same versions at the same moments.
    const deps = { readModels: keyspace.readModels, snapshots };
    const [a, b] = await Promise.all([
      startWorker(topic, { ...deps, groupId: `${topic.topic}-a` }, { policy: { everyVersions: 50, idleMs: 500 } }),
      startWorker(topic, { ...deps, groupId: `${topic.topic}-b` }, { policy: { everyVersions: 50, idleMs: 500 } }),
    ]);
    try {
      for (const d of docs) {
        const last = d.ops.length;
        await eventually(`both workers at ${d.docId}@${last}`, async () =>
          [a, b].every((w) => w.events.some((e) => e.docId === d.docId && e.version === last)) ? true : undefined,
        );
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    const outcomes = new Map<string, string[]>();
    for (const e of [...a.events, ...b.events]) {
      const key = `${e.docId}@${e.version}`;
      outcomes.set(key, [...(outcomes.get(key) ?? []), e.outcome]);
    }
    for (const [key, list] of outcomes) {
      assert.ok(list.filter((o) => o === 'created').length <= 1, `${key} created more than once: ${list}`);
    }
    const contested = [...outcomes.values()].filter((l) => l.length === 2);
    assert.ok(contested.length > 0, 'the workers did race on at least one version');
    assert.ok(contested.every((l) => l.includes('created') && l.includes('exists')));
    const truth = await replayLog(log);
    for (const d of docs) {
      for (const meta of await snapshots.list(d.docId)) {
        assert.equal((await snapshots.get(d.docId, meta.version))?.text, truth.get(d.docId)![meta.version]);
      }
    }
  });

  it('a direct race of puts on one key keeps exactly the first writer’s text', async () => {
    const racers = Array.from({ length: 8 }, () => bucket.store());
    const outcomes = await Promise.all(
      racers.map((store, i) =>
        store.put({ docId: 'contended', version: 7, text: `text of racer ${i} 😀`, createdAt: i }),
      ),
    );
    const winners = outcomes.flatMap((o, i) => (o === 'created' ? [i] : []));
    assert.equal(winners.length, 1, `exactly one created: ${outcomes}`);
    assert.equal((await snapshots.get('contended', 7))?.text, `text of racer ${winners[0]} 😀`);
  });
});
