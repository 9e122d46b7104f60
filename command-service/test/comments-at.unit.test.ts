/**
 * The threads at a version, from the log (GET /v1/docs/:docId/comments?version=N): every event with version ≤ N
 * folded in log order, anchors moved through the ops up to N — the same threads a client had at N. Other documents
 * of the partition and redelivered records change nothing; a version the document has not reached is ERR_NOT_FOUND.
 */
import assert from 'node:assert/strict';
import type { CommentEvent, LogRecord, LogValue, OpCommitted, OpLog } from '@collab/core';
import { isCollabError } from '@collab/core';
import { commentsAtVersion } from '../src/documents/comments-at.js';

/** Just what commentsAtVersion uses of the port: one partition, read in batches of 2. */
function logOf(values: LogValue[]): OpLog {
  const records: LogRecord[] = values.map((value, i) => ({ partition: 0, offset: BigInt(i), value, headers: {} }));
  return {
    partitionCount: 1,
    partitionFor: () => 0,
    read: async function* () {
      for (let i = 0; i < records.length; i += 2) yield records.slice(i, i + 2);
    },
  } as unknown as OpLog;
}

const op = (version: number, o: OpCommitted['op'], docId = 'doc'): OpCommitted => ({
  docId,
  version,
  op: o,
  baseVersion: version - 1,
  clientId: 'c',
  seq: version,
  userId: 'alice',
  timestamp: 1_000 + version,
});
const event = (version: number, body: CommentEvent['body'], docId = 'doc'): CommentEvent => ({
  docId,
  version,
  userId: 'bob',
  timestamp: 2_000 + version,
  body,
});

const created = event(1, {
  kind: 'created',
  threadId: 't1',
  messageId: 'm1',
  anchor: { start: 6, end: 11 },
  text: '?',
});
const history: LogValue[] = [
  op(1, ['hello world']),
  created,
  event(1, { kind: 'created', threadId: 'x', messageId: 'mx', anchor: { start: 0, end: 1 }, text: 'other' }, 'other'),
  op(2, ['oh, ']), // "oh, hello world": t1 moves to [10, 15)
  event(2, { kind: 'replied', threadId: 't1', messageId: 'm2', text: 'yes' }),
  created, // redelivered: changes nothing
  op(2, ['oh, ']), // redelivered
  op(3, [4, { d: 'hello ' }]), // "oh, world"
  event(3, { kind: 'resolved', threadId: 't1' }),
  op(4, [{ d: 'oh, world' }]), // everything gone: t1 detached at 0
  event(4, { kind: 'deleted', threadId: 't1' }),
];

describe('commentsAtVersion: the threads at a version, from the log', () => {
  it('at each version: what was there then, anchors where they were', async () => {
    const log = logOf(history);
    const at = async (v: number | undefined) => commentsAtVersion(log, 'doc', v);
    assert.deepEqual(await at(0), { docId: 'doc', version: 0, threads: [] });
    const v1 = await at(1);
    assert.equal(v1.threads.length, 1);
    assert.deepEqual(v1.threads[0], {
      threadId: 't1',
      anchor: { start: 6, end: 11 },
      createdBy: 'bob',
      createdAt: 2_001,
      resolved: false,
      messages: [{ messageId: 'm1', authorId: 'bob', text: '?', at: 2_001 }],
    });
    const v2 = (await at(2)).threads[0] as { anchor: unknown; messages: unknown[]; resolved: boolean };
    assert.deepEqual([v2.anchor, v2.messages.length, v2.resolved], [{ start: 10, end: 15 }, 2, false]);
    const v3 = (await at(3)).threads[0] as { anchor: unknown; resolved: boolean };
    assert.deepEqual([v3.anchor, v3.resolved], [{ start: 4, end: 9 }, true]);
    assert.deepEqual(await at(4), { docId: 'doc', version: 4, threads: [] });
    assert.deepEqual(await at(undefined), await at(4));
  });

  it('a version the document has not reached is ERR_NOT_FOUND; a document with no records has no threads', async () => {
    await assert.rejects(commentsAtVersion(logOf(history), 'doc', 5), (err: unknown) =>
      isCollabError(err, 'ERR_NOT_FOUND'),
    );
    assert.deepEqual(await commentsAtVersion(logOf(history), 'nobody', undefined), {
      docId: 'nobody',
      version: 0,
      threads: [],
    });
  });
});
