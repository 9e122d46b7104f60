/**
 * Comment commands in the sequencer (docs/comments.md): decided against the head (on top of ops still in flight),
 * appended behind them in the same partition, sent to every subscriber and acked only once durable; a refused
 * command gets its code and appends nothing; a failed append takes the command down with everything after it.
 */
import assert from 'node:assert/strict';
import type { CommentCommand, CommentEvent, CommentRejectionCode, Submission } from '@collab/core';
import { CollabError, DEFAULT_SUBMIT_LIMITS, initialState } from '@collab/core';
import type { CommentRequest } from '../src/documents/document-channel.js';
import { DocumentChannel } from '../src/documents/document-channel.js';
import { PartitionCommitter } from '../src/documents/partition-committer.js';
import { ProtocolError } from '../src/protocol/errors.js';
import { Inbox, ScriptedWriter, settle } from './support/scripted-writer.js';

const LIMITS = { maxThreadsPerDocument: 2, maxMessagesPerThread: 2, maxCommentLength: 10 };

function setup() {
  const writer = new ScriptedWriter();
  const channel = new DocumentChannel(
    initialState('doc'),
    { window: 100, hashEvery: 0, limits: DEFAULT_SUBMIT_LIMITS, commentLimits: LIMITS, now: () => 1_000 },
    new PartitionCommitter(writer),
    () => {},
  );
  const alice = new Inbox('alice');
  const bob = new Inbox('bob');
  channel.subscribers.set(alice.id, alice);
  channel.subscribers.set(bob.id, bob);
  return { writer, channel, alice, bob };
}

const op = (seq: number, baseVersion: number, o: unknown): Submission => ({
  docId: 'doc',
  clientId: 'a',
  seq,
  baseVersion,
  op: o,
  userId: 'alice',
});
const request = (userId: string, ref: string, command: CommentCommand): CommentRequest => ({
  docId: 'doc',
  ref,
  userId,
  command,
});
const create = (threadId: string, start: number, end: number, version: number, text = 'look'): CommentCommand => ({
  kind: 'create',
  threadId,
  messageId: `${threadId}-m1`,
  anchor: { start, end },
  version,
  text,
});

/** A document "hello world" at version 1, with alice's thread t1 on "world" durable. */
async function withThread() {
  const s = setup();
  void s.channel.submit(op(1, 0, ['hello world']), s.alice);
  await settle();
  await s.writer.land();
  const created = s.channel.comment(request('alice', 'r1', create('t1', 6, 11, 1)), s.alice);
  await settle();
  await s.writer.land();
  await created;
  s.alice.messages.length = 0;
  s.bob.messages.length = 0;
  return s;
}

describe('DocumentChannel: comment commands', () => {
  it('given an op in flight, a create decided on the head rides behind it; nobody hears of it before it is durable', async () => {
    const { writer, channel, alice, bob } = setup();
    void channel.submit(op(1, 0, ['hello world']), alice);
    await settle();
    // Alice comments on her own text at version 1, which is still in flight.
    const created = channel.comment(request('alice', 'r1', create('t1', 6, 11, 1)), alice);
    await settle();
    assert.equal(writer.inFlight, 1, 'one transaction at a time: the event waits for the next');
    assert.equal(bob.of('comment').length, 0);
    await writer.land();
    assert.equal(bob.of('op').length, 1);
    assert.equal(bob.of('comment').length, 0, 'the event is not durable yet');
    assert.equal(alice.of('comment-ack').length, 0);
    const event = writer.transactions[1]![0]!.value as CommentEvent;
    assert.deepEqual(
      { version: event.version, body: event.body },
      {
        version: 1,
        body: { kind: 'created', threadId: 't1', messageId: 't1-m1', anchor: { start: 6, end: 11 }, text: 'look' },
      },
      'decided at the head: after op 1, before op 2',
    );
    await writer.land();
    assert.deepEqual(await created, { duplicate: false });
    for (const inbox of [alice, bob]) {
      assert.deepEqual(inbox.of('comment'), [
        { t: 'comment', docId: 'doc', version: 1, userId: 'alice', timestamp: 1_000, body: event.body },
      ]);
    }
    assert.deepEqual(alice.messages.at(-1), { t: 'comment-ack', docId: 'doc', ref: 'r1', duplicate: false });
    assert.deepEqual(channel.current.comments.threads.get('t1')?.anchor, { start: 6, end: 11 });
  });

  it('anchors move with every later op, in the durable state and in what a create is decided on', async () => {
    const { writer, channel, alice } = await withThread();
    void channel.submit(op(2, 1, ['>> ']), alice);
    await settle();
    // A create made on version 1 while op 2 is in flight: moved through op 2 before it is appended.
    void channel.comment(request('bob', 'r2', create('t2', 0, 5, 1)), alice);
    await settle();
    await writer.land();
    await writer.land();
    assert.deepEqual(channel.current.comments.threads.get('t1')?.anchor, { start: 9, end: 14 });
    assert.deepEqual(channel.current.comments.threads.get('t2')?.anchor, { start: 3, end: 8 });
  });

  it('a retried command is answered as a duplicate, after what is in flight before it, and appends nothing', async () => {
    const { writer, channel, alice } = await withThread();
    void channel.submit(op(2, 1, ['!']), alice);
    await settle();
    const again = channel.comment(request('alice', 'r1-again', create('t1', 6, 11, 1)), alice);
    await settle();
    assert.equal(alice.of('comment-ack').length, 0, 'not before the op in flight ahead of it is durable');
    await writer.land();
    assert.deepEqual(await again, { duplicate: true });
    assert.deepEqual(alice.of('comment-ack'), [{ t: 'comment-ack', docId: 'doc', ref: 'r1-again', duplicate: true }]);
    assert.deepEqual(writer.versions(), [[1], [1], [2]], 'no second event');
  });

  it('bad input gets its code and changes nothing: no append, no message, the same threads', async () => {
    const { writer, channel, alice, bob } = await withThread();
    void channel.comment(request('alice', 'r', { kind: 'reply', threadId: 't1', messageId: 'm2', text: 'ok' }), alice);
    await settle();
    await writer.land();
    const appended = writer.transactions.length;
    const threads = channel.current.comments;
    bob.messages.length = 0;
    const refused: [CommentRejectionCode, CommentRequest][] = [
      ['ERR_COMMENT_INVALID', request('alice', 'x1', create('t9', 0, 1, 1, '   '))],
      ['ERR_COMMENT_TOO_LONG', request('alice', 'x2', create('t9', 0, 1, 1, 'x'.repeat(11)))],
      ['ERR_ANCHOR_INVALID', request('alice', 'x3', create('t9', 0, 12, 1))],
      ['ERR_ANCHOR_INVALID', request('alice', 'x4', create('t9', 4, 2, 1))],
      ['ERR_BASE_VERSION_INVALID', request('alice', 'x5', create('t9', 0, 1, 7))],
      ['ERR_COMMENT_ID_TAKEN', request('bob', 'x6', create('t1', 0, 1, 1))],
      ['ERR_COMMENT_NOT_FOUND', request('bob', 'x7', { kind: 'reply', threadId: 'nope', messageId: 'm', text: 'a' })],
      ['ERR_COMMENT_NOT_FOUND', request('bob', 'x8', { kind: 'resolve', threadId: 'nope' })],
      ['ERR_COMMENT_NOT_AUTHOR', request('bob', 'x9', { kind: 'edit', threadId: 't1', messageId: 't1-m1', text: 'a' })],
      ['ERR_COMMENT_NOT_AUTHOR', request('bob', 'x10', { kind: 'delete', threadId: 't1' })],
      ['ERR_COMMENT_LIMIT', request('bob', 'x11', { kind: 'reply', threadId: 't1', messageId: 'm3', text: 'a' })],
    ];
    for (const [code, req] of refused) {
      await assert.rejects(channel.comment(req, bob), (err: unknown) => {
        assert.ok(err instanceof ProtocolError, String(err));
        assert.equal(err.code, code, `${req.ref}: ${err.message}`);
        assert.equal(err.options.ref, req.ref);
        return true;
      });
    }
    // The thread limit: a second thread fits, a third does not.
    void channel.comment(request('bob', 'y1', create('t2', 0, 1, 1)), bob);
    await settle();
    await writer.land();
    await assert.rejects(channel.comment(request('bob', 'y2', create('t3', 0, 1, 1)), bob), /at most 2 threads/);
    assert.equal(writer.transactions.length, appended + 1, 'only the valid create was appended');
    assert.deepEqual(channel.current.comments.threads.get('t1'), threads.threads.get('t1'));
    assert.equal(bob.of('comment').length, 1);
  });

  it('a failed append fails the command (retriable) and what was sequenced after it; the threads are as before', async () => {
    const { writer, channel, alice } = await withThread();
    const before = channel.current.comments;
    const resolve = channel.comment(request('bob', 'r', { kind: 'resolve', threadId: 't1' }), alice);
    const refused = assert.rejects(
      resolve,
      (err: unknown) => err instanceof ProtocolError && err.code === 'ERR_UNAVAILABLE',
    );
    await settle();
    await writer.fail(new CollabError('ERR_TIMEOUT', 'the broker did not answer'));
    await refused;
    assert.equal(channel.current.comments, before);
    assert.equal(alice.of('comment').length, 0);
  });
});

describe('DocumentChannel: a server without comment threads', () => {
  it('refuses every comment command with ERR_COMMENTS_DISABLED and appends nothing', async () => {
    const writer = new ScriptedWriter();
    const channel = new DocumentChannel(
      initialState('doc'),
      { window: 100, hashEvery: 0, limits: DEFAULT_SUBMIT_LIMITS, now: () => 1_000 },
      new PartitionCommitter(writer),
      () => {},
    );
    await assert.rejects(
      channel.comment(request('alice', 'r', create('t1', 0, 0, 0)), new Inbox('alice')),
      (err: unknown) => err instanceof ProtocolError && err.code === 'ERR_COMMENTS_DISABLED' && err.options.ref === 'r',
    );
    assert.equal(writer.transactions.length, 0);
  });
});

describe('PartitionCommitter: comment events keep the versions gapless', () => {
  const event = (version: number): CommentEvent => ({
    docId: 'doc',
    version,
    userId: 'u',
    timestamp: 0,
    body: { kind: 'resolved', threadId: 't' },
  });

  it('takes a comment event at the current version, and refuses one at any other', async () => {
    const committer = new PartitionCommitter(new ScriptedWriter());
    committer.resume('doc', 3);
    await assert.rejects(committer.append([{ value: event(4) }]), /comment event version 4 where 3 was expected/);
    await assert.rejects(committer.append([{ value: event(2) }]), /where 3 was expected/);
    void committer.append([{ value: event(3) }, { value: event(3) }]);
    await settle();
  });
});
