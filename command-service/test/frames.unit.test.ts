/**
 * What an open may cost the server: snapshots and catch-ups are cut into frames no larger than the client's own
 * limit, and a catch-up larger than its byte limit becomes the whole text. Pure; the attack over a real socket is
 * in cli/test/amplification.e2e.test.ts.
 */
import assert from 'node:assert/strict';
import type { OpCommitted } from '@collab/core';
import { evolve, initialState } from '@collab/core';
import { catchupMessages } from '../src/documents/catchup.js';
import { catchupFrames, snapshotFrames, splitText } from '../src/documents/frames.js';
import type { ServerMessage, WireOp } from '@collab/protocol';

const bytes = (m: unknown): number => Buffer.byteLength(JSON.stringify(m));
const FRAME = 4096;

function joinedText(frames: ServerMessage[]): string {
  return frames.map((f) => (f.t === 'snapshot' || f.t === 'snapshot-part' ? f.text : '')).join('');
}

describe('command-service frames', () => {
  it('a snapshot that fits is one frame, unchanged', () => {
    assert.deepEqual(snapshotFrames('d', 3, 'hello', FRAME), [
      { t: 'snapshot', docId: 'd', version: 3, text: 'hello' },
    ]);
  });

  const texts: Array<[string, string]> = [
    ['ASCII', 'lorem ipsum '.repeat(3000)],
    ['astral characters (never cut inside a pair)', '😀a'.repeat(5000)],
    ['control characters (6 bytes each in JSON)', '\u0001'.repeat(4000) + 'x'.repeat(100)],
    ['quotes and backslashes', '"\\'.repeat(6000)],
  ];
  for (const [name, text] of texts) {
    it(`a snapshot larger than a frame goes out in numbered parts within the frame limit: ${name}`, () => {
      const frames = snapshotFrames('doc-1', 42, text, FRAME);
      assert.ok(frames.length > 1);
      frames.forEach((f, i) => {
        assert.equal(f.t, 'snapshot-part');
        assert.ok(bytes(f) <= FRAME, `part ${i} has ${bytes(f)} bytes`);
        if (f.t !== 'snapshot-part') return;
        assert.deepEqual([f.docId, f.version, f.part, f.parts], ['doc-1', 42, i, frames.length]);
        assert.ok(!/^[\udc00-\udfff]/.test(f.text), 'no part starts with the second half of a pair');
      });
      assert.equal(joinedText(frames), text);
    });
  }

  it('splitText covers the text exactly, in pieces within the budget', () => {
    const text = 'a😀\u0002"é'.repeat(700);
    const pieces = splitText(text, 300);
    assert.equal(pieces.join(''), text);
    for (const p of pieces) assert.ok(bytes(p) <= 300);
  });

  const wire = (version: number, text: string): WireOp => ({
    version,
    op: [text],
    clientId: 'c',
    seq: version,
    userId: 'u',
    timestamp: 0,
  });

  it('a catch-up larger than a frame goes out in parts of whole ops, in order', () => {
    const ops = Array.from({ length: 60 }, (_, i) => wire(i + 1, 'x'.repeat(200)));
    const frames = catchupFrames('d', 60, ops, { maxFrameBytes: FRAME, maxCatchupBytes: 1 << 20 })!;
    assert.ok(frames.length > 1);
    const joined: WireOp[] = [];
    frames.forEach((f, i) => {
      assert.equal(f.t, 'catchup-part');
      assert.ok(bytes(f) <= FRAME);
      if (f.t !== 'catchup-part') return;
      assert.deepEqual([f.version, f.part, f.parts], [60, i, frames.length]);
      joined.push(...f.ops);
    });
    assert.deepEqual(joined, ops);
  });

  it('an op larger than a frame travels alone (as it was submitted)', () => {
    const ops = [wire(1, 'a'), wire(2, 'b'.repeat(FRAME)), wire(3, 'c')];
    const frames = catchupFrames('d', 3, ops, { maxFrameBytes: FRAME, maxCatchupBytes: 1 << 20 })!;
    assert.deepEqual(
      frames.map((f) => (f.t === 'catchup-part' ? f.ops.map((o) => o.version) : [])),
      [[1], [2], [3]],
    );
  });

  it('a catch-up whose ops take more than the byte limit is refused (the caller sends the whole text)', () => {
    const ops = Array.from({ length: 10 }, (_, i) => wire(i + 1, 'y'.repeat(1000)));
    assert.equal(catchupFrames('d', 10, ops, { maxFrameBytes: FRAME, maxCatchupBytes: 5000 }), undefined);
    assert.ok(catchupFrames('d', 10, ops, { maxFrameBytes: FRAME, maxCatchupBytes: 20_000 }) !== undefined);
  });

  it('catchupMessages: an open from an old version with big ops gets resync + the (small) text, not the ops', () => {
    // The attack: many versions each inserting and deleting a lot — the document stays small, its ops do not.
    let state = initialState('d');
    let version = 0;
    const commit = (op: OpCommitted['op']) => {
      version++;
      state = evolve(
        state,
        { docId: 'd', version, op, baseVersion: version - 1, clientId: 'c', seq: version, userId: 'u', timestamp: 0 },
        1000,
      );
    };
    for (let i = 0; i < 20; i++) {
      commit(['z'.repeat(2000)]);
      commit([{ d: 2000 }]);
    }
    commit(['small']);
    const limits = { catchupLimit: 1000, maxCatchupBytes: 16 * 1024, maxFrameBytes: FRAME };
    const answer = catchupMessages(state, 0, limits);
    assert.deepEqual(
      answer.map((m) => m.t),
      ['resync', 'snapshot'],
    );
    assert.ok(answer.reduce((n, m) => n + bytes(m), 0) < 1024);
    // Within the limit, the same client still gets the ops (and keeps its pending edits).
    assert.equal(catchupMessages(state, 39, limits)[0]?.t, 'catchup');
  });
});
