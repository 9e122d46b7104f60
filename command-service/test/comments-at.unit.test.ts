/**
 * The threads at a version (GET /v1/docs/:docId/comments?version=N, and a document load): every event with
 * version ≤ N folded in log order, anchors moved through the ops up to N — the same threads a client had at N.
 * Read from the log alone, and from the read side (snapshot + read-model ops and comment events + the log after
 * the projection's committed offset) wherever the projection has got to: both give the same threads at every
 * version. Other documents of the partition and redelivered records change nothing; a version the document has
 * not reached is ERR_NOT_FOUND.
 */
import assert from 'node:assert/strict';
import type {
  CommentEvent,
  DocHead,
  LogRecord,
  LogValue,
  Offset,
  OpCommitted,
  OpLog,
  ReadModelStore,
  SnapshotData,
  SnapshotStore,
  StoredCommentEvent,
} from '@collab/core';
import { evolve, initialState, isCollabError, isCommentEvent, silentLogger } from '@collab/core';
import { commentsAtVersion } from '../src/documents/comments-at.js';
import type { DocumentSource } from '../src/documents/document-source.js';
import { createLogSource } from '../src/documents/log-source.js';
import { createReadSideSource } from '../src/documents/read-side-source.js';

const WINDOW = 2;

/** Just what the sources use of the port: one partition, read in batches of 2. */
function logOf(values: LogValue[]): { log: OpLog; records: LogRecord[] } {
  const records: LogRecord[] = values.map((value, i) => ({ partition: 0, offset: BigInt(i), value, headers: {} }));
  const log = {
    partitionCount: 1,
    partitionFor: () => 0,
    read: async function* (_partition: number, from: Offset) {
      const rest = records.filter((r) => r.offset >= from);
      for (let i = 0; i < rest.length; i += 2) yield rest.slice(i, i + 2);
    },
  } as unknown as OpLog;
  return { log, records };
}

/** The read models as the projection leaves them after writing `records` (in any order, any number of times). */
function readModelsOf(records: readonly LogRecord[]): ReadModelStore {
  const ops = new Map<string, OpCommitted>();
  const events = new Map<string, StoredCommentEvent>();
  for (const { offset, value } of records) {
    if (isCommentEvent(value)) events.set(`${value.docId} ${offset}`, { offset, event: value });
    else ops.set(`${value.docId} ${value.version}`, value);
  }
  const headOf = (docId: string): number => {
    let v = 0;
    while (ops.has(`${docId} ${v + 1}`)) v++;
    return v;
  };
  return {
    getOps: async (docId: string, from: number, to = headOf(docId) + 1, limit = Infinity) =>
      [...ops.values()]
        .filter((o) => o.docId === docId && o.version >= from && o.version < to)
        .sort((a, b) => a.version - b.version)
        .slice(0, limit),
    getHead: async (docId: string): Promise<DocHead | undefined> =>
      headOf(docId) === 0 ? undefined : { docId, version: headOf(docId), length: 0, lastUserId: '', updatedAt: 0 },
    getCommentEvents: async (docId: string, from = 0, to = Infinity) =>
      [...events.values()]
        .filter(({ event }) => event.docId === docId && event.version >= from && event.version <= to)
        .sort((a, b) => a.event.version - b.event.version || Number(a.offset - b.offset)),
  } as unknown as ReadModelStore;
}

/** Text snapshots of `docId` at the given versions, folded from the log's ops. */
function snapshotsOf(records: readonly LogRecord[], docId: string, versions: readonly number[]): SnapshotStore {
  let state = initialState(docId);
  const list: SnapshotData[] = [];
  for (const { value } of records) {
    if (value.docId !== docId || isCommentEvent(value) || value.version !== state.version + 1) continue;
    state = evolve(state, value, 0);
    if (versions.includes(state.version)) {
      list.push({ docId, version: state.version, text: state.doc.toString(), createdAt: 0 });
    }
  }
  return {
    latest: async (_docId: string, max = Infinity) =>
      list.filter((s) => s.version <= max).sort((a, b) => b.version - a.version)[0],
  } as unknown as SnapshotStore;
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
  created, // redelivered at its version: changes nothing
  event(1, { kind: 'created', threadId: 'x', messageId: 'mx', anchor: { start: 0, end: 1 }, text: 'other' }, 'other'),
  op(2, ['oh, ']), // "oh, hello world": t1 moves to [10, 15)
  event(2, { kind: 'replied', threadId: 't1', messageId: 'm2', text: 'yes' }),
  op(2, ['oh, ']), // redelivered
  op(3, [4, { d: 'hello ' }]), // "oh, world"
  event(3, { kind: 'resolved', threadId: 't1' }),
  op(4, [{ d: 'oh, world' }]), // everything gone: t1 detached at 0
  event(4, { kind: 'deleted', threadId: 't1' }),
  event(4, { kind: 'created', threadId: 't1', messageId: 'm3', anchor: { start: 0, end: 0 }, text: 'again' }),
  op(5, ['new text']),
  event(5, { kind: 'edited', threadId: 't1', messageId: 'm3', text: 'again, edited' }),
];

describe('commentsAtVersion: the threads at a version', () => {
  const { log } = logOf(history);
  const fromLog = createLogSource({ log, window: WINDOW });

  it('from the log, at each version: what was there then, anchors where they were', async () => {
    const at = async (v: number | undefined) => commentsAtVersion(fromLog, 'doc', v);
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
    // Deleted, then created again under the same id at the same version: the order of the log decides.
    const v4 = (await at(4)).threads as { threadId: string; messages: { text: string }[] }[];
    assert.deepEqual(
      v4.map((t) => [t.threadId, t.messages[0]?.text]),
      [['t1', 'again']],
    );
    assert.deepEqual(await at(undefined), await at(5));
  });

  it('a version the document has not reached is ERR_NOT_FOUND; a document with no records has no threads', async () => {
    await assert.rejects(commentsAtVersion(fromLog, 'doc', 6), (err: unknown) => isCollabError(err, 'ERR_NOT_FOUND'));
    assert.deepEqual(await commentsAtVersion(fromLog, 'nobody', undefined), {
      docId: 'nobody',
      version: 0,
      threads: [],
    });
  });

  it('from the read side, wherever the projection is and whatever snapshots exist: the same as the log', async () => {
    const { records } = logOf(history);
    const expected = await Promise.all([0, 1, 2, 3, 4, 5].map((v) => commentsAtVersion(fromLog, 'doc', v)));
    const latest = await fromLog.load('doc');
    let checked = 0;
    // committed: the projection's committed offset; written: how far it has written (ahead of the commit).
    for (let committed = 0; committed <= records.length; committed++) {
      for (let written = committed; written <= records.length; written++) {
        for (const snapshotAt of [[], [1], [2, 4], [3, 5]]) {
          const fallbacks: string[] = [];
          const source: DocumentSource = createReadSideSource({
            log,
            readModels: readModelsOf(records.slice(0, written)),
            snapshots: snapshotsOf(records, 'doc', snapshotAt),
            committedOffset: async () => BigInt(committed),
            window: WINDOW,
            logger: { ...silentLogger, warn: (_: unknown, why: string) => fallbacks.push(why) } as typeof silentLogger,
            comments: true,
          });
          const where = `committed ${committed}, written ${written}, snapshots ${snapshotAt.join(',')}`;
          for (let v = 0; v <= 5; v++) {
            assert.deepEqual(await commentsAtVersion(source, 'doc', v), expected[v], `${where}, version ${v}`);
          }
          const loaded = await source.load('doc');
          assert.deepEqual(
            [loaded.version, loaded.doc.toString(), [...loaded.comments.threads.values()], loaded.recent],
            [latest.version, latest.doc.toString(), [...latest.comments.threads.values()], latest.recent],
            where,
          );
          // Never by falling back to the whole log: the read side adds up.
          assert.deepEqual(fallbacks, [], where);
          checked++;
        }
      }
    }
    assert.equal(checked, 4 * (((records.length + 1) * (records.length + 2)) / 2));
  });
});
