/**
 * Comment threads (domain/comments.ts): each rule of decideComment, and a seeded replay: threads created at
 * random versions between random ops, folded in log order, have at every version the anchor their creation range
 * moved through every op since — whoever folds the log gets the same threads.
 */
import assert from 'node:assert/strict';
import type { TextOp } from '@collab/ot-text';
import { insertOp, removeOp, transformAnchorThrough, type } from '@collab/ot-text';
import type { CommentCommand, CommentContext, CommentDecision, CommentsState, OpCommitted } from '../src/index.js';
import {
  decideComment,
  DEFAULT_COMMENT_LIMITS,
  emptyComments,
  evolve,
  evolveComment,
  evolveComments,
  initialState,
  moveAnchors,
  seededRandom,
} from '../src/index.js';

/** A document's text and ops, with comments folded in as the log would have them. */
class Doc {
  text = '';
  ops: TextOp[] = [];
  comments: CommentsState = emptyComments();

  context(userId: string, limits = DEFAULT_COMMENT_LIMITS): CommentContext {
    return {
      docId: 'd',
      userId,
      now: 1000 + this.ops.length,
      version: this.ops.length,
      length: [...this.text].length,
      opsSince: (v) => (v < this.ops.length - 50 ? undefined : this.ops.slice(v)),
      limits,
    };
  }

  edit(op: TextOp): void {
    this.text = type.apply(this.text, op).toString();
    this.ops.push(op);
    this.comments = moveAnchors(this.comments, op, this.ops.length);
  }

  comment(userId: string, command: CommentCommand, limits = DEFAULT_COMMENT_LIMITS): CommentDecision {
    const decision = decideComment(this.comments, command, this.context(userId, limits));
    if (decision.kind === 'commit') this.comments = evolveComments(this.comments, decision.event);
    return decision;
  }
}

const create = (threadId: string, start: number, end: number, version: number, text = 'look'): CommentCommand => ({
  kind: 'create',
  threadId,
  messageId: `${threadId}-m1`,
  anchor: { start, end },
  version,
  text,
});
const code = (d: CommentDecision) => (d.kind === 'reject' ? d.code : d.kind);

describe('comment threads', () => {
  let doc: Doc;
  beforeEach(() => {
    doc = new Doc();
    doc.edit(insertOp(0, 'the quick brown fox'));
  });

  it('a thread created at an older version is anchored where its words are now', () => {
    doc.edit(insertOp(0, 'see: ')); // version 2; "quick" was [4, 9) at version 1
    assert.equal(code(doc.comment('ann', create('t1', 4, 9, 1))), 'commit');
    const anchor = doc.comments.threads.get('t1')!.anchor;
    assert.equal([...doc.text].slice(anchor.start, anchor.end).join(''), 'quick');
  });

  it('anchors follow later ops, and a thread whose words are deleted stays, detached', () => {
    doc.comment('ann', create('t1', 4, 9, 1));
    doc.edit(insertOp(4, 'very ')); // before "quick", at its start: outside
    assert.deepEqual(doc.comments.threads.get('t1')!.anchor, { start: 9, end: 14 });
    doc.edit(removeOp(9, 5)); // "quick" gone
    assert.deepEqual(doc.comments.threads.get('t1')!.anchor, { start: 9, end: 9, detached: true });
    assert.equal(doc.comments.threads.size, 1);
  });

  it('a retry of a create or a reply is recognised; another thread or message under the same id is refused', () => {
    doc.comment('ann', create('t1', 0, 3, 1));
    assert.equal(code(doc.comment('ann', create('t1', 0, 3, 1))), 'duplicate');
    assert.equal(code(doc.comment('bob', create('t1', 0, 3, 1))), 'ERR_COMMENT_ID_TAKEN');
    const reply: CommentCommand = { kind: 'reply', threadId: 't1', messageId: 'r1', text: 'yes' };
    assert.equal(code(doc.comment('bob', reply)), 'commit');
    assert.equal(code(doc.comment('bob', reply)), 'duplicate');
    assert.equal(code(doc.comment('cat', reply)), 'ERR_COMMENT_ID_TAKEN');
    assert.equal(doc.comments.threads.get('t1')!.messages.length, 2);
  });

  it('only a message’s author edits it, only a thread’s author deletes it; anyone resolves and reopens', () => {
    doc.comment('ann', create('t1', 0, 3, 1));
    const edit = (text: string): CommentCommand => ({ kind: 'edit', threadId: 't1', messageId: 't1-m1', text });
    assert.equal(code(doc.comment('bob', edit('mine now'))), 'ERR_COMMENT_NOT_AUTHOR');
    assert.equal(code(doc.comment('ann', edit('look here'))), 'commit');
    assert.equal(doc.comments.threads.get('t1')!.messages[0]!.text, 'look here');
    assert.equal(code(doc.comment('bob', { kind: 'resolve', threadId: 't1' })), 'commit');
    assert.equal(code(doc.comment('ann', { kind: 'resolve', threadId: 't1' })), 'duplicate');
    assert.equal(code(doc.comment('ann', { kind: 'reopen', threadId: 't1' })), 'commit');
    assert.equal(code(doc.comment('bob', { kind: 'delete', threadId: 't1' })), 'ERR_COMMENT_NOT_AUTHOR');
    assert.equal(code(doc.comment('ann', { kind: 'delete', threadId: 't1' })), 'commit');
    assert.equal(code(doc.comment('ann', { kind: 'delete', threadId: 't1' })), 'duplicate');
    assert.equal(
      code(doc.comment('ann', { kind: 'reply', threadId: 't1', messageId: 'x', text: 'hi' })),
      'ERR_COMMENT_NOT_FOUND',
    );
  });

  it('refuses bad input with its code and changes nothing', () => {
    const limits = { maxThreadsPerDocument: 1, maxMessagesPerThread: 2, maxCommentLength: 5 };
    const before = doc.comments;
    for (const [command, expected] of [
      [create('t', 0, 99, 1), 'ERR_ANCHOR_INVALID'],
      [create('t', 5, 2, 1), 'ERR_ANCHOR_INVALID'],
      [create('t', -1, 2, 1), 'ERR_ANCHOR_INVALID'],
      [create('t', 0, 2, 7), 'ERR_BASE_VERSION_INVALID'],
      [create('t', 0, 2, 1, '   '), 'ERR_COMMENT_INVALID'],
      [create('t', 0, 2, 1, 'too long'), 'ERR_COMMENT_TOO_LONG'],
    ] as const) {
      assert.equal(code(doc.comment('ann', command, limits)), expected, JSON.stringify(command));
      assert.equal(doc.comments, before);
    }
    doc.comment('ann', create('t1', 0, 2, 1, 'ok'), limits);
    assert.equal(code(doc.comment('ann', create('t2', 0, 2, 1, 'ok'), limits)), 'ERR_COMMENT_LIMIT');
    doc.comment('bob', { kind: 'reply', threadId: 't1', messageId: 'r1', text: 'ok' }, limits);
    const third: CommentCommand = { kind: 'reply', threadId: 't1', messageId: 'r2', text: 'ok' };
    assert.equal(code(doc.comment('bob', third, limits)), 'ERR_COMMENT_LIMIT');
  });

  it('a version too old to have its ops at hand is refused, not guessed', () => {
    for (let i = 0; i < 60; i++) doc.edit(insertOp(0, 'x'));
    assert.equal(code(doc.comment('ann', create('t1', 0, 1, 1))), 'ERR_BASE_VERSION_INVALID');
  });

  it('seeded replay: at every version each anchor is its creation range moved through every op since', () => {
    const seed = 4242;
    const random = seededRandom(seed);
    const pick = (n: number) => Math.floor(random() * n);
    const created = new Map<string, { anchor: { start: number; end: number }; atVersion: number }>();
    for (let step = 0; step < 400; step++) {
      const length = [...doc.text].length;
      if (random() < 0.2 && length > 0) {
        const start = pick(length);
        const end = start + pick(length - start + 1);
        const base = Math.max(0, doc.ops.length - pick(5));
        // The client's range is in the text at `base`; what the server records is that range moved to now.
        const baseLength = [...doc.ops.slice(0, base).reduce<string>((t, op) => type.apply(t, op).toString(), '')]
          .length;
        const threadId = `t${step}`;
        const s = Math.min(start, baseLength);
        const e = Math.min(end, baseLength);
        const d = doc.comment('ann', create(threadId, s, e, base));
        assert.equal(d.kind, 'commit', `seed ${seed} step ${step}: ${JSON.stringify(d)}`);
        created.set(threadId, { anchor: { start: s, end: e }, atVersion: base });
      } else if (random() < 0.4 && length > 0) {
        const at = pick(length);
        doc.edit(removeOp(at, 1 + pick(Math.min(4, length - at))));
      } else {
        doc.edit(insertOp(pick(length + 1), 'ab'.slice(0, 1 + pick(2))));
      }
      for (const [id, { anchor, atVersion }] of created) {
        const expected = transformAnchorThrough(anchor, doc.ops.slice(atVersion));
        assert.deepEqual(doc.comments.threads.get(id)!.anchor, expected, `seed ${seed} step ${step} thread ${id}`);
      }
    }
  });
});

describe('comment threads in the document state', () => {
  it('evolve moves the anchors with each op; evolveComment folds an event at the version; a second fold changes nothing', () => {
    let state = evolve(initialState('d'), { ...opRecord(1), op: ['hello world'] }, 10);
    const created = {
      docId: 'd',
      version: 1,
      userId: 'alice',
      timestamp: 5,
      body: { kind: 'created' as const, threadId: 't', messageId: 'm', anchor: { start: 6, end: 11 }, text: 'x' },
    };
    const replied = {
      ...created,
      body: { kind: 'replied' as const, threadId: 't', messageId: 'm2', text: 'y' },
    };
    state = evolveComment(evolveComment(state, created), replied);
    const again = evolveComment(evolveComment(state, created), replied);
    assert.deepEqual(again.comments, state.comments, 'a redelivered event is harmless');
    state = evolve(state, { ...opRecord(2), op: [{ d: 6 }] }, 10);
    assert.deepEqual(state.comments.threads.get('t')?.anchor, { start: 0, end: 5 });
    assert.equal(state.comments.version, 2);
    assert.throws(() => evolveComment(state, created), /comment event at version 1 folded into comments at version 2/);
  });
});

function opRecord(version: number): OpCommitted {
  return {
    docId: 'd',
    version,
    op: [],
    baseVersion: version - 1,
    clientId: 'c',
    seq: version,
    userId: 'u',
    timestamp: 0,
  };
}
