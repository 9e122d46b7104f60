/**
 * Snapshots and catch-ups larger than a frame arrive in parts: the SDK joins them, refuses anything out of step
 * (and asks again), and keeps its open alive while parts arrive.
 */
import assert from 'node:assert/strict';
import { PartsAssembler } from '../src/parts.js';
import type { CatchupPart, SnapshotPart, WireOp } from '@collab/protocol';
import { SyncHarness } from './support/sync-harness.js';

const snapshotPart = (part: number, parts: number, text: string, version = 9): SnapshotPart => ({
  t: 'snapshot-part',
  docId: 'd',
  version,
  part,
  parts,
  text,
});
const wire = (version: number, op: WireOp['op']): WireOp => ({
  version,
  op,
  clientId: 'other',
  seq: version,
  userId: 'u2',
  timestamp: 0,
});
const catchupPart = (part: number, parts: number, ops: WireOp[], version = 7): CatchupPart => ({
  t: 'catchup-part',
  docId: 'd',
  version,
  part,
  parts,
  ops,
});

describe('PartsAssembler', () => {
  it('joins the parts of a snapshot in order, and of a catch-up', () => {
    const a = new PartsAssembler();
    assert.equal(a.add(snapshotPart(0, 3, 'ab')), undefined);
    assert.equal(a.add(snapshotPart(1, 3, '😀c')), undefined);
    assert.deepEqual(a.add(snapshotPart(2, 3, 'd')), { t: 'snapshot', docId: 'd', version: 9, text: 'ab😀cd' });
    assert.equal(a.busy, false);
    assert.equal(a.add(catchupPart(0, 2, [wire(6, ['x'])])), undefined);
    assert.deepEqual(a.add(catchupPart(1, 2, [wire(7, [1, 'y'])])), {
      t: 'catchup',
      docId: 'd',
      version: 7,
      ops: [wire(6, ['x']), wire(7, [1, 'y'])],
    });
  });

  const outOfStep: Array<[string, Array<SnapshotPart | CatchupPart>]> = [
    ['a missing part', [snapshotPart(0, 3, 'a'), snapshotPart(2, 3, 'c')]],
    ['a part without its first', [snapshotPart(1, 2, 'b')]],
    ['a part of another version', [snapshotPart(0, 2, 'a'), snapshotPart(1, 2, 'b', 10)]],
    ['a part count that changes', [snapshotPart(0, 2, 'a'), snapshotPart(1, 3, 'b'), snapshotPart(2, 3, 'c')]],
    ['a catch-up part inside a snapshot', [snapshotPart(0, 2, 'a'), catchupPart(1, 2, [])]],
    ['a part number out of range', [snapshotPart(2, 2, 'a')]],
  ];
  for (const [name, parts] of outOfStep) {
    it(`given ${name}, nothing is delivered and what was gathered is dropped`, () => {
      const a = new PartsAssembler();
      for (const p of parts) assert.equal(a.add(p), undefined);
      assert.equal(a.busy, false);
    });
  }

  it('a new part 0 starts afresh (a repeated open answered again)', () => {
    const a = new PartsAssembler();
    a.add(snapshotPart(0, 2, 'old'));
    a.add(snapshotPart(0, 2, 'ne'));
    assert.deepEqual(a.add(snapshotPart(1, 2, 'w')), { t: 'snapshot', docId: 'd', version: 9, text: 'new' });
  });
});

describe('DocumentSync with parts', () => {
  it('loads a snapshot sent in parts', () => {
    const h = new SyncHarness();
    h.sync.connected();
    h.receive(snapshotPart(0, 2, 'hel'));
    assert.equal(h.sync.isLoaded, false);
    h.receive(snapshotPart(1, 2, 'lo'));
    assert.equal(h.sync.text.toString(), 'hello');
    assert.equal(h.sync.version, 9);
  });

  it('keeps its pending work through a catch-up sent in parts, and re-sends only after the last part', () => {
    const h = SyncHarness.loaded('ab', 5);
    h.sync.applyLocal([2, 'X']);
    h.sync.disconnected();
    h.sync.connected();
    h.takeSent();
    h.receive(catchupPart(0, 2, [wire(6, ['>'])]));
    assert.deepEqual(h.takeSubmits(), [], 'nothing is re-sent from the middle of a catch-up');
    h.receive(catchupPart(1, 2, [wire(7, ['<'])]));
    assert.equal(h.sync.text.toString(), '<>abX');
    assert.deepEqual(
      h.takeSubmits().map((s) => [s.seq, s.baseVersion, s.op]),
      [[1, 7, [4, 'X']]],
    );
  });

  it('does not time its open out while parts keep arriving, and asks again when they stop', () => {
    const h = new SyncHarness({ openTimeoutMs: 1000 });
    h.sync.connected();
    h.takeSent();
    h.scheduler.advance(900);
    h.receive(snapshotPart(0, 3, 'a'));
    h.scheduler.advance(900);
    h.receive(snapshotPart(1, 3, 'b'));
    h.scheduler.advance(900);
    assert.deepEqual(h.takeSent(), [], 'each part counts as progress');
    h.scheduler.advance(100);
    assert.deepEqual(h.takeSent(), [{ t: 'open', docId: 'd' }], 'the last part never came: ask again');
  });

  it('drops a half-received snapshot when the connection goes', () => {
    const h = new SyncHarness();
    h.sync.connected();
    h.receive(snapshotPart(0, 2, 'stale'));
    h.sync.disconnected();
    h.sync.connected();
    h.receive(snapshotPart(1, 2, '!'));
    assert.equal(h.sync.isLoaded, false);
    h.receive({ t: 'snapshot', docId: 'd', version: 3, text: 'fresh' });
    assert.equal(h.sync.text.toString(), 'fresh');
  });
});

describe('DocumentSync: deletes on the wire', () => {
  it('sends deletes as counts, whatever text the local op names (the server limits the text an op carries)', () => {
    const h = SyncHarness.loaded('hello world', 1);
    h.sync.applyLocal([5, { d: ' world' }]);
    assert.deepEqual(
      h.takeSubmits().map((s) => s.op),
      [[5, { d: 6 }]],
    );
    assert.equal(h.sync.text.toString(), 'hello');
    h.ack(1, 2);
    assert.equal(h.sync.confirmed.toString(), 'hello');
  });
});
