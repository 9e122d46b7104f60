import assert from 'node:assert/strict';
import { isCollabError } from '@collab/core';
import { createDocumentReader } from '../src/index.js';
import { MemoryReadModels, MemorySnapshots } from './support/memory-stores.js';
import { generateHistory, rng } from '../src/testing/random-history.js';

describe('DocumentReader (in-memory stores)', () => {
  const seed = 1234;
  const history = generateHistory('doc-a', 300, rng(seed));
  let readModels: MemoryReadModels;
  let snapshots: MemorySnapshots;

  beforeEach(async () => {
    readModels = new MemoryReadModels();
    snapshots = new MemorySnapshots();
    await readModels.writeOps(history.ops);
  });

  const snapshotAt = (version: number) =>
    snapshots.put({ docId: 'doc-a', version, text: history.texts[version]!, createdAt: 1 });

  it('returns the replayed text at every version, with and without snapshots', async () => {
    const reader = createDocumentReader({ readModels, snapshots, pageSize: 17 });
    for (const v of [0, 1, 2, 99, 100, 101, 250, 300]) {
      assert.equal((await reader.atVersion('doc-a', v)).text, history.texts[v], `version ${v} (seed ${seed})`);
    }
    await snapshotAt(100);
    await snapshotAt(200);
    for (const v of [0, 99, 100, 101, 199, 200, 201, 300]) {
      assert.equal((await reader.atVersion('doc-a', v)).text, history.texts[v], `version ${v} (seed ${seed})`);
    }
    assert.deepEqual(await reader.current('doc-a'), { docId: 'doc-a', version: 300, text: history.texts[300] });
  });

  it('starts from the snapshot: only the ops after it are read', async () => {
    await snapshotAt(290);
    const reader = createDocumentReader({ readModels, snapshots });
    const state = await reader.stateAt('doc-a', 300);
    assert.equal(state.snapshot?.version, 290);
    assert.equal(state.doc.toString(), history.texts[300]);
  });

  it('refuses a gap instead of returning a wrong text', async () => {
    readModels.ops.get('doc-a')!.delete(150);
    // The head stops at 149 (contiguous); a version above it is "not found", inside the gap's range a read
    // that crosses it must fail.
    const reader = createDocumentReader({ readModels, snapshots });
    await assert.rejects(reader.atVersion('doc-a', 200), (err) => isCollabError(err, 'ERR_NOT_FOUND'));
    const head = readModels.getHead.bind(readModels);
    readModels.getHead = async (docId) => ({ ...(await head(docId))!, version: 300 }); // a head that lies
    await assert.rejects(reader.atVersion('doc-a', 200), (err) => isCollabError(err, 'ERR_CORRUPT'));
    await assert.rejects(reader.current('doc-a'), (err) => isCollabError(err, 'ERR_CORRUPT'));
  });

  it('falls back to the ops when the snapshot store is down', async () => {
    await snapshotAt(200);
    snapshots.down = true;
    const errors: unknown[] = [];
    const reader = createDocumentReader({ readModels, snapshots, onSnapshotError: (err) => errors.push(err) });
    assert.equal((await reader.current('doc-a')).text, history.texts[300]);
    assert.equal(errors.length, 1);
  });

  it('adds the not-yet-projected tail, verified', async () => {
    const partial = new MemoryReadModels();
    await partial.writeOps(history.ops.slice(0, 250));
    const tail = async (_docId: string, after: number) => history.ops.filter((o) => o.version > after);
    const reader = createDocumentReader({ readModels: partial, snapshots, tail });
    assert.equal((await reader.current('doc-a')).version, 300);
    assert.equal((await reader.atVersion('doc-a', 280)).text, history.texts[280]);
    const gappy = createDocumentReader({
      readModels: partial,
      snapshots,
      tail: async () => history.ops.slice(251), // starts at 252: 251 is missing
    });
    await assert.rejects(gappy.current('doc-a'), (err) => isCollabError(err, 'ERR_CORRUPT'));
  });

  it('travels in time: the last version committed at or before the instant', async () => {
    const reader = createDocumentReader({ readModels, snapshots });
    const op = history.ops[41]!; // version 42
    const result = await reader.atTime('doc-a', op.timestamp + 1);
    assert.equal(result.version, 42);
    assert.equal(result.text, history.texts[42]);
    assert.equal((await reader.atTime('doc-a', 0)).text, '');
  });

  it('says not found for unknown documents and versions beyond the head', async () => {
    const reader = createDocumentReader({ readModels, snapshots });
    await assert.rejects(reader.current('nope'), (err) => isCollabError(err, 'ERR_NOT_FOUND'));
    await assert.rejects(reader.atVersion('nope', 0), (err) => isCollabError(err, 'ERR_NOT_FOUND'));
    await assert.rejects(reader.atVersion('doc-a', 301), (err) => isCollabError(err, 'ERR_NOT_FOUND'));
    await assert.rejects(reader.history('nope'), (err) => isCollabError(err, 'ERR_NOT_FOUND'));
  });
});
