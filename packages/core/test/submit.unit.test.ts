/**
 * The sequencer's decision logic, given / when / then, with no I/O: given the committed history, when a client
 * submits an op, then the decision is a commit (with the transformed op and the next version), a duplicate, or a
 * rejection with a stable code — and the state never changes on a rejection.
 */
import assert from 'node:assert/strict';
import type { TextOp } from '@collab/ot-text';
import type { DocumentState, OpCommitted, Submission } from '../src/index.js';
import { decideSubmit, evolve, initialState } from '../src/index.js';

const WINDOW = 5;
const NOW = 1_700_000_000_000;

let nextSeq = 1;
function given(...ops: Array<[clientId: string, op: TextOp]>): DocumentState {
  let state = initialState('doc-1');
  for (const [clientId, op] of ops) {
    const decision = decideSubmit(
      state,
      { docId: 'doc-1', clientId, seq: nextSeq++, baseVersion: state.version, op, userId: 'u' },
      NOW,
    );
    assert.equal(decision.kind, 'commit');
    state = evolve(state, (decision as { record: OpCommitted }).record, WINDOW);
  }
  return state;
}

const submit = (over: Partial<Submission>): Submission => ({
  docId: 'doc-1',
  clientId: 'c-new',
  seq: 1,
  baseVersion: 0,
  op: ['x'],
  userId: 'alice',
  ...over,
});

describe('sequencer: decideSubmit', () => {
  it('commits an op on the head as version head+1, unchanged', () => {
    const state = given(['a', ['hello']]);
    const d = decideSubmit(state, submit({ baseVersion: 1, op: [5, ' world'] }), NOW);
    assert.deepEqual(d, {
      kind: 'commit',
      record: {
        docId: 'doc-1',
        version: 2,
        op: [5, ' world'],
        baseVersion: 1,
        clientId: 'c-new',
        seq: 1,
        userId: 'alice',
        timestamp: NOW,
      },
    });
  });

  it('transforms an op from an old base against everything committed since; its insert goes first on ties', () => {
    const state = given(['a', ['ab']], ['a', [1, 'X']], ['b', [3, 'Y']]); // "aXbY"
    const d = decideSubmit(state, submit({ baseVersion: 1, op: [1, 'Z'] }), NOW);
    assert.equal(d.kind, 'commit');
    const record = (d as { record: OpCommitted }).record;
    assert.deepEqual(record.op, [1, 'Z'], 'Z lands before the concurrent X inserted at the same position');
    assert.equal(record.version, 4);
    assert.equal(evolve(state, record, WINDOW).doc.toString(), 'aZXbY');
  });

  it('answers a resubmission with the original version and commits nothing', () => {
    let state = given(['a', ['ab']]);
    const first = decideSubmit(state, submit({ baseVersion: 1, seq: 7, op: [2, '!'] }), NOW);
    const record = (first as { record: OpCommitted }).record;
    state = evolve(state, record, WINDOW);
    state = evolve(state, { ...record, version: 3, clientId: 'other', seq: 1, op: ['>'] }, WINDOW);
    // The client reconnects without having seen its ack and sends the same op again, from the same base.
    assert.deepEqual(decideSubmit(state, submit({ baseVersion: 1, seq: 7, op: [2, '!'] }), NOW), {
      kind: 'duplicate',
      version: 2,
    });
    assert.equal(state.doc.toString(), '>ab!');
  });

  describe('the dedupe key is bound to the user: (userId, clientId, seq)', () => {
    // Alice's client "ca" has committed seq 1; its clientId is public (every op broadcast shows it).
    const aliceFirst = (): DocumentState => {
      const d = decideSubmit(initialState('doc-1'), submit({ clientId: 'ca', seq: 1, op: ['a'] }), NOW);
      return evolve(initialState('doc-1'), (d as { record: OpCommitted }).record, WINDOW);
    };

    it("refuses another user's op under a clientId in use (ERR_CLIENT_ID_TAKEN); the holder's next op commits", () => {
      const state = aliceFirst();
      const mallory = decideSubmit(state, submit({ clientId: 'ca', seq: 2, baseVersion: 1, userId: 'mallory' }), NOW);
      assert.equal(mallory.kind, 'reject');
      assert.equal((mallory as { code: string }).code, 'ERR_CLIENT_ID_TAKEN');
      assert.equal((mallory as { retriable: boolean }).retriable, false);
      const alice = decideSubmit(state, submit({ clientId: 'ca', seq: 2, baseVersion: 1, op: [1, 'b'] }), NOW);
      assert.equal(alice.kind, 'commit');
      assert.deepEqual((alice as { record: OpCommitted }).record.op, [1, 'b']);
    });

    it("never answers a user's op as a duplicate of another user's op with the same (clientId, seq)", () => {
      // Mallory got in first (before Alice's first op under "cb" was sequenced): Alice's op is not "already there".
      const record: OpCommitted = {
        docId: 'doc-1',
        version: 1,
        op: ['m'],
        baseVersion: 0,
        clientId: 'cb',
        seq: 1,
        userId: 'mallory',
        timestamp: NOW,
      };
      const state = evolve(initialState('doc-1'), record, WINDOW);
      const alice = decideSubmit(state, submit({ clientId: 'cb', seq: 1, baseVersion: 0, op: ['a'] }), NOW);
      assert.notEqual(alice.kind, 'duplicate');
      assert.equal((alice as { code?: string }).code, 'ERR_CLIENT_ID_TAKEN');
      // Mallory's own resubmission is still answered as hers.
      assert.deepEqual(decideSubmit(state, { ...submit({ clientId: 'cb', seq: 1 }), userId: 'mallory' }, NOW), {
        kind: 'duplicate',
        version: 1,
      });
    });

    it("a holder's resubmission is answered before the clash check (its original ack, nothing committed)", () => {
      let state = aliceFirst();
      const m = decideSubmit(
        state,
        submit({ clientId: 'other', seq: 1, baseVersion: 1, userId: 'bob', op: ['z'] }),
        NOW,
      );
      state = evolve(state, (m as { record: OpCommitted }).record, WINDOW);
      assert.deepEqual(decideSubmit(state, submit({ clientId: 'ca', seq: 1, baseVersion: 0, op: ['a'] }), NOW), {
        kind: 'duplicate',
        version: 1,
      });
    });
  });

  const rejections: Array<[string, Partial<Submission>, string, string?]> = [
    ['a base version from the future', { baseVersion: 9 }, 'ERR_BASE_VERSION_FUTURE'],
    ['a negative base version', { baseVersion: -1 }, 'ERR_BASE_VERSION_INVALID'],
    ['a fractional base version', { baseVersion: 1.5 }, 'ERR_BASE_VERSION_INVALID'],
    ['a base version older than the window', { baseVersion: 0 }, 'ERR_RESYNC_REQUIRED'],
    ['an op that is not an array', { baseVersion: 6, op: 'x' }, 'ERR_OP_INVALID', 'ERR_OP_NOT_ARRAY'],
    ['an op with a zero skip', { baseVersion: 6, op: [0, 'x'] }, 'ERR_OP_INVALID', 'ERR_OP_SKIP_INVALID'],
    ['an op past the end of its base version', { baseVersion: 6, op: [7, 'x'] }, 'ERR_OP_INVALID', 'ERR_OP_TOO_LONG'],
    ['a delete whose text differs', { baseVersion: 6, op: [{ d: 'zz' }] }, 'ERR_OP_INVALID', 'ERR_OP_DELETE_MISMATCH'],
    ['an op inserting too much', { baseVersion: 6, op: ['x'.repeat(65 * 1024)] }, 'ERR_OP_TOO_LARGE'],
  ];
  for (const [name, over, code, detail] of rejections) {
    it(`rejects ${name} with ${code}${detail ? ` (${detail})` : ''}`, () => {
      const state = given(
        ['a', ['a']],
        ['a', [1, 'b']],
        ['a', [2, 'c']],
        ['a', [3, 'd']],
        ['a', [4, 'e']],
        ['a', [5, 'f']],
      );
      const before = state.doc.toString();
      const d = decideSubmit(state, submit(over), NOW);
      assert.equal(d.kind, 'reject');
      const r = d as { code: string; detail?: string; message: string; retriable: boolean };
      assert.equal(r.code, code);
      if (detail) assert.equal(r.detail, detail);
      assert.match(r.message, /\w+.*\./);
      assert.equal(r.retriable, false);
      assert.equal(state.doc.toString(), before, 'a rejection changes nothing');
    });
  }

  it('counts the text a delete names towards the op text limit (a delete is not bounded by the frame alone)', () => {
    const limits = { maxOpInsertLength: 4, maxOpComponents: 10, maxDocumentLength: 100 };
    const state = given(['a', ['abcdef']]);
    const named = decideSubmit(state, submit({ baseVersion: 1, op: [{ d: 'abcde' }] }), NOW, limits);
    assert.equal(named.kind, 'reject');
    assert.equal((named as { code: string }).code, 'ERR_OP_TOO_LARGE');
    // Inserted and deleted text add up; a delete by count carries no text and is not limited by it.
    const both = decideSubmit(state, submit({ baseVersion: 1, op: [{ d: 'ab' }, 'xyz'] }), NOW, limits);
    assert.equal((both as { code: string }).code, 'ERR_OP_TOO_LARGE');
    assert.equal(decideSubmit(state, submit({ baseVersion: 1, op: [{ d: 6 }] }), NOW, limits).kind, 'commit');
    assert.equal(decideSubmit(state, submit({ baseVersion: 1, op: [{ d: 'ab' }, 'xy'] }), NOW, limits).kind, 'commit');
  });

  it('rejects an op that would grow the document past its limit', () => {
    const state = given(['a', ['abc']]);
    const d = decideSubmit(state, submit({ baseVersion: 1, op: [3, 'defg'] }), NOW, {
      maxOpInsertLength: 100,
      maxOpComponents: 10,
      maxDocumentLength: 5,
    });
    assert.equal(d.kind, 'reject');
    assert.equal((d as { code: string }).code, 'ERR_DOC_TOO_LARGE');
  });

  it('evolve refuses a gap in versions', () => {
    const state = given(['a', ['x']]);
    assert.throws(() => evolve(state, { ...state.recent[0]!, version: 3 }, WINDOW), /expected version 2, got 3/);
  });
});
