/**
 * The SnapshotStore contract: what every adapter (S3, SQLite, in-memory) must do, as mocha tests. Call it inside
 * a test file with a factory that returns a ready store; the suite closes every store it gets. Each test uses its
 * own random docIds, so one backend (bucket, database) can serve the whole suite and other suites at once.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { SnapshotData, SnapshotStore } from '@collab/core';

export type SnapshotStoreFactory = () => SnapshotStore | Promise<SnapshotStore>;

export function snapshotStoreContract(name: string, factory: SnapshotStoreFactory): void {
  describe(`SnapshotStore contract: ${name}`, function () {
    let store: SnapshotStore;
    const docId = (): string => `doc-${randomUUID()}`;
    const snap = (id: string, version: number, text = `text at ${version}`, createdAt = 1_700_000_000_000 + version) =>
      ({ docId: id, version, text, createdAt }) satisfies SnapshotData;

    beforeEach(async function () {
      store = await factory();
    });
    afterEach(async function () {
      await store.close();
    });

    it('round-trips text, version and createdAt, including emoji, combining marks and CJK', async function () {
      const id = docId();
      const text = 'héllo 👋🏽 wörld — 你好 👨‍👩‍👧\n\ttabs and\r\nnewlines';
      assert.equal(await store.put(snap(id, 7, text, 1_712_345_678_901)), 'created');
      assert.deepEqual(await store.get(id, 7), snap(id, 7, text, 1_712_345_678_901));
    });

    it('round-trips the empty text at version 0', async function () {
      const id = docId();
      assert.equal(await store.put(snap(id, 0, '')), 'created');
      assert.deepEqual(await store.get(id, 0), snap(id, 0, ''));
    });

    it("answers 'exists' to a second put of the same (docId, version) and keeps the first content", async function () {
      const id = docId();
      assert.equal(await store.put(snap(id, 3, 'first')), 'created');
      assert.equal(await store.put(snap(id, 3, 'second', 1)), 'exists');
      assert.deepEqual(await store.get(id, 3), snap(id, 3, 'first'));
    });

    it("lets exactly one of two concurrent puts of the same key say 'created'", async function () {
      for (let round = 0; round < 5; round++) {
        const id = docId();
        const outcomes = await Promise.all([store.put(snap(id, 1, 'from A')), store.put(snap(id, 1, 'from B'))]);
        assert.deepEqual([...outcomes].sort(), ['created', 'exists'], `round ${round}: ${outcomes.join(', ')}`);
        const winner = outcomes[0] === 'created' ? 'from A' : 'from B';
        assert.equal((await store.get(id, 1))?.text, winner);
      }
    });

    it('latest without maxVersion returns the highest version, whatever the order of the puts', async function () {
      const id = docId();
      for (const v of [5, 20, 1, 12]) await store.put(snap(id, v));
      assert.deepEqual(await store.latest(id), snap(id, 20));
    });

    it('latest with maxVersion returns the highest version <= maxVersion', async function () {
      const id = docId();
      for (const v of [1, 5, 12, 20]) await store.put(snap(id, v));
      assert.equal((await store.latest(id, 12))?.version, 12, 'an exact hit');
      assert.equal((await store.latest(id, 11))?.version, 5, 'between two snapshots');
      assert.equal((await store.latest(id, 1000))?.version, 20, 'above all');
      assert.equal((await store.latest(id, 1))?.version, 1, 'the oldest');
      assert.equal(await store.latest(id, 0), undefined, 'below all');
    });

    it('orders versions numerically, not as strings (9 < 10 < 100)', async function () {
      const id = docId();
      for (const v of [100, 9, 10]) await store.put(snap(id, v));
      assert.deepEqual(
        (await store.list(id)).map((m) => m.version),
        [9, 10, 100],
      );
      assert.equal((await store.latest(id, 99))?.version, 10);
    });

    it('lists metadata oldest first: version, createdAt and UTF-8 byte size', async function () {
      const id = docId();
      await store.put(snap(id, 2, 'ab', 2000));
      await store.put(snap(id, 1, '€', 1000)); // 3 bytes in UTF-8
      assert.deepEqual(await store.list(id), [
        { docId: id, version: 1, createdAt: 1000, size: 3 },
        { docId: id, version: 2, createdAt: 2000, size: 2 },
      ]);
    });

    it('deletes one snapshot, idempotently, leaving the others', async function () {
      const id = docId();
      for (const v of [1, 2, 3]) await store.put(snap(id, v));
      await store.delete(id, 3);
      await store.delete(id, 3);
      assert.equal(await store.get(id, 3), undefined);
      assert.equal((await store.latest(id))?.version, 2);
      assert.deepEqual(
        (await store.list(id)).map((m) => m.version),
        [1, 2],
      );
      assert.equal(await store.put(snap(id, 3, 'again')), 'created', 'a deleted version can be written again');
    });

    it('answers undefined and [] for an unknown document or version', async function () {
      const id = docId();
      assert.equal(await store.get(id, 1), undefined);
      assert.equal(await store.latest(id), undefined);
      assert.equal(await store.latest(id, 10), undefined);
      assert.deepEqual(await store.list(id), []);
      await store.put(snap(id, 2));
      assert.equal(await store.get(id, 1), undefined);
    });

    it('keeps documents apart, including ids with slashes, dots, prefixes of each other and unicode', async function () {
      const base = docId();
      const ids = [base, `${base}/x`, `${base}x`, `${base}/..`, `${base}/ünï 🚀`];
      for (const [i, id] of ids.entries()) await store.put(snap(id, 1, `doc ${i}`));
      for (const [i, id] of ids.entries()) {
        assert.equal((await store.latest(id))?.text, `doc ${i}`, id);
        assert.deepEqual(
          (await store.list(id)).map((m) => m.version),
          [1],
          id,
        );
      }
    });
  });
}
