/**
 * Sample comment events for the golden fixtures and round trips: every body kind, an anchor that is detached and
 * one that is not, astral-plane text, numbers past 32 bits.
 */
import type { CommentEvent } from '@collab/core';

export const COMMENT_EVENT_SAMPLES: Record<string, CommentEvent> = {
  created: {
    docId: 'doc-1',
    version: 3,
    userId: 'user-1',
    timestamp: 1_764_230_400_000,
    body: {
      kind: 'created',
      threadId: 'thread-a',
      messageId: 'msg-1',
      anchor: { start: 6, end: 11 },
      text: 'Is this the right word? 👍🏽',
    },
  },
  'created-detached': {
    docId: 'doc-2',
    version: 5_000_000_000,
    userId: 'user-2',
    timestamp: 1_764_230_401_234,
    body: {
      kind: 'created',
      threadId: 'thread-b',
      messageId: 'msg-2',
      anchor: { start: 4, end: 4, detached: true },
      text: 'gone already',
    },
  },
  replied: {
    docId: 'doc-1',
    version: 3,
    userId: 'user-2',
    timestamp: 1_764_230_402_000,
    body: { kind: 'replied', threadId: 'thread-a', messageId: 'msg-3', text: 'Yes.' },
  },
  edited: {
    docId: 'doc-1',
    version: 4,
    userId: 'user-1',
    timestamp: 1_764_230_403_000,
    body: { kind: 'edited', threadId: 'thread-a', messageId: 'msg-1', text: 'Is this the right word?' },
  },
  resolved: {
    docId: 'doc-1',
    version: 4,
    userId: 'user-2',
    timestamp: 1_764_230_404_000,
    body: { kind: 'resolved', threadId: 'thread-a' },
  },
  reopened: {
    docId: 'doc-1',
    version: 7,
    userId: 'user-3',
    timestamp: 1_764_230_405_000,
    body: { kind: 'reopened', threadId: 'thread-a' },
  },
  deleted: {
    docId: 'doc-1',
    version: 9,
    userId: 'user-1',
    timestamp: 1_764_230_406_000,
    body: { kind: 'deleted', threadId: 'thread-a' },
  },
};
