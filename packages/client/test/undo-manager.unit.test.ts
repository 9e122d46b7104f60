/**
 * Per-user undo: undo removes only this user's own edits — transformed through everyone else's — and is sent as an
 * ordinary op; redo brings it back; grouping makes a burst of typing one step.
 */
import assert from 'node:assert/strict';
import { ClientDocument, UndoManager } from '../src/index.js';
import { SyncHarness } from './support/sync-harness.js';

function setup(
  text = '',
  groupMs = 0,
): { h: SyncHarness; doc: ClientDocument; undo: UndoManager; clock: { t: number } } {
  const h = SyncHarness.loaded(text);
  const doc = new ClientDocument(h.sync, () => {});
  const clock = { t: 1000 };
  const undo = new UndoManager(doc, { groupMs, now: () => clock.t });
  return { h, doc, undo, clock };
}

describe('UndoManager', () => {
  it('undoes and redoes the user’s own insert, and sends each as an op', () => {
    const { h, doc, undo } = setup('hello');
    doc.insert(5, ' world');
    assert.equal(doc.text, 'hello world');
    assert.deepEqual(undo.undo(), { cursor: 5 });
    assert.equal(doc.text, 'hello');
    assert.deepEqual(undo.redo(), { cursor: 11 });
    assert.equal(doc.text, 'hello world');
    assert.ok(h.sent.filter((m) => m.t === 'submit').length >= 1, 'edits reach the wire');
  });

  it('never removes other people’s text: undo is transformed through remote edits', () => {
    const { h, doc, undo } = setup('abc');
    doc.insert(3, 'XYZ'); // mine: "abcXYZ"
    h.ack(1, 1);
    h.remote(2, [3, 'Q']); // someone types between c and X: "abcQXYZ"
    h.remote(3, [{ d: 1 }]); // and deletes the a: "bcQXYZ"
    assert.equal(doc.text, 'bcQXYZ');
    undo.undo();
    assert.equal(doc.text, 'bcQ', 'only my XYZ is gone; their Q and their delete stay');
    undo.redo();
    assert.equal(doc.text, 'bcQXYZ');
  });

  it('undo of a delete restores exactly the deleted text, even after others typed inside the region', () => {
    const { h, doc, undo } = setup('0123456789');
    doc.delete(2, 5); // "01789"
    h.ack(1, 1);
    h.remote(2, [2, '--']); // someone inserts where the deleted text was: "01--789"
    undo.undo();
    // The restored text and their insert meet at the same position: the undo (an incoming op) goes first.
    assert.equal(doc.text, '0123456--789');
  });

  it('a step whose text others deleted entirely becomes nothing to undo', () => {
    const { h, doc, undo } = setup('ab');
    doc.insert(1, 'MINE');
    h.ack(1, 1);
    h.remote(2, [1, { d: 4 }]); // someone deletes my text
    assert.equal(doc.text, 'ab');
    assert.equal(undo.canUndo, false);
    assert.equal(undo.undo(), undefined);
    assert.equal(doc.text, 'ab');
  });

  it('groups quick successive edits into one step, and a new edit clears redo', () => {
    const { doc, undo, clock } = setup('', 800);
    for (const ch of 'word') {
      doc.insert(doc.length, ch);
      clock.t += 100;
    }
    clock.t += 2000;
    doc.insert(doc.length, '!');
    undo.undo();
    assert.equal(doc.text, 'word');
    undo.undo();
    assert.equal(doc.text, '');
    undo.redo();
    assert.equal(doc.text, 'word');
    doc.insert(0, '>');
    assert.equal(undo.canRedo, false);
  });

  it('handles emoji: positions and cursor in UTF-16 units', () => {
    const { doc, undo } = setup('😀😀');
    doc.insert(2, 'x'); // between the two emoji (UTF-16 offset 2)
    assert.equal(doc.text, '😀x😀');
    assert.deepEqual(undo.undo(), { cursor: 2 });
    assert.equal(doc.text, '😀😀');
  });
});
