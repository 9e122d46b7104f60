/**
 * Comment commands for a document another instance owns (docs/comments.md): the origin forwards them on the bus
 * and answers its client from whichever comes first — the relay bringing the event (the `comment` frame to every
 * subscriber of the replica, then the sender's `comment-ack`), a reply (a refusal with its code and the command's
 * ref; a duplicate acked once the replica reached the owner's version), or the timeout (retriable ERR_UNAVAILABLE).
 * The owner's side decides a forwarded command like a local one, so a refused one appends nothing.
 */
import assert from 'node:assert/strict';
import pino from 'pino';
import type { CommandBus, CommentCommand, CommentEvent, ForwardedCommand } from '@collab/core';
import { commentCommandKey, DEFAULT_COMMENT_LIMITS, DEFAULT_SUBMIT_LIMITS, initialState } from '@collab/core';
import { DocumentChannel } from '../src/documents/document-channel.js';
import { Forwarder } from '../src/documents/forwarder.js';
import { ProtocolError } from '../src/protocol/errors.js';
import { Inbox, settle } from './support/scripted-writer.js';

function fakeBus(): CommandBus & { forwarded: ForwardedCommand[] } {
  const forwarded: ForwardedCommand[] = [];
  return {
    forwarded,
    partitionCount: 1,
    partitionFor: () => 0,
    forward: async (command) => {
      forwarded.push(command);
    },
    consumeCommands: () => Promise.reject(new Error('not here')),
    reply: async () => {},
    consumeReplies: () => Promise.reject(new Error('not here')),
    close: async () => {},
  };
}

const create: CommentCommand = {
  kind: 'create',
  threadId: 't1',
  messageId: 'm1',
  anchor: { start: 0, end: 0 },
  version: 0,
  text: 'look',
};
const createdEvent: CommentEvent = {
  docId: 'doc',
  version: 0,
  userId: 'alice',
  timestamp: 1_000,
  body: { kind: 'created', threadId: 't1', messageId: 'm1', anchor: { start: 0, end: 0 }, text: 'look' },
};

function setup(timeoutMs = 5_000) {
  const bus = fakeBus();
  const forwarder = new Forwarder(bus, 'origin-1', timeoutMs, pino({ level: 'silent' }), () => 1_000);
  // A replica (no committer): this instance does not own the document.
  const channel = new DocumentChannel(
    initialState('doc'),
    {
      window: 100,
      hashEvery: 0,
      limits: DEFAULT_SUBMIT_LIMITS,
      commentLimits: DEFAULT_COMMENT_LIMITS,
      now: () => 1_000,
    },
    undefined,
    () => {},
    (record) => forwarder.claim(record),
    (event) => forwarder.claimComment(event),
  );
  const alice = new Inbox('alice');
  const bob = new Inbox('bob');
  channel.subscribers.set(alice.id, alice);
  channel.subscribers.set(bob.id, bob);
  return { bus, forwarder, channel, alice, bob };
}

describe('forwarded comment commands (origin side)', () => {
  it('go on the bus with the user, ref and command; the relayed event reaches everyone, then the sender’s ack', async () => {
    const { bus, forwarder, channel, alice, bob } = setup();
    const outcome = forwarder.forwardComment({ docId: 'doc', ref: 'r1', userId: 'alice', command: create }, alice);
    await settle();
    assert.deepEqual(bus.forwarded, [
      {
        origin: 'origin-1',
        forwardedAt: 1_000,
        comment: { docId: 'doc', userId: 'alice', ref: 'r1', command: create },
      },
    ]);
    channel.applyRemote(createdEvent);
    assert.deepEqual(await outcome, { duplicate: false });
    assert.deepEqual(
      alice.messages.map((m) => m.t),
      ['comment', 'comment-ack'],
    );
    assert.deepEqual(alice.messages[1], { t: 'comment-ack', docId: 'doc', ref: 'r1', duplicate: false });
    assert.deepEqual(
      bob.messages.map((m) => m.t),
      ['comment'],
    );
    assert.equal(channel.current.comments.threads.get('t1')?.messages[0]?.text, 'look');
    assert.equal(forwarder.pendingCount, 0);
  });

  it('another user’s event with the same ids does not ack it', async () => {
    const { forwarder, channel, alice } = setup(200);
    const outcome = forwarder.forwardComment({ docId: 'doc', ref: 'r1', userId: 'alice', command: create }, alice);
    channel.applyRemote({ ...createdEvent, userId: 'mallory' });
    await assert.rejects(outcome, (err: unknown) => err instanceof ProtocolError && err.code === 'ERR_UNAVAILABLE');
    assert.deepEqual(alice.of('comment-ack'), [], 'no ack for a command whose event never came');
  });

  it('a refusal from the owner rejects with its code and the command’s ref', async () => {
    const { forwarder, alice } = setup();
    const command: CommentCommand = { kind: 'resolve', threadId: 'nope' };
    const outcome = forwarder.forwardComment({ docId: 'doc', ref: 'r2', userId: 'alice', command }, alice);
    forwarder.settleReply(
      {
        origin: 'origin-1',
        docId: 'doc',
        userId: 'alice',
        commentKey: commentCommandKey('doc', 'alice', command),
        outcome: { kind: 'reject', code: 'ERR_COMMENT_NOT_FOUND', message: 'No such thread.', retriable: false },
      },
      () => 0,
    );
    await assert.rejects(outcome, (err: unknown) => {
      assert.ok(err instanceof ProtocolError);
      assert.equal(err.code, 'ERR_COMMENT_NOT_FOUND');
      assert.equal(err.options.ref, 'r2');
      assert.equal(err.options.docId, 'doc');
      return true;
    });
  });

  it('a duplicate is acked once the replica has reached the owner’s version, not before', async () => {
    const { forwarder, alice } = setup();
    const outcome = forwarder.forwardComment({ docId: 'doc', ref: 'r3', userId: 'alice', command: create }, alice);
    const reply = {
      origin: 'origin-1',
      docId: 'doc',
      userId: 'alice',
      commentKey: commentCommandKey('doc', 'alice', create),
      outcome: { kind: 'duplicate' as const, version: 4 },
    };
    forwarder.settleReply(reply, () => 3);
    await settle();
    assert.deepEqual(alice.of('comment-ack'), []);
    forwarder.settleReply(reply, () => 4);
    assert.deepEqual(await outcome, { duplicate: true });
    assert.deepEqual(alice.of('comment-ack'), [{ t: 'comment-ack', docId: 'doc', ref: 'r3', duplicate: true }]);
  });

  it('an edit is claimed only by the edit event with its text', async () => {
    const { forwarder, channel, alice } = setup(300);
    channel.applyRemote(createdEvent);
    const edit: CommentCommand = { kind: 'edit', threadId: 't1', messageId: 'm1', text: 'second' };
    const outcome = forwarder.forwardComment({ docId: 'doc', ref: 'r4', userId: 'alice', command: edit }, alice);
    const edited = (text: string): CommentEvent => ({
      ...createdEvent,
      body: { kind: 'edited', threadId: 't1', messageId: 'm1', text },
    });
    channel.applyRemote(edited('first'));
    assert.deepEqual(alice.of('comment-ack'), []);
    channel.applyRemote(edited('second'));
    assert.deepEqual(await outcome, { duplicate: false });
  });

  it('times out with a retriable ERR_UNAVAILABLE carrying the ref', async () => {
    const { forwarder, alice } = setup(20);
    const outcome = forwarder.forwardComment({ docId: 'doc', ref: 'r5', userId: 'alice', command: create }, alice);
    await assert.rejects(outcome, (err: unknown) => {
      assert.ok(err instanceof ProtocolError);
      assert.equal(err.code, 'ERR_UNAVAILABLE');
      assert.equal(err.retriable, true);
      assert.equal(err.options.ref, 'r5');
      return true;
    });
    assert.equal(forwarder.pendingCount, 0);
  });
});
