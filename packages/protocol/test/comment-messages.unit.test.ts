/** The comment messages' schemas: what a client may send, and what a server of this protocol may send. */
import assert from 'node:assert/strict';
import { ClientMessage, ServerMessage } from '../src/schemas.js';
import { CLIENT_MESSAGE_TYPES } from '../src/index.js';

const create = {
  t: 'comment',
  docId: 'doc-1',
  ref: 'r1',
  command: { kind: 'create', threadId: 't1', messageId: 'm1', anchor: { start: 1, end: 4 }, version: 3, text: 'hm' },
};

describe('comment messages', () => {
  it('accepts every command kind', () => {
    const commands = [
      create.command,
      { kind: 'reply', threadId: 't1', messageId: 'm2', text: 'yes' },
      { kind: 'edit', threadId: 't1', messageId: 'm2', text: 'no' },
      { kind: 'resolve', threadId: 't1' },
      { kind: 'reopen', threadId: 't1' },
      { kind: 'delete', threadId: 't1' },
    ];
    for (const command of commands) {
      assert.equal(ClientMessage.safeParse({ ...create, command }).success, true, JSON.stringify(command));
    }
    assert.ok(CLIENT_MESSAGE_TYPES.includes('comment'));
  });

  it('refuses malformed commands: unknown kinds and fields, reversed or fractional anchors, lone surrogates', () => {
    const bad = [
      { ...create, ref: '' },
      { ...create, ref: 'x'.repeat(65) },
      { ...create, command: { ...create.command, kind: 'shout' } },
      { ...create, command: { ...create.command, anchor: { start: -1, end: 2 } } },
      { ...create, command: { ...create.command, anchor: { start: 1.5, end: 2 } } },
      { ...create, command: { ...create.command, anchor: { start: 1, end: 2, detached: true } } },
      { ...create, command: { ...create.command, threadId: '\ud800' } },
      { ...create, command: { ...create.command, text: 'a\udc00' } },
      { ...create, command: { kind: 'resolve', threadId: 't1', messageId: 'm1' } },
      { ...create, command: { kind: 'reply', threadId: 't1', messageId: 'm1' } },
      { ...create, extra: 1 },
    ];
    for (const message of bad) assert.equal(ClientMessage.safeParse(message).success, false, JSON.stringify(message));
  });

  it('describes the events, acks, thread lists and comment errors a server sends', () => {
    const sent = [
      {
        t: 'comment',
        docId: 'd',
        version: 4,
        userId: 'alice',
        timestamp: 1,
        body: {
          kind: 'created',
          threadId: 't',
          messageId: 'm',
          anchor: { start: 0, end: 0, detached: true },
          text: 'x',
        },
      },
      { t: 'comment', docId: 'd', version: 4, userId: 'alice', timestamp: 1, body: { kind: 'deleted', threadId: 't' } },
      { t: 'comment-ack', docId: 'd', ref: 'r', duplicate: false },
      {
        t: 'comments',
        docId: 'd',
        version: 4,
        part: 0,
        parts: 1,
        threads: [
          {
            threadId: 't',
            anchor: { start: 1, end: 2 },
            createdBy: 'alice',
            createdAt: 1,
            resolved: false,
            messages: [{ messageId: 'm', authorId: 'alice', text: 'x', at: 1, editedAt: 2 }],
          },
        ],
      },
      { t: 'error', code: 'ERR_COMMENT_NOT_AUTHOR', message: 'no', retriable: false, docId: 'd', ref: 'r' },
    ];
    for (const message of sent) assert.equal(ServerMessage.safeParse(message).success, true, JSON.stringify(message));
  });
});
