/**
 * Sample records for the golden fixtures and round-trip tests: every op component kind, astral-plane text
 * (emoji with skin-tone modifiers count as two code points), numbers past 32 bits, and an op that changes nothing
 * (empty: both forms of v2 are empty, and a reader falls back from `components` to `op`). A sample added later only
 * gets fixtures for the versions written after it (write-golden.ts writes the current version's).
 */
import type { OpCommitted } from '@collab/core';

export const OP_COMMITTED_SAMPLES: Record<string, OpCommitted> = {
  'first-insert': {
    docId: 'doc-1',
    version: 1,
    op: ['hello world'],
    baseVersion: 0,
    clientId: 'client-a',
    seq: 1,
    userId: 'user-1',
    timestamp: 1_764_230_400_000,
  },
  'skip-delete-insert': {
    docId: 'doc-1',
    version: 2,
    op: [6, { d: 5 }, 'there'],
    baseVersion: 1,
    clientId: 'client-b',
    seq: 7,
    userId: 'user-2',
    timestamp: 1_764_230_401_234,
  },
  'emoji-and-delete-text': {
    docId: 'döc-ü-👩‍💻',
    version: 9_007_199_254_740,
    op: [3, '👋🏽 héllo ', { d: '👍🏿x' }, 2, { d: 1 }],
    baseVersion: 9_007_199_254_700,
    clientId: 'client-😀',
    seq: 4_294_967_297,
    userId: 'user-日本',
    timestamp: 4_102_444_800_000,
  },
  'empty-op': {
    docId: 'doc-2',
    version: 3,
    op: [],
    baseVersion: 2,
    clientId: 'client-c',
    seq: 3,
    userId: 'user-3',
    timestamp: 1_764_230_402_000,
  },
};
